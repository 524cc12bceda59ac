"""Shared fixtures for the key/value benchmarks (see README.md).

Knobs (environment variables):

- ``SHOAL_BENCH_N``       keys in the workload (default 100000)
- ``SHOAL_BENCH_ROUNDS``  timed rounds per benchmark (default 5)
- ``SHOAL_BENCH_RANGES``  random starts for the range-scan benchmark (default 2000)
- ``SHOAL_BENCH_STORES``  comma list of stores to run (default: all installed)
- ``SHOAL_BENCH_DIR``     parent directory for the stores' files (default: $TMPDIR)
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stores import RANGES, Adapter, Data, N, make_data  # noqa: E402


@pytest.fixture(scope="session")
def data() -> Data:
    """The workload, built once per session."""
    return make_data(N, ranges=RANGES)


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """A scratch directory for every store of the session, removed at the end."""
    path = Path(tempfile.mkdtemp(prefix="shoal-bench-", dir=os.environ.get("SHOAL_BENCH_DIR")))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def fresh_path(workdir: Path) -> Callable[[str], str]:
    """Return a factory of new, empty directories (one per store instance)."""
    counter = itertools.count()

    def make(name: str) -> str:
        path = workdir / f"{name}-{next(counter)}"
        path.mkdir()
        return str(path)

    return make


@pytest.fixture(scope="session")
def populated(
    data: Data, fresh_path: Callable[[str], str]
) -> Iterator[Callable[[type[Adapter]], Adapter]]:
    """Return a factory giving one filled, session-wide store per adapter (read benchmarks)."""
    opened: Dict[str, Adapter] = {}

    def get(cls: type[Adapter]) -> Adapter:
        if cls.name not in opened:
            store = cls(fresh_path(cls.name))
            store.fill(data.pairs_sorted)
            opened[cls.name] = store
        return opened[cls.name]

    yield get
    for store in opened.values():
        store.close()
