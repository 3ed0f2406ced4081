"""Controlled, recorded, reproducible perturbations of cases and protocols.

Protocol perturbations change the extraction settings (:class:`Resample`, :class:`Interpolator`,
:class:`Discretisation`, :class:`Resegmentation`); image and mask perturbations after Zwanenburg et
al. 2019 (Sci Rep 9:614) change the case (:class:`Noise`, :class:`Rotation`, :class:`Translation`,
:class:`VolumeAdaptation`, :class:`ContourRandomisation`). Each is a frozen object with
JSON-serialisable parameters and a stable :attr:`~Perturbation.id`; a :class:`Chain` applies several
in order, deterministic from a seed. Suites declare them as dicts (:func:`perturbation_from_dict`,
:func:`chain_from_dicts`); large spaces are sampled with :func:`sample` (random or Latin
hypercube) or enumerated with :func:`grid`. :func:`perturbed_cases` yields every case under every
chain for the suite runner.
"""

from radrepro.perturbations.base import NO_PERTURBATION, Chain, Perturbation, canonical_json, child_seed, stable_hash
from radrepro.perturbations.cases import case_seed, perturb_one, perturbed_cases
from radrepro.perturbations.image import Noise, Rotation, Translation, estimate_noise_sd
from radrepro.perturbations.mask import ContourRandomisation, VolumeAdaptation
from radrepro.perturbations.protocol import Discretisation, Interpolator, Resample, Resegmentation
from radrepro.perturbations.registry import KINDS, chain_from_dicts, chain_from_json, parameters, perturbation_from_dict
from radrepro.perturbations.sampling import grid, sample

#: the name the suite runner uses for :func:`sample`
sample_chains = sample

__all__ = [
    "KINDS", "NO_PERTURBATION", "Chain", "ContourRandomisation", "Discretisation", "Interpolator", "Noise",
    "Perturbation", "Resample", "Resegmentation", "Rotation", "Translation", "VolumeAdaptation", "canonical_json",
    "case_seed", "chain_from_dicts", "chain_from_json", "child_seed", "estimate_noise_sd", "grid", "parameters",
    "perturb_one", "perturbation_from_dict", "perturbed_cases", "sample", "sample_chains", "stable_hash",
]
