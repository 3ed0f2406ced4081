"""Harmonisation of radiomic features across sites and scanners: ComBat, R-exact and leakage-free.

- :class:`ComBat`: scikit-learn transformer (parametric / non-parametric empirical Bayes,
  ``mean_only``, ``eb=False``, reference batch, M-ComBat), fitted on training data only.
- :func:`harmonisation_diagnostics`: did it work? Batch tests, a site classifier and the
  covariates' signal, before and after.
- :func:`harmonise_results`: a recipe (``harmonisation/*.toml``) applied to the long results table,
  as a suite step.
"""

from __future__ import annotations

from radrepro.harmonisation.combat import ComBat, HarmonisationWarning

__all__ = ["ComBat", "HarmonisationWarning", "harmonisation_diagnostics", "feature_tests", "harmonise_results", "load_recipe", "Recipe"]


def __getattr__(name: str):
    if name in ("harmonisation_diagnostics", "feature_tests"):
        from radrepro.harmonisation import diagnostics

        return getattr(diagnostics, name)
    if name in ("harmonise_results", "load_recipe", "Recipe", "available_recipes"):
        from radrepro.harmonisation import recipes

        return getattr(recipes, name)
    raise AttributeError(f"module 'radrepro.harmonisation' has no attribute {name!r}")
