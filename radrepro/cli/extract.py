"""``radrepro extract IMAGE MASK``: features of one case to CSV (``feature,value``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "extract",
        help="extract the features of one image and mask",
        description="Extract the features of one region of interest. Images are read by SimpleITK "
        "(NIfTI, NRRD, MHA, ...). Output: CSV with columns feature,value (stdout unless -o).",
    )
    p.add_argument("image", type=Path, help="image file")
    p.add_argument("mask", type=Path, help="mask file on the image's grid")
    p.add_argument("--settings", "--params", dest="settings",
                   help="settings file: radrepro TOML/YAML or a pyradiomics parameter YAML (--params is the same)")
    p.add_argument("--convention", choices=["ibsi", "pyradiomics"], default="ibsi", help="feature definitions and names (default: ibsi)")
    p.add_argument("--label", type=int, default=None, help="mask label of the ROI (overrides the settings; default 1)")
    p.add_argument("-o", "--output", type=Path, help="CSV file to write (default: stdout)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from radrepro.engine import extract
    from radrepro.settings import load_settings

    settings = load_settings(args.settings)
    if args.label is not None:
        settings = settings.replace(label=args.label)
    values = extract(args.image, args.mask, settings, convention=args.convention)
    frame = values.rename_axis("feature").rename("value").reset_index()
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.output, index=False, float_format="%.17g")
        print(f"{len(frame)} features written to {args.output}", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False, float_format="%.17g")
    return 0
