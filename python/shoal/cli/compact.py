"""``shoal compact PATH``: merge a store's tables and drop overwritten and deleted data."""

from __future__ import annotations

import argparse

from ._common import disk_use, human, open_store, say


def compact(path: str) -> int:
    """Compact a store (Store.compact()); report its size on disk before and after."""
    before = disk_use(path)
    store = open_store(path)
    with store:
        store.compact()
    after = disk_use(path)
    say(f"compacted {path}: {human(before.allocated)} -> {human(after.allocated)} on disk "
        f"({before.files} -> {after.files} files)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``compact``."""
    p = sub.add_parser(
        "compact", help="merge tables, dropping overwritten and deleted data",
        description=f"{compact.__doc__} Writes and compactions go through the engine, so the "
        "store stays crash-safe throughout; it must not be open in another process.")
    p.add_argument("path", help="store directory")
    p.set_defaults(func=lambda args: compact(args.path))
