"""Stability statistics: ICC against pingouin and Shrout & Fleiss, CCC and repeatability by hand,
the long-table interface, the CLI, NaN/constant features, speed, and the synthetic cohort."""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from radrepro.cli import main
from radrepro.errors import InputError, SettingsError
from radrepro.results import long_rows, write_results
from radrepro.stability import (
    STABILITY_COLUMNS, agreement, ccc, ccc_to_reference, cube, family_summary, feature_family, overall_ccc,
    repeatability, stability_table,
)

FORMS = {"ICC(1,1)": "icc_1_1", "ICC(A,1)": "icc_a_1", "ICC(C,1)": "icc_c_1"}


def _long(y: np.ndarray, features=None, cases=None, perts=None) -> pd.DataFrame:
    f, n, k = y.shape
    features = features or [f"stat_f{i}" for i in range(f)]
    cases = cases or [f"c{i}" for i in range(n)]
    perts = perts or [f"p{j}" for j in range(k)]
    fi, ci, pj = np.meshgrid(np.arange(f), np.arange(n), np.arange(k), indexing="ij")
    return pd.DataFrame({
        "case": np.asarray(cases)[ci.ravel()], "perturbation": np.asarray(perts)[pj.ravel()],
        "feature": np.asarray(features)[fi.ravel()], "value": y.ravel(),
    })


def _pingouin(y2: np.ndarray) -> pd.DataFrame:
    n, k = y2.shape
    df = pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "y": y2.ravel()})
    old = pg.options.get("round.column.CI95")
    pg.options["round.column.CI95"] = None  # pingouin rounds its intervals to 2 decimals by default
    try:
        with warnings.catch_warnings():  # pingouin 0.7 calls a pandas API that pandas 3 deprecates
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return pg.intraclass_corr(df, "t", "r", "y", nan_policy="omit").set_index("Type")
    finally:
        pg.options["round.column.CI95"] = old


def test_icc_equals_pingouin_on_random_data():
    rng = np.random.default_rng(2024)
    ys = []
    for _ in range(12):
        n, k = int(rng.integers(3, 40)), int(rng.integers(2, 8))
        subject = rng.normal(0, rng.uniform(0.2, 4), (n, 1))
        bias = rng.normal(0, rng.uniform(0, 2), (1, k))
        ys.append(10 + subject + bias + rng.normal(0, 1, (n, k)))
    # one with missing values: pingouin drops incomplete cases (nan_policy="omit"), so do we
    y = ys[0].copy()
    y[1, 0] = np.nan
    ys.append(y)
    worst = 0.0
    for y in ys:
        ours = agreement(y[None])
        ref = _pingouin(y)
        for form, key in FORMS.items():
            lo, hi = ref.loc[form, "CI95"]
            got = np.array([ours[key][0], ours[f"{key}_low"][0], ours[f"{key}_high"][0]])
            want = np.array([ref.loc[form, "ICC"], lo, hi])
            assert np.all(np.isfinite(got))
            worst = max(worst, float(np.max(np.abs(got - want))))
    assert worst < 1e-10


def test_icc_vectorised_equals_one_feature_at_a_time():
    rng = np.random.default_rng(5)
    y = rng.normal(0, 1, (50, 12, 4)) + rng.normal(0, 2, (50, 12, 1))
    y[3, 2, 1] = np.nan
    together = agreement(y)
    for i in (0, 3, 49):
        alone = agreement(y[i:i + 1])
        for key in ("icc_1_1", "icc_a_1_low", "icc_c_1_high", "ccc", "wcv", "rc"):
            assert together[key][i] == pytest.approx(alone[key][0], abs=1e-14)
    assert together["n_cases"][3] == 11 and together["n_cases"][0] == 12


# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges
SHROUT_FLEISS = np.array([
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
], dtype=float)


