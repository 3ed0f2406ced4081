import hashlib

import numpy as np
import SimpleITK as sitk

from radrepro.datasets.cards import all_cards, load_cases
from radrepro.datasets.phantom import digital_phantom
from radrepro.datasets.synthetic import synthetic_cohort


def test_phantom_equals_published_files(ibsi_data):
    image, mask = digital_phantom()
    for ours, name in ((image, "image/phantom.nii.gz"), (mask, "mask/mask.nii.gz")):
        ref = sitk.ReadImage(str(ibsi_data / "ibsi1" / "digital_phantom" / name))
        assert np.array_equal(sitk.GetArrayFromImage(ours), sitk.GetArrayFromImage(ref))
        assert ours.GetSpacing() == ref.GetSpacing()
        assert ours.GetOrigin() == ref.GetOrigin()


def test_phantom_shape():
    image, mask = digital_phantom()
    assert image.GetSize() == (5, 4, 4)
    assert sitk.GetArrayFromImage(mask).sum() == 74


def _digest(cases):
    h = hashlib.sha256()
    for c in cases:
        for im in (c.image, c.mask):
            h.update(sitk.GetArrayViewFromImage(im).tobytes())
            h.update(repr((im.GetSpacing(), im.GetOrigin())).encode())
        h.update(repr(sorted(c.metadata.items())).encode())
    return h.hexdigest()


def test_synthetic_same_seed_same_bytes():
    a = synthetic_cohort(n_sites=2, lesions_per_site=3, seed=7)
    b = synthetic_cohort(n_sites=2, lesions_per_site=3, seed=7)
    c = synthetic_cohort(n_sites=2, lesions_per_site=3, seed=8)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_synthetic_structure():
    cases = synthetic_cohort(n_sites=3, lesions_per_site=4, seed=1)
    assert len(cases) == 12
    assert len({c.id for c in cases}) == 12
    sites = {c.metadata["site"] for c in cases}
    assert sites == {"A", "B", "C"}
    spacings = {c.image.GetSpacing() for c in cases}
    assert len(spacings) == 3  # every site has its own voxel spacing
    for c in cases:
        m = sitk.GetArrayFromImage(c.mask)
        assert m.sum() > 100 and m[0].sum() == 0 and m[-1].sum() == 0  # lesion inside the field of view
        assert c.metadata["label"] in (0, 1)


def _roi_stats(cases):
    out = []
    for c in cases:
        a = sitk.GetArrayFromImage(c.image).astype(float)
        m = sitk.GetArrayFromImage(c.mask).astype(bool)
        out.append((c.metadata["site"], c.metadata["label"], a[m].mean(), a[m].std()))
    return out


def test_synthetic_has_biology_and_site_effects():
    stats = _roi_stats(synthetic_cohort(n_sites=4, lesions_per_site=12, seed=3))
    sd = {lab: np.mean([s for _, l, _, s in stats if l == lab]) for lab in (0, 1)}
    assert sd[1] > 1.2 * sd[0]  # label 1 is more heterogeneous
    site_mean = {site: np.mean([m for s, _, m, _ in stats if s == site]) for site in "ABCD"}
    assert max(site_mean.values()) - min(site_mean.values()) > 20  # offset/scale per site


def test_synthetic_without_site_effects_shares_one_grid():
    cases = synthetic_cohort(n_sites=3, lesions_per_site=2, seed=1, site_effects=False)
    assert len({c.image.GetSpacing() for c in cases}) == 1


def test_cards_list_embedded():
    cards = all_cards()
    assert {"ibsi-digital-phantom", "synthetic-multicentre"} <= set(cards)
    assert len(load_cases("ibsi-digital-phantom")) == 1
    assert len(load_cases("synthetic-multicentre", n_sites=1, lesions_per_site=2)) == 2
