"""pyradiomics' image types ("filters"), reproducing ``radiomics.imageoperations`` (pyradiomics 3.0.1).

Each ``get_*`` function takes the (resampled) SimpleITK image pyradiomics would pass to its
``get<Type>Image`` generator and returns ``[(filtered image, image type name), ...]`` with
pyradiomics' names (``log-sigma-1-0-mm-3D``, ``wavelet-LLH``, ``wavelet2-HHL``, ``square``, ...), so
that feature names come out as ``<image type name>_<class>_<feature>``. :func:`generate` runs the
image types of a ``Settings.image_types`` mapping in pyradiomics' order.

What each one uses, and why:

- LoG: SimpleITK's ``LaplacianRecursiveGaussianImageFilter`` with scale normalisation, exactly as
  pyradiomics (a recursive IIR Gaussian, not a sampled kernel: a scipy re-implementation would not
  give the same voxels; this is *not* the IBSI 2 LoG of :mod:`radrepro.filters.log`).
  With ``roi_box``, each sigma filters the ROI box plus 25 sigma (:func:`log_margin`).
- Wavelet: ``pywt.swtn`` (stationary wavelet transform, one level at a time, on the image padded to
  even sizes with wrap-around), as pyradiomics; PyWavelets is the library pyradiomics itself uses.
  The axes are reversed to (x, y, z) order before decomposition names are read, so ``LLH`` is
  low-pass along x and y, high-pass along z. This undecimated transform differs from IBSI 2's
  (:mod:`radrepro.filters.wavelets`: other alignment and boundary).
- Square, SquareRoot, Logarithm, Exponential: the same numpy expressions in the same order.
- Gradient: SimpleITK's ``GradientMagnitudeImageFilter`` (``gradientUseSpacing``).
- LBP2D: scikit-image's ``local_binary_pattern`` per slice, as pyradiomics.
- LBP3D: pyradiomics' spherical-harmonics LBP (Banerjee et al. 2013), with the icosphere built here
  (pyradiomics takes it from trimesh) and ``scipy.special.sph_harm_y`` (pyradiomics calls
  ``sph_harm``, removed in SciPy 1.17, so live pyradiomics 3.0.1 skips LBP3D on this stack).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import SimpleITK as sitk

from radrepro.errors import SettingsError

IMAGE_TYPES = ("Original", "LoG", "Wavelet", "Square", "SquareRoot", "Logarithm", "Exponential", "Gradient",
               "LBP2D", "LBP3D")


def _like(array: np.ndarray, reference: sitk.Image) -> sitk.Image:
    out = sitk.GetImageFromArray(array)
    out.CopyInformation(reference)
    return out


def _float_array(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image).astype("float64")


def _max_abs(im: np.ndarray, given: float | None) -> float:
    return np.max(np.abs(im)) if given is None else given


def get_original(image: sitk.Image, **_: Any) -> list[tuple[sitk.Image, str]]:
    """The image itself, named ``original``."""
    return [(image, "original")]


def log_name(sigma: float) -> str:
    """pyradiomics' name of the LoG image of ``sigma`` mm: ``log-sigma-1-0-mm-3D`` for 1.0, ``...-1-mm-3D`` for 1."""
    return "log-sigma-%s-mm-3D" % (str(sigma).replace(".", "-"))


def get_log(image: sitk.Image, sigma=(), **_: Any) -> list[tuple[sitk.Image, str]]:
    """LoG images, one per ``sigma`` (mm) that fits the image (pyradiomics' ``getLoGImage``)."""
    size = np.array(image.GetSize())
    spacing = np.array(image.GetSpacing())
    if np.min(size) < 4:
        return []
    out = []
    for s in sigma or ():
        if s > 0.0 and np.all(size >= np.ceil(s / spacing) + 1):
            f = sitk.LaplacianRecursiveGaussianImageFilter()
            f.SetNormalizeAcrossScale(True)
            f.SetSigma(s)
            out.append((f.Execute(image), log_name(s)))
    return out


