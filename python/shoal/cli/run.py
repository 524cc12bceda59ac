"""``shoal run SCRIPT [ARGS...]``: run an unchanged script, its drop-in imports served by shoal."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from types import TracebackType

from .._aliases import ALIASES, install_aliases

_DESCRIPTION = f"""\
Run a Python script written for {", ".join(sorted(ALIASES))} without editing it:
their imports (and submodules, e.g. "from sofart.database import Database") are
served by shoal's faces, even where the original packages are installed. The
script runs as "python SCRIPT ARGS..." would run it: sys.argv is [SCRIPT, ARGS...],
its directory comes first on sys.path, __name__ is "__main__", an uncaught
exception prints its traceback and exits with status 1, and sys.exit() keeps its
status. From Python, shoal.install_aliases() does the same.
"""


def _own_frames(tb: TracebackType | None, script: str) -> TracebackType | None:
    """The traceback from the script's first frame on (the runner's frames dropped)."""
    start = tb
    while start is not None and start.tb_frame.f_code.co_filename != script:
        start = start.tb_next
    return start or tb


def run(script: str, argv: list[str]) -> int:
    """Run ``script`` as ``__main__`` with ``argv`` and the aliases installed."""
    if not os.path.exists(script):
        raise FileNotFoundError(f"can't open file {script!r}: no such file")
    install_aliases()
    sys.argv = [script, *argv]
    if os.path.isfile(script):
        # As `python script.py`: its directory replaces the runner's entry (the
        # working directory under -m); run_path itself does directories and zips.
        sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit:
        raise  # its status (or message) becomes the process's, as with python
    except BaseException as exc:  # noqa: BLE001 - reported like the interpreter does
        tb = _own_frames(exc.__traceback__, script)
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``run``."""
    p = sub.add_parser(
        "run",
        help="run an unchanged sofart/sophy/microdb/dynafile/datastore script on shoal",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("script", help="the script (a file, or a directory or zip with __main__.py)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    p.set_defaults(func=lambda args: run(args.script, args.args))
