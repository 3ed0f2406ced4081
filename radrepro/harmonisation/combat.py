"""ComBat as a scikit-learn transformer: R's numbers, fitted on training data, applied to new data.

.. code-block:: python

    from radrepro.harmonisation import ComBat

    # arrays: X is samples x features, batch one label per sample
    combat = ComBat().fit(X_train, batch_train, covariates_train)
    X_test_h = combat.transform(X_test, batch_test, covariates_test)

    # DataFrame columns: fits inside a Pipeline / cross_val_score without leaking
    pipe = make_pipeline(ComBat(batch_col="site", covariate_cols=["age"]), LogisticRegression())
    cross_val_score(pipe, frame, y)

The model and its estimation follow Johnson, Li & Rabinovic (2007) and R's ``sva::ComBat`` /
``neuroCombat`` step by step (see :mod:`radrepro.harmonisation._estimation`); on the R outputs of
neuroCombat's test data the results agree to 1e-12 or better.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from radrepro.errors import InputError, SettingsError
from radrepro.harmonisation import _estimation as est


class HarmonisationWarning(UserWarning):
    """ComBat changed what it does to cope with the data (one-sample batch, constant features, ...)."""


class ComBatInputError(InputError, ValueError):
    """Data ComBat cannot use; also a ``ValueError``, as scikit-learn expects of bad input."""


class ComBatSettingsError(SettingsError, ValueError):
    """ComBat parameters that make no sense together; also a ``ValueError``."""


def _shorten(items: list[Any], limit: int = 5, quote: bool = False) -> str:
    shown = ", ".join(repr(i) if quote or not isinstance(i, str) else i for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _aligned(obj: Any, index: pd.Index | None) -> Any:
    """A Series/DataFrame with the same rows as X but in another order, put in X's order."""
    if index is None or not isinstance(obj, (pd.Series, pd.DataFrame)) or obj.index.equals(index):
        return obj
    if obj.index.is_unique and index.is_unique and len(obj.index) == len(index) and obj.index.isin(index).all():
        return obj.reindex(index)
    return obj  # other labels: taken by position


def _sorted_levels(values: pd.Series) -> list[Any]:
    levels = list(pd.unique(values))
    try:
        return sorted(levels)
    except TypeError:  # mixed types: order by their text
        return sorted(levels, key=str)


