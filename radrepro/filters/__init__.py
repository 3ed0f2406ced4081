"""Convolutional filters as IBSI 2 defines them, and pyradiomics' image types.

One module per filter family, each working on arrays in IBSI axis order ``(i, j, k)`` with
parameters in voxels:

- :mod:`~radrepro.filters.mean`, :mod:`~radrepro.filters.log`, :mod:`~radrepro.filters.laws`,
  :mod:`~radrepro.filters.gabor`, :mod:`~radrepro.filters.wavelets` (separable, undecimated),
  :mod:`~radrepro.filters.simoncelli` (non-separable), :mod:`~radrepro.filters.riesz`;
- :mod:`~radrepro.filters.boundary`: the four boundary conditions (zero, nearest, periodic, mirror)
  and the axis-order helpers; :mod:`~radrepro.filters.rotations`: right-angle rotations and pooling;
- :mod:`~radrepro.filters.pyradiomics_types`: pyradiomics' image types (LoG, Wavelet, Square, ...)
  reproducing ``radiomics.imageoperations``.

:func:`apply_filter` is the entry point of the IBSI processing (``Settings.filter``): it takes a
``(z, y, x)`` array and its ``(x, y, z)`` spacing in mm and a filter specification, a mapping with
``kind`` and the parameters below (lengths in mm, converted to voxels with the spacing):

================  ===========================================================================
kind              parameters (defaults)
================  ===========================================================================
``mean``          ``support`` (voxels, odd)
``log``           ``sigma_mm``
``laws``          ``kernel`` (``E5L5S5``), ``energy_distance`` (voxels, none), ``rotation_invariant``
                  (false), ``pooling`` (max)
``gabor``         ``sigma_mm``, ``lambda_mm``, ``gamma`` (1), ``theta`` (0, radians) or
                  ``theta_step`` (radians), ``pooling`` (average), ``orthogonal_planes`` (false)
``wavelet``       ``wavelet`` (``db2``), ``subband`` (``LLH``), ``level`` (1), ``rotation_invariant``
                  (false), ``pooling`` (average)
``simoncelli``    ``level`` (1), ``pad_width`` (32 voxels; none for periodic)
``riesz_log``     ``sigma_mm``, ``order`` ([1, 0, 0])
``riesz_simoncelli``  ``level`` (1), ``order``, ``pad_width`` (32)
================  ===========================================================================

Every kind also takes ``dims`` (``3D`` or ``2D``: every axial i-j plane on its own) and ``boundary``
(``zero``, ``nearest``, ``periodic``, ``mirror``; default ``mirror``, ``periodic`` for Simoncelli).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from radrepro.errors import SettingsError
from radrepro.filters.boundary import BOUNDARIES, check_boundary, filter_axes, from_ijk, to_ijk
from radrepro.filters.gabor import gabor_filter
from radrepro.filters.laws import laws_filter, parse_laws
from radrepro.filters.log import log_filter
from radrepro.filters.mean import mean_filter
from radrepro.filters.riesz import riesz_log_filter, riesz_simoncelli_filter
from radrepro.filters.simoncelli import DEFAULT_PAD, simoncelli_filter
from radrepro.filters.wavelets import wavelet_filter, wavelet_filters

# kind -> {parameter: default} (REQUIRED: no default)
REQUIRED = object()
_COMMON = {"dims": "3D", "boundary": "mirror"}
KINDS: dict[str, dict[str, Any]] = {
    "mean": {"support": REQUIRED},
    "log": {"sigma_mm": REQUIRED},
    "laws": {"kernel": REQUIRED, "energy_distance": None, "rotation_invariant": False, "pooling": "max"},
    "gabor": {"sigma_mm": REQUIRED, "lambda_mm": REQUIRED, "gamma": 1.0, "theta": 0.0, "theta_step": None,
              "pooling": "average", "orthogonal_planes": False},
    "wavelet": {"wavelet": "db2", "subband": "LLH", "level": 1, "rotation_invariant": False, "pooling": "average"},
    "simoncelli": {"level": 1, "pad_width": DEFAULT_PAD, "boundary": "periodic"},
    "riesz_log": {"sigma_mm": REQUIRED, "order": (1, 0, 0)},
    "riesz_simoncelli": {"level": 1, "order": (1, 0, 0), "pad_width": DEFAULT_PAD, "boundary": "nearest"},
}


def check_filter(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A filter specification completed with defaults; SettingsError on an unknown kind or parameter."""
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise SettingsError(f"filter setting {spec!r} is not valid",
                            "use a mapping with 'kind' (" + ", ".join(KINDS) + ") and its parameters")
    kind = spec["kind"]
    if kind not in KINDS:
        raise SettingsError(f"filter kind {kind!r} is not known", "use one of: " + ", ".join(KINDS))
    accepted = {**_COMMON, **KINDS[kind]}
    out = {"kind": kind}
    for key, value in spec.items():
        if key == "kind":
            continue
        if key not in accepted:
            raise SettingsError(f"unknown parameter {key!r} of filter {kind!r}",
                                "accepted parameters are: " + ", ".join(accepted))
        out[key] = value
    for key, default in accepted.items():
        if key not in out:
            if default is REQUIRED:
                raise SettingsError(f"filter {kind!r} needs parameter {key!r}", "add it to the filter setting")
            out[key] = default
    check_boundary(out["boundary"])
    filter_axes(out["dims"])
    if kind == "laws":
        parse_laws(out["kernel"], out["dims"])
    if kind == "wavelet":
        wavelet_filters(out["wavelet"])
    return out


