"""Morphological features (IBSI 1, section 3.1; family HCUG).

Morphology describes the ROI's shape from the *morphological* mask (after interpolation, before
re-segmentation). Three features also read intensities, from the *intensity* mask (after
re-segmentation), as IBSI defines them: integrated intensity (mesh volume x mean intensity),
Moran's I and Geary's C (intensities of the intensity-mask voxels), and the centre of mass shift
(intensity-weighted centre of the intensity mask against the geometric centre of the morphological
mask).

- The ROI mesh is marching cubes at 0.5 on the morphological mask, padded so that it is closed
  (:func:`radrepro.features._mesh.roi_mesh`): volume (signed tetrahedra), surface area and the
  ratios built from them; axis-aligned bounding box and convex hull (scipy's Qhull) of the mesh
  vertices; maximum 3D diameter between hull vertices.
- PCA axes: eigenvalues of the covariance (n - 1 normalisation) of the voxel-centre positions in mm;
  ``4 sqrt(lambda)`` is an axis length, the approximate enclosing ellipsoid has semi-axes
  ``2 sqrt(lambda)`` and IBSI's series for its area.
- Oriented minimum bounding box and minimum volume enclosing ellipsoid are approximations, as
  IBSI allows; their reference values are not standardised (see :mod:`radrepro.features._mesh`).
- Moran's I and Geary's C are exact, with FFT convolutions (:mod:`radrepro.features._autocorrelation`).

Undefined values are NaN: PCA-based features of a single voxel (no covariance), ellipsoid
densities when the ROI is flat (one slice: least axis 0), intensity-based features when the
intensity mask is empty, Moran's I and Geary's C for fewer than two voxels or constant intensities,
and the centre of mass shift when the intensities sum to 0. A 2D image is a slab one slice thick
(its slice thickness, 1 mm when the image has none, as everywhere in radrepro).
"""

from __future__ import annotations

import math

import numpy as np

from radrepro.features._autocorrelation import moran_geary
from radrepro.features._mesh import (
    ellipsoid_area,
    enclosing_ellipsoid,
    hull_candidates,
    max_distance,
    mesh_volume_area,
    oriented_box,
    roi_mesh,
    unique_normals,
)
from radrepro._numba import jit
from radrepro.registry import Feature

FEATURES = (
    Feature("morph_volume", "RNU0", "Volume (mesh)", "morph", "shape_MeshVolume"),
    Feature("morph_vol_approx", "YEKZ", "Approximate volume (voxel counting)", "morph", "shape_VoxelVolume"),
    Feature("morph_area_mesh", "C0JK", "Surface area (mesh)", "morph", "shape_SurfaceArea"),
    Feature("morph_av", "2PR5", "Surface to volume ratio", "morph", "shape_SurfaceVolumeRatio"),
    Feature("morph_comp_1", "SKGS", "Compactness 1", "morph", "shape_Compactness1"),
    Feature("morph_comp_2", "BQWJ", "Compactness 2", "morph", "shape_Compactness2"),
    Feature("morph_sph_dispr", "KRCK", "Spherical disproportion", "morph", "shape_SphericalDisproportion"),
    Feature("morph_sphericity", "QCFX", "Sphericity", "morph", "shape_Sphericity"),
    Feature("morph_asphericity", "25C7", "Asphericity", "morph"),
    Feature("morph_com", "KLMA", "Centre of mass shift", "morph"),
    Feature("morph_diam", "L0JK", "Maximum 3D diameter", "morph", "shape_Maximum3DDiameter"),
    Feature("morph_pca_maj_axis", "TDIC", "Major axis length", "morph", "shape_MajorAxisLength"),
    Feature("morph_pca_min_axis", "P9VJ", "Minor axis length", "morph", "shape_MinorAxisLength"),
    Feature("morph_pca_least_axis", "7J51", "Least axis length", "morph", "shape_LeastAxisLength"),
    Feature("morph_pca_elongation", "Q3CK", "Elongation", "morph", "shape_Elongation"),
    Feature("morph_pca_flatness", "N17B", "Flatness", "morph", "shape_Flatness"),
    Feature("morph_vol_dens_aabb", "PBX1", "Volume density (axis-aligned bounding box)", "morph"),
    Feature("morph_area_dens_aabb", "R59B", "Area density (axis-aligned bounding box)", "morph"),
    Feature("morph_vol_dens_ombb", "ZH1A", "Volume density (oriented minimum bounding box)", "morph"),
    Feature("morph_area_dens_ombb", "IQYR", "Area density (oriented minimum bounding box)", "morph"),
    Feature("morph_vol_dens_aee", "6BDE", "Volume density (approximate enclosing ellipsoid)", "morph"),
    Feature("morph_area_dens_aee", "RDD2", "Area density (approximate enclosing ellipsoid)", "morph"),
    Feature("morph_vol_dens_mvee", "SWZ1", "Volume density (minimum volume enclosing ellipsoid)", "morph"),
    Feature("morph_area_dens_mvee", "BRI8", "Area density (minimum volume enclosing ellipsoid)", "morph"),
    Feature("morph_vol_dens_conv_hull", "R3ER", "Volume density (convex hull)", "morph"),
    Feature("morph_area_dens_conv_hull", "7T7F", "Area density (convex hull)", "morph"),
    Feature("morph_integ_int", "99N0", "Integrated intensity", "morph"),
    Feature("morph_moran_i", "N365", "Moran's I index", "morph"),
    Feature("morph_geary_c", "NPT7", "Geary's C measure", "morph"),
)

