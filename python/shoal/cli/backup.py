"""``shoal backup PATH DEST``: a consistent copy of a store, checked after it is written."""

from __future__ import annotations

import argparse
import os
import shutil

import shoal

from ._common import disk_use, human, open_store, say


def backup(path: str, dest: str, check: bool = True) -> int:
    """Copy a store to DEST (Store.backup()), then open the copy and verify it."""
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise FileExistsError(f"{dest} exists and is not an empty directory; "
                              f"a backup goes to a new or empty one")
    created = not os.path.exists(dest)
    store = open_store(path)
    with store:
        try:
            store.backup(dest)
        except BaseException as exc:
            _remove_partial_copy(dest, created)
            if isinstance(exc, shoal.CorruptionError):
                raise shoal.CorruptionError(
                    f"{exc}; no copy was left (`shoal dump --salvage` reads what is readable)"
                ) from None
            raise
    with shoal.open(dest) as copy:
        spaces, colls = len(copy.spaces()), len(copy.collections())
        problems = copy.verify()["problems"] if check else []
    for problem in problems:
        say(f"problem in the copy: {problem}")
    checked = "opened and verified" if check else "opened"
    say(f"backed up {path} to {dest}: {spaces} key/value space(s), {colls} collection(s), "
        f"{human(disk_use(dest).allocated)}; the copy {checked}: "
        f"{'ok' if not problems else f'{len(problems)} problem(s)'}")
    return 0 if not problems else 1


def _remove_partial_copy(dest: str, created: bool) -> None:
    """Undo a failed backup: DEST was new or empty, so all it holds is ours."""
    if created:
        shutil.rmtree(dest, ignore_errors=True)
    elif os.path.isdir(dest):
        for name in os.listdir(dest):
            full = os.path.join(dest, name)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full, ignore_errors=True)
            else:
                os.unlink(full)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``backup``."""
    p = sub.add_parser(
        "backup", help="copy a store consistently to a new directory and check the copy",
        description=f"{backup.__doc__} The copy is one point in time of the store (written "
        "through the engine, not a file copy of a live directory). DEST must not exist or be "
        "an empty directory. Exit status 1 if the copy does not verify.")
    p.add_argument("path", help="store directory")
    p.add_argument("dest", help="new (or empty) directory for the copy")
    p.add_argument("--no-verify", dest="check", action="store_false",
                   help="only check that the copy opens (skip reading every block)")
    p.set_defaults(func=lambda args: backup(args.path, args.dest, args.check))
