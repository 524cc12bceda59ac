"""dynafile face benchmarks: ``shoal.dynafile`` side by side with the original ``dynafile``.

Groups (``dyn_*``), each parametrized by implementation:

- ``dynafile``: the original package (0.1.3), skipped when not installed;
- ``shoal``: ``shoal.dynafile.Dynafile(path)`` (``durability="flush"``);
- ``sorteddict``: a dict of ``SortedDict`` in memory (dynafile's structure without
  its file I/O; persists nothing), skipped without ``sortedcontainers``;
- ``rocksdict``: RocksDB with pickled items under ``pk \\0 sk`` keys, skipped
  without ``rocksdict``.

Workload: N items (``SHOAL_BENCH_N``, default 100,000) over 100 partitions
(``{"PK": "p<i % 100>", "SK": "item#<i // 100:06d>", "v": i, "name": ...}``),
loaded once per implementation. The original rewrites a whole partition file
per write, so it runs fewer operations per round (``SHOAL_BENCH_DYNAFILE_SLOW``,
default 300); every cell is reported as operations per second.

| group | timed |
|---|---|
| ``dyn_put`` | ``put_item`` overwriting existing items (random keys) |
| ``dyn_get`` | ``get_item`` of random existing keys |
| ``dyn_query`` | ``list(query(pk))``: a whole partition (1,000 items) |
| ``dyn_prefix`` | items of a partition whose SK starts with ``item#0001`` (100 items; the
  original: ``starts_with`` bound + ``takewhile``) |
| ``dyn_scan`` | ``list(scan(_filter="v >= <N * 0.9>"))`` (one op = one scanned item) |
| ``dyn_batch`` | a batch writer of 10,000 new items over the 100 partitions (one op = one item) |
| ``dyn_delete`` | ``delete_item`` of existing items (put back untimed) |

``python benches/dynafile_report.py bench.json`` prints ops/s and the ratios.
"""

from __future__ import annotations

import itertools
import os
import pickle
import random
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

N = int(os.environ.get("SHOAL_BENCH_N", "100000"))
ROUNDS = int(os.environ.get("SHOAL_BENCH_ROUNDS", "5"))
SLOW = int(os.environ.get("SHOAL_BENCH_DYNAFILE_SLOW", "300"))
PARTS = 100
FAST = min(N, 20_000)
IMPLS = ["dynafile", "shoal", "sorteddict", "rocksdict"]
THRESHOLD = int(N * 0.9)
FILTER = f"v >= {THRESHOLD}"
PREFIX = "item#0001"


def item(i: int) -> Dict[str, Any]:
    return {"PK": f"p{i % PARTS}", "SK": f"item#{i // PARTS:06d}", "v": i, "name": f"name{i}"}


def items() -> List[Dict[str, Any]]:
    return [item(i) for i in range(N)]


class SortedDictTable:
    """dynafile's structure in memory: ``{pk: SortedDict(sk -> item)}``."""

    def __init__(self, path: str) -> None:
        from sortedcontainers import SortedDict

        self._new = SortedDict
        self.parts: Dict[Any, Any] = {}

    def put_item(self, *, item: Dict[str, Any]) -> None:
        part = self.parts.get(item["PK"])
        if part is None:
            part = self.parts[item["PK"]] = self._new()
        part[item["SK"]] = dict(item)

    def get_item(self, *, key: Dict[str, Any]) -> Any:
        part = self.parts.get(key["PK"])
        found = None if part is None else part.get(key["SK"])
        return None if found is None else dict(found)

    def delete_item(self, *, key: Dict[str, Any]) -> None:
        self.parts[key["PK"]].pop(key["SK"], None)

    def query(self, pk: Any, *, begins_with: Any = None) -> Iterator[Dict[str, Any]]:
        part = self.parts.get(pk, {})
        if begins_with is None:
            return (dict(v) for v in part.values())
        keys = part.irange(minimum=begins_with)
        return (
            dict(part[k]) for k in itertools.takewhile(lambda k: k.startswith(begins_with), keys)
        )

    def scan(self, _filter: Callable[[Dict[str, Any]], bool]) -> Iterator[Dict[str, Any]]:
        for part in self.parts.values():
            for v in part.values():
                if _filter(v):
                    yield dict(v)

    def batch(self, batch: List[Dict[str, Any]]) -> None:
        for it in batch:
            self.put_item(item=it)


