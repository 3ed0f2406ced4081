"""Slow, independent references for the texture matrix kernels, and IBSI reference-value helpers.

The references are written differently from the kernels (array shifts, line extraction with
``itertools.groupby``, ``scipy.ndimage``), so that a shared mistake is unlikely.
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
from scipy import ndimage


def random_levels(rng: np.random.Generator, shape, n_levels: int, hole: float = 0.25) -> np.ndarray:
    """Random grey levels 1..n_levels with a fraction ``hole`` of voxels outside the ROI (0)."""
    lv = rng.integers(1, n_levels + 1, size=shape).astype(np.int32)
    lv[rng.random(shape) < hole] = 0
    return lv


def _shifted_pairs(levels: np.ndarray, off):
    """(z of first voxel, level a, level b) for every voxel pair (v, v + off) inside the array."""
    nz, ny, nx = levels.shape
    src, dst = [], []
    for o, n in zip(off, (nz, ny, nx)):
        src.append(slice(max(0, -o), n - max(0, o)))
        dst.append(slice(max(0, o), n - max(0, -o)))
    a = levels[tuple(src)]
    b = levels[tuple(dst)]
    z = np.broadcast_to(np.arange(src[0].start, src[0].stop)[:, None, None], a.shape)
    return z, a, b


def ref_glcm(levels, offsets, n_levels, per_slice=False):
    ns = levels.shape[0] if per_slice else 1
    out = np.zeros((ns, len(offsets), n_levels, n_levels), dtype=np.int64)
    for d, off in enumerate(offsets):
        z, a, b = _shifted_pairs(levels, off)
        ok = (a > 0) & (b > 0)
        s = z[ok] if per_slice else np.zeros(ok.sum(), dtype=int)
        np.add.at(out, (s, d, a[ok] - 1, b[ok] - 1), 1)
    return out


def _lines(shape, direction):
    """Voxel index lists of every line through the array along ``direction``."""
    nz, ny, nx = shape
    dz, dy, dx = direction
    for z, y, x in itertools.product(range(nz), range(ny), range(nx)):
        pz, py, px = z - dz, y - dy, x - dx
        if 0 <= pz < nz and 0 <= py < ny and 0 <= px < nx:
            continue  # not the first voxel of its line
        line = []
        while 0 <= z < nz and 0 <= y < ny and 0 <= x < nx:
            line.append((z, y, x))
            z, y, x = z + dz, y + dy, x + dx
        yield line


def ref_glrlm(levels, directions, n_levels, per_slice=False):
    ns = levels.shape[0] if per_slice else 1
    lines = [list(_lines(levels.shape, direction)) for direction in directions]
    longest = max(len(line) for per_direction in lines for line in per_direction)
    out = np.zeros((ns, len(directions), n_levels, longest), dtype=np.int64)
    for d in range(len(directions)):
        for line in lines[d]:
            pos = 0
            for value, group in itertools.groupby(levels[v] for v in line):
                n = len(list(group))
                if value > 0:
                    s = line[pos][0] if per_slice else 0
                    out[s, d, value - 1, n - 1] += 1
                pos += n
    return out


def _neighbour_sums(levels, offsets, alpha=None):
    """Per voxel: number of ROI neighbours, sum of their levels, number within ``alpha`` of the centre."""
    pad = int(np.abs(offsets).max())
    p = np.pad(levels, pad)
    nz, ny, nx = levels.shape
    count = np.zeros(levels.shape, dtype=np.int64)
    total = np.zeros(levels.shape, dtype=np.int64)
    dep = np.zeros(levels.shape, dtype=np.int64)
    for dz, dy, dx in offsets:
        b = p[pad + dz : pad + dz + nz, pad + dy : pad + dy + ny, pad + dx : pad + dx + nx]
        inside = b > 0
        count += inside
        total += np.where(inside, b, 0)
        if alpha is not None:
            dep += inside & (np.abs(b - levels) <= alpha)
    return count, total, dep


def ref_ngtdm(levels, offsets, n_levels, per_slice=False):
    count, total, _ = _neighbour_sums(levels, offsets)
    ns = levels.shape[0] if per_slice else 1
    s = np.zeros((ns, n_levels))
    n = np.zeros((ns, n_levels), dtype=np.int64)
    for z, y, x in zip(*np.nonzero((levels > 0) & (count > 0))):
        a = levels[z, y, x]
        r = z if per_slice else 0
        s[r, a - 1] += abs(a - total[z, y, x] / count[z, y, x])
        n[r, a - 1] += 1
    return s, n


def ref_ngldm(levels, offsets, n_levels, alpha, per_slice=False):
    _, _, dep = _neighbour_sums(levels, offsets, alpha)
    ns = levels.shape[0] if per_slice else 1
    out = np.zeros((ns, n_levels, len(offsets) + 1), dtype=np.int64)
    z, y, x = np.nonzero(levels > 0)
    s = z if per_slice else np.zeros_like(z)
    np.add.at(out, (s, levels[z, y, x] - 1, dep[z, y, x]), 1)
    return out


def ref_zones(levels, in_plane, distance=None):
    """Sorted list of (slice or 0, level, size, min distance) of zones, via scipy.ndimage.label."""
    structure = np.ones((3, 3, 3), dtype=bool)
    if in_plane:
        structure[0] = structure[2] = False
    zones = []
    for a in np.unique(levels[levels > 0]):
        lab, n = ndimage.label(levels == a, structure=structure)
        for k in range(1, n + 1):
            where = lab == k
            z = int(np.nonzero(where)[0].min()) if in_plane else 0
            d = int(distance[where].min()) if distance is not None else 0
            zones.append((z, int(a), int(where.sum()), d))
    return sorted(zones)


def ref_edge_distance(mask, in_plane):
    """City-block distance to the nearest voxel outside ``mask`` (outside the array counts), via scipy."""
    if in_plane:
        return np.stack([ndimage.distance_transform_cdt(np.pad(m, 1), metric="taxicab")[1:-1, 1:-1] for m in mask])
    return ndimage.distance_transform_cdt(np.pad(mask, 1), metric="taxicab")[1:-1, 1:-1, 1:-1]


# --- IBSI reference values ---------------------------------------------------------------

TEXTURE_PREFIXES = ("cm_", "rlm_", "szm_", "dzm_", "ngt_", "ngl_")


def reference_rows(ibsi_data: Path, dataset: str, prefixes=TEXTURE_PREFIXES):
    """(tag, reference, tolerance) of the standardised rows of ``dataset`` whose tag starts with ``prefixes``."""
    path = ibsi_data / "ibsi1" / "reference_values" / "ibsi1_reference_values.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return [
            (r["tag"], float(r["reference_value"]), float(r["tolerance"]))
            for r in csv.DictReader(fh)
            if r["dataset"] == dataset and r["tolerance"] != "" and r["tag"].startswith(prefixes)
        ]


def ibsi_match(reference: float, tolerance: float, value: float) -> bool:
    """The reference workbook's rule: the difference, truncated at the reference's 3rd significant
    digit, is at most the tolerance."""
    if not math.isfinite(value):
        return False
    digits = 0 if reference == 0 else 3 - (1 + math.floor(math.log10(abs(reference))))
    scale = 10.0**digits
    diff = abs(math.trunc((reference - value) * scale) / scale)
    return diff <= tolerance + 1e-12
