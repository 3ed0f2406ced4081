"""Where fetched data sets live: ``$RADREPRO_DATA``, else a per-user cache directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_root(override: str | Path | None = None) -> Path:
    """The data cache folder: ``override``, else ``$RADREPRO_DATA``, else the user cache dir.

    The user cache dir is ``$XDG_CACHE_HOME/radrepro`` (``~/.cache/radrepro``) on Linux,
    ``~/Library/Caches/radrepro`` on macOS and ``%LOCALAPPDATA%\\radrepro`` on Windows.
    """
    if override:
        return Path(override).expanduser()
    env = os.environ.get("RADREPRO_DATA")
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "radrepro"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "radrepro"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "radrepro"


def dataset_dir(name: str, override: str | Path | None = None) -> Path:
    """Folder of data set ``name`` in the cache (not created)."""
    return data_root(override) / name
