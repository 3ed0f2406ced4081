"""Feature stability on the synthetic cohort under Zwanenburg et al. (2019) style perturbations.

Extracts every IBSI family (radrepro engine, IBSI convention, the quick suite's settings) from
synthetic lesions unperturbed and under noise (2 realisations at the image's own level), in-plane
rotation (+-10 degrees), sub-voxel translation (half a voxel in-plane), volume adaptation (+-10%)
and supervoxel contour randomisation (2 realisations), plus protocol resampling to 1 and 1.5 mm; then reports, per perturbation group and for
all together, the fraction of features per family whose ICC(A,1) lower 95% bound exceeds 0.9 / 0.75.

    .venv/bin/python benchmarks/stability/synthetic_cohort.py [--lesions-per-site 5] [--out DIR]

Writes ``results.parquet``, ``stability.csv`` and ``summary.csv`` to ``--out`` (default
``runs/stability-synthetic``). See benchmarks/README.md for the numbers measured.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import radrepro
from radrepro.datasets.synthetic import synthetic_cohort
from radrepro.perturbations import chain_from_dicts, perturbed_cases
from radrepro.results import long_rows, write_results
from radrepro.settings import Settings
from radrepro.stability import family_summary, stability_table

GROUPS = {
    "noise": [[{"kind": "noise"}], [{"kind": "noise", "realisation": 1}]],
    "rotation": [[{"kind": "rotation", "angle": 10}], [{"kind": "rotation", "angle": -10}]],
    "translation": [[{"kind": "translation", "fraction": [0.5, 0.5, 0.0]}]],
    "translation-cubic": [[{"kind": "translation", "fraction": [0.5, 0.5, 0.0], "interpolator": "cubic"}]],
    "resampling": [[{"kind": "resample", "spacing": 1.0}], [{"kind": "resample", "spacing": 1.5}]],
    "volume": [[{"kind": "volume", "fraction": 0.1}], [{"kind": "volume", "fraction": -0.1}]],
    "contour": [[{"kind": "contour"}], [{"kind": "contour", "realisation": 1}]],
}
#: the Zwanenburg et al. set that "all" combines (noise, rotation, translation, volume, contour)
ALL = ("noise", "rotation", "translation", "volume", "contour")
SETTINGS = Settings(intensity_rounding=1.0, reseg_range=(-1000, 400), discretisation="fbs", bin_width=25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesions-per-site", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/stability-synthetic"))
    args = parser.parse_args()
    cases = synthetic_cohort(n_sites=4, lesions_per_site=args.lesions_per_site, seed=args.seed)
    chains = [chain_from_dicts([])] + [chain_from_dicts(c) for group in GROUPS.values() for c in group]
    group_of = {chain_from_dicts(c).id: g for g, group in GROUPS.items() for c in group}
    t0 = time.perf_counter()
    parts, perturb_s, extract_s = [], 0.0, 0.0
    it = perturbed_cases(cases, chains, seed=args.seed, settings=SETTINGS)
    while True:
        t = time.perf_counter()
        try:
            case, pid, params, settings = next(it)
        except StopIteration:
            break
        perturb_s += time.perf_counter() - t
        t = time.perf_counter()
        values = radrepro.extract(case.image, case.mask, settings)
        extract_s += time.perf_counter() - t
        parts.append(long_rows(values, case=case.id, extractor=f"radrepro@{radrepro.__version__}", convention="ibsi",
                               settings=settings.digest(), seconds=0.0, perturbation=pid, perturbation_params=params))
    results = pd.concat(parts, ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_results(results, args.out / "results.parquet")
    print(f"{len(cases)} cases x {len(chains)} conditions: perturbation {perturb_s:.1f} s, extraction {extract_s:.1f} s, "
          f"total {time.perf_counter() - t0:.1f} s; {results['feature'].nunique()} features")
    summaries = {}
    for group in [*GROUPS, "all"]:
        ids = ["none"] + [pid for pid, g in group_of.items() if g == group or (group == "all" and g in ALL)]
        t = time.perf_counter()
        table = stability_table(results, perturbations=ids)
        seconds = time.perf_counter() - t
        if group == "all":
            table.to_csv(args.out / "stability.csv", index=False)
        s = family_summary(table)
        summaries[group] = s
        print(f"\n== {group}: {len(ids)} conditions (stability_table {seconds:.2f} s)")
        print(s.round(2).to_string())
    both = pd.concat({g: s[["excellent", "good"]] for g, s in summaries.items()}, axis=1)
    both.to_csv(args.out / "summary.csv")
    table = pd.read_csv(args.out / "stability.csv").set_index("feature")
    print("\nvolume-only features, all perturbations:")
    print(table.loc[["morph_volume", "morph_vol_approx", "morph_area_mesh"], ["icc", "icc_low", "wcv"]].round(3).to_string())


if __name__ == "__main__":
    main()
