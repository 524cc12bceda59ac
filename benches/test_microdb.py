"""microdb face benchmarks: ``shoal.microdb`` side by side with the original ``microdb``.

Groups (``mdb_*``), each parametrized by implementation:

- ``microdb``: the original package (0.1.3), skipped when not installed;
- ``shoal``: ``shoal.microdb.MicroDB(path, keys)`` (in memory, saved on demand);
- ``shoal-durable``: the same with ``durable=True`` (every change journaled in a
  shoal store next to the file, ``durability="flush"``).

Workload: N records (``SHOAL_BENCH_N``, default 100,000) shaped like the seed's,
``{"job": "job<i % 100>", "name": "name<i>", "status": ..., "n": i, "score": i / 3,
"done": bool}``, partition keys ``["job", "name"]``.

| group | timed |
|---|---|
| ``mdb_upsert`` | N ``upsert(record)`` into an empty table |
| ``mdb_get`` | N ``get({"job": .., "name": ..})`` (random order, fresh query dicts) |
| ``mdb_contains`` | N ``query in table`` |
| ``mdb_all`` | one ``list(table.all())`` (N records) |
| ``mdb_save`` | one ``save()`` of N records (shoal: temporary file, fsync, rename) |
| ``mdb_load`` | one ``MicroDB(path, keys)`` of a file of N records saved by the same side |

Results are checked after each round (counts, one record). ``extra_info`` holds
``mdb_op``, ``impl`` and ``mdb_ops``; ``python benches/microdb_report.py bench.json``
prints ops/s and the shoal / microdb ratios.
"""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

N = int(os.environ.get("SHOAL_BENCH_N", "100000"))
ROUNDS = int(os.environ.get("SHOAL_BENCH_ROUNDS", "5"))
KEYS = ["job", "name"]
IMPLS = ["microdb", "shoal", "shoal-durable"]


def records() -> List[Dict[str, Any]]:
    """The workload's records, fresh dicts each call."""
    return [
        {
            "job": f"job{i % 100}",
            "name": f"name{i}",
            "status": "undone" if i % 3 else "finished",
            "n": i,
            "score": i / 3,
            "done": i % 2 == 0,
        }
        for i in range(N)
    ]


def factory(impl: str) -> Callable[[str], Any]:
    """``path -> table`` for an implementation (skips if it is not installed)."""
    if impl == "microdb":
        original = pytest.importorskip("microdb")
        return lambda path: original.MicroDB(path, KEYS)
    from shoal.microdb import MicroDB

    durable = impl == "shoal-durable"
    return lambda path: MicroDB(path, KEYS, durable=durable)


def close(table: Any) -> None:
    """Release a shoal table's store (the original has nothing to close)."""
    if hasattr(table, "close"):
        table.close()


def describe(benchmark: Any, op: str, impl: str, ops: int) -> None:
    benchmark.group = f"mdb_{op}"
    benchmark.extra_info.update(suite="microdb", mdb_op=op, impl=impl, mdb_ops=ops, n=N)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = os.environ.get("SHOAL_BENCH_DIR")
    if base:
        import tempfile

        return Path(tempfile.mkdtemp(prefix="shoal-mdb-bench-", dir=base))
    return tmp_path_factory.mktemp("mdb")


_counter = itertools.count()


def fresh(workdir: Path, impl: str) -> str:
    return str(workdir / f"{impl}-{next(_counter)}.json")


@pytest.fixture(scope="module")
def filled(workdir: Path) -> Iterator[Callable[[str], Any]]:
    """One filled table per implementation, shared by the read benchmarks."""
    tables: Dict[str, Any] = {}

    def get(impl: str) -> Any:
        if impl not in tables:
            table = factory(impl)(fresh(workdir, impl))
            for record in records():
                table.upsert(record)
            tables[impl] = table
        return tables[impl]

    yield get
    for table in tables.values():
        close(table)


def queries() -> List[Dict[str, Any]]:
    rng = random.Random(7)
    order = list(range(N))
    rng.shuffle(order)
    return [{"job": f"job{i % 100}", "name": f"name{i}"} for i in order]


@pytest.mark.parametrize("impl", IMPLS)
def test_upsert(benchmark: Any, workdir: Path, impl: str) -> None:
    make = factory(impl)
    describe(benchmark, "upsert", impl, N)

    def setup() -> Any:
        return (make(fresh(workdir, impl)), records()), {}

    def run(table: Any, recs: List[Dict[str, Any]]) -> Any:
        upsert = table.upsert
        for record in recs:
            upsert(record)
        return table

    table = benchmark.pedantic(run, setup=setup, rounds=ROUNDS, iterations=1)
    assert len(table) == N
    close(table)


@pytest.mark.parametrize("impl", IMPLS)
def test_get(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    qs = queries()
    describe(benchmark, "get", impl, N)

    def run() -> int:
        get = table.get
        found = 0
        for q in qs:
            if get(q) is not None:
                found += 1
        return found

    assert benchmark.pedantic(run, rounds=ROUNDS, iterations=1) == N


@pytest.mark.parametrize("impl", IMPLS)
def test_contains(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    qs = queries()
    describe(benchmark, "contains", impl, N)

    def run() -> int:
        return sum(1 for q in qs if q in table)

    assert benchmark.pedantic(run, rounds=ROUNDS, iterations=1) == N


@pytest.mark.parametrize("impl", IMPLS)
def test_all(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    describe(benchmark, "all", impl, 1)
    result = benchmark.pedantic(lambda: list(table.all()), rounds=ROUNDS, iterations=1)
    assert len(result) == N and result[0]["name"] == "name0"


@pytest.mark.parametrize("impl", IMPLS)
def test_save(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    describe(benchmark, "save", impl, 1)
    benchmark.pedantic(table.save, rounds=ROUNDS, iterations=1)
    with open(table.filename, encoding="utf-8") as f:
        assert f.read() == str(list(table.all())) + "\n"


@pytest.mark.parametrize("impl", IMPLS)
def test_load(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    table.save()
    make = factory(impl)
    describe(benchmark, "load", impl, 1)
    rounds = ROUNDS if impl != "microdb" else max(1, min(ROUNDS, 2))  # ~5 s per round

    def setup() -> Any:
        # a durable table holds its store's lock: load a copy (its journal starts empty)
        return ((_copy(table.filename) if impl == "shoal-durable" else table.filename),), {}

    loaded = benchmark.pedantic(make, setup=setup, rounds=rounds, iterations=1)
    assert len(loaded) == N and loaded.get({"job": "job5", "name": "name5"})["n"] == 5
    close(loaded)


_copies = itertools.count()


def _copy(path: str) -> str:
    """A copy of a saved file, for a second durable table."""
    target = f"{path}.copy{next(_copies)}.json"
    with open(path, "rb") as src, open(target, "wb") as dst:
        dst.write(src.read())
    return target
