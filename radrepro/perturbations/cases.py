"""Perturbed cases for the suite runner: every case under every chain, seeded reproducibly."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from radrepro.case import Case
from radrepro.perturbations.base import Chain, seed_sequence
from radrepro.perturbations.registry import chain_from_dicts
from radrepro.settings import Settings, load_settings


def case_seed(seed: Any, case_id: str, chain: Chain) -> np.random.SeedSequence:
    """The seed of one (case, chain): the run seed, a stable number from the case id and the chain id.

    It depends on neither the order of the cases nor the process that computes it.
    """
    base = seed_sequence(seed)
    tag = hashlib.sha256(f"{case_id}\0{chain.id}".encode()).digest()
    words = [int.from_bytes(tag[i:i + 4], "little") for i in range(0, 16, 4)]
    entropy = base.entropy if isinstance(base.entropy, Sequence) else [base.entropy]
    return np.random.SeedSequence([*entropy, *words], spawn_key=base.spawn_key)


def perturbed_cases(
    cases: Iterable[Case],
    chains: Iterable[Chain | Sequence[Mapping[str, Any]]],
    seed: Any = 0,
    settings: Settings | Mapping[str, Any] | None = None,
) -> Iterator[tuple[Case, str, str, Settings]]:
    """Every case under every chain.

    Parameters
    ----------
    cases
        The cases.
    chains
        :class:`Chain` s, or lists of perturbation dicts (see :func:`chain_from_dicts`). The empty
        chain (id ``none``) yields the case as it is.
    seed
        Run seed; each (case, chain) gets :func:`case_seed`.
    settings
        Base extraction settings (default: ``Settings()``).

    Yields
    ------
    case, perturbation_id, perturbation_params_json, settings
        The perturbed case, the chain's id and canonical JSON (the results table's
        ``perturbation`` and ``perturbation_params``) and the settings to extract it with.
        Perturbation runs lazily, when the item is drawn; an error (e.g. an erosion that empties
        the mask) is raised from the iterator for that item: use :func:`perturb_one` to handle
        errors per item.
    """
    base = load_settings(settings)
    built = [c if isinstance(c, Chain) else chain_from_dicts(c) for c in chains]
    for case in cases:
        for chain in built:
            new_case, new_settings = perturb_one(case, chain, seed, base)
            yield new_case, chain.id, chain.to_json(), new_settings


def perturb_one(case: Case, chain: Chain, seed: Any = 0, settings: Settings | None = None) -> tuple[Case, Settings]:
    """One (case, chain), seeded as :func:`perturbed_cases` seeds it."""
    base = load_settings(settings)
    if not chain.steps:
        return case, base
    return chain.apply(case, base, case_seed(seed, case.id, chain))
