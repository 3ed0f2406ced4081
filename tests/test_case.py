"""Reading and checking image/mask pairs: each class of bad input gives a one-line error."""

import numpy as np
import pytest
import SimpleITK as sitk

from radrepro.case import image_digest, load_pair
from radrepro.errors import InputError


def _img(arr, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)):
    im = sitk.GetImageFromArray(np.asarray(arr))
    im.SetSpacing(spacing)
    im.SetOrigin(origin)
    return im


@pytest.fixture
def pair(tmp_path):
    a = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    m = np.zeros((3, 4, 5), np.uint8)
    m[1, 1:3, 1:4] = 1
    ip, mp = tmp_path / "img.nrrd", tmp_path / "mask.nii.gz"
    sitk.WriteImage(_img(a), str(ip))
    sitk.WriteImage(_img(m), str(mp))
    return ip, mp


def test_reads_files(pair):
    img, msk = load_pair(*pair)
    assert img.GetPixelID() == sitk.sitkFloat64
    assert sitk.GetArrayFromImage(msk).sum() == 6


def test_missing_file(pair, tmp_path):
    with pytest.raises(InputError, match=r"image file .*nope.nii.gz does not exist"):
        load_pair(tmp_path / "nope.nii.gz", pair[1])


def test_unreadable_file(pair, tmp_path):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"this is not a nifti file")
    with pytest.raises(InputError) as err:
        load_pair(bad, pair[1])
    assert "broken.nii.gz cannot be read" in str(err.value)
    assert "\n" not in str(err.value)


def test_truncated_file(pair, tmp_path):
    data = pair[0].read_bytes()
    cut = tmp_path / "cut.nrrd"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.nrrd cannot be read"):
        load_pair(cut, pair[1])


def test_empty_label(pair):
    with pytest.raises(InputError) as err:
        load_pair(*pair, label=3)
    assert "no voxel with label 3" in str(err.value) and "values present: 0, 1" in str(err.value)


def test_geometry_mismatch():
    a = np.zeros((3, 4, 5))
    m = np.ones((3, 4, 5), np.uint8)
    with pytest.raises(InputError, match="spacing"):
        load_pair(_img(a), _img(m, spacing=(1.0, 1.0, 2.0)))
    with pytest.raises(InputError, match="origin"):
        load_pair(_img(a), _img(m, origin=(5.0, 0.0, 0.0)))
    with pytest.raises(InputError, match="size"):
        load_pair(_img(a), _img(np.ones((3, 4, 6), np.uint8)))


def test_nan_in_roi():
    a = np.zeros((3, 4, 5))
    a[1, 1, 1] = np.nan
    m = np.ones((3, 4, 5), np.uint8)
    with pytest.raises(InputError, match="1 NaN/inf voxels inside the ROI"):
        load_pair(_img(a), _img(m))


def test_nan_outside_roi_is_fine():
    a = np.zeros((3, 4, 5))
    a[0, 0, 0] = np.nan
    m = np.zeros((3, 4, 5), np.uint8)
    m[1] = 1
    load_pair(_img(a), _img(m))


def test_digest_changes_with_content_and_geometry():
    a = _img(np.zeros((2, 2, 2)))
    b = _img(np.zeros((2, 2, 2)), spacing=(1.0, 1.0, 2.0))
    c = _img(np.ones((2, 2, 2)))
    assert len({image_digest(a), image_digest(b), image_digest(c)}) == 3
    assert image_digest(a) == image_digest(_img(np.zeros((2, 2, 2))))