def test_shrout_fleiss_table():
    out = agreement(SHROUT_FLEISS[None])
    # the paper's Table 4: ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71
    assert round(out["icc_1_1"][0], 2) == 0.17
    assert round(out["icc_a_1"][0], 2) == 0.29
    assert round(out["icc_c_1"][0], 2) == 0.71
    # exact values from the paper's mean squares: BMS = 11.24, WMS = 6.26, JMS = 32.49, EMS = 1.02
    n, k = SHROUT_FLEISS.shape
    grand = SHROUT_FLEISS.mean()
    bms = k * ((SHROUT_FLEISS.mean(1) - grand) ** 2).sum() / (n - 1)
    jms = n * ((SHROUT_FLEISS.mean(0) - grand) ** 2).sum() / (k - 1)
    wms = ((SHROUT_FLEISS - SHROUT_FLEISS.mean(1, keepdims=True)) ** 2).sum() / (n * (k - 1))
    ems = (((SHROUT_FLEISS - SHROUT_FLEISS.mean(1, keepdims=True) - SHROUT_FLEISS.mean(0) + grand) ** 2).sum()
           / ((n - 1) * (k - 1)))
    assert (round(bms, 2), round(wms, 2), round(jms, 2), round(ems, 2)) == (11.24, 6.26, 32.49, 1.02)
    assert out["icc_1_1"][0] == pytest.approx((bms - wms) / (bms + (k - 1) * wms), abs=1e-14)
    assert out["icc_a_1"][0] == pytest.approx((bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n), abs=1e-14)
    assert out["icc_c_1"][0] == pytest.approx((bms - ems) / (bms + (k - 1) * ems), abs=1e-14)
    # F-test interval of ICC(3,1) (Shrout & Fleiss eq. 12) with scipy's F quantiles
    from scipy import stats

    f_obs = bms / ems
    fl = f_obs / stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    fu = f_obs * stats.f.ppf(0.975, (n - 1) * (k - 1), n - 1)
    assert out["icc_c_1_low"][0] == pytest.approx((fl - 1) / (fl + k - 1), abs=1e-12)
    assert out["icc_c_1_high"][0] == pytest.approx((fu - 1) / (fu + k - 1), abs=1e-12)


def test_ccc_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([2.0, 2.0, 4.0, 4.0, 6.0])
    # means 3 and 3.6, variances (1/n) 2 and 2.24, covariance 2: 2*2 / (2 + 2.24 + 0.36) = 0.8695...
    assert ccc(x, y) == pytest.approx(4.0 / 4.6, abs=1e-13)
    assert ccc(x, x) == 1.0
    assert ccc(x - 3, 3 - x) == pytest.approx(-1.0)
    assert ccc(x, -x) == pytest.approx(-4 / (2 + 2 + 36))  # CCC penalises the shift of the means
    assert ccc(x, x + 1) == pytest.approx(2 * 2 / (2 + 2 + 1))
    with pytest.raises(ValueError):
        ccc(x, y[:3])


def test_overall_ccc_is_lins_weighted_average_of_pairs():
    rng = np.random.default_rng(9)
    y = rng.normal(0, 1, (15, 4)) + rng.normal(0, 2, (15, 1)) + np.array([0.0, 0.3, -0.2, 0.5])
    num = den = 0.0
    for a in range(4):
        for b in range(a + 1, 4):
            xa, xb = y[:, a], y[:, b]
            sab = np.mean((xa - xa.mean()) * (xb - xb.mean()))
            num += 2 * sab
            den += xa.var() + xb.var() + (xa.mean() - xb.mean()) ** 2
    assert overall_ccc(y[None])[0] == pytest.approx(num / den, abs=1e-14)
    # two conditions: Lin's CCC
    assert overall_ccc(y[None, :, :2])[0] == pytest.approx(ccc(y[:, 0], y[:, 1]), abs=1e-15)


def test_repeatability_by_hand():
    y = np.array([[10.0, 12.0], [20.0, 20.0], [30.0, 27.0]])
    # per-case sample variances 2, 0, 4.5; wSD = sqrt(6.5 / 3); RC = 1.96 sqrt(2) wSD
    out = repeatability(y[None])
    wsd = math.sqrt(6.5 / 3)
    assert out["wsd"][0] == pytest.approx(wsd, abs=1e-14)
    assert out["rc"][0] == pytest.approx(1.959963984540054 * math.sqrt(2) * wsd, abs=1e-13)
    assert out["rc"][0] == pytest.approx(2.77 * wsd, rel=1e-3)
    cvs = np.array([2 / 11**2, 0.0, 4.5 / 28.5**2])
    assert out["wcv"][0] == pytest.approx(math.sqrt(cvs.mean()), abs=1e-15)