class RocksTable:
    """RocksDB (rocksdict) with pickled items under ``pk \\0 sk``."""

    def __init__(self, path: str) -> None:
        from rocksdict import Options, Rdict, WriteBatch

        self._batch = WriteBatch
        self.db = Rdict(path, Options(raw_mode=True))

    @staticmethod
    def _key(pk: str, sk: str) -> bytes:
        return f"{pk}\0{sk}".encode()

    def put_item(self, *, item: Dict[str, Any]) -> None:
        self.db[self._key(item["PK"], item["SK"])] = pickle.dumps(item)

    def get_item(self, *, key: Dict[str, Any]) -> Any:
        raw = self.db.get(self._key(key["PK"], key["SK"]))
        return None if raw is None else pickle.loads(raw)

    def delete_item(self, *, key: Dict[str, Any]) -> None:
        del self.db[self._key(key["PK"], key["SK"])]

    def query(self, pk: str, *, begins_with: str = "") -> Iterator[Dict[str, Any]]:
        prefix = self._key(pk, begins_with)
        it = self.db.iter()
        it.seek(prefix)
        while it.valid() and it.key().startswith(prefix):
            yield pickle.loads(it.value())
            it.next()

    def scan(self, _filter: Callable[[Dict[str, Any]], bool]) -> Iterator[Dict[str, Any]]:
        for raw in self.db.values():
            it = pickle.loads(raw)
            if _filter(it):
                yield it

    def batch(self, batch: List[Dict[str, Any]]) -> None:
        wb = self._batch(raw_mode=True)
        for it in batch:
            wb.put(self._key(it["PK"], it["SK"]), pickle.dumps(it))
        self.db.write(wb)

    def close(self) -> None:
        self.db.close()


def factory(impl: str) -> Callable[[str], Any]:
    """``path -> table`` (skips when the implementation is not installed)."""
    if impl == "dynafile":
        original = pytest.importorskip("dynafile")
        return lambda path: original.Dynafile(path)
    if impl == "sorteddict":
        pytest.importorskip("sortedcontainers")
        return SortedDictTable
    if impl == "rocksdict":
        pytest.importorskip("rocksdict")
        return RocksTable
    from shoal.dynafile import Dynafile

    return lambda path: Dynafile(path)


def ops_for(impl: str) -> int:
    return SLOW if impl == "dynafile" else FAST


def describe(benchmark: Any, op: str, impl: str, ops: int) -> None:
    benchmark.group = f"dyn_{op}"
    benchmark.extra_info.update(suite="dynafile", dyn_op=op, impl=impl, dyn_ops=ops, n=N)


def batch_write(table: Any, batch: List[Dict[str, Any]]) -> None:
    if hasattr(table, "batch_writer"):
        # Sorted by partition: the original loses non-consecutive runs of a partition.
        with table.batch_writer() as w:
            for it in sorted(batch, key=lambda i: i["PK"]):
                w.put_item(item=it)
    else:
        table.batch(batch)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    import shutil

    path = Path(tempfile.mkdtemp(prefix="shoal-dyn-bench-", dir=os.environ.get("SHOAL_BENCH_DIR")))
    yield path
    shutil.rmtree(path, ignore_errors=True)


_counter = itertools.count()


@pytest.fixture(scope="module")
def filled(workdir: Path) -> Iterator[Callable[[str], Any]]:
    """One filled table per implementation, shared by the benchmarks."""
    tables: Dict[str, Any] = {}

    def get(impl: str) -> Any:
        if impl not in tables:
            table = factory(impl)(str(workdir / f"{impl}-{next(_counter)}"))
            batch_write(table, items())
            tables[impl] = table
        return tables[impl]

    yield get
    for table in tables.values():
        if hasattr(table, "close"):
            table.close()


