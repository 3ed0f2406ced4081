"""Shared fixtures: the shared reference data and small helpers.

Reference data (IBSI phantoms and values, pyradiomics baselines, R's ComBat outputs) is read from
``../shared/data`` next to the checkout, or from ``$RADREPRO_SHARED_DATA``. Outside CI a missing
data set skips the test with a message naming how to get it; with ``CI=true`` it fails, so that CI
can never go green by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HOW_TO_GET = {
    "ibsi": "`radrepro datasets fetch ibsi-1-phantoms` (IBSI data sets, github.com/theibsi/data_sets) or set RADREPRO_SHARED_DATA",
    "pyradiomics": "clone github.com/AIM-Harvard/pyradiomics and point RADREPRO_SHARED_DATA at a folder with its data/ as pyradiomics/data",
    "combat_r": "the R outputs of github.com/Jfortin1/ComBatHarmonization (Testing/), as combat_r/ under RADREPRO_SHARED_DATA",
}


def shared_data_root() -> Path:
    env = os.environ.get("RADREPRO_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def require_shared(name: str) -> Path:
    """Path of shared data set ``name``; skip (outside CI) or fail (CI) when it is missing."""
    path = shared_data_root() / name
    if path.is_dir():
        return path
    message = f"shared data '{name}' not found at {path}; get it with {HOW_TO_GET.get(name, 'the project README')}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def ibsi_data() -> Path:
    return require_shared("ibsi")


@pytest.fixture(scope="session")
def pyradiomics_data() -> Path:
    return require_shared("pyradiomics")


@pytest.fixture(scope="session")
def combat_r_data() -> Path:
    return require_shared("combat_r")


COHORT_FAMILIES = ("stat", "ih", "cm", "rlm", "szm", "dzm", "ngt", "ngl")


@pytest.fixture(scope="session")
def synthetic_features():
    """(features, metadata) of the synthetic multi-centre cohort, one row per lesion (~15 s, once per session).

    Features: the intensity and texture families with bin width 25; metadata: site, scanner, label and
    the molecular variables (mol_texture, mol_null, mol_site).
    """
    import pandas as pd

    import radrepro
    from radrepro.datasets.synthetic import synthetic_cohort

    cases = synthetic_cohort()
    settings = {"families": list(COHORT_FAMILIES), "discretisation": "fbs", "bin_width": 25}
    features = pd.DataFrame([radrepro.extract(c.image, c.mask, settings) for c in cases], index=[c.id for c in cases])
    meta = pd.DataFrame([{k: v for k, v in c.metadata.items() if not k.startswith("truth_")} for c in cases],
                        index=features.index)
    return features, meta
