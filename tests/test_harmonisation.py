"""ComBat's properties, edge cases and scikit-learn behaviour (R agreement: test_harmonisation_r.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks
from threadpoolctl import threadpool_limits

from radrepro.errors import InputError, SettingsError
from radrepro.harmonisation import ComBat, HarmonisationWarning
from radrepro.harmonisation import _estimation as est


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices: on a shared 2-core machine, BLAS threads waiting for each other cost 10x."""
    with threadpool_limits(1):
        yield


VARIANTS = {
    "parametric": dict(),
    "nonparametric": dict(parametric=False),
    "mean_only": dict(mean_only=True),
    "nonparametric_mean_only": dict(parametric=False, mean_only=True),
    "no_eb": dict(eb=False),
    "reference": dict(ref_batch="b"),
    "nonparametric_reference": dict(parametric=False, ref_batch="b"),
    "mcombat": dict(ref_batch="b", mcombat=True),
}


def make_data(sizes=(12, 15, 9), p=30, seed=0):
    """Features with per-batch shifts and scales, a binary covariate effect and a continuous one."""
    rng = np.random.default_rng(seed)
    batch = np.repeat(np.array(["a", "b", "c"])[: len(sizes)], sizes)
    n = batch.size
    group = rng.integers(0, 2, n)
    age = rng.normal(60, 10, n)
    x = rng.normal(0, 1, (n, p)) + group[:, None] * rng.normal(1.0, 0.3, p) + 0.05 * age[:, None]
    for k, b in enumerate(np.unique(batch)):
        rows = batch == b
        x[rows] = x[rows] * rng.uniform(0.5, 2.0, p) + rng.normal(3 * k, 1.0, p)
    x += rng.normal(50, 20, p)  # features on different scales
    cov = pd.DataFrame({"group": group, "age": age})
    return x, batch, cov


@pytest.fixture(scope="module")
def data():
    return make_data()