_NAN = math.nan


def _div(a: float, b: float) -> float:
    return a / b if b != 0 and math.isfinite(b) else _NAN


@jit
def _moments_kernel(morph, imask, image, scale):
    """Voxel positions in mm: count, mean and covariance (n - 1) over ``morph``; intensity sum and
    intensity-weighted position sum over ``imask``. Two passes (mean, then centred products),
    summed slice by slice (scalars only: numba compiles it fast)."""
    nz, ny, nx = morph.shape
    n = 0
    sz = 0.0
    sy = 0.0
    sx = 0.0
    wsum = 0.0
    wz = 0.0
    wy = 0.0
    wx = 0.0
    for z in range(nz):
        pn = 0
        py = 0.0
        px = 0.0
        pw = 0.0
        pwz = 0.0
        pwy = 0.0
        pwx = 0.0
        for y in range(ny):
            for x in range(nx):
                if morph[z, y, x]:
                    pn += 1
                    py += y
                    px += x
                if imask[z, y, x]:
                    v = image[z, y, x]
                    pw += v
                    pwz += v * z
                    pwy += v * y
                    pwx += v * x
        n += pn
        sz += pn * z
        sy += py
        sx += px
        wsum += pw
        wz += pwz
        wy += pwy
        wx += pwx
    mz = sz / n
    my = sy / n
    mx = sx / n
    czz = 0.0
    czy = 0.0
    czx = 0.0
    cyy = 0.0
    cyx = 0.0
    cxx = 0.0
    for z in range(nz):
        pzz = 0.0
        pzy = 0.0
        pzx = 0.0
        pyy = 0.0
        pyx = 0.0
        pxx = 0.0
        dz = z - mz
        for y in range(ny):
            dy = y - my
            for x in range(nx):
                if morph[z, y, x]:
                    dx = x - mx
                    pzz += dz * dz
                    pzy += dz * dy
                    pzx += dz * dx
                    pyy += dy * dy
                    pyx += dy * dx
                    pxx += dx * dx
        czz += pzz
        czy += pzy
        czx += pzx
        cyy += pyy
        cyx += pyx
        cxx += pxx
    f = 1.0 / max(n - 1, 1)
    hz, hy, hx = scale[0], scale[1], scale[2]
    cov = np.empty((3, 3))
    cov[0, 0] = czz * hz * hz * f
    cov[1, 1] = cyy * hy * hy * f
    cov[2, 2] = cxx * hx * hx * f
    cov[0, 1] = cov[1, 0] = czy * hz * hy * f
    cov[0, 2] = cov[2, 0] = czx * hz * hx * f
    cov[1, 2] = cov[2, 1] = cyx * hy * hx * f
    mean = np.array([mz * hz, my * hy, mx * hx])
    wpos = np.array([wz * hz, wy * hy, wx * hx])
    return n, mean, cov, wsum, wpos


def _pca_eigenvalues(n: int, cov: np.ndarray) -> np.ndarray:
    """Eigenvalues (descending) of the covariance of voxel positions; NaN for one voxel."""
    if n < 2:
        return np.full(3, _NAN)
    ev = np.linalg.eigvalsh(cov)
    return np.clip(ev, 0.0, None)[::-1]


def _ellipsoid_densities(volume: float, area: float, axes: np.ndarray) -> tuple[float, float]:
    a, b, c = (float(x) for x in axes)
    if not (c > 0):  # flat or undefined ellipsoid: no volume, IBSI's area series undefined
        return _NAN, _NAN
    return volume / (4.0 * math.pi / 3.0 * a * b * c), _div(area, ellipsoid_area(a, b, c))


