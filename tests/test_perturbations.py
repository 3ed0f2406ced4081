"""Perturbations: determinism, intended effects, ids, registry, sampling, bad input."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

import radrepro.perturbations as P
from radrepro.case import Case, image_digest
from radrepro.errors import InputError, SettingsError
from radrepro.settings import Settings

SETTINGS = Settings()


def _image(arr: np.ndarray, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)) -> sitk.Image:
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    return img


def _ellipsoid(shape, centre, radii) -> np.ndarray:
    z, y, x = np.indices(shape)
    return ((z - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 + ((x - centre[2]) / radii[2]) ** 2 <= 1.0


@pytest.fixture(scope="module")
def phantom() -> Case:
    """A textured ellipsoid in noisy tissue: 20 x 41 x 41 voxels of 0.8 x 0.8 x 2 mm."""
    rng = np.random.default_rng(42)
    shape = (20, 41, 41)
    roi = _ellipsoid(shape, (10, 20, 20), (6, 12, 10))
    texture = ndimage.gaussian_filter(rng.normal(0, 1, shape), 1.5) * 60
    arr = np.where(roi, 50 + texture, 0.0) + rng.normal(0, 5.0, shape)
    return Case("phantom", _image(arr, (0.8, 0.8, 2.0), (-16.0, -16.0, -20.0)),
                _image(roi.astype(np.uint8), (0.8, 0.8, 2.0), (-16.0, -16.0, -20.0)), {"site": "X"})


def _arrays(case: Case) -> tuple[np.ndarray, np.ndarray]:
    return sitk.GetArrayFromImage(case.image), sitk.GetArrayFromImage(case.mask).astype(bool)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * (a & b).sum() / (a.sum() + b.sum())


# ------------------------------------------------------------------------------------------
# determinism, ids, chains

CASE_CHANGING = [
    {"kind": "noise"},
    {"kind": "rotation", "angle": 12.5},
    {"kind": "translation", "fraction": [0.25, 0.5, 0.0]},
    {"kind": "volume", "fraction": 0.15},
    {"kind": "contour", "supervoxels": 15},
]


@pytest.mark.parametrize("spec", CASE_CHANGING, ids=lambda s: s["kind"])
def test_same_seed_same_bytes(phantom, spec):
    chain = P.chain_from_dicts([spec])
    a, _ = chain.apply(phantom, SETTINGS, 7)
    b, _ = chain.apply(phantom, SETTINGS, 7)
    assert image_digest(a.image) == image_digest(b.image)
    assert image_digest(a.mask) == image_digest(b.mask)
    c, _ = chain.apply(phantom, SETTINGS, 8)
    if P.perturbation_from_dict(spec).stochastic:
        assert (image_digest(a.image), image_digest(a.mask)) != (image_digest(c.image), image_digest(c.mask))
    else:  # a deterministic perturbation ignores the seed
        assert image_digest(a.image) == image_digest(c.image) and image_digest(a.mask) == image_digest(c.mask)
    # the input case is left as it was
    assert image_digest(phantom.image) == image_digest(phantom.image)


def test_chain_seeds_steps_independently(phantom):
    noise = {"kind": "noise", "sd": 10.0}
    two = P.chain_from_dicts([noise, noise]).apply(phantom, SETTINGS, 3)[0]
    one = P.chain_from_dicts([noise]).apply(phantom, SETTINGS, 3)[0]
    added = _arrays(two)[0] - _arrays(phantom)[0]
    first = _arrays(one)[0] - _arrays(phantom)[0]
    # step 0 of both chains draws the same stream (child seed 0); step 1 adds independent noise
    second = added - first
    assert np.std(second) == pytest.approx(10.0, rel=0.03)
    assert abs(np.corrcoef(first.ravel(), second.ravel())[0, 1]) < 0.03
    # realisations are independent draws whatever the caller's seed
    r1 = P.chain_from_dicts([{**noise, "realisation": 1}]).apply(phantom, SETTINGS, 3)[0]
    assert not np.array_equal(_arrays(r1)[0], _arrays(one)[0])


def test_child_seed_is_numpy_spawn():
    parent = np.random.SeedSequence(11)
    children = parent.spawn(3)
    for i, child in enumerate(children):
        assert np.array_equal(P.child_seed(11, i).generate_state(4), child.generate_state(4))


def test_ids_are_hashes_of_canonical_json():
    p = P.perturbation_from_dict({"kind": "rotation", "angle": 10})
    expected = {"angle": 10.0, "interpolator": "linear", "kind": "rotation"}
    assert p.to_dict() == expected
    text = json.dumps(expected, sort_keys=True, separators=(",", ":"))
    assert p.to_json() == text
    assert p.id == hashlib.sha256(text.encode()).hexdigest()[:16]
    # the same perturbation written differently has the same id; another angle has another
    assert P.perturbation_from_dict({"angle": 10.0, "kind": "rotation", "interpolator": "linear"}).id == p.id
    assert P.perturbation_from_dict({"kind": "rotation", "angle": 11}).id != p.id
    chain = P.Chain([p, P.Noise(scale=2)])
    assert chain.id == hashlib.sha256(chain.to_json().encode()).hexdigest()[:16]
    assert P.chain_from_json(chain.to_json()) == chain
    assert P.Chain([]).id == "none" and P.Chain([]).to_json() == "[]"
    # every kind round-trips through its dict
    for spec in CASE_CHANGING + [{"kind": "resample", "spacing": 2}, {"kind": "discretisation", "bin_count": 16}]:
        q = P.perturbation_from_dict(spec)
        assert P.perturbation_from_dict(q.to_dict()) == q
        json.loads(q.to_json())


# ------------------------------------------------------------------------------------------
# protocol perturbations


def test_protocol_perturbations_change_settings_only(phantom):
    cases = {
        "resample-3d": ({"kind": "resample", "spacing": [1, 1, 2]}, {"spacing": (1.0, 1.0, 2.0), "interpolation_2d": False}),
        "resample-2d": ({"kind": "resample", "spacing": 2, "in_plane": True}, {"spacing": (2.0, 2.0, 0.0), "interpolation_2d": True}),
        "interp": ({"kind": "interpolator", "name": "cubic"}, {"interpolator": "cubic"}),
        "fbs": ({"kind": "discretisation", "bin_width": 10}, {"discretisation": "fbs", "bin_width": 10.0}),
        "fbn": ({"kind": "discretisation", "bin_count": 64}, {"discretisation": "fbn", "bin_count": 64}),
        "reseg": ({"kind": "resegmentation", "low": -100, "high": 200}, {"reseg_range": (-100.0, 200.0)}),
        "reseg-open": ({"kind": "resegmentation", "low": -100}, {"reseg_range": (-100.0, None)}),
    }
    for name, (spec, expected) in cases.items():
        case, settings = P.chain_from_dicts([spec]).apply(phantom, SETTINGS, 0)
        assert case is phantom, name
        for key, value in expected.items():
            assert getattr(settings, key) == value, name
    chained = P.chain_from_dicts([cases["resample-2d"][0], cases["fbn"][0]]).apply(phantom, SETTINGS, 0)[1]
    assert chained.spacing == (2.0, 2.0, 0.0) and chained.bin_count == 64


def test_resample_perturbation_changes_features(phantom):
    import radrepro

    base = Settings(families=("stat",))
    _, s2 = P.Resample(spacing=2.0).apply(phantom, base, 0)
    a = radrepro.extract(phantom.image, phantom.mask, base)
    b = radrepro.extract(phantom.image, phantom.mask, s2)
    assert a["stat_mean"] != b["stat_mean"]
    assert abs(a["stat_mean"] - b["stat_mean"]) < 0.1 * abs(a["stat_mean"])


# ------------------------------------------------------------------------------------------
# noise


def test_noise_estimator_matches_skimage_and_truth():
    from skimage.restoration import estimate_sigma

    rng = np.random.default_rng(0)
    arr = rng.normal(100.0, 7.0, (24, 64, 64))
    # scikit-image's estimator, exactly, with its symmetric boundary
    assert P.estimate_noise_sd(arr, in_plane=False, boundary="symmetric") == pytest.approx(estimate_sigma(arr), rel=1e-12)
    assert P.estimate_noise_sd(arr[3], boundary="symmetric") == pytest.approx(estimate_sigma(arr[3]), rel=1e-12)
    # the default (interior coefficients, slices pooled) is unbiased on small images
    assert P.estimate_noise_sd(arr) == pytest.approx(7.0, rel=0.02)
    small = rng.normal(0.0, 7.0, (32, 51, 51))
    assert P.estimate_noise_sd(small) == pytest.approx(7.0, rel=0.02)
    # db2 has two vanishing moments: a linear ramp or a constant image has no measurable noise
    z, y, x = np.indices((8, 64, 64))
    assert math.isnan(P.estimate_noise_sd(0.5 * x + 0.25 * y))
    assert math.isnan(P.estimate_noise_sd(np.full((4, 16, 16), 3.0)))


def test_noise_has_the_requested_sd(phantom):
    img = _arrays(phantom)[0]
    own = P.estimate_noise_sd(phantom.image)
    assert own == pytest.approx(5.0, rel=0.06)  # the phantom's own noise, textured ROI included
    for spec, target in (({"kind": "noise"}, own), ({"kind": "noise", "scale": 2.0}, 2 * own), ({"kind": "noise", "sd": 12.0}, 12.0)):
        out = P.chain_from_dicts([spec]).apply(phantom, SETTINGS, 5)[0]
        added = _arrays(out)[0] - img
        assert np.std(added) == pytest.approx(target, rel=0.02), spec
        assert abs(np.mean(added)) < 0.05 * target
        assert np.array_equal(_arrays(out)[1], _arrays(phantom)[1])  # the mask is untouched
    # an image without noise cannot be perturbed at "its own" level
    flat = Case("flat", _image(np.zeros((4, 16, 16))), _image(np.ones((4, 16, 16), np.uint8)))
    with pytest.raises(InputError, match="no measurable noise"):
        P.Noise().apply(flat, SETTINGS, 0)


# ------------------------------------------------------------------------------------------
# rotation and translation


def test_rotation_by_zero_and_full_turns_is_identity(phantom):
    for angle in (0, 360, -360):
        out = P.Rotation(angle=angle).apply(phantom, SETTINGS, 0)[0]
        assert image_digest(out.image) == image_digest(phantom.image)
        assert image_digest(out.mask) == image_digest(phantom.mask)


def test_rotation_by_90_is_exact():
    rng = np.random.default_rng(1)
    shape = (5, 21, 21)
    arr = rng.normal(0, 10, shape)
    roi = np.zeros(shape, bool)
    roi[1:4, 6:15, 8:13] = True  # centroid at voxel (z=2, y=10, x=10): the image centre
    case = Case("r", _image(arr, (0.7, 0.7, 3.0), (5.0, -3.0, 1.0)), _image(roi.astype(np.uint8), (0.7, 0.7, 3.0), (5.0, -3.0, 1.0)))
    out = P.Rotation(angle=90).apply(case, SETTINGS, 0)[0]
    img, msk = _arrays(out)
    # content turned from +x towards +y: out[z, y, x] = in[z, cy - (x - cx) ... ] i.e. numpy's rot90 over (y, x)
    expected = np.rot90(arr, k=1, axes=(2, 1))
    np.testing.assert_allclose(img, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(msk, np.rot90(roi, k=1, axes=(2, 1)))
    back = P.Rotation(angle=-90).apply(out, SETTINGS, 0)[0]
    np.testing.assert_allclose(_arrays(back)[0], arr, rtol=0, atol=1e-9)
    # 180 degrees twice is the identity too
    half = P.Rotation(angle=180).apply(case, SETTINGS, 0)[0]
    np.testing.assert_allclose(_arrays(half)[0], arr[:, ::-1, ::-1], rtol=0, atol=1e-9)


def test_rotation_small_angle_keeps_volume_and_centre(phantom):
    out = P.Rotation(angle=15).apply(phantom, SETTINGS, 0)[0]
    before, after = _arrays(phantom)[1], _arrays(out)[1]
    assert after.sum() == pytest.approx(before.sum(), rel=0.03)
    c0 = np.array(ndimage.center_of_mass(before))
    c1 = np.array(ndimage.center_of_mass(after))
    assert np.abs(c0 - c1).max() < 1.0
    assert 0.8 < _dice(before, after) < 0.99


def test_translation_by_zero_is_identity_and_moves_the_grid():
    shape = (6, 12, 16)
    z, y, x = np.indices(shape).astype(float)
    arr = 3.0 * x - 2.0 * y + 0.5 * z
    roi = np.zeros(shape, bool)
    roi[2:4, 4:8, 4:10] = True
    case = Case("t", _image(arr, (0.5, 0.9, 2.5)), _image(roi.astype(np.uint8), (0.5, 0.9, 2.5)))
    same = P.Translation(fraction=0).apply(case, SETTINGS, 0)[0]
    assert image_digest(same.image) == image_digest(case.image) and image_digest(same.mask) == image_digest(case.mask)
    out = P.Translation(fraction=[0.5, -0.25, 0.25]).apply(case, SETTINGS, 0)[0]
    img = _arrays(out)[0]
    # linear interpolation of a linear ramp: voxel i samples i + fraction (index units)
    inner = (slice(1, -1), slice(1, -1), slice(1, -1))
    expected = 3.0 * (x + 0.5) - 2.0 * (y - 0.25) + 0.5 * (z + 0.25)
    np.testing.assert_allclose(img[inner], expected[inner], rtol=0, atol=1e-9)
    # the mask moves with the grid: a half-voxel shift in x keeps a block 1 voxel shorter... or the same
    msk = _arrays(out)[1]
    assert abs(int(msk.sum()) - int(roi.sum())) <= roi.sum() // 2


# ------------------------------------------------------------------------------------------
# volume adaptation


@pytest.fixture(scope="module")
def sphere() -> tuple[np.ndarray, tuple[float, float, float]]:
    shape = (41, 41, 41)
    return _ellipsoid(shape, (20, 20, 20), (10, 10, 10)), (1.0, 1.0, 1.0)


def test_volume_grow_and_shrink_by_distance(sphere):
    roi, spacing = sphere
    grown = P.VolumeAdaptation(distance=2.0).adapt(roi, spacing)
    shrunk = P.VolumeAdaptation(distance=-2.0).adapt(roi, spacing)
    # a ball of radius 10 grown / shrunk by 2 mm: its volume-equivalent radius moves by 2 mm less
    # at most half a voxel (a dilation of voxel centres by a ball misses some corner voxels)
    def radius(m):
        return (3 * m.sum() / (4 * math.pi)) ** (1 / 3)

    assert 1.5 <= radius(grown) - radius(roi) <= 2.0
    assert 1.5 <= radius(roi) - radius(shrunk) <= 2.0
    assert (grown >= roi).all() and (shrunk <= roi).all()
    # exactly the voxels within 2 mm of the ROI are added: a dilation by a ball
    dist_out = ndimage.distance_transform_edt(~roi)
    np.testing.assert_array_equal(grown, roi | (dist_out <= 2.0))
    # anisotropic voxels: distances are in mm
    aniso = P.VolumeAdaptation(distance=2.0).adapt(roi, (0.5, 0.5, 2.0))
    added = aniso & ~roi
    zz, yy, xx = np.nonzero(added)
    assert yy.size and (np.abs(zz - 20) <= 11).all()  # at most one 2-mm slice beyond the 10-slice radius


@pytest.mark.parametrize("fraction", [0.2, -0.2, 0.5, -0.5])
def test_volume_change_by_fraction(sphere, fraction):
    roi, spacing = sphere
    out = P.VolumeAdaptation(fraction=fraction).adapt(roi, spacing)
    assert out.sum() == round(roi.sum() * (1 + fraction))
    assert (out >= roi).all() if fraction > 0 else (out <= roi).all()
    # it grows / shrinks evenly: the centre of mass stays, and added or removed voxels lie in a shell
    assert np.abs(np.array(ndimage.center_of_mass(out)) - 20).max() < 0.3
    changed = out ^ roi
    depth = P.mask.signed_depth(roi, spacing)[changed]
    assert np.ptp(depth) <= 1.5


def test_volume_erosion_cap_and_empty_mask(sphere, phantom):
    roi, spacing = sphere
    n = int(roi.sum())
    capped = P.VolumeAdaptation(distance=-50.0).adapt(roi, spacing)  # default cap: keep >= 20%
    assert capped.sum() == math.ceil(0.2 * n)
    capped = P.VolumeAdaptation(fraction=-0.9, max_erosion=0.5).adapt(roi, spacing)
    assert capped.sum() == math.ceil(0.5 * n)
    with pytest.raises(InputError, match="removes the whole ROI"):
        P.VolumeAdaptation(distance=-50.0, max_erosion=1.0).adapt(roi, spacing)
    with pytest.raises(InputError, match="removes the whole ROI"):
        P.VolumeAdaptation(distance=-50.0, max_erosion=1.0).apply(phantom, SETTINGS, 0)
    grown = P.VolumeAdaptation(distance=1.6).apply(phantom, SETTINGS, 0)[0]
    assert _arrays(grown)[1].sum() > _arrays(phantom)[1].sum()


# ------------------------------------------------------------------------------------------
# contour randomisation


@pytest.fixture(scope="module")
def cohort_case() -> Case:
    from radrepro.datasets.synthetic import synthetic_cohort

    return synthetic_cohort(n_sites=1, lesions_per_site=1, seed=3)[0]


def test_contour_randomisation_keeps_the_core(cohort_case):
    case = cohort_case
    img, roi = _arrays(case)
    p = P.ContourRandomisation()
    spacing = case.image.GetSpacing()
    box, labels = p.labels(img, roi, spacing)
    k = labels.max() + 1
    size = np.bincount(labels.ravel(), minlength=k)
    inside = np.bincount(labels.ravel(), weights=roi[box].ravel(), minlength=k)
    full = np.nonzero((size > 0) & (inside == size))[0]
    none = np.nonzero((size > 0) & (inside == 0))[0]
    assert len(full) >= 3 and len(np.unique(labels)) >= 40
    dices, core_kept = [], []
    core = ndimage.binary_erosion(roi, iterations=2)
    for seed in range(5):
        out = _arrays(p.apply(case, SETTINGS, seed)[0])[1]
        sub = out[box]
        assert sub[np.isin(labels, full)].all()  # supervoxels entirely inside are always kept
        assert not sub[np.isin(labels, none)].any()  # those entirely outside never
        dices.append(_dice(roi, out))
        core_kept.append(out[core].mean())
    assert 0.75 < min(dices) and max(dices) < 0.97 and 0.8 < np.mean(dices)
    assert min(core_kept) > 0.9 and np.mean(core_kept) > 0.95
    assert len(set(np.round(dices, 6))) > 1  # seeds give different contours


# ------------------------------------------------------------------------------------------
# bad input


def test_two_dimensional_images_are_refused():
    img = sitk.GetImageFromArray(np.random.default_rng(0).normal(0, 1, (16, 16)))
    msk = sitk.GetImageFromArray(np.ones((16, 16), np.uint8))
    case = Case("2d", img, msk)
    for p in (P.Rotation(angle=10), P.Translation(fraction=0.5), P.VolumeAdaptation(distance=1), P.ContourRandomisation()):
        with pytest.raises(InputError, match="needs a 3D image"):
            p.apply(case, SETTINGS, 0)


@pytest.mark.parametrize("spec, match", [
    ({"kind": "translation", "fraction": 1.0}, "out of range"),
    ({"kind": "translation", "fraction": [0, -1.5, 0]}, "out of range"),
    ({"kind": "translation", "fraction": [0, 0]}, "three"),
    ({"kind": "rotation", "angle": "ten"}, "not a number"),
    ({"kind": "rotation", "angle": 10, "interpolator": "sinc"}, "interpolator"),
    ({"kind": "noise", "sd": -1}, "out of range"),
    ({"kind": "volume"}, "exactly one"),
    ({"kind": "volume", "distance": 1, "fraction": 0.1}, "exactly one"),
    ({"kind": "volume", "fraction": -1}, "out of range"),
    ({"kind": "volume", "distance": -1, "max_erosion": 0}, "out of range"),
    ({"kind": "discretisation"}, "exactly one"),
    ({"kind": "discretisation", "bin_count": 2.5}, "not an integer"),
    ({"kind": "resample", "spacing": 0}, "out of range"),
    ({"kind": "resegmentation", "low": 10, "high": 0}, "low"),
    ({"kind": "interpolator", "name": "bspline"}, "not valid"),
    ({"kind": "blur"}, "unknown perturbation kind 'blur'.*accepted kinds are: resample"),
    ({"kind": "rotation", "degrees": 10}, "no parameter 'degrees'.*angle, interpolator"),
    ({"angle": 10}, "no 'kind'"),
    ("noise", "must be a table"),
])
def test_bad_perturbations_are_settings_errors(spec, match):
    with pytest.raises(SettingsError, match=match):
        P.perturbation_from_dict(spec)


def test_bad_chain_and_seed():
    with pytest.raises(SettingsError, match="list of tables"):
        P.chain_from_dicts("noise")
    with pytest.raises(SettingsError, match="must be a perturbation"):
        P.Chain(["noise"])
    with pytest.raises(SettingsError, match="seed"):
        P.Chain([P.Noise()]).apply(None, SETTINGS, -1)


# ------------------------------------------------------------------------------------------
# sampling


def test_grid_enumerates_every_combination():
    space = {"rotation.angle": [-10, 0, 10], "noise": {"scale": [1, 2]}, "noise.sd": 4.0}
    chains = P.grid(space)
    assert len(chains) == 6 and len({c.id for c in chains}) == 6
    assert [s.kind for s in chains[0]] == ["rotation", "noise"]
    assert {(c.steps[0].angle, c.steps[1].scale, c.steps[1].sd) for c in chains} == {
        (a, s, 4.0) for a in (-10.0, 0.0, 10.0) for s in (1.0, 2.0)}
    with pytest.raises(SettingsError, match="continuous range"):
        P.grid({"rotation.angle": {"low": -10, "high": 10}})


def test_latin_hypercube_and_random_sampling():
    space = {"rotation.angle": {"low": -20, "high": 20}, "translation.fraction": {"low": 0, "high": 0.75},
             "noise.scale": [0.5, 1.0, 2.0, 4.0]}
    budget = 16
    a = P.sample(space, budget, "lhs", seed=4)
    assert [c.id for c in a] == [c.id for c in P.sample(space, budget, "lhs", seed=4)]
    assert [c.id for c in a] != [c.id for c in P.sample(space, budget, "lhs", seed=5)]
    angles = np.array([c.steps[0].angle for c in a])
    shifts = np.array([c.steps[1].fraction[0] for c in a])
    scales = np.array([c.steps[2].scale for c in a])
    # Latin hypercube: each of the budget strata of every axis holds exactly one point
    assert sorted(np.floor((angles + 20) / 40 * budget).astype(int)) == list(range(budget))
    assert sorted(np.floor(shifts / 0.75 * budget).astype(int)) == list(range(budget))
    assert sorted(np.unique(scales, return_counts=True)[1]) == [4, 4, 4, 4]  # discrete axis: balanced
    r = P.sample(space, budget, "random", seed=4)
    assert len(r) == budget and all(-20 <= c.steps[0].angle <= 20 for c in r)
    log = P.sample({"noise.scale": {"low": 0.25, "high": 4, "log": True}}, 200, "lhs", 0)
    assert np.median([c.steps[0].scale for c in log]) == pytest.approx(1.0, rel=0.05)
    assert P.sample_chains is P.sample


@pytest.mark.parametrize("args, match", [
    (({"rotation.angle": [0]}, 0), "budget"),
    (({"rotation.angle": [0]}, 3, "sobol"), "method"),
    (({"rotation.turn": [0]}, 3), "no parameter 'turn'"),
    (({"spin.angle": [0]}, 3), "unknown kind 'spin'"),
    (({"rotation.angle": {"low": 5, "high": 1}}, 3), "not valid"),
    (({"rotation.angle": []}, 3), "empty"),
    (({}, 3), "non-empty"),
])
def test_bad_spaces(args, match):
    with pytest.raises(SettingsError, match=match):
        P.sample(*args)


# ------------------------------------------------------------------------------------------
# the suite runner's entry point


def test_perturbed_cases_yields_every_case_and_chain(phantom, cohort_case):
    chains = [P.Chain([]), [{"kind": "noise"}], P.Chain([P.Rotation(angle=5), P.Discretisation(bin_count=16)])]
    items = list(P.perturbed_cases([phantom, cohort_case], chains, seed=9, settings={"bin_width": 10}))
    assert len(items) == 6
    case, pid, params, settings = items[0]
    assert case is phantom and pid == "none" and params == "[]" and settings.bin_width == 10
    assert items[1][1] == P.chain_from_dicts([{"kind": "noise"}]).id
    assert json.loads(items[1][2]) == [{"kind": "noise", "realisation": 0, "scale": 1.0, "sd": None}]
    assert items[2][3].discretisation == "fbn" and items[2][3].bin_count == 16
    # a case's perturbation does not depend on the other cases or their order
    again = list(P.perturbed_cases([cohort_case, phantom], chains, seed=9, settings={"bin_width": 10}))
    assert image_digest(again[4][0].image) == image_digest(items[1][0].image)
    assert image_digest(again[1][0].image) == image_digest(items[4][0].image)
    # two cases get different noise from the same run seed
    diff0 = _arrays(items[1][0])[0] - _arrays(phantom)[0]
    other = list(P.perturbed_cases([phantom], chains[1:2], seed=10))[0][0]
    assert not np.array_equal(_arrays(other)[0] - _arrays(phantom)[0], diff0)


def test_chains_from_a_toml_suite_section():
    import tomllib

    text = """
    [[chains]]
    steps = [{ kind = "noise", scale = 0.5 }, { kind = "rotation", angle = -7.5 }]
    [[chains]]
    steps = [{ kind = "resample", spacing = [1, 1, 2] }, { kind = "volume", fraction = -0.1 }]
    [sample]
    space = { "translation.fraction" = { low = 0.0, high = 0.75 }, contour = { realisation = [0, 1, 2] } }
    """
    raw = tomllib.loads(text)
    chains = [P.chain_from_dicts(c["steps"]) for c in raw["chains"]]
    assert [s.kind for s in chains[0]] == ["noise", "rotation"] and chains[0].steps[1].angle == -7.5
    assert chains[1].steps[0].spacing == (1.0, 1.0, 2.0) and chains[1].steps[1].fraction == -0.1
    sampled = P.sample(raw["sample"]["space"], 6, "lhs", seed=1)
    assert {c.steps[1].realisation for c in sampled} == {0, 1, 2}
    assert all(0 <= c.steps[0].fraction[0] < 0.75 for c in sampled)
    with pytest.raises(SettingsError, match="unknown perturbation kind 'nois'"):
        list(P.perturbed_cases([], [[{"kind": "nois"}]], seed=0))
