"""flash-radiomics (a pyradiomics fork with native C kernels) as an optional extractor backend.

Install with ``pip install radrepro[peers]`` (tested: flash-radiomics 1.0.0, its CPU kernels, on
Python 3.11; it needs h5py and PyYAML, which it does not declare). It keeps pyradiomics' API
(``flash_radiomics.featureextractor.RadiomicsFeatureExtractor`` with pyradiomics' parameter
mapping, SimpleITK images or paths), so this backend is :class:`PyradiomicsExtractor` with another
package; the numbers are flash-radiomics' own.

Its default feature set is larger than pyradiomics' (128 features with the Original image: extra
shape, first-order, GLCM and GLDM features). Unless a parameter file or mapping is given, the
backend asks for pyradiomics' default features only (the ``featureClass`` section lists them), so
that both compute the same 107 features. flash-radiomics always writes an HDF5 file of each
extraction (image, mask and features); this backend sends them to a temporary folder of its own
unless the parameters name one (``hdf5OutputDirectory``). Measured against pyradiomics 3.0.1 on brain1 with radrepro's
default settings: 106 of them agree to 1e-10 (worst MCC, 9.6e-11); Kurtosis differs (flash-radiomics
returns the excess kurtosis, pyradiomics the kurtosis: 3 apart).
"""

from __future__ import annotations

import importlib
import importlib.util
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from radrepro.case import Case
from radrepro.errors import InputError
from radrepro.extractors.pyradiomics_backend import PyradiomicsExtractor, pyradiomics_params
from radrepro.settings import Settings

INSTALL_HINT = "install the optional peers with `pip install radrepro[peers]` (or `pip install flash-radiomics h5py pyyaml`)"


def _pyradiomics_default_features() -> dict[str, list[str]]:
    """pyradiomics 3.0.1's enabled features per class (radrepro's pyradiomics convention lists them)."""
    from radrepro.conventions.pyradiomics import class_module

    classes = ("firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
    return {c: [n for n, status in class_module(c).FEATURES.items() if status == "enabled"] for c in classes}


class FlashRadiomicsExtractor(PyradiomicsExtractor):
    """The installed flash-radiomics package, run for real (see the module docstring).

    Parameters
    ----------
    params
        A parameter file (YAML/JSON path) or mapping used as is; ``None`` translates the radrepro
        settings with :func:`~radrepro.extractors.pyradiomics_backend.pyradiomics_params`, limited to
        pyradiomics' default features unless the settings select families or features.
    """

    name = "flash-radiomics"
    convention = "pyradiomics"
    package = "flash_radiomics"

    def __init__(self, params: Mapping[str, Any] | str | Path | None = None) -> None:
        super().__init__(params)
        # flash-radiomics writes an HDF5 file of every extraction (by default into the working
        # directory); these go to a folder of this extractor's, removed with it
        self._hdf5 = tempfile.TemporaryDirectory(prefix="radrepro-flash-")

    @property
    def version(self) -> str:
        from importlib import metadata

        try:
            return metadata.version("flash-radiomics")
        except metadata.PackageNotFoundError:
            raise InputError("flash-radiomics is not installed", INSTALL_HINT) from None

    def extract(self, case: Case, settings: Settings) -> pd.Series:
        """flash-radiomics' features of ``case``; ``attrs`` as :meth:`PyradiomicsExtractor.extract`."""
        if importlib.util.find_spec("flash_radiomics") is None:
            raise InputError("flash-radiomics is not installed", INSTALL_HINT)
        importlib.import_module("flash_radiomics")  # sets its logger up, which the extraction then silences
        return super().extract(case, settings)

    def _params(self, settings: Settings) -> Mapping[str, Any] | str | Path:
        if isinstance(self.params, (str, Path)):
            return self.params  # a parameter file as it is (its hdf5OutputDirectory, if any, applies)
        if self.params is not None:
            params = dict(self.params)
        else:
            params = pyradiomics_params(settings)
            params.setdefault("featureClass", _pyradiomics_default_features())
        params["setting"] = {"hdf5OutputDirectory": self._hdf5.name, **params.get("setting", {})}
        return params
