"""The suite's perturbation section as task specs, and their application on a worker.

Chains come from :mod:`radrepro.perturbations` (explicit chains and/or a sampled budget). Each
becomes a :class:`~radrepro.suites.tasks.PerturbationSpec` whose id and params are the chain's own
(``Chain.id``, ``Chain.to_json()``), so the results table names perturbations as the
perturbation module does. A case's random stream depends on the suite seed, the case id and the
chain (:func:`radrepro.perturbations.case_seed`), never on which worker runs it or in which order.
"""

from __future__ import annotations

from radrepro.errors import SettingsError
from radrepro.suites.definition import Perturbations
from radrepro.suites.tasks import PerturbationSpec


def _module():
    try:
        import radrepro.perturbations as mod
    except ImportError as exc:  # pragma: no cover - the module ships with radrepro
        raise SettingsError("this suite declares perturbations but radrepro.perturbations is not available",
                            "remove the [perturbations] section or update radrepro") from exc
    return mod


def expand(section: Perturbations) -> list[PerturbationSpec]:
    """Every perturbation the section declares, ``none`` first when ``unperturbed``; duplicates dropped."""
    specs: list[PerturbationSpec] = [PerturbationSpec(seed=section.seed)] if section.unperturbed else []
    if not section.empty:
        mod = _module()
        chains = [mod.chain_from_dicts(c["steps"]) for c in section.chains]
        if section.sample:
            sample = section.sample
            chains.extend(mod.sample(sample.get("space", {}), int(sample["budget"]),
                                     method=sample.get("method", "lhs"), seed=int(sample.get("seed", section.seed))))
        for chain in chains:
            specs.append(PerturbationSpec(id=chain.id, params=chain.to_json(), steps=tuple(chain.to_list()), seed=section.seed))
    seen, out = set(), []
    for s in specs:
        if s.id not in seen:
            seen.add(s.id)
            out.append(s)
    if not out:
        raise SettingsError("the suite's [perturbations] leave nothing to run", "set unperturbed = true or declare chains")
    return out


def perturb(case, spec: PerturbationSpec, settings):
    """Apply ``spec``'s chain to ``case`` (seeded by the suite seed, the case id and the chain id)."""
    mod = _module()
    return mod.perturb_one(case, mod.chain_from_dicts(list(spec.steps)), spec.seed, settings)
