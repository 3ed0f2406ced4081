"""radrepro's own extractor: one case in, a feature Series out."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from radrepro.case import load_pair
from radrepro.conventions import get_convention
from radrepro.settings import Settings, load_settings


def extract(
    image: Any,
    mask: Any,
    settings: "Settings | dict | str | None" = None,
    *,
    convention: str = "ibsi",
) -> pd.Series:
    """Extract the features of one region of interest.

    Parameters
    ----------
    image, mask
        SimpleITK images or paths to files SimpleITK reads (NIfTI, NRRD, ...). The mask must be on
        the image's grid; its ROI is the voxels equal to ``settings.label``.
    settings
        A :class:`~radrepro.settings.Settings`, a dict of settings, a path to a TOML/YAML file
        (radrepro or pyradiomics format), or ``None`` for the defaults.
    convention
        ``ibsi`` (IBSI 1 definitions, features named by reference tag such as ``stat_mean``) or
        ``pyradiomics`` (pyradiomics 3.0.1 definitions and names such as ``original_firstorder_Mean``).

    Returns
    -------
    pandas.Series
        Feature name -> value (float64), named after the convention.

    Raises
    ------
    radrepro.errors.InputError
        Missing, unreadable or inconsistent image/mask.
    radrepro.errors.SettingsError
        Unknown or invalid settings.
    """
    s = load_settings(settings)
    conv = get_convention(convention)
    load = getattr(conv, "load_pair", None) or (
        lambda i, m, st: load_pair(i, m, label=st.label, geometry_tolerance=st.geometry_tolerance)
    )
    img, msk = load(image, mask, s)
    values = conv.extract(img, msk, s)
    if not values:
        return pd.Series(values, dtype="float64", name=convention)
    # the same Series as pd.Series(values, dtype="float64"), at a fraction of the cost: the index of
    # a set of names is built once (each Series gets its own view of it, so renaming one is local)
    data = np.array(list(values.values()), dtype=np.float64)
    return pd.Series(data, index=_names_index(tuple(values)).view(), name=convention, copy=False)


@lru_cache(maxsize=64)
def _names_index(names: tuple[str, ...]) -> pd.Index:
    return pd.Index(names)