def _swt(matrix: np.ndarray, wavelet, axes: tuple[int, ...], level: int, start_level: int):
    import pywt

    original_shape = matrix.shape
    padding = tuple((0, 1 if dim % 2 != 0 else 0) for dim in original_shape)
    data = np.pad(matrix.copy(), padding, "wrap")
    if not isinstance(wavelet, pywt.Wavelet):
        wavelet = pywt.Wavelet(wavelet)
    unpad = tuple(slice(None, -1 if dim % 2 != 0 else None) for dim in original_shape)
    for _ in range(start_level):
        data = pywt.swtn(data, wavelet, level=1, start_level=0, axes=axes)[0]["a" * len(axes)].copy()
    levels = []
    for _ in range(start_level, start_level + level):
        dec = pywt.swtn(data, wavelet, level=1, start_level=0, axes=axes)[0]
        data = dec["a" * len(axes)].copy()
        levels.append({name.replace("a", "L").replace("d", "H"): arr.copy()[unpad]
                       for name, arr in dec.items() if name != "a" * len(axes)})
    return data[unpad], levels


def get_wavelet(image: sitk.Image, wavelet: str = "coif1", level: int = 1, start_level: int = 0,
                force2D: bool = False, force2Ddimension: int = 0, **_: Any) -> list[tuple[sitk.Image, str]]:
    """Wavelet decompositions then the approximation (pyradiomics' ``getWaveletImage``).

    Names: ``wavelet-<dec>`` for the first level computed, ``wavelet<k>-<dec>`` for later ones; the
    approximation (``wavelet-LLL``) comes last. In 3D that is 8 images per level.
    """
    nd = image.GetDimension()
    axes = list(range(nd - 1, -1, -1))
    if force2D:
        axes.remove(force2Ddimension)
    matrix = np.asarray(sitk.GetArrayFromImage(image))
    approx, levels = _swt(matrix, wavelet, tuple(axes), int(level), int(start_level))
    out = []
    for idx, decs in enumerate(levels, start=1):
        for name, arr in decs.items():
            out.append((_like(arr, image), f"wavelet-{name}" if idx == 1 else f"wavelet{idx}-{name}"))
    lows = "L" * len(axes)
    out.append((_like(approx, image), f"wavelet-{lows}" if len(levels) == 1 else f"wavelet{len(levels)}-{lows}"))
    return out


def get_square(image: sitk.Image, max_abs: float | None = None, **_: Any) -> list[tuple[sitk.Image, str]]:
    """``(c x)^2`` with ``c = 1 / sqrt(max |x|)`` (pyradiomics' ``getSquareImage``).

    ``max_abs``: ``max |x|`` of the whole image when ``image`` is a crop of it (default: of ``image``).
    """
    im = _float_array(image)
    coeff = 1 / np.sqrt(_max_abs(im, max_abs))
    return [(_like((coeff * im) ** 2, image), "square")]


def get_squareroot(image: sitk.Image, max_abs: float | None = None, **_: Any) -> list[tuple[sitk.Image, str]]:
    """``sign(x) sqrt(|x| c)`` with ``c = max |x|`` (pyradiomics' ``getSquareRootImage``)."""
    im = _float_array(image)
    coeff = _max_abs(im, max_abs)
    im[im > 0] = np.sqrt(im[im > 0] * coeff)
    im[im < 0] = -np.sqrt(-im[im < 0] * coeff)
    return [(_like(im, image), "squareroot")]


def get_logarithm(image: sitk.Image, max_abs: float | None = None, **_: Any) -> list[tuple[sitk.Image, str]]:
    """``sign(x) log(|x| + 1)`` rescaled to the original ``max |x|`` (pyradiomics' ``getLogarithmImage``).

    The largest ``|log|`` is ``log(max |x| + 1)`` (the same float operations as on the voxel that
    holds ``max |x|``), so a crop gives the whole image's values when ``max_abs`` is passed.
    """
    im = _float_array(image)
    im_max = _max_abs(im, max_abs)
    im[im > 0] = np.log(im[im > 0] + 1)
    im[im < 0] = -np.log(-(im[im < 0] - 1))
    log_max = np.max(np.abs(im)) if max_abs is None else np.log(im_max + 1)
    im = im * (im_max / log_max)
    return [(_like(im, image), "logarithm")]


