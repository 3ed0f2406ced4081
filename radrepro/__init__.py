"""radrepro: a benchmark and reproducibility suite for radiomics.

The Python API starts at :func:`extract` (one case), :class:`Settings`, and the subpackages named
after the pipeline's stages: ``datasets`` -> ``processing`` -> ``perturbations`` -> ``features`` ->
``stability`` / ``ibsi`` / ``harmonisation`` / ``models`` -> ``tracking`` -> ``reports``.
Heavy modules are imported on first use, so that ``import radrepro`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from radrepro.settings import Settings

__all__ = ["Settings", "extract", "load_settings", "__version__"]


def extract(image: Any, mask: Any, settings: Any = None, *, convention: str = "ibsi"):
    """Extract the features of one ROI; see :func:`radrepro.engine.extract`."""
    from radrepro.engine import extract as _extract

    return _extract(image, mask, settings, convention=convention)


def __getattr__(name: str) -> Any:
    if name in ("Settings", "load_settings"):
        from radrepro import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'radrepro' has no attribute {name!r}")
