"""Model performance on radiomic features: what stability filtering and harmonisation do to it.

- :func:`build_pipeline`: (in-fold ComBat) -> StandardScaler -> stable features -> univariate or
  L1 selection -> logistic regression or random forest, as one scikit-learn ``Pipeline``;
- :func:`evaluate_cv` (repeated stratified K-fold, fixed seeds) and :func:`evaluate_loso`
  (leave-one-site-out): AUC with a bootstrap 95% CI, balanced accuracy, Brier score, calibration;
- :func:`compare_models`: the comparison table (raw vs stable-only, no vs in-fold ComBat,
  extractor A vs B) with the leaky control (ComBat on all data) and its optimism;
- :mod:`radrepro.models.metrics`: the AUC CI and calibration on their own.
"""

from radrepro.models.compare import (
    HARMONISATIONS,
    IN_FOLD,
    LEAKY,
    NONE,
    compare_models,
    evaluate_variant,
    leaky_harmonise,
    model_frame,
    stable_features,
    suite_step,
)
from radrepro.models.evaluation import CI_METHOD, evaluate_cv, evaluate_loso
from radrepro.models.metrics import auc_ci, brier, calibration
from radrepro.models.pipeline import FoldComBat, KeepFeatures, build_pipeline

__all__ = [
    "HARMONISATIONS", "IN_FOLD", "LEAKY", "NONE", "CI_METHOD", "compare_models", "evaluate_variant", "leaky_harmonise",
    "model_frame", "stable_features", "suite_step", "evaluate_cv", "evaluate_loso", "auc_ci", "brier", "calibration", "FoldComBat",
    "KeepFeatures", "build_pipeline",
]