def sample(k: int, seed: int) -> List[Dict[str, Any]]:
    rng = random.Random(seed)
    return [item(i) for i in rng.sample(range(N), k)]


@pytest.mark.parametrize("impl", IMPLS)
def test_put(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    ops = ops_for(impl)
    todo = sample(ops, 1)
    for it in todo:
        it["name"] = "changed"
    describe(benchmark, "put", impl, ops)

    def run() -> None:
        put = table.put_item
        for it in todo:
            put(item=it)

    benchmark.pedantic(run, rounds=ROUNDS, iterations=1)
    assert table.get_item(key=todo[0])["name"] == "changed"


@pytest.mark.parametrize("impl", IMPLS)
def test_get(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    ops = ops_for(impl)
    keys = [{"PK": it["PK"], "SK": it["SK"]} for it in sample(ops, 2)]
    describe(benchmark, "get", impl, ops)

    def run() -> int:
        get = table.get_item
        return sum(1 for k in keys if get(key=k) is not None)

    assert benchmark.pedantic(run, rounds=ROUNDS, iterations=1) == ops


@pytest.mark.parametrize("impl", IMPLS)
def test_query(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    ops = 50 if impl == "dynafile" else 200
    pks = [f"p{i % PARTS}" for i in range(ops)]
    describe(benchmark, "query", impl, ops)

    def run() -> int:
        return sum(len(list(table.query(pk))) for pk in pks)

    assert benchmark.pedantic(run, rounds=ROUNDS, iterations=1) == ops * (N // PARTS)


@pytest.mark.parametrize("impl", IMPLS)
def test_prefix(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    ops = 50 if impl == "dynafile" else 500
    pks = [f"p{i % PARTS}" for i in range(ops)]
    describe(benchmark, "prefix", impl, ops)
    if impl == "dynafile":

        def one(pk: str) -> List[Any]:
            gen = table.query(pk, starts_with=PREFIX)
            return list(itertools.takewhile(lambda i: i["SK"].startswith(PREFIX), gen))

    else:

        def one(pk: str) -> List[Any]:
            return list(table.query(pk, begins_with=PREFIX))

    def run() -> int:
        return sum(len(one(pk)) for pk in pks)

    expected = sum(1 for i in range(N) if f"item#{i // PARTS:06d}".startswith(PREFIX))
    assert benchmark.pedantic(run, rounds=ROUNDS, iterations=1) == expected // PARTS * ops


@pytest.mark.parametrize("impl", IMPLS)
def test_scan(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    if impl == "dynafile":
        pytest.importorskip("filtration")
    flt: Any = FILTER if impl in ("dynafile", "shoal") else (lambda i: i["v"] >= THRESHOLD)
    describe(benchmark, "scan", impl, N)
    result = benchmark.pedantic(lambda: list(table.scan(_filter=flt)), rounds=ROUNDS, iterations=1)
    assert len(result) == N - THRESHOLD


@pytest.mark.parametrize("impl", IMPLS)
def test_batch(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    size = 10_000
    describe(benchmark, "batch", impl, size)
    rounds = iter(range(10**9))

    def setup() -> Any:
        r = next(rounds)
        return ([item(N + r * size + i) for i in range(size)],), {}

    benchmark.pedantic(
        lambda batch: batch_write(table, batch), setup=setup, rounds=ROUNDS, iterations=1
    )
    assert table.get_item(key=item(N)) is not None


@pytest.mark.parametrize("impl", IMPLS)
def test_delete(benchmark: Any, filled: Callable[[str], Any], impl: str) -> None:
    table = filled(impl)
    ops = ops_for(impl)
    todo = sample(ops, 3)
    keys = [{"PK": it["PK"], "SK": it["SK"]} for it in todo]
    describe(benchmark, "delete", impl, ops)

    def setup() -> Any:
        for it in todo:
            table.put_item(item=it)
        return (), {}

    def run() -> None:
        delete = table.delete_item
        for k in keys:
            delete(key=k)

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS, iterations=1)
    assert table.get_item(key=keys[0]) is None