def test_nan_and_constant_features_get_reasons():
    rng = np.random.default_rng(1)
    y = rng.normal(0, 1, (5, 6, 3)) + rng.normal(0, 3, (5, 6, 1))
    y[0] = 7.0  # constant across all rows
    y[1, :, :] = np.nan
    y[1, 0, :] = 1.0  # one complete case only
    y[2] = np.repeat(np.arange(6.0)[:, None] - 2.5, 3, axis=1)  # (a case mean of 0 is fine: no variation)  # identical under every condition
    y[3, 2, :] = -y[3, 2, :].mean() + y[3, 2, :] - 0.0  # case 2 has mean exactly 0
    y[3, 2, :] -= y[3, 2, :].mean()
    out = agreement(y)
    assert out["reason"][0] == "constant across all rows"
    assert all(np.isnan(out[key][0]) for key in ("icc_1_1", "icc_a_1_low", "icc_c_1_high", "ccc", "wcv", "rc"))
    assert out["reason"][1].startswith("1 complete case") and np.isnan(out["icc_a_1"][1])
    assert out["reason"][2] == "" and out["icc_a_1"][2] == 1.0 and out["icc_c_1_low"][2] == 1.0
    assert out["icc_1_1_high"][2] == 1.0 and out["ccc"][2] == 1.0 and out["rc"][2] == 0.0 and out["wcv"][2] == 0.0
    assert out["reason"][3].startswith("wCV undefined") and np.isnan(out["wcv"][3]) and np.isfinite(out["icc_a_1"][3])
    assert out["reason"][4] == "" and np.isfinite(out["icc_a_1_low"][4])
    one = agreement(np.ones((2, 4, 1)))
    assert list(one["reason"]) == ["fewer than 2 conditions (perturbations)"] * 2


# ------------------------------------------------------------------------------------------
# the long-table interface


def test_stability_table_from_long_results():
    rng = np.random.default_rng(3)
    y = np.stack([
        rng.normal(0, 5, (20, 1)) + rng.normal(0, 0.2, (20, 5)),  # stable
        rng.normal(0, 1, (20, 1)) + rng.normal(0, 2, (20, 5)),  # unstable
        np.full((20, 5), 3.0),  # constant
    ])
    df = _long(y, features=["stat_mean", "cm_contrast_3D_avg", "morph_volume"], perts=["none", "a", "b", "c", "d"])
    df = df.sample(frac=1.0, random_state=0)  # row order does not matter
    table = stability_table(df, icc="A,1")
    assert list(table.columns[: len(STABILITY_COLUMNS)]) == STABILITY_COLUMNS
    t = table.set_index("feature")
    assert list(t["family"]) == ["stat", "cm", "morph"] or set(t["family"]) == {"stat", "cm", "morph"}
    ref = agreement(y)
    for i, name in enumerate(["stat_mean", "cm_contrast_3D_avg"]):
        assert t.loc[name, "icc_a_1"] == pytest.approx(ref["icc_a_1"][i], abs=1e-14)
        assert t.loc[name, "icc"] == t.loc[name, "icc_a_1"] and t.loc[name, "icc_low"] == t.loc[name, "icc_a_1_low"]
    assert t.loc["stat_mean", "rating"] == "excellent" and t.loc["cm_contrast_3D_avg", "rating"] == "poor"
    assert t.loc["morph_volume", "reason"] == "constant across all rows" and np.isnan(t.loc["morph_volume", "icc"])
    assert (t["n_perturbations"] == 5).all() and t.loc["stat_mean", "n_cases"] == 20
    c = stability_table(df, icc="C,1").set_index("feature")
    assert c.loc["stat_mean", "icc"] == c.loc["stat_mean", "icc_c_1"]
    # a missing row (a failed extraction) drops that case for that feature only
    dropped = df[~((df["case"] == "c0") & (df["perturbation"] == "b") & (df["feature"] == "stat_mean"))]
    d = stability_table(dropped).set_index("feature")
    assert d.loc["stat_mean", "n_cases"] == 19 and d.loc["cm_contrast_3D_avg", "n_cases"] == 20
    # a subset of perturbations
    sub = stability_table(df, perturbations=["none", "a"]).set_index("feature")
    assert (sub["n_perturbations"] == 2).all()
    assert sub.loc["stat_mean", "ccc"] == pytest.approx(ccc(y[0, :, 0], y[0, :, 1]), abs=1e-14)
    pairs = ccc_to_reference(df)
    assert list(pairs.columns) == ["a", "b", "c", "d"] or set(pairs.columns) == {"a", "b", "c", "d"}
    assert pairs.loc["stat_mean", "a"] == pytest.approx(ccc(y[0, :, 0], y[0, :, 1]), abs=1e-14)


