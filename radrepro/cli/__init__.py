"""The ``radrepro`` command line: parses arguments, calls the Python API, turns errors into exit codes.

Each subcommand is a module in this package with ``add_parser(subparsers)`` and ``run(args) -> int``;
modules import heavy dependencies inside ``run`` so that ``radrepro --help`` stays fast.
A :class:`~radrepro.errors.RadreproError` becomes one line on stderr and its exit code (2 for bad
input or settings); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import radrepro

# subcommand modules, in the order --help lists them
SUBCOMMANDS = ["run", "extract", "datasets", "harmonise", "ibsi", "radiogenomics", "stability", "compare", "report"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radrepro",
        description="Benchmark and reproducibility suite for radiomics.",
    )
    parser.add_argument("--version", action="version", version=f"radrepro {radrepro.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"radrepro.cli.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from radrepro.errors import RadreproError

    try:
        return int(args.func(args) or 0)
    except RadreproError as exc:
        if args.debug:
            raise
        print(f"radrepro {args.command}: error: {exc.oneline()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"radrepro {args.command}: interrupted", file=sys.stderr)
        return 130