def get_exponential(image: sitk.Image, max_abs: float | None = None, **_: Any) -> list[tuple[sitk.Image, str]]:
    """``exp(c x)`` with ``c = log(max |x|) / max |x|`` (pyradiomics' ``getExponentialImage``)."""
    im = _float_array(image)
    im_max = _max_abs(im, max_abs)
    coeff = np.log(im_max) / im_max
    return [(_like(np.exp(coeff * im), image), "exponential")]


def get_gradient(image: sitk.Image, gradientUseSpacing: bool = True, **_: Any) -> list[tuple[sitk.Image, str]]:
    """Gradient magnitude (SimpleITK, as pyradiomics' ``getGradientImage``)."""
    f = sitk.GradientMagnitudeImageFilter()
    f.SetUseImageSpacing(bool(gradientUseSpacing))
    return [(f.Execute(image), "gradient")]


def get_lbp2d(image: sitk.Image, lbp2DRadius: float = 1, lbp2DSamples: int = 8, lbp2DMethod: str = "uniform",
              force2Ddimension: int = 0, **_: Any) -> list[tuple[sitk.Image, str]]:
    """Local binary pattern per slice of ``force2Ddimension`` (scikit-image, as pyradiomics' ``getLBP2DImage``)."""
    from skimage.feature import local_binary_pattern

    arr = sitk.GetArrayFromImage(image)
    if image.GetDimension() == 3:
        arr = arr.swapaxes(0, force2Ddimension)
        for idx in range(arr.shape[0]):
            arr[idx, ...] = local_binary_pattern(arr[idx, ...], P=lbp2DSamples, R=lbp2DRadius, method=lbp2DMethod)
        arr = arr.swapaxes(0, force2Ddimension)
    else:
        arr = local_binary_pattern(arr, P=lbp2DSamples, R=lbp2DRadius, method=lbp2DMethod)
    return [(_like(arr, image), "lbp-2D")]