def test_family_summary_fractions():
    table = pd.DataFrame({
        "feature": ["stat_a", "stat_b", "stat_c", "stat_d", "cm_a", "cm_b"],
        "icc": [0.99, 0.95, 0.8, np.nan, 0.5, 0.97],
        "icc_low": [0.95, 0.85, 0.6, np.nan, 0.2, 0.92],
    })
    s = family_summary(table)
    assert list(s.index) == ["stat", "cm", "all"]
    assert s.loc["stat", "n_features"] == 4 and s.loc["stat", "n_defined"] == 3
    assert s.loc["stat", "excellent"] == pytest.approx(1 / 3) and s.loc["stat", "good"] == pytest.approx(2 / 3)
    assert s.loc["cm", "excellent"] == 0.5 and s.loc["cm", "good"] == 0.5
    assert s.loc["all", "excellent"] == pytest.approx(2 / 5) and s.loc["all", "good"] == pytest.approx(3 / 5)
    assert s.loc["stat", "median_icc"] == pytest.approx(0.95)
    with pytest.raises(InputError, match="icc_low"):
        family_summary(table.drop(columns="icc_low"))


def test_feature_family_names():
    assert feature_family("cm_joint_max_3D_avg") == "cm"
    assert feature_family("morph_volume") == "morph"
    assert feature_family("original_glcm_JointEnergy") == "glcm"
    assert feature_family("wavelet-LLH_firstorder_Mean") == "firstorder"


def test_bad_tables():
    y = np.random.default_rng(0).normal(0, 1, (2, 4, 3))
    df = _long(y)
    with pytest.raises(InputError, match="lacks the columns value"):
        stability_table(df.drop(columns="value"))
    with pytest.raises(InputError, match="no 'perturbation' column"):
        stability_table(df.drop(columns="perturbation"))
    with pytest.raises(InputError, match="3 rows for case 'c0', perturbation 'p0', feature 'stat_f0'"):
        stability_table(pd.concat([df, df.iloc[:1], df.iloc[:1]]))
    two = pd.concat([df.assign(extractor="radrepro@0.1"), df.assign(extractor="pyradiomics@3.0.1")])
    with pytest.raises(InputError, match="2 extractors"):
        stability_table(two)
    assert len(stability_table(two, extractor="pyradiomics@3.0.1")) == 2
    with pytest.raises(InputError, match="no extractor 'mirp'"):
        stability_table(two, extractor="mirp")
    with pytest.raises(InputError, match="no perturbation zz"):
        stability_table(df, perturbations=["p0", "zz"])
    with pytest.raises(SettingsError, match="ICC form"):
        stability_table(df, icc="B,2")
    with pytest.raises(InputError, match="non-numeric"):
        stability_table(df.assign(value="x"))
    with pytest.raises(InputError, match="no perturbation 'none'"):
        ccc_to_reference(df)