def _hull_features(
    verts: np.ndarray, spacing: tuple[float, float, float], volume: float, area: float
) -> dict[str, float]:
    from scipy.spatial import ConvexHull

    candidates = verts[hull_candidates(verts, spacing)]
    hull = ConvexHull(candidates)
    hv = candidates[hull.vertices]
    out = {
        "morph_diam": max_distance(hv),
        "morph_vol_dens_conv_hull": _div(volume, hull.volume),
        "morph_area_dens_conv_hull": _div(area, hull.area),
    }
    box_volume, box_area = oriented_box(hv, unique_normals(hull.equations[:, :3]))
    out["morph_vol_dens_ombb"] = _div(volume, box_volume)
    out["morph_area_dens_ombb"] = _div(area, box_area)
    axes = enclosing_ellipsoid(hv)
    out["morph_vol_dens_mvee"], out["morph_area_dens_mvee"] = _ellipsoid_densities(volume, area, axes)
    return out


def morphology(
    image: np.ndarray,
    morph_mask: np.ndarray,
    int_mask: np.ndarray,
    spacing: tuple[float, float, float],
) -> dict[str, float]:
    """The 29 IBSI morphological features.

    Parameters
    ----------
    image
        Intensities ``(z, y, x)`` (float; only voxels of ``int_mask`` are read).
    morph_mask
        Morphological mask (bool, same shape), at least one voxel.
    int_mask
        Intensity mask (bool, same shape; may be empty).
    spacing
        Voxel spacing ``(x, y, z)`` in mm.

    Returns
    -------
    dict
        Reference tag -> value, in :data:`FEATURES` order.
    """
    img = np.asarray(image, dtype=np.float64)
    morph = np.asarray(morph_mask, dtype=np.bool_)
    imask = np.asarray(int_mask, dtype=np.bool_)
    if img.ndim != 3 or img.shape != morph.shape or img.shape != imask.shape:
        raise ValueError(
            f"morphology: image {img.shape}, morph_mask {morph.shape} and int_mask {imask.shape} "
            "must be equal 3D shapes"
        )
    if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise ValueError(f"morphology: spacing must be three positive numbers, not {spacing}")
    if not morph.any():
        raise ValueError("morphology: the morphological mask is empty")
    if not np.isfinite(img[imask]).all():
        raise ValueError("morphology: intensities inside the intensity mask must be finite (no NaN or inf)")
    sx, sy, sz = (float(s) for s in spacing)
    scale = np.array([sz, sy, sx])

    verts, faces = roi_mesh(morph, (sx, sy, sz))
    volume, area = mesh_volume_area(verts, faces)
    out: dict[str, float] = {f.tag: _NAN for f in FEATURES}
    out["morph_volume"] = volume
    out["morph_vol_approx"] = float(np.count_nonzero(morph)) * sx * sy * sz
    out["morph_area_mesh"] = area
    out["morph_av"] = area / volume
    out["morph_comp_1"] = volume / (math.sqrt(math.pi) * area**1.5)
    out["morph_comp_2"] = 36.0 * math.pi * volume**2 / area**3
    sphere_area = (36.0 * math.pi * volume**2) ** (1.0 / 3.0)  # area of the sphere of this volume
    out["morph_sph_dispr"] = area / sphere_area
    out["morph_sphericity"] = sphere_area / area
    out["morph_asphericity"] = (area**3 / (36.0 * math.pi * volume**2)) ** (1.0 / 3.0) - 1.0

    n, centre, cov, weights_sum, weighted = _moments_kernel(morph, imask, img, scale)
    n_int = int(np.count_nonzero(imask))
    if n_int:
        if weights_sum != 0.0:
            out["morph_com"] = float(np.linalg.norm(centre - weighted / weights_sum))
        out["morph_integ_int"] = volume * weights_sum / n_int
    out["morph_moran_i"], out["morph_geary_c"] = moran_geary(img, imask, spacing) if n_int else (_NAN, _NAN)

    ev = _pca_eigenvalues(n, cov)
    out["morph_pca_maj_axis"], out["morph_pca_min_axis"], out["morph_pca_least_axis"] = (4.0 * np.sqrt(ev)).tolist()
    out["morph_pca_elongation"] = math.sqrt(_div(ev[1], ev[0])) if ev[0] > 0 else _NAN
    out["morph_pca_flatness"] = math.sqrt(_div(ev[2], ev[0])) if ev[0] > 0 else _NAN
    out["morph_vol_dens_aee"], out["morph_area_dens_aee"] = _ellipsoid_densities(volume, area, 2.0 * np.sqrt(ev))

    extent = verts.max(axis=0) - verts.min(axis=0)
    out["morph_vol_dens_aabb"] = volume / float(np.prod(extent))
    ez, ey, ex = (float(e) for e in extent)
    out["morph_area_dens_aabb"] = area / (2.0 * (ez * ey + ez * ex + ey * ex))
    out.update(_hull_features(verts, (sx, sy, sz), volume, area))
    return {f.tag: float(out[f.tag]) for f in FEATURES}


def compute(roi) -> dict[str, float]:
    """Family entry point: shape from the morphological mask, intensities from the intensity mask."""
    return morphology(roi.image, roi.morph_mask, roi.int_mask, roi.spacing)