def _voxels(length_mm: float, spacing: tuple[float, ...], axes: tuple[int, ...], what: str) -> float:
    s = [spacing[a] for a in axes]
    if max(s) - min(s) > 1e-3 * max(s):
        raise SettingsError(f"{what} needs the same voxel spacing along the filtered axes, got {s} mm",
                            "resample the image to an isotropic (in-plane for 2D) spacing first")
    return float(length_mm) / s[0]


def apply_filter(image: np.ndarray, spacing: tuple[float, float, float], spec: Mapping[str, Any]) -> np.ndarray:
    """The response map of ``image`` under the filter ``spec`` (see the module docstring).

    Parameters
    ----------
    image
        Intensities indexed ``(z, y, x)`` (SimpleITK order); a 2D ``(y, x)`` array is one slice.
    spacing
        Voxel spacing ``(x, y, z)`` in mm (converts ``sigma_mm`` / ``lambda_mm`` to voxels).
    spec
        ``{"kind": ..., parameters}``.

    Returns
    -------
    numpy.ndarray
        The response (float64), same shape and order as ``image``.
    """
    p = check_filter(spec)
    arr = np.asarray(image, dtype=np.float64)
    flat = arr.ndim == 2
    if flat:
        arr = arr[np.newaxis]
    f = to_ijk(arr)
    dims, boundary, kind = p["dims"], p["boundary"], p["kind"]
    axes = filter_axes(dims)
    sp = tuple(float(s) for s in spacing)
    if kind == "mean":
        out = mean_filter(f, p["support"], dims, boundary)
    elif kind == "log":
        out = log_filter(f, tuple(p["sigma_mm"] / sp[a] for a in axes), dims, boundary)
    elif kind == "laws":
        out = laws_filter(f, p["kernel"], dims, boundary, bool(p["rotation_invariant"]), p["pooling"], p["energy_distance"])
    elif kind == "gabor":
        plane_axes = (0, 1, 2) if p["orthogonal_planes"] else (0, 1)
        out = gabor_filter(f, _voxels(p["sigma_mm"], sp, plane_axes, "Gabor"), _voxels(p["lambda_mm"], sp, plane_axes, "Gabor"),
                           float(p["gamma"]), float(_angle(p["theta"]) or 0.0), _angle(p["theta_step"]), boundary, p["pooling"],
                           bool(p["orthogonal_planes"]))
    elif kind == "wavelet":
        out = wavelet_filter(f, p["wavelet"], p["subband"], int(p["level"]), dims, boundary,
                             bool(p["rotation_invariant"]), p["pooling"])
    elif kind == "simoncelli":
        out = simoncelli_filter(f, int(p["level"]), dims, boundary, int(p["pad_width"]))
    elif kind == "riesz_log":
        out = riesz_log_filter(f, _voxels(p["sigma_mm"], sp, axes, "Riesz-LoG"), tuple(p["order"]), dims, boundary)
    else:
        out = riesz_simoncelli_filter(f, int(p["level"]), tuple(p["order"]), dims, boundary, int(p["pad_width"]))
    out = from_ijk(out)
    return out[0] if flat else out


def support_radius(spacing: tuple[float, float, float], spec: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """How far (voxels per axis ``(z, y, x)``) a response voxel reads the image under filter ``spec``.

    ``None`` for filters applied in the Fourier domain to the whole image (Simoncelli, Riesz): their
    response depends on every voxel. For the others the response inside a region is the same
    whether the whole image or the region grown by this radius is filtered (where the grown region
    reaches the image edge, it is the image edge): the processing uses that to filter less.
    """
    p = check_filter(spec)
    kind, axes = p["kind"], filter_axes(p["dims"])
    sp = tuple(float(s) for s in spacing)
    r = [0, 0, 0]  # i, j, k
    if kind in ("simoncelli", "riesz_log", "riesz_simoncelli"):
        return None
    if kind == "mean":
        radius = {a: int(p["support"]) // 2 for a in axes}
    elif kind == "log":
        radius = {a: int(4.0 * p["sigma_mm"] / sp[a] + 0.5) for a in axes}
    elif kind == "laws":
        longest = max(k.size for k in parse_laws(p["kernel"], p["dims"]))
        radius = {a: longest // 2 + int(p["energy_distance"] or 0) for a in axes}
    elif kind == "gabor":
        from radrepro.filters.gabor import gabor_radius

        plane_axes = (0, 1, 2) if p["orthogonal_planes"] else (0, 1)
        rad = gabor_radius(_voxels(p["sigma_mm"], sp, plane_axes, "Gabor"), float(p["gamma"]))
        radius = {a: rad for a in plane_axes}
    else:  # wavelet: every level's (dilated) filter, any alignment
        taps = wavelet_filters(p["wavelet"])[0].size
        radius = {a: sum(taps * 2 ** (lev - 1) for lev in range(1, int(p["level"]) + 1)) for a in axes}
    for a, v in radius.items():
        r[a] = v
    return (r[2], r[1], r[0])


def _angle(value) -> float | None:
    """An angle in radians: a number, or a string such as ``pi/8`` / ``5pi/4``."""
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value).replace(" ", "").lower()
    try:
        if "pi" in text:
            num, _, den = text.partition("/")
            coef = num.replace("*", "").replace("pi", "") or "1"
            coef = -1.0 if coef == "-" else float(coef)
            return coef * math.pi / (float(den) if den else 1.0)
        return float(text)
    except ValueError:
        raise SettingsError(f"angle {value!r} is not valid", "use radians, e.g. 0.3927 or 'pi/8'") from None


__all__ = [
    "BOUNDARIES", "KINDS", "apply_filter", "check_filter", "support_radius", "gabor_filter", "laws_filter", "log_filter",
    "mean_filter", "riesz_log_filter", "riesz_simoncelli_filter", "simoncelli_filter", "wavelet_filter",
]
