"""A synthetic multi-centre cohort with known ground truth, generated offline from a seed.

Each lesion is an irregular ellipsoid in soft tissue whose texture is a Gaussian random field.
Its *biology* (binary ``label``) sets the texture: label 1 lesions are coarser (longer correlation
length) and more heterogeneous. Each *site* then "acquires" the lesion with its own scanner:
point-spread blur, slice thickness and voxel spacing, noise level, and an intensity offset/scale.

So the cohort has, by construction:

- a biological signal in texture features (label -> correlation length and amplitude);
- site effects in the same features (blur, noise, spacing, intensity calibration), which
  stability analysis, ComBat and the model issue must measure, remove or survive;
- volume-only features that do not depend on texture or site noise (volume is drawn per lesion);
- molecular variables for radiogenomics: ``mol_texture`` (linked to the texture correlation length),
  ``mol_null`` (independent of everything), ``mol_site`` (a mutation whose prevalence depends on
  the site only, so any association with imaging is confounded by site).

Everything is deterministic: the same seed gives the same bytes (NumPy's PCG64 with one child
seed per lesion; FFT-based filtering, no threads involved).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
import SimpleITK as sitk
from scipy import fft, ndimage

from radrepro.case import Case

TRUTH_SPACING = 0.5  # mm, isotropic grid on which lesions are defined
FOV_MM = 40.0  # cube edge of the simulated field of view
TISSUE_HU = 0.0
TISSUE_TEXTURE_SD = 6.0


@dataclass(frozen=True)
class Site:
    """An acquisition site: one scanner with its protocol.

    Parameters
    ----------
    name, scanner
        Site and scanner names (metadata of every case).
    spacing
        Voxel spacing ``(x, y, z)`` in mm of the acquired image.
    psf_sigma
        In-plane point-spread function (Gaussian sigma, mm); the slice profile is the slice
        thickness (z spacing) as a Gaussian of that FWHM.
    noise_sd
        Standard deviation of the additive white noise (HU).
    offset, scale
        Intensity calibration: acquired = scale x true + offset.
    prevalence
        Probability of biology label 1 at this site.
    mol_site_rate
        Probability of the site-confounded mutation ``mol_site`` at this site.
    """

    name: str
    scanner: str
    spacing: tuple[float, float, float]
    psf_sigma: float
    noise_sd: float
    offset: float
    scale: float
    prevalence: float
    mol_site_rate: float


SITES = (
    Site("A", "Vendor1 ScannerX", (0.78, 0.78, 1.25), 0.5, 6.0, 0.0, 1.00, 0.40, 0.15),
    Site("B", "Vendor2 ScannerY", (0.98, 0.98, 2.5), 1.1, 14.0, 30.0, 0.90, 0.50, 0.40),
    Site("C", "Vendor3 ScannerZ", (0.70, 0.70, 2.0), 0.8, 22.0, -25.0, 1.15, 0.60, 0.65),
    Site("D", "Vendor1 ScannerW", (0.86, 0.86, 3.0), 1.4, 10.0, 15.0, 0.95, 0.50, 0.85),
)

# texture of the two biology classes: (correlation length mm, amplitude HU), each drawn around these
TEXTURE = {0: (1.2, 18.0), 1: (2.4, 30.0)}


@dataclass(frozen=True)
class Lesion:
    """The ground truth of one lesion (stored with each case as metadata)."""

    radii: tuple[float, float, float]
    angles: tuple[float, float, float]
    lobulation: float
    mean_hu: float
    corr_length: float
    amplitude: float


def _rotation(angles: tuple[float, float, float]) -> np.ndarray:
    a, b, c = angles
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


@cache
def _truth_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = int(round(FOV_MM / TRUTH_SPACING))
    c = (np.arange(n) - (n - 1) / 2) * TRUTH_SPACING
    return np.meshgrid(c, c, c, indexing="ij")  # (z, y, x) in mm


def _gaussian_fft(field: np.ndarray, sigma_vox: tuple[float, float, float]) -> np.ndarray:
    """Gaussian filter by FFT (periodic boundary): deterministic and fast on the truth grid."""
    freqs = [fft.fftfreq(n) for n in field.shape[:-1]] + [fft.rfftfreq(field.shape[-1])]
    kz, ky, kx = np.meshgrid(*freqs, indexing="ij", sparse=True)
    sz, sy, sx = sigma_vox
    h = np.exp(-2 * np.pi**2 * ((kz * sz) ** 2 + (ky * sy) ** 2 + (kx * sx) ** 2))
    return fft.irfftn(fft.rfftn(field) * h, s=field.shape)


def _draw_lesion(rng: np.random.Generator, label: int) -> Lesion:
    base = rng.uniform(5.0, 11.0)
    radii = tuple(float(base * f) for f in rng.uniform(0.75, 1.25, 3))
    angles = tuple(float(a) for a in rng.uniform(0, np.pi, 3))
    corr, amp = TEXTURE[label]
    return Lesion(
        radii=radii,
        angles=angles,
        lobulation=float(rng.uniform(0.0, 0.25)),
        mean_hu=float(rng.normal(45.0, 6.0)),
        corr_length=float(corr * np.exp(rng.normal(0, 0.15))),
        amplitude=float(amp * np.exp(rng.normal(0, 0.12))),
    )


def _truth(lesion: Lesion, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """True intensity (HU) and lesion occupancy on the truth grid."""
    z, y, x = _truth_grid()
    pts = np.stack([x, y, z], axis=-1) @ _rotation(lesion.angles)
    r = np.sqrt(sum((pts[..., i] / lesion.radii[i]) ** 2 for i in range(3)))
    # lobulation: a smooth random field bends the surface
    bumps = _gaussian_fft(rng.standard_normal(r.shape), (6.0,) * 3)
    bumps /= bumps.std()
    inside = r <= 1.0 + lesion.lobulation * 0.3 * bumps
    sigma = lesion.corr_length / TRUTH_SPACING
    grf = _gaussian_fft(rng.standard_normal(r.shape), (sigma,) * 3)
    grf /= grf.std()
    tissue = _gaussian_fft(rng.standard_normal(r.shape), (4.0,) * 3)
    tissue *= TISSUE_TEXTURE_SD / tissue.std()
    image = np.where(inside, lesion.mean_hu + lesion.amplitude * grf, TISSUE_HU + tissue)
    return image, inside.astype(np.float64)


def _acquire(truth: np.ndarray, occupancy: np.ndarray, site: Site, rng: np.random.Generator, effects: bool) -> tuple[sitk.Image, sitk.Image]:
    spacing = site.spacing if effects else SITES[0].spacing
    if effects:
        fwhm_to_sigma = 1 / (2 * np.sqrt(2 * np.log(2)))
        s_xy = site.psf_sigma / TRUTH_SPACING
        s_z = max(site.spacing[2] * fwhm_to_sigma, site.psf_sigma) / TRUTH_SPACING
        blurred = _gaussian_fft(truth, (s_z, s_xy, s_xy))
    else:
        blurred = _gaussian_fft(truth, (0.5 / TRUTH_SPACING,) * 3)
    # sample the site grid: voxel centres placed symmetrically in the field of view
    shape = [int(np.floor(FOV_MM / s)) for s in spacing[::-1]]  # (z, y, x)
    coords = []
    for n, s in zip(shape, spacing[::-1]):
        mm = (np.arange(n) - (n - 1) / 2) * s
        coords.append(mm / TRUTH_SPACING + (truth.shape[0] - 1) / 2)
    grid = np.meshgrid(*coords, indexing="ij")
    img = ndimage.map_coordinates(blurred, grid, order=1, mode="nearest")
    occ = ndimage.map_coordinates(occupancy, grid, order=1, mode="nearest")
    if effects:
        img = img + rng.normal(0.0, site.noise_sd, img.shape)
        img = site.scale * img + site.offset
    else:
        img = img + rng.normal(0.0, SITES[0].noise_sd, img.shape)
    img = np.round(img).astype(np.int16)
    mask = (occ >= 0.5).astype(np.uint8)
    origin = tuple(-(n - 1) / 2 * s for n, s in zip(shape[::-1], spacing))
    out = []
    for arr in (img, mask):
        im = sitk.GetImageFromArray(arr)
        im.SetSpacing(tuple(float(s) for s in spacing))
        im.SetOrigin(origin)
        out.append(im)
    return out[0], out[1]


def synthetic_cohort(
    n_sites: int = 4,
    lesions_per_site: int = 20,
    seed: int = 0,
    *,
    site_effects: bool = True,
) -> list[Case]:
    """Generate the synthetic multi-centre cohort.

    Parameters
    ----------
    n_sites
        Number of sites, 1 to 4 (taken from :data:`SITES` in order).
    lesions_per_site
        Lesions per site.
    seed
        Seed of the whole cohort; the same seed gives identical images, masks and metadata.
    site_effects
        If False, every site acquires like site A (same spacing, blur, noise, calibration),
        which gives the cohort without batch effects for comparison.

    Returns
    -------
    list of Case
        In-memory cases with ids ``syn-<site>-<nn>`` and metadata ``site``, ``scanner``,
        ``label`` (biology), ``subject``, the molecular variables and the lesion's ground truth
        (``truth_*``).
    """
    if not 1 <= n_sites <= len(SITES):
        raise ValueError(f"n_sites must be 1..{len(SITES)}, got {n_sites}")
    if lesions_per_site < 1:
        raise ValueError("lesions_per_site must be >= 1")
    root = np.random.SeedSequence(seed)
    children = root.spawn(n_sites * lesions_per_site)
    cases = []
    corr_mid = np.mean([c for c, _ in TEXTURE.values()])
    for s_idx, site in enumerate(SITES[:n_sites]):
        for k in range(lesions_per_site):
            rng = np.random.default_rng(children[s_idx * lesions_per_site + k])
            label = int(rng.random() < site.prevalence)
            lesion = _draw_lesion(rng, label)
            truth, occupancy = _truth(lesion, rng)
            image, mask = _acquire(truth, occupancy, site, rng, site_effects)
            mol_texture = float(np.log(lesion.corr_length / corr_mid) / 0.35 + rng.normal(0, 0.6))
            meta = {
                "site": site.name,
                "scanner": site.scanner,
                "label": label,
                "subject": f"syn-{site.name}-{k:02d}",
                "mol_texture": mol_texture,
                "mol_null": float(rng.normal()),
                "mol_site": int(rng.random() < site.mol_site_rate),
                **{f"truth_{key}": (list(v) if isinstance(v, tuple) else v) for key, v in asdict(lesion).items()},
            }
            cases.append(Case(id=f"syn-{site.name}-{k:02d}", image=image, mask=mask, metadata=meta))
    return cases
