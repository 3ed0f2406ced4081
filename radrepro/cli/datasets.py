"""``radrepro datasets ...``: the dataset cards and the data cache."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("datasets", help="list, show, fetch, verify and convert data sets",
                       description="Data sets are declared by cards in datasets/.")
    dsub = p.add_subparsers(dest="datasets_command", metavar="ACTION")
    lp = dsub.add_parser("list", help="list the data sets and whether they are available",
                         description="List every dataset card with its kind and availability.")
    lp.set_defaults(func=run_list)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from radrepro.datasets.cards import all_cards

    table = Table(title="radrepro data sets")
    for col in ("name", "kind", "title", "available"):
        table.add_column(col)
    for card in all_cards().values():
        available = "embedded" if card.kind == "embedded" else "not fetched"
        table.add_row(card.name, card.kind, card.title, available)
    Console().print(table)
    return 0
