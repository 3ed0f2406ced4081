"""The model pipeline: (in-fold ComBat) -> scaling -> stable features -> selection -> classifier.

Every step that learns from data is inside the scikit-learn ``Pipeline``, so cross-validation
refits it on each training fold and the test fold never influences it. The batch (site) travels as
a column of ``X``: the first step either harmonises with it (:class:`FoldComBat`) or drops it
(:class:`DropColumns`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectFromModel, SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from radrepro.errors import InputError, SettingsError
from radrepro.harmonisation import ComBat

CLASSIFIERS = ("logistic", "random_forest")
SELECTIONS = ("kbest", "l1", "none")


class DropColumns(TransformerMixin, BaseEstimator):
    """Drop metadata columns (the site) so that only features reach the model."""

    def __init__(self, columns: Iterable[str] = ()) -> None:
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> "DropColumns":
        self.features_ = np.asarray([c for c in X.columns if c not in set(self.columns)], dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "features_")
        return X[list(self.features_)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return self.features_


class FoldComBat(TransformerMixin, BaseEstimator):
    """ComBat fitted on the training fold, with a rule for sites the fold has not seen.

    Sites seen in ``fit`` are harmonised with the fitted ComBat (:class:`radrepro.harmonisation.ComBat`,
    no covariates: a covariate would need the test cases' outcome). A site absent from the training
    data (leave-one-site-out) cannot use ComBat's per-site estimates; its location and scale are
    estimated from its own cases' *features* (never their outcome) on the training standardisation,
    ``z = (x - grand_mean) / sqrt(var_pooled)``, and it is mapped to mean 0 and variance 1 on that
    scale: ComBat's location/scale model without empirical Bayes for the new site. This is the only
    way ComBat can be applied to a new site, and it needs at least two cases from it.
    """

    def __init__(self, batch_col: str = "site") -> None:
        self.batch_col = batch_col

    def fit(self, X: pd.DataFrame, y: Any = None) -> "FoldComBat":
        import warnings

        from radrepro.harmonisation import HarmonisationWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HarmonisationWarning)
            self.combat_ = ComBat(batch_col=self.batch_col).fit(X)
        self.features_ = np.asarray(self.combat_.features_, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "combat_")
        batch = X[self.batch_col]
        seen = batch.isin(set(self.combat_.batches_))
        feats = list(self.combat_._feature_labels)
        out = pd.DataFrame(np.nan, index=X.index, columns=pd.Index(feats))
        if seen.any():
            out.loc[seen] = self.combat_.transform(X.loc[seen]).to_numpy()
        if (~seen).any():
            keep = ~self.combat_.passthrough_
            gm, var = self.combat_.grand_mean_[keep], self.combat_.var_pooled_[keep]
            for site in pd.unique(batch[~seen]):
                rows = (batch == site).to_numpy()
                x = X.loc[rows, feats].to_numpy(dtype=np.float64, copy=True)
                if x.shape[0] < 2:
                    raise InputError(f"site {site!r} has one case and was not in the training data", "ComBat needs at least two cases of a new site")
                z = (x[:, keep] - gm) / np.sqrt(var)
                sd = z.std(axis=0, ddof=1)
                sd[sd == 0] = 1.0
                x[:, keep] = (z - z.mean(axis=0)) / sd * np.sqrt(var) + gm
                out.loc[rows] = x
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return self.features_


class KeepFeatures(TransformerMixin, BaseEstimator):
    """Keep only the named (e.g. stable) features; ``None`` keeps all.

    The list is fixed before the data is seen (from a stability analysis of repeated
    measurements, which never sees the outcome), so this step cannot leak.
    """

    def __init__(self, features: Iterable[str] | None = None) -> None:
        self.features = features

    def fit(self, X: pd.DataFrame, y: Any = None) -> "KeepFeatures":
        cols = list(X.columns)
        if self.features is None:
            keep = cols
        else:
            wanted = set(self.features)
            keep = [c for c in cols if c in wanted]
            if not keep:
                raise InputError("none of the stable features is among the model's features", "check the stability table's feature names and threshold")
        self.features_ = np.asarray(keep, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "features_")
        return X[list(self.features_)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return self.features_


def build_pipeline(
    *,
    classifier: str = "logistic",
    combat: bool = False,
    site_col: str = "site",
    stable_features: Iterable[str] | None = None,
    selection: str = "kbest",
    k: int = 10,
    random_state: int = 0,
) -> Pipeline:
    """The evaluation pipeline.

    Parameters
    ----------
    classifier
        ``logistic`` (L2, C=1) or ``random_forest`` (200 trees, ``random_state``, one job).
    combat
        Harmonise with :class:`FoldComBat` (fitted in each training fold) on ``site_col``;
        otherwise the site column is dropped.
    site_col
        Name of the site (batch) column of ``X``.
    stable_features
        Names to keep after scaling (stable-only model), or ``None`` for all features.
    selection
        ``kbest`` (ANOVA F, the ``k`` best), ``l1`` (the ``k`` largest |coefficients| of an L1
        logistic regression, C=0.1) or ``none``.
    k
        Features kept by the selection (capped at the number available).
    random_state
        Seed of the random forest.
    """
    if classifier not in CLASSIFIERS:
        raise SettingsError(f"unknown classifier {classifier!r}", "use one of: " + ", ".join(CLASSIFIERS))
    if selection not in SELECTIONS:
        raise SettingsError(f"unknown feature selection {selection!r}", "use one of: " + ", ".join(SELECTIONS))
    steps: list[tuple[str, Any]] = [
        ("harmonise", FoldComBat(batch_col=site_col) if combat else DropColumns([site_col])),
        ("scale", StandardScaler()),
        ("stable", KeepFeatures(None if stable_features is None else sorted(stable_features))),
    ]
    if selection == "kbest":
        steps.append(("select", _CappedKBest(k=k)))
    elif selection == "l1":
        l1 = LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.1, random_state=random_state)
        steps.append(("select", _CappedFromModel(l1, k=k)))
    if classifier == "logistic":
        steps.append(("model", LogisticRegression(C=1.0, max_iter=2000)))
    else:
        steps.append(("model", RandomForestClassifier(n_estimators=200, min_samples_leaf=2, random_state=random_state, n_jobs=1)))
    return Pipeline(steps).set_output(transform="pandas")


class _CappedKBest(SelectKBest):
    """SelectKBest whose ``k`` is capped at the number of input features."""

    def __init__(self, k: int = 10) -> None:
        super().__init__(score_func=f_classif, k=k)

    def fit(self, X: Any, y: Any = None, **params: Any) -> "_CappedKBest":
        requested = self.k
        self.k = min(int(requested), X.shape[1])
        try:
            return super().fit(X, y, **params)
        finally:
            self.k = requested

    def _get_support_mask(self) -> np.ndarray:
        requested = self.k
        self.k = min(int(requested), self.scores_.size)
        try:
            return super()._get_support_mask()
        finally:
            self.k = requested


class _CappedFromModel(SelectFromModel):
    """The ``k`` features with the largest |coefficient| of an L1 model (at least one)."""

    def __init__(self, estimator: Any = None, k: int = 10) -> None:
        super().__init__(estimator, threshold=-np.inf, max_features=k)
        self.k = k

    def fit(self, X: Any, y: Any = None, **params: Any) -> "_CappedFromModel":
        self.max_features = min(int(self.k), X.shape[1])
        return super().fit(X, y, **params)