# ---------------------------------------------------------------- fit/transform, order, reference
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_transform_each_sample_alone_equals_fit_transform(variant, data):
    x, batch, cov = data
    combat = ComBat(**VARIANTS[variant])
    together = combat.fit_transform(x, batch, cov)
    fitted = ComBat(**VARIANTS[variant]).fit(x, batch, cov)
    alone = np.vstack([fitted.transform(x[i : i + 1], batch[i : i + 1], cov.iloc[i : i + 1]) for i in range(len(batch))])
    np.testing.assert_allclose(alone, together, rtol=0, atol=1e-12)
    assert not np.allclose(together, x)  # it did something


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_unchanged_by_reordering_samples_and_features(variant, data):
    x, batch, cov = data
    ref = ComBat(**VARIANTS[variant]).fit_transform(x, batch, cov)
    rng = np.random.default_rng(1)
    rows, cols = rng.permutation(x.shape[0]), rng.permutation(x.shape[1])
    got = ComBat(**VARIANTS[variant]).fit_transform(x[rows][:, cols], batch[rows], cov.iloc[rows])
    np.testing.assert_allclose(got, ref[rows][:, cols], rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("variant", ["reference", "nonparametric_reference"])
@pytest.mark.parametrize("eb", [True, False])
def test_reference_batch_is_unchanged(variant, eb, data):
    x, batch, cov = data
    out = ComBat(**VARIANTS[variant], eb=eb).fit_transform(x, batch, cov)
    rows = batch == "b"
    np.testing.assert_array_equal(out[rows], x[rows])
    assert not np.allclose(out[~rows], x[~rows])


def test_location_scale_without_eb_by_hand(data):
    """eb=False, no covariates: every batch gets the sample-weighted mean of the batch means and
    (unbiased) variance equal to R's var.pooled (the mean squared deviation from each batch's mean)."""
    x, batch, _ = data
    out = ComBat(eb=False).fit_transform(x, batch)
    levels = np.unique(batch)
    means = np.array([x[batch == b].mean(axis=0) for b in levels])
    counts = np.array([(batch == b).sum() for b in levels])
    grand = counts @ means / counts.sum()
    pooled = sum(((x[batch == b] - means[k]) ** 2).sum(axis=0) for k, b in enumerate(levels)) / counts.sum()
    for b in levels:
        np.testing.assert_allclose(out[batch == b].mean(axis=0), grand, rtol=1e-12)
        np.testing.assert_allclose(out[batch == b].var(axis=0, ddof=1), pooled, rtol=1e-10)


def test_reference_without_eb_by_hand(data):
    """With a reference batch, the others get its mean and (R's biased) variance."""
    x, batch, _ = data
    out = ComBat(eb=False, ref_batch="b").fit_transform(x, batch)
    ref = x[batch == "b"]
    for b in ("a", "c"):
        np.testing.assert_allclose(out[batch == b].mean(axis=0), ref.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(out[batch == b].var(axis=0, ddof=1), ref.var(axis=0, ddof=0), rtol=1e-10)


def test_mcombat_moves_every_batch_to_the_reference(data):
    """M-ComBat without EB and covariates: every batch, the reference included, has the reference's
    mean and unbiased variance (Stein et al. 2015); the reference comes back as it was."""
    x, batch, _ = data
    out = ComBat(eb=False, ref_batch="b", mcombat=True).fit_transform(x, batch)
    ref = x[batch == "b"]
    for b in ("a", "b", "c"):
        np.testing.assert_allclose(out[batch == b].mean(axis=0), ref.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(out[batch == b].var(axis=0, ddof=1), ref.var(axis=0, ddof=1), rtol=1e-10)
    np.testing.assert_allclose(out[batch == "b"], ref, rtol=1e-12)
    # with EB the reference is shrunk too (it is not fixed), but stays close
    eb = ComBat(ref_batch="b", mcombat=True).fit_transform(x, batch)
    assert not np.array_equal(eb[batch == "b"], ref)
    np.testing.assert_allclose(eb[batch == "a"].mean(axis=0), ref.mean(axis=0), atol=0.5 * ref.std(axis=0).max())


def test_covariate_effect_is_kept(data):
    """The group effect survives: ComBat with the covariate keeps the group difference that the batch-free data has."""
    x, batch, cov = data
    out = ComBat(eb=False).fit_transform(x, batch, cov)
    g = cov["group"].to_numpy() == 1
    diff = out[g].mean(axis=0) - out[~g].mean(axis=0)
    assert np.median(diff) > 0.5  # simulated effect ~1 per feature
    without = ComBat(eb=False).fit_transform(x, batch)  # unmodelled: partly removed with the batch
    assert not np.allclose(out, without)


def test_categorical_covariate_equals_its_indicator(data):
    x, batch, cov = data
    as_text = cov.assign(group=np.where(cov["group"] == 1, "tumour", "benign"))  # "benign" < "tumour": same contrast
    np.testing.assert_allclose(
        ComBat().fit_transform(x, batch, as_text), ComBat().fit_transform(x, batch, cov), rtol=0, atol=1e-10
    )


# ---------------------------------------------------------------- numeric core
def _int_eprior_r(sdat, g_hat, d_hat):
    """R's int.eprior transcribed literally (features in rows, likelihood not in log space)."""
    r = sdat.shape[0]
    g_star, d_star = [], []
    for i in range(r):
        g = np.delete(g_hat, i)
        d = np.delete(d_hat, i)
        x = sdat[i]
        n = x.size
        resid2 = (x[None, :] - g[:, None]) ** 2
        sum2 = resid2.sum(axis=1)
        with np.errstate(all="ignore"):
            lh = 1 / (2 * math.pi * d) ** (n / 2) * np.exp(-sum2 / (2 * d))
            lh[np.isnan(lh)] = 0
            g_star.append(np.sum(g * lh) / np.sum(lh))
            d_star.append(np.sum(d * lh) / np.sum(lh))
    return np.array(g_star), np.array(d_star)


def test_int_eprior_equals_r_formula_on_a_small_batch():
    rng = np.random.default_rng(3)
    z = rng.normal(0.3, 1.2, (8, 40))
    g_hat, d_hat = z.mean(axis=0), z.var(axis=0, ddof=1)
    g, d = est.int_eprior(z, g_hat, d_hat, block=7)  # blocks that do not divide the features
    g_r, d_r = _int_eprior_r(z.T, g_hat, d_hat)
    np.testing.assert_allclose(g, g_r, rtol=1e-12)
    np.testing.assert_allclose(d, d_r, rtol=1e-12)


def test_int_eprior_does_not_underflow_on_a_large_batch():
    """R's formula gives 0/0 = NaN for 1500 samples; the log-space weights stay exact."""
    rng = np.random.default_rng(4)
    z = rng.normal(0.0, 1.0, (1500, 25)) * rng.uniform(0.8, 1.2, 25) + rng.normal(0, 0.1, 25)
    g_hat, d_hat = z.mean(axis=0), z.var(axis=0, ddof=1)
    g_r, _ = _int_eprior_r(z.T, g_hat, d_hat)
    assert np.isnan(g_r).all()
    g, d = est.int_eprior(z, g_hat, d_hat)
    for i in range(z.shape[1]):  # independent check: a per-feature log-sum-exp
        others = np.arange(z.shape[1]) != i
        sum2 = ((z[:, i][None, :] - g_hat[others][:, None]) ** 2).sum(axis=1)
        loglh = -0.5 * z.shape[0] * np.log(2 * np.pi * d_hat[others]) - sum2 / (2 * d_hat[others])
        w = np.exp(loglh - logsumexp(loglh))
        assert g[i] == pytest.approx(np.sum(w * g_hat[others]), rel=1e-10)
        assert d[i] == pytest.approx(np.sum(w * d_hat[others]), rel=1e-10)


def test_nonparametric_combat_on_a_large_batch_is_finite():
    x, batch, _ = make_data(sizes=(600, 40), p=20, seed=5)
    out = ComBat(parametric=False).fit_transform(x, batch)
    assert np.isfinite(out).all()


# ---------------------------------------------------------------- edge cases
def test_one_sample_batch_falls_back_to_mean_only(data):
    x, batch, cov = data
    x1 = np.vstack([x, x[:1] + 1.0])
    b1 = np.append(batch, "z")
    c1 = pd.concat([cov, cov.iloc[:1]], ignore_index=True)
    with pytest.warns(HarmonisationWarning, match="'z'.*one sample.*mean_only"):
        combat = ComBat().fit(x1, b1, c1)
    assert combat.mean_only_ and not combat.mean_only
    np.testing.assert_allclose(combat.transform(x1, b1, c1), ComBat(mean_only=True).fit_transform(x1, b1, c1), rtol=0, atol=1e-12)


def test_features_constant_within_a_batch_pass_through(data):
    """As R's sva: such features are left out of the model and returned unchanged."""
    x, batch, cov = data
    xc = x.copy()
    xc[batch == "a", 4] = 7.0  # constant in batch a only
    xc[:, 9] = 1.5  # constant everywhere
    with pytest.warns(HarmonisationWarning, match="2 feature"):
        combat = ComBat().fit(xc, batch, cov)
    out = combat.transform(xc, batch, cov)
    assert combat.passthrough_.nonzero()[0].tolist() == [4, 9]
    np.testing.assert_array_equal(out[:, [4, 9]], xc[:, [4, 9]])
    rest = np.delete(np.arange(x.shape[1]), [4, 9])
    np.testing.assert_allclose(out[:, rest], ComBat().fit_transform(xc[:, rest], batch, cov), rtol=0, atol=1e-12)


def test_nan_is_a_clear_error(data):
    x, batch, _ = data
    frame = pd.DataFrame(x, columns=[f"f{j}" for j in range(x.shape[1])])
    frame.iloc[3, 5] = np.nan
    with pytest.raises(InputError, match=r"1 missing or infinite value.*f5.*impute"):
        ComBat().fit(frame, batch)
    with pytest.raises(ValueError):  # also a ValueError, as scikit-learn expects
        ComBat().fit(frame, batch)


def test_confounded_covariate_is_named(data):
    x, batch, cov = data
    bad = cov.assign(scanner=np.where(batch == "a", "old", "new"))
    with pytest.raises(InputError, match="'?scanner'? are confounded with batch"):
        ComBat().fit(x, batch, bad)
    with pytest.raises(InputError, match="confounded with each other"):
        ComBat().fit(x, batch, cov.assign(age2=2 * cov["age"] + cov["group"]))


def test_unseen_batch_at_transform_is_named(data):
    x, batch, _ = data
    combat = ComBat().fit(x, batch)
    with pytest.raises(InputError, match="'site-X' were not in the data ComBat was fitted on"):
        combat.transform(x[:3], np.array(["a", "site-X", "a"]))


@pytest.mark.parametrize(
    "kwargs, fit_args, error, match",
    [
        (dict(ref_batch="nope"), {}, SettingsError, "reference batch 'nope' is not one of the batches"),
        (dict(mcombat=True), {}, SettingsError, "mcombat=True\\) needs ref_batch"),
        (dict(), dict(batch=np.repeat("a", 36)), InputError, "one batch"),
        (dict(), dict(batch=None), InputError, "needs the batch of every sample"),
        (dict(), dict(batch=np.repeat(["a", "b"], [20, 15])), InputError, "35 labels for 36 samples"),
        (dict(covariate_cols=["age"]), {}, SettingsError, "needs batch_col"),
    ],
)
def test_bad_settings_and_input(kwargs, fit_args, error, match, data):
    x, batch, _ = data
    args = {"batch": batch, **fit_args}
    with pytest.raises(error, match=match):
        ComBat(**kwargs).fit(x, args["batch"])


def test_transform_needs_the_covariates_seen_in_fit(data):
    x, batch, cov = data
    kind = np.random.default_rng(2).choice(["u", "v"], len(batch))
    combat = ComBat().fit(x, batch, cov.assign(site_kind=kind))
    with pytest.raises(InputError, match="fitted with covariates"):
        combat.transform(x, batch)
    with pytest.raises(InputError, match="'site_kind' has level\\(s\\) 'w' not seen in fit"):
        combat.transform(x[:2], batch[:2], cov.iloc[:2].assign(site_kind=["w", "u"]))


def test_single_feature_needs_eb_off(data):
    x, batch, _ = data
    with pytest.raises(SettingsError, match="eb=False"):
        ComBat().fit(x[:, :1], batch)
    out = ComBat(eb=False).fit_transform(x[:, :1], batch)
    assert out.shape == (x.shape[0], 1)


# ---------------------------------------------------------------- pandas and scikit-learn
def test_dataframe_in_dataframe_out(data):
    x, batch, cov = data
    frame = pd.DataFrame(x, index=[f"case{i}" for i in range(len(x))], columns=[f"feat_{j}" for j in range(x.shape[1])])
    out = ComBat().fit_transform(frame, pd.Series(batch, index=frame.index), cov.set_axis(frame.index))
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(frame.index) and out.columns.equals(frame.columns)
    np.testing.assert_allclose(out.to_numpy(), ComBat().fit_transform(x, batch, cov), rtol=0, atol=1e-12)
    assert isinstance(ComBat().fit_transform(x, batch), np.ndarray)
    # batch and covariates indexed like X but in another order are aligned on the index
    shuffled = np.random.default_rng(0).permutation(len(x))
    b = pd.Series(batch, index=frame.index).iloc[shuffled]
    c = cov.set_axis(frame.index).iloc[shuffled]
    pd.testing.assert_frame_equal(ComBat().fit_transform(frame, b, c), out)


def test_column_mode_returns_only_features(data):
    x, batch, cov = data
    feats = pd.DataFrame(x, columns=[f"feat_{j}" for j in range(x.shape[1])])
    frame = pd.concat([cov, feats.assign(site=batch)], axis=1)
    combat = ComBat(batch_col="site", covariate_cols=["group", "age"]).fit(frame)
    out = combat.transform(frame)
    assert list(out.columns) == list(feats.columns) == list(combat.get_feature_names_out())
    np.testing.assert_allclose(out.to_numpy(), ComBat().fit_transform(x, batch, cov), rtol=0, atol=1e-12)
    # the second argument is the Pipeline's y and is ignored
    np.testing.assert_allclose(combat.fit_transform(frame, np.zeros(len(frame))).to_numpy(), out.to_numpy(), rtol=0, atol=1e-12)
    with pytest.raises(InputError, match="lacks the column"):
        ComBat(batch_col="scanner").fit(frame)


def test_pipeline_cross_validation_does_not_leak(data):
    """Inside cross_val_score, every fold's ComBat sees only that fold's training rows: the scores
    equal a by-hand loop that fits ComBat on the training rows and only transforms the test rows."""
    x, batch, cov = data
    frame = pd.DataFrame(x, columns=[f"f{j}" for j in range(x.shape[1])]).assign(site=batch, age=cov["age"])
    y = cov["group"].to_numpy()
    pipe = make_pipeline(ComBat(batch_col="site", covariate_cols=["age"]), LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, frame, y, cv=cv)
    by_hand = []
    for train, test in cv.split(frame, y):
        combat = ComBat(batch_col="site", covariate_cols=["age"]).fit(frame.iloc[train])
        clf = LogisticRegression(max_iter=2000).fit(combat.transform(frame.iloc[train]), y[train])
        by_hand.append(clf.score(combat.transform(frame.iloc[test]), y[test]))
    np.testing.assert_allclose(scores, by_hand)
    # harmonising everything first (the leak) gives other scores on the same folds
    leaky = ComBat(batch_col="site", covariate_cols=["age"]).fit_transform(frame)
    leaky_scores = cross_val_score(LogisticRegression(max_iter=2000), leaky, y, cv=cv)
    assert not np.allclose(scores, leaky_scores)


def test_clone_and_params():
    combat = ComBat(parametric=False, ref_batch="A", covariate_cols=["x"], batch_col="s")
    params = combat.get_params()
    assert params == dict(parametric=False, mean_only=False, eb=True, ref_batch="A", mcombat=False, batch_col="s", covariate_cols=["x"])
    twin = clone(combat)
    assert twin.get_params() == params and twin is not combat
    twin.set_params(eb=False)
    assert twin.eb is False and combat.eb is True


def test_fitted_attributes_end_in_underscore(data):
    x, batch, cov = data
    combat = ComBat().fit(x, batch, cov)
    assert combat.batches_.tolist() == ["a", "b", "c"]
    assert combat.gamma_star_.shape == combat.delta_star_.shape == (3, x.shape[1])
    assert combat.covariate_columns_.tolist() == ["group", "age"]
    assert combat.n_features_in_ == x.shape[1]
    public = {k for k in vars(combat) if not k.startswith("_")}
    assert public - set(combat.get_params()) == {k for k in public if k.endswith("_")}


def test_set_output_pandas(data):
    x, batch, _ = data
    out = ComBat().set_output(transform="pandas").fit_transform(x, batch)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == [f"x{j}" for j in range(x.shape[1])]


SKLEARN_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_estimators_unfitted",
    "check_transformers_unfitted",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_pipeline_consistency",
    "check_readonly_memmap_input",
    "check_mixin_order",
]


@pytest.mark.parametrize("check", SKLEARN_CHECKS)
def test_sklearn_conventions(check):
    """The scikit-learn checks that apply (the others call transform(X) without the batch, which
    ComBat needs, or name fit's second argument y)."""
    getattr(estimator_checks, check)("ComBat", ComBat())
