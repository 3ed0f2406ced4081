"""Radiogenomics: which radiomic–molecular associations survive feature stability and site effects.

>>> from radrepro.radiogenomics import radiogenomics, features_from_results
>>> result = radiogenomics(features_from_results(results), molecular, site=metadata["site"])
>>> result.summary
"""

from radrepro.radiogenomics.analysis import (
    STAGES,
    RadiogenomicsResult,
    cross_fitted_combat,
    features_from_results,
    radiogenomics,
    suite_step,
)
from radrepro.radiogenomics.associations import ASSOCIATION_COLUMNS, associate, variable_kind

__all__ = ["STAGES", "ASSOCIATION_COLUMNS", "RadiogenomicsResult", "associate", "cross_fitted_combat",
           "features_from_results", "radiogenomics", "suite_step", "variable_kind"]
