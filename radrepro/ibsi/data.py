"""Where the IBSI data lives: ``--data DIR`` or the ``ibsi`` folder of radrepro's data cache.

The folder is laid out as the IBSI data sets are published and fetched::

    ibsi1/ct_phantom/image/phantom.nii.gz        ibsi1/ct_phantom/mask/mask.nii.gz
    ibsi1/digital_phantom/image/phantom.nii.gz   ibsi1/digital_phantom/mask/mask.nii.gz
    ibsi1/reference_values/ibsi1_reference_values.csv
    ibsi2/...
"""

from __future__ import annotations

from pathlib import Path

from radrepro.errors import DataUnavailableError

FETCH_HINT = "run `radrepro datasets fetch ibsi-1-phantoms`"


def ibsi_data_dir(override: str | Path | None = None) -> Path:
    """The IBSI data folder: ``override``, else ``<data cache>/ibsi`` (``$RADREPRO_DATA`` or the user cache)."""
    if override is not None:
        return Path(override).expanduser()
    from radrepro.datasets.cache import dataset_dir

    return dataset_dir("ibsi")


def require_files(root: Path, relative: list[str], *, explicit: bool, fetch_hint: str = FETCH_HINT) -> None:
    """Raise :class:`DataUnavailableError` naming the first of ``relative`` missing under ``root``."""
    for rel in relative:
        if not (root / rel).is_file():
            where = "the folder given with --data" if explicit else "radrepro's data cache"
            raise DataUnavailableError(
                f"IBSI data not found: {root / rel} is missing ({where})",
                f"{fetch_hint}, or pass --data DIR pointing at a folder with ibsi1/ inside",
            )
