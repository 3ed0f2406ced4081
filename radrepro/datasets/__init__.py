"""Stage 1 of the pipeline: data sets.

Dataset cards (``datasets/*.toml`` at the top of the repository) declare every data set; this
package reads them, produces cases from the embedded data (IBSI digital phantom, synthetic
multi-centre cohort), and fetches, verifies and converts public cohorts.
"""