def test_cli_writes_the_stability_table(tmp_path, capsys):
    rng = np.random.default_rng(4)
    parts = []
    for case in range(8):
        base = {"stat_mean": rng.normal(50, 10), "cm_contrast_3D_avg": rng.normal(5, 1), "morph_volume": 1000.0}
        for pert in ("none", "p1", "p2"):
            values = {k: v + rng.normal(0, 0.5) if k != "morph_volume" else v for k, v in base.items()}
            parts.append(long_rows(values, case=f"c{case}", extractor="radrepro@0.1.0", convention="ibsi",
                                   settings="abc", seconds=0.1, perturbation=pert, perturbation_params="[]"))
    results = write_results(pd.concat(parts, ignore_index=True), tmp_path / "results.parquet")
    out = tmp_path / "stability.csv"
    summary = tmp_path / "summary.csv"
    assert main(["stability", str(results), "-o", str(out), "--summary", str(summary)]) == 0
    table = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(table.columns[: len(STABILITY_COLUMNS)]) == STABILITY_COLUMNS
    assert len(table) == 3
    t = table.set_index("feature")
    assert t.loc["stat_mean", "icc_a_1_low"] > 0.9
    assert np.isnan(t.loc["morph_volume", "icc_a_1"]) and t.loc["morph_volume", "reason"] == "constant across all rows"
    err = capsys.readouterr().err
    assert "stability: 3 features, 8 cases x 3 perturbations" in err and "excellent" in err
    assert pd.read_csv(summary, index_col=0).loc["stat", "n_features"] == 1
    # stdout when no -o
    assert main(["stability", str(results), "--icc", "C,1"]) == 0
    assert capsys.readouterr().out.startswith(",".join(STABILITY_COLUMNS))
    # bad input: one line on stderr, exit code 2
    assert main(["stability", str(tmp_path / "missing.parquet")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_speed_1000_features_100_cases_20_perturbations():
    rng = np.random.default_rng(0)
    f, n, k = 1000, 100, 20
    y = rng.normal(0, 1, (f, n, 1)) + rng.normal(0, rng.uniform(0.05, 1, (f, 1, 1)), (f, n, k))
    df = _long(y)
    t0 = time.perf_counter()
    table = stability_table(df)
    seconds = time.perf_counter() - t0
    assert len(table) == f and table["icc"].notna().all()
    assert seconds < 15.0, f"stability_table took {seconds:.1f} s for 2 million rows"
    t0 = time.perf_counter()
    agreement(y)
    assert time.perf_counter() - t0 < 5.0


# ------------------------------------------------------------------------------------------
# test-retest sanity on the synthetic cohort


@pytest.fixture(scope="module")
def cohort_noise_results() -> pd.DataFrame:
    """8 synthetic lesions (2 per site), unperturbed and under 2 noise realisations."""
    import radrepro
    from radrepro.datasets.synthetic import synthetic_cohort
    from radrepro.perturbations import Chain, Noise, perturbed_cases
    from radrepro.settings import Settings

    cases = synthetic_cohort(n_sites=4, lesions_per_site=2, seed=11)
    settings = Settings(families=("morph", "stat", "cm"), reseg_range=(-1000, 400), bin_width=25)
    chains = [Chain([]), Chain([Noise()]), Chain([Noise(realisation=1)])]
    parts = []
    for case, pid, params, s in perturbed_cases(cases, chains, seed=0, settings=settings):
        values = radrepro.extract(case.image, case.mask, s)
        parts.append(long_rows(values, case=case.id, extractor="radrepro", convention="ibsi", settings=s.digest(),
                               seconds=0.0, perturbation=pid, perturbation_params=params))
    return pd.concat(parts, ignore_index=True)


def test_volume_features_are_stable_under_noise(cohort_noise_results):
    table = stability_table(cohort_noise_results).set_index("feature")
    # the mask does not change under noise: volume-only features agree perfectly
    for name in ("morph_volume", "morph_vol_approx", "morph_area_mesh"):
        assert table.loc[name, "icc"] == 1.0 and table.loc[name, "icc_low"] == 1.0 and table.loc[name, "rc"] == 0.0
    # intensity-dependent features move: noise widens the intensity spread
    assert table.loc["stat_var", "icc"] < 1.0 and table.loc["stat_var", "wcv"] > 0.0
    assert table.loc["stat_mean", "icc_low"] > 0.9  # the mean barely moves
    summary = family_summary(table.reset_index())
    assert summary.loc["morph", "excellent"] > summary.loc["cm", "excellent"]
