"""Image perturbations after Zwanenburg et al. 2019 (Sci Rep 9:614): noise, rotation, translation.

- :class:`Noise`: additive Gaussian noise at the image's own noise level, estimated with the
  wavelet-based robust median estimator (Donoho & Johnstone 1994, as used by Chang et al. 2000 and
  ``skimage.restoration.estimate_sigma``): ``median(|HH|) / Phi^-1(0.75)`` over the finest diagonal
  (HH) Daubechies-2 detail coefficients, computed in-plane on every slice and pooled.
- :class:`Rotation`: in-plane rotation by an angle about the ROI centre (SimpleITK resampling);
  the mask is rotated as a 0/1 image with linear interpolation and re-thresholded at 0.5.
- :class:`Translation`: the sampling grid moved by fractions of a voxel; the mask likewise.

Points that fall outside the image take the value of the nearest image voxel (no artificial
padding value enters the ROI neighbourhood).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import SimpleITK as sitk
from scipy import stats

from radrepro.case import Case
from radrepro.errors import InputError, SettingsError
from radrepro.perturbations.base import Perturbation, child_seed, load_roi, number, require_3d, rng_from, triple, with_images
from radrepro.settings import Settings

_SITK_INTERPOLATORS = {"nearest": sitk.sitkNearestNeighbor, "linear": sitk.sitkLinear, "cubic": sitk.sitkBSpline}
#: partial-volume threshold of a resampled mask
MASK_THRESHOLD = 0.5


def estimate_noise_sd(image: "np.ndarray | sitk.Image", *, in_plane: bool = True, wavelet: str = "db2",
                      boundary: str = "interior") -> float:
    """Noise standard deviation of an image by the wavelet robust median estimator.

    Parameters
    ----------
    image
        A numpy array (``(z, y, x)`` or 2D) or a SimpleITK image.
    in_plane
        Use the 2D diagonal detail (HH) of every slice, pooled (default; robust to the slice
        correlation of CT). False uses the full n-D diagonal detail, exactly as
        ``skimage.restoration.estimate_sigma``.
    wavelet
        PyWavelets wavelet name (``db2`` as in scikit-image).
    boundary
        ``interior`` (default): periodic transform, coefficients at the array's edges dropped, so
        only coefficients of real neighbouring voxels count. ``symmetric``: scikit-image's
        symmetric extension, which biases the estimate low on small images (about -7% on 51 x 51
        slices of pure noise, as measured; -1% on 200 x 200).

    Returns
    -------
    float
        ``median(|d|) / Phi^-1(0.75)`` over the non-zero finest diagonal detail coefficients ``d``
        (zero coefficients, e.g. from constant air padding, are ignored as scikit-image does; with
        ``interior``, coefficients below 1e-10 of the image's largest magnitude count as zero).
        NaN when every coefficient is zero (a noise-free, piecewise constant image).
    """
    import pywt

    arr = sitk.GetArrayFromImage(image) if isinstance(image, sitk.Image) else np.asarray(image)
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim < 2:
        raise InputError(f"noise estimation needs a 2D or 3D image, got {arr.ndim}D", "pass an image array")
    if boundary not in ("interior", "symmetric"):
        raise SettingsError(f"noise estimation boundary {boundary!r} is not valid", "use interior or symmetric")
    axes = (-2, -1) if in_plane else tuple(range(arr.ndim))
    mode = "periodization" if boundary == "interior" else "symmetric"
    detail = pywt.dwtn(arr, wavelet, axes=axes, mode=mode)["d" * len(axes)]
    if boundary == "interior":
        detail = detail[tuple(slice(1, -1) if a in [x % arr.ndim for x in axes] else slice(None) for a in range(arr.ndim))]
        # round-off of a noise-free region is not noise: treat it as the exact zero it is
        detail = detail[np.abs(detail) > 1e-10 * max(1.0, float(np.max(np.abs(arr))))]
    else:
        detail = detail[np.nonzero(detail)]
    if detail.size == 0:
        return float("nan")
    return float(np.median(np.abs(detail)) / stats.norm.ppf(0.75))


@dataclass(frozen=True)
class Noise(Perturbation):
    """Additive white Gaussian noise.

    Parameters
    ----------
    sd
        Noise standard deviation in intensity units; ``None`` (default) uses the image's own
        estimated noise level (:func:`estimate_noise_sd`).
    scale
        Multiplier of the standard deviation (e.g. 0.5, 1, 2 times the image's own noise).
    realisation
        Index of the noise realisation: chains that differ only here get independent noise.
    """

    kind = "noise"
    category = "image"
    stochastic = True
    sd: float | None = None
    scale: float = 1.0
    realisation: int = 0

    def __post_init__(self) -> None:
        if self.sd is not None:
            object.__setattr__(self, "sd", number(self.kind, "sd", self.sd, low=0.0))
        object.__setattr__(self, "scale", number(self.kind, "scale", self.scale, low=0.0))
        object.__setattr__(self, "realisation", number(self.kind, "realisation", self.realisation, low=0, integer=True))

    def noise_sd(self, image: sitk.Image) -> float:
        """The standard deviation this perturbation adds to ``image``."""
        if self.sd is not None:
            return self.sd * self.scale
        sd = estimate_noise_sd(image)
        if not math.isfinite(sd):
            raise InputError("the image has no measurable noise (every wavelet detail coefficient is 0)",
                             "give the noise level explicitly: {kind = \"noise\", sd = ...}")
        return sd * self.scale

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        image, _ = load_roi(case, settings)
        arr = sitk.GetArrayFromImage(image)
        rng = rng_from(child_seed(seed, self.realisation))  # realisations are independent whatever the caller's seed
        noisy = arr + rng.normal(0.0, self.noise_sd(image), arr.shape)
        out = sitk.GetImageFromArray(noisy)
        out.CopyInformation(image)
        return with_images(case, out, None, image, settings), settings


def _interpolator(kind: str, name: str) -> int:
    try:
        return _SITK_INTERPOLATORS[name]
    except KeyError:
        raise SettingsError(f"perturbation '{kind}': interpolator = {name!r} is not valid",
                            "use one of: " + ", ".join(_SITK_INTERPOLATORS)) from None


def _resample_pair(image: sitk.Image, roi_mask: sitk.Image, transform: sitk.Transform, interpolator: int
                   ) -> tuple[sitk.Image, np.ndarray]:
    """Image and ROI on their own grid, sampled at ``transform(p)`` for every grid point ``p``."""
    img = sitk.Resample(image, image, transform, interpolator, 0.0, sitk.sitkFloat64,
                        useNearestNeighborExtrapolator=True)
    frac = sitk.Resample(sitk.Cast(roi_mask, sitk.sitkFloat64), roi_mask, transform, sitk.sitkLinear, 0.0,
                         sitk.sitkFloat64)
    roi = sitk.GetArrayFromImage(frac) >= MASK_THRESHOLD - 1e-9
    if not roi.any():
        raise InputError("the perturbed mask is empty (the ROI moved out of the image)",
                         "check the mask, or use a smaller rotation / translation")
    return img, roi


def _exact_cos_sin(degrees: float) -> tuple[float, float]:
    """cos and sin of an angle in degrees, exact (0, +-1) at multiples of 90 degrees."""
    quarter = degrees / 90.0
    if abs(quarter - round(quarter)) < 1e-12:
        return [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)][int(round(quarter)) % 4]
    rad = math.radians(degrees)
    return math.cos(rad), math.sin(rad)


@dataclass(frozen=True)
class Rotation(Perturbation):
    """In-plane rotation of image and mask about the ROI centre.

    The centre is the ROI's centroid, moved in-plane to the nearest voxel centre so that
    rotations by multiples of 90 degrees map voxel centres onto voxel centres (exact for square
    in-plane pixels). Positive angles turn the content from +x towards +y (physical axes of the
    image's direction cosines).

    Parameters
    ----------
    angle
        Angle in degrees, in [-360, 360].
    interpolator
        Image interpolator: ``linear`` (default), ``cubic`` (B-spline) or ``nearest``.
    """

    kind = "rotation"
    category = "image"
    angle: float = 0.0
    interpolator: str = "linear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "angle", number(self.kind, "angle", self.angle, low=-360.0, high=360.0))
        _interpolator(self.kind, self.interpolator)

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        image, mask = load_roi(case, settings)
        require_3d(image, "rotation")
        if self.angle % 360.0 == 0.0:
            return case, settings
        roi = sitk.GetArrayViewFromImage(mask).astype(bool)
        z, y, x = (float(np.mean(i)) for i in np.nonzero(roi))
        centre = image.TransformContinuousIndexToPhysicalPoint((float(round(x)), float(round(y)), z))
        c, s = _exact_cos_sin(self.angle)
        # resampling reads the input at T(p): rotating the content by +angle needs T = R(-angle)
        rz = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
        d = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
        matrix = d @ rz @ d.T
        transform = sitk.AffineTransform(3)
        transform.SetMatrix(tuple(float(v) for v in matrix.ravel()))
        transform.SetCenter(centre)
        img, new_roi = _resample_pair(image, mask, transform, _interpolator(self.kind, self.interpolator))
        return with_images(case, img, new_roi, image, settings), settings


@dataclass(frozen=True)
class Translation(Perturbation):
    """Move the sampling grid by fractions of a voxel: the new voxel ``i`` samples the old image at
    ``i + fraction`` (index units along x, y, z).

    Parameters
    ----------
    fraction
        One number or ``[x, y, z]``, each strictly between -1 and 1 (a whole voxel or more is not
        a sub-voxel translation).
    interpolator
        Image interpolator: ``linear`` (default), ``cubic`` (B-spline) or ``nearest``.
    """

    kind = "translation"
    category = "image"
    fraction: Any = 0.0
    interpolator: str = "linear"

    def __post_init__(self) -> None:
        f = triple(self.kind, "fraction", self.fraction, low=-1.0, high=1.0, low_open=True, high_open=True)
        object.__setattr__(self, "fraction", f)
        _interpolator(self.kind, self.interpolator)

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        image, mask = load_roi(case, settings)
        require_3d(image, "translation")
        if all(f == 0.0 for f in self.fraction):
            return case, settings
        d = np.asarray(image.GetDirection(), dtype=np.float64).reshape(3, 3)
        offset = d @ (np.asarray(self.fraction) * np.asarray(image.GetSpacing()))
        transform = sitk.TranslationTransform(3, tuple(float(v) for v in offset))
        img, new_roi = _resample_pair(image, mask, transform, _interpolator(self.kind, self.interpolator))
        return with_images(case, img, new_roi, image, settings), settings
