"""Perturbations by name, so suite files can declare them as TOML tables.

.. code-block:: toml

    [[perturbations.chains]]                  # one chain: its steps in order
    steps = [{kind = "noise", scale = 1.0}, {kind = "rotation", angle = 10}]

``perturbation_from_dict({"kind": "rotation", "angle": 10})`` builds one perturbation and
``chain_from_dicts([...])`` a chain; unknown kinds and parameters are
:class:`~radrepro.errors.SettingsError` s that list what is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from radrepro.errors import SettingsError
from radrepro.perturbations.base import Chain, Perturbation
from radrepro.perturbations.image import Noise, Rotation, Translation
from radrepro.perturbations.mask import ContourRandomisation, VolumeAdaptation
from radrepro.perturbations.protocol import Discretisation, Interpolator, Resample, Resegmentation

#: kind -> perturbation class, protocol first, then image and mask perturbations
KINDS: dict[str, type[Perturbation]] = {
    cls.kind: cls
    for cls in (Resample, Interpolator, Discretisation, Resegmentation, Noise, Rotation, Translation,
                VolumeAdaptation, ContourRandomisation)
}


def parameters(kind: str) -> tuple[str, ...]:
    """Parameter names of a perturbation kind."""
    return tuple(f.name for f in fields(_class(kind)))


def _class(kind: Any) -> type[Perturbation]:
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise SettingsError(f"unknown perturbation kind {kind!r}", "accepted kinds are: " + ", ".join(KINDS)) from None


def perturbation_from_dict(spec: Mapping[str, Any]) -> Perturbation:
    """A perturbation from ``{"kind": ..., **params}`` (as :meth:`Perturbation.to_dict` writes it).

    Raises
    ------
    SettingsError
        Not a mapping, no or unknown ``kind``, unknown parameter, or an invalid value.
    """
    if isinstance(spec, Perturbation):
        return spec
    if not isinstance(spec, Mapping):
        raise SettingsError(f"a perturbation must be a table such as {{kind = \"noise\"}}, not {spec!r}",
                            "accepted kinds are: " + ", ".join(KINDS))
    if "kind" not in spec:
        raise SettingsError(f"perturbation {dict(spec)!r} has no 'kind'", "accepted kinds are: " + ", ".join(KINDS))
    cls = _class(spec["kind"])
    params = {k: v for k, v in spec.items() if k != "kind"}
    accepted = parameters(cls.kind)
    unknown = [k for k in params if k not in accepted]
    if unknown:
        raise SettingsError(f"perturbation '{cls.kind}' has no parameter {', '.join(map(repr, unknown))}",
                            f"its parameters are: {', '.join(accepted)}")
    params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
    return cls(**params)


def chain_from_dicts(specs: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> Chain:
    """A :class:`Chain` from a list of perturbation dicts (one dict is a one-step chain)."""
    if isinstance(specs, Mapping):
        specs = [specs]
    if isinstance(specs, (str, bytes)) or not isinstance(specs, Iterable):
        raise SettingsError(f"a perturbation chain must be a list of tables, not {specs!r}",
                            "e.g. [{kind = \"noise\"}, {kind = \"rotation\", angle = 10}]")
    return Chain(perturbation_from_dict(s) for s in specs)


def chain_from_json(text: str) -> Chain:
    """The chain of a results table's ``perturbation_params`` (canonical JSON list)."""
    import json

    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"perturbation params {text!r} are not JSON", "pass Chain.to_json() output") from exc
    return chain_from_dicts(data)
