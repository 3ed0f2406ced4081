"""Feature stability over perturbations: ICC(1,1), ICC(A,1), ICC(C,1) with confidence intervals,
Lin's CCC (pairwise and overall), within-subject CV and repeatability coefficient, and Koo & Li
summaries per feature family.

:func:`stability_table` turns the long results table into one row per feature;
:func:`family_summary` says which fraction of each family is stable. The statistics work on
``(feature, case, perturbation)`` arrays (:mod:`radrepro.stability.agreement`), vectorised over
features.
"""

from radrepro.stability.agreement import (
    EXCELLENT, GOOD, agreement, ccc, icc_from_mean_squares, mean_squares, overall_ccc, rating, repeatability,
)
from radrepro.stability.table import (
    STABILITY_COLUMNS, Cube, ccc_to_reference, cube, family_summary, feature_family, stability_table,
)

__all__ = [
    "EXCELLENT", "GOOD", "STABILITY_COLUMNS", "Cube", "agreement", "ccc", "ccc_to_reference", "cube",
    "family_summary", "feature_family", "icc_from_mean_squares", "mean_squares", "overall_ccc", "rating",
    "repeatability", "stability_table",
]
