"""pyradiomics ``shape2D``: 2D shape of a one-slice ROI (``force2D``) from the marching squares contour."""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics.common import ClassInput, selected
from radrepro.conventions._pyradiomics.mesh import mesh_2d
from radrepro.conventions._pyradiomics.shape import principal_moments
from radrepro.errors import InputError

NAME = "shape2D"
FEATURES = {
    "Elongation": "enabled", "MajorAxisLength": "enabled", "MaximumDiameter": "enabled", "MeshSurface": "enabled",
    "MinorAxisLength": "enabled", "Perimeter": "enabled", "PerimeterSurfaceRatio": "enabled",
    "PixelSurface": "enabled", "SphericalDisproportion": "deprecated", "Sphericity": "enabled",
}


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """2D shape features of the shape mask, squeezed along ``force2Ddimension``."""
    dim = data.settings.force_2d_dimension
    mask = data.prepared.shape_roi
    if mask.shape[dim] > 1:
        raise InputError(
            f"shape2D needs an ROI one voxel thick along force2Ddimension = {dim}, but it spans {mask.shape[dim]}",
            "leave shape2D out of featureClass, or use a single-slice mask",
        )
    axes = [a for a in range(3) if a != dim]
    spacing = np.array(data.prepared.spacing[::-1])[axes]
    mask = np.pad(np.squeeze(mask, axis=dim), 1)
    perimeter, surface, diameter = mesh_2d(mask, spacing)
    eig, n = principal_moments(mask, spacing)
    y, x = spacing
    sphericity = (2 * np.sqrt(np.pi * surface)) / perimeter
    funcs = {
        "MeshSurface": lambda: surface,
        "PixelSurface": lambda: n * (x * y),
        "Perimeter": lambda: perimeter,
        "PerimeterSurfaceRatio": lambda: perimeter / surface,
        "Sphericity": lambda: sphericity,
        "SphericalDisproportion": lambda: 1.0 / sphericity,
        "MaximumDiameter": lambda: diameter,
        "MajorAxisLength": lambda: np.nan if eig[1] < 0 else np.sqrt(eig[1]) * 4,
        "MinorAxisLength": lambda: np.nan if eig[0] < 0 else np.sqrt(eig[0]) * 4,
        "Elongation": lambda: np.nan if (eig[0] < 0 or eig[1] < 0) else np.sqrt(eig[0] / eig[1]),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        return {k: float(np.real(funcs[k]())) for k in selected(FEATURES, names, NAME)}
