"""Shared fixtures for the key/value and document benchmarks (see README.md).

Knobs (environment variables):

- ``SHOAL_BENCH_N``       keys (documents) in the workload (default 100000)
- ``SHOAL_BENCH_ROUNDS``  timed rounds per benchmark (default 5)
- ``SHOAL_BENCH_RANGES``  random starts for the range-scan benchmark (default 2000)
- ``SHOAL_BENCH_STORES``  comma list of key/value stores to run (default: all installed)
- ``SHOAL_BENCH_DOC_STORES``  comma list of document stores to run (default: all installed)
- ``SHOAL_BENCH_DOC_GETS``    random ids per round of the document get benchmark (default 20000)
- ``SHOAL_BENCH_DIR``     parent directory for the stores' files (default: $TMPDIR)
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterator, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doc_stores import DocAdapter, DocData, make_doc_data  # noqa: E402
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


# --------------------------------------------------------------------------- documents


@pytest.fixture(scope="session")
def doc_data() -> DocData:
    """The document workload, built once per session."""
    return make_doc_data(N)


@pytest.fixture(scope="session")
def doc_store(
    doc_data: DocData, fresh_path: Callable[[str], str]
) -> Iterator[Callable[[type[DocAdapter], str], DocAdapter]]:
    """Return a factory giving one filled, session-wide document store per (adapter, role).

    Role ``"read"``: never written after the fill (get, find, count benchmarks).
    Role ``"write"``: for the update and delete benchmarks, which restore
    what they delete, so it keeps all N documents between rounds.
    """
    opened: Dict[Tuple[str, str], DocAdapter] = {}

    def get(cls: type[DocAdapter], role: str) -> DocAdapter:
        if (cls.name, role) not in opened:
            store = cls(fresh_path(f"doc-{cls.name}-{role}"))
            store.fill(cls.adapt_docs(doc_data))
            opened[cls.name, role] = store
        return opened[cls.name, role]

    yield get
    for store in opened.values():
        store.close()
