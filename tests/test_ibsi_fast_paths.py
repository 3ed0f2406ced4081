"""The IBSI convention's fast paths give what the plain paths give (issue 10).

- ``read_pair`` + ``prepare(label=...)`` (no whole-image cast, ROI read from the mask as stored)
  against ``load_pair`` + ``prepare``;
- the ROI box kernels against numpy;
- Qhull on the mesh vertices kept by ``hull_candidates`` against Qhull on all of them.
"""

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radrepro.case import load_pair, read_pair
from radrepro.conventions import ibsi
from radrepro.errors import InputError
from radrepro.processing import prepare
from radrepro.processing.roi import bounding_box, has_label, label_box
from radrepro.settings import Settings


def _pair(label=1, dtype=np.int16, shape=(9, 30, 28), seed=0):
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(shape)
    arr = np.round(200 * np.sin(x / 4.0) + 3 * y + rng.normal(0, 30, shape)).astype(dtype)
    m = ((z - 4) / 3.5) ** 2 + ((y - 14) / 9.0) ** 2 + ((x - 13) / 8.0) ** 2 <= 1.0
    mask = np.where(m, label, 0).astype(np.uint8)
    mask[0, 0, 0] = 7  # another label elsewhere
    img, msk = sitk.GetImageFromArray(arr), sitk.GetImageFromArray(mask)
    img.SetSpacing((0.8, 0.8, 2.5))
    msk.CopyInformation(img)
    return img, msk


@pytest.mark.parametrize("settings", [
    Settings(),
    Settings(label=3, discretisation="fbn", bin_count=16, texture_dims=("2D", "2.5D", "3D")),
    Settings(label=3, spacing=(1.0, 1.0, 1.0), intensity_rounding=1.0, reseg_range=(-150, 250)),
], ids=["defaults", "label 3, 2D", "label 3, resampled"])
def test_read_pair_and_label_equal_load_pair(settings):
    img, msk = _pair(label=settings.label)
    fast = ibsi.extract(*ibsi.load_pair(img, msk, settings), settings)
    plain = ibsi.extract(*load_pair(img, msk, label=settings.label), settings.replace(label=1))
    fast, plain = pd.Series(fast), pd.Series(plain)
    assert list(fast.index) == list(plain.index)
    both_nan = fast.isna() & plain.isna()
    assert (both_nan | (fast == plain)).all(), fast[~(both_nan | (fast == plain))]


def test_read_pair_keeps_the_images_and_checks_like_load_pair():
    img, msk = _pair()
    a, b = read_pair(img, msk)
    assert a is img and b is msk
    with pytest.raises(InputError, match="has no voxel with label 2"):
        read_pair(img, msk, 2)
    f = sitk.Cast(img, sitk.sitkFloat32)
    arr = sitk.GetArrayFromImage(f)
    arr[4, 14, 13] = np.nan
    nan_img = sitk.GetImageFromArray(arr)
    nan_img.CopyInformation(img)
    with pytest.raises(InputError, match="1 NaN/inf voxels inside the ROI"):
        read_pair(nan_img, msk)
    arr[4, 14, 13] = 0.0
    arr[0, 0, 1] = np.nan  # outside the ROI: fine
    ok = sitk.GetImageFromArray(arr)
    ok.CopyInformation(img)
    read_pair(ok, msk)


def test_prepare_with_label_equals_prepare_on_a_binary_mask():
    img, msk = _pair(label=3)
    settings = Settings()
    fast = prepare(img, msk, settings, label=3)
    plain = prepare(*load_pair(img, msk, label=3), settings)
    for name in ("image", "morph_mask", "int_mask", "levels"):
        assert np.array_equal(getattr(fast, name), getattr(plain, name)), name
    assert fast.spacing == plain.spacing and fast.n_levels == plain.n_levels


def test_label_box_and_has_label_against_numpy():
    rng = np.random.default_rng(3)
    for _ in range(300):
        shape = tuple(int(s) for s in rng.integers(1, 7, size=rng.integers(2, 4)))
        mask = (rng.random(shape) < rng.random() * 0.3) * rng.integers(1, 3)
        for dtype in (np.uint8, np.int16, np.float32):
            m = mask.astype(dtype)
            for label in (1, 2):
                hit = m == label
                assert has_label(m, label) == hit.any()
                assert label_box(m, label) == (bounding_box(hit) if hit.any() else None)


def test_hull_of_the_candidates_is_the_hull_of_the_mesh():
    from scipy.spatial import ConvexHull

    from radrepro.features._mesh import hull_candidates, roi_mesh

    rng = np.random.default_rng(5)
    for spacing in ((1.0, 1.0, 1.0), (0.7, 0.9, 2.5)):
        blob = rng.random((8, 12, 11)) < 0.45
        blob[4, 6, 5] = True
        verts, _ = roi_mesh(blob, spacing)
        keep = hull_candidates(verts, spacing)
        full, part = ConvexHull(verts), ConvexHull(verts[keep])
        assert keep.sum() < len(verts)
        assert part.volume == pytest.approx(full.volume, rel=1e-12)
        assert part.area == pytest.approx(full.area, rel=1e-12)
        assert {tuple(v) for v in verts[full.vertices]} == {tuple(v) for v in verts[keep][part.vertices]}
