"""The ``shoal`` command line (also ``python -m shoal``).

Each subcommand lives in its own module of this package, which exposes
``add_parser(subparsers)``; that function registers the subcommand and sets
``func`` (taking the parsed arguments, returning the exit status) as its
default. Errors reach the user as one line on stderr and a non-zero status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

import shoal

#: Subcommand modules, in the order ``shoal --help`` lists them.
SUBCOMMANDS = (
    "demo", "run", "stats", "verify", "compact", "backup", "dump", "load",
    "import_", "export",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="shoal",
        description="shoal: an embedded, crash-safe document and key/value database.",
    )
    parser.add_argument("--version", action="version", version=f"shoal {shoal.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (shoal.Error, OSError, ValueError) as exc:
        print(f"shoal {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"shoal {args.command}: interrupted", file=sys.stderr)
        return 130