class ComBat(TransformerMixin, BaseEstimator):
    """ComBat batch-effect harmonisation (Johnson et al. 2007), as in R's sva / neuroCombat.

    Every feature is modelled as ``x = alpha + covariates @ beta + gamma_batch + delta_batch * e``.
    ``fit`` estimates ``alpha``, ``beta``, the pooled variance and the per-batch location
    ``gamma`` and scale ``delta`` (shrunk towards their batch-wide distribution by empirical
    Bayes); ``transform`` removes ``gamma`` and ``delta`` and keeps the covariates' effects.

    Parameters
    ----------
    parametric
        Empirical Bayes with parametric priors (normal for location, inverse gamma for scale,
        R's ``it.sol``), or non-parametric priors (R's ``int.eprior``, computed in log space so
        that large batches do not underflow). Ignored when ``eb`` is False.
    mean_only
        Adjust the location only (the scale of each batch is left as is).
    eb
        Shrink the per-batch estimates with empirical Bayes. False gives the plain
        location/scale model, every feature on its own.
    ref_batch
        A batch label. The reference batch's data comes out unchanged and the other batches are
        moved to its location and scale (sva's ``ref.batch``). With ``mcombat=True`` see there.
    mcombat
        M-ComBat (Stein et al. 2015; needs ``ref_batch``): estimate as without a reference (grand
        mean, pooled variance, every batch shrunk), then map every batch, the reference included,
        to the reference batch's location and residual scale. See the README for how this differs
        from ``ref_batch`` alone.
    batch_col, covariate_cols
        Column mode: ``X`` is a DataFrame that holds the batch column (and the covariate columns);
        ``fit(X)``/``transform(X)`` take X alone and return only the other (feature) columns,
        harmonised. This is the way to use ComBat in a scikit-learn ``Pipeline``. In column mode
        the second argument of ``fit`` is ignored, because a Pipeline passes the target ``y`` there.

    Attributes
    ----------
    batches_ : ndarray
        Batch labels seen in ``fit``, in sorted order (the row order of the per-batch arrays).
    mean_only_ : bool
        Whether the location-only model was used (``mean_only``, or forced by a one-sample batch).
    passthrough_ : ndarray of bool
        Features left unchanged: constant within a batch (as R's sva) or without residual variance.
    features_ : ndarray of str
        Names of the harmonised columns (column mode or DataFrame input), else ``x0, x1, ...``.
    grand_mean_, var_pooled_ : ndarray, shape (n_features,)
        Location and pooled variance of the standardisation (NaN for pass-through features).
    beta_ : ndarray, shape (n_covariate_columns, n_features)
        Covariate effects (``covariate_columns_`` names the rows).
    gamma_hat_, delta_hat_ : ndarray, shape (n_batches, n_features)
        Per-batch location and scale before empirical Bayes.
    gamma_star_, delta_star_ : ndarray, shape (n_batches, n_features)
        The estimates applied (after empirical Bayes when ``eb``).
    gamma_bar_, t2_, a_prior_, b_prior_ : ndarray, shape (n_batches,)
        Prior hyper-parameters (NaN when ``eb`` is False).
    n_iter_ : ndarray of int, shape (n_batches,)
        Iterations of the parametric EB per batch (0 where none ran).
    target_mean_, target_var_ : ndarray, shape (n_features,)
        Location and variance the standardised data is mapped back to.

    Notes
    -----
    R's ``it.sol`` convergence rule (relative change below 1e-4, divided by the signed old value)
    is kept as is so that the number of iterations, hence the result, matches R.
    """

    def __init__(
        self,
        parametric: bool = True,
        mean_only: bool = False,
        eb: bool = True,
        ref_batch: Any = None,
        mcombat: bool = False,
        batch_col: str | None = None,
        covariate_cols: list[str] | None = None,
    ) -> None:
        self.parametric = parametric
        self.mean_only = mean_only
        self.eb = eb
        self.ref_batch = ref_batch
        self.mcombat = mcombat
        self.batch_col = batch_col
        self.covariate_cols = covariate_cols

    # ------------------------------------------------------------------ input handling
    def _split(self, X: Any, batch: Any, covariates: Any, fitting: bool) -> tuple[np.ndarray, pd.Series, pd.DataFrame | None, pd.Index | None]:
        """Features (float64), batch labels, covariates and the row index of the input."""
        if self.batch_col is not None:
            if not isinstance(X, pd.DataFrame):
                raise ComBatInputError(
                    f"ComBat(batch_col={self.batch_col!r}) needs X as a pandas DataFrame, got {type(X).__name__}",
                    "pass a DataFrame holding the batch column, or leave batch_col=None and pass batch separately",
                )
            if covariates is not None:
                raise ComBatInputError("covariates were passed to a ComBat in column mode", "name them with covariate_cols= instead")
            cov_cols = list(self.covariate_cols or [])
            missing = [c for c in [self.batch_col, *cov_cols] if c not in X.columns]
            if missing:
                raise ComBatInputError(f"X lacks the column(s) {_shorten(missing)}", "the batch_col and covariate_cols must be columns of X")
            batch = X[self.batch_col]
            covariates = X[cov_cols] if cov_cols else None
            if fitting:
                feats = [c for c in X.columns if c not in {self.batch_col, *cov_cols}]
            else:
                feats = list(self.features_)
                absent = [c for c in feats if c not in X.columns]
                if absent:
                    raise ComBatInputError(f"X lacks the feature column(s) {_shorten(absent)} seen in fit", "pass the same feature columns as in fit")
            frame = X[feats]
            index = X.index
        else:
            if self.covariate_cols is not None:
                raise ComBatSettingsError("ComBat(covariate_cols=...) needs batch_col as well", "set batch_col, or pass covariates to fit/transform")
            if batch is None:
                raise ComBatInputError(
                    "ComBat needs the batch of every sample",
                    "call fit(X, batch) / transform(X, batch), or set batch_col= to read it from a DataFrame column",
                )
            if isinstance(X, pd.DataFrame):
                frame, index = X, X.index
                if not fitting and list(X.columns) != list(self.features_):
                    if set(X.columns) != set(self.features_):
                        raise ComBatInputError("X's columns differ from those seen in fit", "pass the same feature columns as in fit")
                    frame = X[list(self.features_)]
            else:
                frame, index = pd.DataFrame(self._array(X)), None
        nonnum = [c for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))]
        if nonnum:
            raise ComBatInputError(
                f"feature column(s) {_shorten(nonnum)} are not numeric",
                "drop identifier/metadata columns before ComBat or name them as batch_col/covariate_cols",
            )
        x = frame.to_numpy(dtype=np.float64, copy=True)
        if not fitting and x.shape[1] != self.features_.size:
            raise ComBatInputError(
                f"X has {x.shape[1]} features, but ComBat is expecting {self.features_.size} features as input", "pass the features seen in fit"
            )
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ComBatInputError(f"X has shape {x.shape}", "ComBat needs at least one feature and samples from two batches")
        bad = ~np.isfinite(x)
        if bad.any():
            cols = [frame.columns[j] for j in np.flatnonzero(bad.any(axis=0))]
            raise ComBatInputError(
                f"X has {int(bad.sum())} missing or infinite value(s) in feature(s) {_shorten(cols)}",
                "ComBat does not estimate around missing values: impute them or drop those features/samples first",
            )
        batch, covariates = _aligned(batch, index), _aligned(covariates, index)
        batch = pd.Series(np.asarray(batch, dtype=object).ravel() if not isinstance(batch, pd.Series) else batch.to_numpy(dtype=object))
        if len(batch) != x.shape[0]:
            raise ComBatInputError(f"batch has {len(batch)} labels for {x.shape[0]} samples", "pass one batch label per row of X")
        if batch.isna().any():
            raise ComBatInputError(f"batch has {int(batch.isna().sum())} missing label(s)", "give every sample a batch, or drop the unlabelled samples")
        if covariates is not None:
            covariates = self._covariate_frame(covariates, x.shape[0])
        if fitting:
            named = index is not None
            self.features_ = np.asarray([str(c) if named else f"x{c}" for c in frame.columns], dtype=object)
            self._feature_labels = list(frame.columns)
        return x, batch, covariates, index

    @staticmethod
    def _array(X: Any) -> np.ndarray:
        """A numeric 2-D array from array-like input, with scikit-learn's error wording."""
        if sparse.issparse(X):
            raise ComBatInputError("ComBat does not support sparse input", "pass a dense array, e.g. X.toarray()")
        try:
            arr = np.asarray(X)
            if arr.dtype.kind == "c":
                raise ComBatInputError("Complex data not supported", "pass real-valued features")
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ComBatInputError):
                raise
            raise ComBatInputError(f"X has values that are not numbers ({exc})", "pass numeric features only") from exc
        if arr.ndim != 2:
            raise ComBatInputError(f"X must be 2-D (samples x features), got shape {arr.shape}", "reshape it, e.g. X.reshape(-1, 1) for one feature")
        return arr

    @staticmethod
    def _covariate_frame(covariates: Any, n: int) -> pd.DataFrame:
        if isinstance(covariates, pd.Series):
            cov = covariates.to_frame()
        elif isinstance(covariates, pd.DataFrame):
            cov = covariates
        else:
            arr = np.asarray(covariates)
            cov = pd.DataFrame(arr.reshape(-1, 1) if arr.ndim == 1 else arr)
            cov.columns = [f"covariate{j}" for j in range(cov.shape[1])]
        if len(cov) != n:
            raise ComBatInputError(f"covariates have {len(cov)} rows for {n} samples", "pass one covariate row per row of X")
        if cov.isna().to_numpy().any():
            cols = [str(c) for c in cov.columns[cov.isna().any()]]
            raise ComBatInputError(f"covariate(s) {_shorten(cols)} have missing values", "impute them or drop those samples")
        return cov.reset_index(drop=True)

    def _encode_covariates(self, cov: pd.DataFrame | None, fitting: bool) -> np.ndarray | None:
        """Covariates as design columns: numbers as they are, categories as treatment contrasts (R's model.matrix)."""
        if fitting:
            self._covariate_spec = []
            if cov is None:
                return None
            for name in cov.columns:
                s = cov[name]
                if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                    self._covariate_spec.append((name, None))
                else:
                    self._covariate_spec.append((name, _sorted_levels(s)))
        spec = self._covariate_spec
        if not spec:
            if cov is not None:
                raise ComBatInputError("covariates were passed to transform but not to fit", "pass the same covariates as in fit, or none")
            return None
        if cov is None:
            names = [str(n) for n, _ in spec]
            raise ComBatInputError(
                f"ComBat was fitted with covariates ({_shorten(names)}) and transform got none",
                "pass the new samples' covariates too (their effects are kept, so ComBat needs them)",
            )
        if list(cov.columns) != [n for n, _ in spec]:
            raise ComBatInputError(
                f"covariates {list(cov.columns)} differ from those seen in fit {[n for n, _ in spec]}",
                "pass the same covariate columns, in the same order",
            )
        cols = []
        for name, levels in spec:
            s = cov[name]
            if levels is None:
                cols.append(s.to_numpy(dtype=np.float64)[:, None])
                continue
            unseen = sorted(set(s) - set(levels), key=str)
            if unseen:
                raise ComBatInputError(f"covariate {name!r} has level(s) {_shorten(unseen, quote=True)} not seen in fit", f"levels seen in fit: {_shorten(levels, quote=True)}")
            cols.append(np.column_stack([(s == lv).to_numpy(dtype=np.float64) for lv in levels[1:]]) if len(levels) > 1 else np.zeros((len(s), 0)))
        x = np.hstack(cols)
        if fitting:
            self.covariate_columns_ = np.asarray(
                [str(n) if lv is None else f"{n}[{v}]" for n, lv in spec for v in ([None] if lv is None else lv[1:])], dtype=object
            )
        return x

    def _batch_codes(self, batch: pd.Series) -> np.ndarray:
        lookup = {b: i for i, b in enumerate(self.batches_)}
        unseen = [b for b in pd.unique(batch) if b not in lookup]
        if unseen:
            raise ComBatInputError(
                f"batch(es) {_shorten(unseen, quote=True)} were not in the data ComBat was fitted on",
                f"ComBat can only harmonise batches seen in fit ({_shorten(list(self.batches_), quote=True)}); refit including them",
            )
        return batch.map(lookup).to_numpy(dtype=np.intp)

    def _reference_index(self) -> int | None:
        if self.ref_batch is None:
            if self.mcombat:
                raise ComBatSettingsError("ComBat(mcombat=True) needs ref_batch", "name the batch whose location and scale the others are moved to")
            return None
        levels = list(self.batches_)
        if self.ref_batch in levels:
            return levels.index(self.ref_batch)
        by_text = [i for i, b in enumerate(levels) if str(b) == str(self.ref_batch)]
        if len(by_text) == 1:
            return by_text[0]
        raise ComBatSettingsError(f"reference batch {self.ref_batch!r} is not one of the batches", f"batches are: {_shorten(levels, 20, quote=True)}")

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, batch: Any = None, covariates: Any = None) -> "ComBat":
        """Estimate the ComBat model.

        Parameters
        ----------
        X
            ``(n_samples, n_features)`` array or DataFrame (in column mode, with the batch and
            covariate columns too).
        batch
            Batch label per sample (ignored in column mode).
        covariates
            ``(n_samples, n_covariates)`` array, Series or DataFrame of covariates whose effects are
            kept (biology, age, ...). Numeric columns enter the model as they are; text, boolean and
            categorical columns as one indicator per level after the first.

        Returns
        -------
        ComBat
            The fitted estimator.
        """
        self._fit(X, batch, covariates)
        return self

    def _fit(self, X: Any, batch: Any, covariates: Any) -> None:
        x, batch, cov, _ = self._split(X, batch, covariates, fitting=True)
        self.n_features_in_ = X.shape[1] if hasattr(X, "shape") and len(X.shape) == 2 else x.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.batches_ = np.asarray(_sorted_levels(batch), dtype=object)
        n_batch = len(self.batches_)
        if n_batch < 2:
            raise ComBatInputError(f"all samples are in one batch ({self.batches_[0]!r})", "ComBat needs at least two batches")
        codes = self._batch_codes(batch)
        counts = np.bincount(codes, minlength=n_batch)
        ref = self._reference_index()
        if ref is not None and counts[ref] < 2:
            raise ComBatInputError(
                f"the reference batch {self.batches_[ref]!r} has {counts[ref]} sample", "a reference batch needs at least two samples to give a scale"
            )
        self.mean_only_ = bool(self.mean_only)
        if (counts == 1).any() and not self.mean_only:
            self.mean_only_ = True
            warnings.warn(
                f"batch(es) {_shorten(list(self.batches_[counts == 1]), quote=True)} have one sample: their scale cannot be estimated, "
                "so ComBat adjusts the location only (mean_only), as R's sva does",
                HarmonisationWarning,
                stacklevel=3,
            )
        covx = self._encode_covariates(cov, fitting=True)
        design = est.design_matrix(codes, n_batch, covx, None if self.mcombat else ref)
        self._cov_keep = ~np.all(covx == 1.0, axis=0) if covx is not None else np.zeros(0, dtype=bool)
        self._check_design(design, codes, n_batch, covx)

        n, p = x.shape
        passthrough = np.zeros(p, dtype=bool)
        for b in range(n_batch):
            if counts[b] > 1:
                passthrough |= np.var(x[codes == b], axis=0) == 0.0
        keep = ~passthrough
        std = est.fit_standardisation(x[:, keep], design, codes, n_batch, None if self.mcombat else ref)
        novar = std.var_pooled == 0.0
        if novar.any():
            passthrough[np.flatnonzero(keep)[novar]] = True
            keep = ~passthrough
            std = est.fit_standardisation(x[:, keep], design, codes, n_batch, None if self.mcombat else ref)
        if passthrough.any():
            names = [self.features_[j] for j in np.flatnonzero(passthrough)]
            warnings.warn(
                f"{passthrough.sum()} feature(s) are constant within a batch or have no residual variance and are passed "
                f"through unchanged: {_shorten(names)}",
                HarmonisationWarning,
                stacklevel=3,
            )
        if not keep.any():
            raise ComBatInputError("every feature is constant within a batch", "ComBat has nothing to estimate; check the input")
        if self.eb and keep.sum() < 2:
            raise ComBatSettingsError(
                "empirical Bayes pools the batch effects over features and needs at least two usable features",
                "use ComBat(eb=False) for a single feature",
            )
        gamma_hat, delta_hat = est.naive_estimates(std.z, design, codes, n_batch, self.mean_only_)
        gamma_star, delta_star = gamma_hat.copy(), delta_hat.copy()
        hyper = np.full((4, n_batch), np.nan)
        n_iter = np.zeros(n_batch, dtype=int)
        fixed_ref = ref if not self.mcombat else None
        if self.eb:
            hyper[:] = est.priors(gamma_hat, delta_hat)
            gamma_bar, t2, a, b_ = hyper
            for b in range(n_batch):
                if b == fixed_ref:  # overwritten below, as in R; skipping it avoids a needless iteration
                    continue
                zb = std.z[codes == b]
                if not self.parametric:
                    gamma_star[b], delta_star[b] = est.int_eprior(zb, gamma_hat[b], delta_hat[b])
                elif self.mean_only_:
                    gamma_star[b] = est.postmean(gamma_hat[b], gamma_bar[b], 1.0, 1.0, t2[b])
                else:
                    gamma_star[b], delta_star[b], n_iter[b] = est.it_sol(zb, gamma_hat[b], delta_hat[b], gamma_bar[b], t2[b], a[b], b_[b])
                    if n_iter[b] >= est.MAX_ITER:
                        warnings.warn(
                            f"parametric empirical Bayes did not converge for batch {self.batches_[b]!r} in {est.MAX_ITER} iterations",
                            HarmonisationWarning,
                            stacklevel=3,
                        )
        if fixed_ref is not None:
            gamma_star[fixed_ref] = 0.0
            delta_star[fixed_ref] = 1.0
        if self.mcombat:
            resid = x[:, keep] - design @ std.beta
            target_mean = std.beta[ref]
            target_var = np.var(resid[codes == ref], axis=0, ddof=1)
        else:
            target_mean, target_var = std.grand_mean, std.var_pooled

        def full(values: np.ndarray) -> np.ndarray:
            out = np.full(values.shape[:-1] + (p,), np.nan)
            out[..., keep] = values
            return out

        self.passthrough_ = passthrough
        self.grand_mean_ = full(std.grand_mean)
        self.var_pooled_ = full(std.var_pooled)
        self.beta_ = full(std.beta[n_batch:])
        self.gamma_hat_, self.delta_hat_ = full(gamma_hat), full(delta_hat)
        self.gamma_star_, self.delta_star_ = full(gamma_star), full(delta_star)
        self.gamma_bar_, self.t2_, self.a_prior_, self.b_prior_ = hyper
        self.n_iter_ = n_iter
        self.target_mean_, self.target_var_ = full(target_mean), full(target_var)
        self._ref = fixed_ref
        if covx is None:
            self.covariate_columns_ = np.asarray([], dtype=object)
        else:
            self.covariate_columns_ = self.covariate_columns_[self._cov_keep]

    def _check_design(self, design: np.ndarray, codes: np.ndarray, n_batch: int, covx: np.ndarray | None) -> None:
        """R's confounding check, with the culprit named."""
        if np.linalg.matrix_rank(design) == design.shape[1]:
            return
        batchmod = np.zeros((codes.size, n_batch))
        batchmod[np.arange(codes.size), codes] = 1.0
        culprits = []
        start = 0
        for name, levels in self._covariate_spec:
            width = 1 if levels is None else len(levels) - 1
            block = covx[:, start : start + width][:, self._cov_keep[start : start + width]]
            start += width
            m = np.hstack([batchmod, block])
            if np.linalg.matrix_rank(m) < m.shape[1]:
                culprits.append(str(name))
        if culprits:
            raise ComBatInputError(
                f"covariate(s) {_shorten(culprits)} are confounded with batch (fully determined by the batch, or constant)",
                "ComBat cannot tell their effect from the batch effect: remove them, or fix the study design",
            )
        raise ComBatInputError(
            "the covariates are confounded with each other (collinear)",
            "remove one or more of them so that the design has full rank",
        )

    # ------------------------------------------------------------------ transform
    def transform(self, X: Any, batch: Any = None, covariates: Any = None) -> Any:
        """Harmonise samples of batches seen in ``fit`` with the fitted estimates.

        Each sample is transformed on its own (no statistics of the new data are used), so test
        data never influences anything. Samples of the reference batch come out unchanged
        (unless ``mcombat``).

        Parameters
        ----------
        X, batch, covariates
            As in :meth:`fit`; covariates are required when the model was fitted with them.

        Returns
        -------
        ndarray or DataFrame
            Harmonised features, same type as X (a DataFrame keeps its index and columns; in
            column mode only the feature columns are returned).
        """
        check_is_fitted(self, "gamma_star_")
        x, batch, cov, index = self._split(X, batch, covariates, fitting=False)
        codes = self._batch_codes(batch)
        covx = self._encode_covariates(cov, fitting=False)
        keep = ~self.passthrough_
        mod = covx[:, self._cov_keep] @ self.beta_[:, keep] if covx is not None else 0.0
        xk = x[:, keep]
        z = (xk - self.grand_mean_[keep] - mod) / np.sqrt(self.var_pooled_[keep])
        adj = (z - self.gamma_star_[codes][:, keep]) / np.sqrt(self.delta_star_[codes][:, keep])
        out = adj * np.sqrt(self.target_var_[keep]) + self.target_mean_[keep] + mod
        if self._ref is not None:
            rows = codes == self._ref
            out[rows] = xk[rows]
        x[:, keep] = out
        if index is None and not isinstance(X, pd.DataFrame):
            return x
        return pd.DataFrame(x, index=index, columns=pd.Index(self._feature_labels))

    def fit_transform(self, X: Any, batch: Any = None, covariates: Any = None, **fit_params: Any) -> Any:
        """``fit(X, batch, covariates).transform(X, batch, covariates)``."""
        return self.fit(X, batch, covariates).transform(X, batch, covariates)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the harmonised columns."""
        check_is_fitted(self, "features_")
        return np.asarray(self.features_, dtype=object)
