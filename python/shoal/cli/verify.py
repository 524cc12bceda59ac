"""``shoal verify PATH``: read every block of a store and check its indexes."""

from __future__ import annotations

import argparse

from ._common import open_store, say


def verify(path: str) -> int:
    """Check a store: read every block, check every index; print the report."""
    store = open_store(path)
    with store:
        report = store.verify()
    for kind, name, items in report["spaces"]:
        say(f"{kind or 'catalog'}\t{name}\t{items} items")
    for problem in report["problems"]:
        say(f"problem: {problem}")
    say("ok" if not report["problems"] else f"{len(report['problems'])} problem(s)")
    return 0 if not report["problems"] else 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``verify``."""
    p = sub.add_parser("verify", help="read every block of a store and check its indexes",
                       description=verify.__doc__)
    p.add_argument("path", help="store directory")
    p.set_defaults(func=lambda args: verify(args.path))