def icosphere(subdivisions: int = 1, radius: float = 1.0) -> np.ndarray:
    """Vertices of an icosphere: an icosahedron whose faces are split ``subdivisions`` times, on the sphere."""
    t = (1.0 + 5.0**0.5) / 2.0
    verts = [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t],
             [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]]
    faces = [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2],
             [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5], [2, 4, 11],
             [6, 2, 10], [8, 6, 7], [9, 8, 1]]
    v = [np.asarray(p, dtype=np.float64) / np.linalg.norm(p) for p in verts]
    for _ in range(int(subdivisions)):
        cache: dict[tuple[int, int], int] = {}
        new_faces = []

        def mid(a, b):
            key = (min(a, b), max(a, b))
            if key not in cache:
                m = v[a] + v[b]
                v.append(m / np.linalg.norm(m))
                cache[key] = len(v) - 1
            return cache[key]

        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            new_faces += [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
        faces = new_faces
    return np.array(v) * radius


def get_lbp3d(image: sitk.Image, mask: sitk.Image, lbp3DLevels: int = 2, lbp3DIcosphereRadius: float = 1,
              lbp3DIcosphereSubdivision: int = 1, label: int = 1, **_: Any) -> list[tuple[sitk.Image, str]]:
    """3D LBP by spherical harmonics (pyradiomics' ``getLBP3DImage``): ``lbp-3D-m1``, ``lbp-3D-m2``, ..., ``lbp-3D-k``."""
    from scipy.ndimage import map_coordinates
    from scipy.special import sph_harm_y
    from scipy.stats import kurtosis

    if image.GetDimension() != 3:
        return []
    im_arr = sitk.GetArrayFromImage(image)
    ma_arr = sitk.GetArrayFromImage(mask)
    coords_ico = icosphere(lbp3DIcosphereSubdivision, lbp3DIcosphereRadius)
    theta = np.arccos(np.true_divide(coords_ico[:, 2], lbp3DIcosphereRadius))
    phi = np.arctan2(coords_ico[:, 1], coords_ico[:, 0])

    def ylm(m, n):  # pyradiomics' sph_harm(m, n, azimuth=theta, polar=phi) argument order, kept as is
        return sph_harm_y(n, m, phi, theta)

    Y = ylm(0, 0)
    n_ix = np.array(0)
    for n in range(1, lbp3DLevels):
        for m in range(-n, n + 1):
            n_ix = np.append(n_ix, n)
            Y = np.column_stack((Y, ylm(m, n)))
    roi = np.where(ma_arr == label)
    coords = np.array(roi).T[None, :, :] + coords_ico[:, None, :]
    f = map_coordinates(im_arr, coords.T, order=3)
    k = kurtosis(f, axis=1)
    f = np.greater_equal(f, im_arr[roi][:, None]).astype(int)
    c = np.multiply(f[:, :, None], Y[None, :, :]).sum(axis=1)
    f = np.multiply(c[:, None, n_ix == 0], Y[None, :, n_ix == 0])
    for n in range(1, lbp3DLevels):
        f = np.concatenate((f, np.sum(np.multiply(c[:, None, n_ix == n], Y[None, :, n_ix == n]), axis=2,
                                      keepdims=True)), axis=2)
    f = np.real(np.sqrt(np.sum(f**2, axis=1)))
    k = np.real(k)
    out = []
    result = np.zeros(im_arr.shape)  # pyradiomics leaves voxels outside the ROI uninitialised (np.ndarray)
    for l_idx in range(lbp3DLevels):
        result[roi] = f[:, l_idx]
        out.append((_like(result, image), "lbp-3D-m%d" % (l_idx + 1)))
    result[roi] = k
    out.append((_like(result, image), "lbp-3D-k"))
    return out


GENERATORS = {
    "Original": get_original, "LoG": get_log, "Wavelet": get_wavelet, "Square": get_square,
    "SquareRoot": get_squareroot, "Logarithm": get_logarithm, "Exponential": get_exponential,
    "Gradient": get_gradient, "LBP2D": get_lbp2d, "LBP3D": get_lbp3d,
}


def crop_margin(name: str, args: Mapping[str, Any]) -> int | None:
    """Voxels around the ROI box that image type ``name`` needs to give the whole image's values
    inside the box, or ``None`` when it must see the whole image.

    LoG is handled per sigma by :func:`log_margin`. Wavelet: the support of all levels; Gradient: central differences; LBP2D: the sampling radius;
    LBP3D: radius plus the cubic-spline prefilter's reach (0.268^24 < 1e-13); point-wise types use
    the whole image's ``max |x|`` and need no margin.
    """
    if name == "Original":
        return None
    if name == "Wavelet":
        import pywt

        w = args.get("wavelet", "coif1")
        taps = len(w.dec_lo if isinstance(w, pywt.Wavelet) else pywt.Wavelet(w).dec_lo)
        levels = int(args.get("start_level", 0)) + int(args.get("level", 1))
        return taps * 2**levels + 2
    if name == "Gradient":
        return 2
    if name == "LBP2D":
        return int(np.ceil(float(args.get("lbp2DRadius", 1)))) + 2
    if name == "LBP3D":
        return int(np.ceil(float(args.get("lbp3DIcosphereRadius", 1)))) + 26
    return 0


LOG_MARGIN_SIGMAS = 25.0


def log_margin(sigma: float, spacing_xyz) -> tuple[int, int, int]:
    """Voxels ``(z, y, x)`` kept around the ROI box for pyradiomics' LoG of ``sigma`` mm: 25 sigma.

    SimpleITK's recursive Gaussian is an IIR filter: every voxel of a line influences every other,
    with a weight that falls about tenfold every 2 sigma. Measured on pyradiomics' lung1, lung2 and
    brain1 (sigma 1, 2, 3 mm), the float32 LoG inside the ROI box is bit-identical to the whole
    image's from a margin of 20 sigma on (at 16 sigma a few voxels still differ by one ulp); 25 sigma
    leaves a factor of about 1e3 to spare.
    """
    return tuple(int(np.ceil(LOG_MARGIN_SIGMAS * float(sigma) / s)) for s in reversed(spacing_xyz))


def _sub_box(shape, box, margin, whole_axes: bool):
    out = []
    margins = (margin,) * len(shape) if np.isscalar(margin) else tuple(margin)
    for n, b, m in zip(shape, box, margins):
        lo, hi = b.start - m, b.stop + m
        if lo < 0 or hi > n:
            lo, hi = (0, n) if whole_axes else (max(lo, 0), min(hi, n))
        out.append((lo, hi))
    return out


def generate(image: sitk.Image, mask: sitk.Image, image_types: Mapping[str, Mapping[str, Any]],
             settings: Mapping[str, Any] | None = None, roi_box: tuple[slice, ...] | None = None
             ) -> Iterator[tuple[sitk.Image, str, dict, tuple[int, ...]]]:
    """Filtered images of every enabled image type, in order: ``(image, name, parameters, offset)``.

    Parameters
    ----------
    image, mask
        The image after pyradiomics' loading (normalisation, resampling) and its mask.
    image_types
        ``{image type: {custom parameters}}`` as in a pyradiomics ``imageType`` section.
    settings
        pyradiomics ``setting`` values the filters read (``force2D``, ``force2Ddimension``, ``label``,
        ``sigma``, ``wavelet``, ...); an image type's own parameters override them.
    roi_box
        ``(z, y, x)`` slices of the voxels whose values are needed (the ROI's bounding box). When
        given, each type filters only that box plus :func:`crop_margin` (exactly the whole image's
        values inside the box); ``offset`` is the ``(z, y, x)`` index of the returned image's first
        voxel in ``image``. Without it, every type filters the whole image and ``offset`` is 0.
    """
    base = dict(settings or {})
    shape = sitk.GetArrayViewFromImage(image).shape
    max_abs = None
    for name, custom in image_types.items():
        if name not in GENERATORS:
            raise SettingsError(f"unknown pyradiomics image type {name!r}", "use one of: " + ", ".join(IMAGE_TYPES))
        args = {**base, **dict(custom or {})}
        if "sigma" in args and args["sigma"] is not None and np.isscalar(args["sigma"]):
            args["sigma"] = [args["sigma"]]
        if name == "LoG" and roi_box is not None:  # one crop per sigma
            for sigma in args.get("sigma") or ():
                (z0, z1), (y0, y1), (x0, x1) = _sub_box(shape, roi_box, log_margin(sigma, image.GetSpacing()), False)
                for img, type_name in get_log(image[x0:x1, y0:y1, z0:z1], sigma=[sigma]):
                    yield img, type_name, args, (z0, y0, x0)
            continue
        margin = None if roi_box is None else crop_margin(name, args)
        src, src_mask, offset = image, mask, (0,) * len(shape)
        extra = {}
        if margin is not None:
            (z0, z1), (y0, y1), (x0, x1) = _sub_box(shape, roi_box, margin, whole_axes=name == "Wavelet")
            src, src_mask, offset = image[x0:x1, y0:y1, z0:z1], mask[x0:x1, y0:y1, z0:z1], (z0, y0, x0)
            if name in ("Square", "SquareRoot", "Logarithm", "Exponential"):
                if max_abs is None:  # = np.max(np.abs(float64 image)), without a float64 copy of the image
                    view = sitk.GetArrayViewFromImage(image)
                    max_abs = max(abs(float(view.min())), abs(float(view.max())))
                extra["max_abs"] = max_abs
        gen = GENERATORS[name]
        results = gen(src, src_mask, **args) if name == "LBP3D" else gen(src, **args, **extra)
        for img, type_name in results:
            yield img, type_name, args, offset
