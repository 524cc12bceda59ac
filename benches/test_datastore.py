"""datastore face benchmarks: ``shoal.datastore`` on the native engine beside the same
face on SQLite through SQLAlchemy (the original's architecture), in one run.

Implementations (``impl``):

- ``shoal``: ``Datastore("shoal:///dir")`` (durability ``"flush"``: every commit reaches
  the OS, survives a killed process);
- ``sqlite``: ``Datastore("sqlite:///file.db")`` through SQLAlchemy 2, the database in WAL
  mode with ``synchronous=NORMAL`` (commits reach the OS without fsync: the same
  durability as ``shoal``);
- ``postgresql``: ``SHOAL_BENCH_PG_URL`` (e.g. ``postgresql+psycopg://user@host/db``) or,
  when unset, a throw-away local cluster started from the installed server binaries
  (``tests/_pg_server.py``: loopback, ``fsync=off``, ``synchronous_commit=off``), for
  users planning the move; skipped (saying why) when neither is available.

Workload: a store of N documents (``SHOAL_BENCH_DS_N``, default 100,000) shaped
``{"name": "user<i>", "email": ..., "age": i % 90, "tags": [...]}`` with one view,
``users_by_name(name indexed, age)``, one row per document.

| group | one round times |
|---|---|
| ``ds_put`` | OPS ``put(key, doc)`` of new keys, one call each |
| ``ds_put_many`` | one ``put_many`` of 1,000 new documents |
| ``ds_get`` | OPS ``get(key)`` of random stored keys |
| ``ds_get_many`` | OPS / 10 ``get_many`` of 100 random keys each |
| ``ds_query`` | OPS ``query("by_name", name=...)`` (one row each) |
| ``ds_delete`` | OPS ``delete(key)`` of stored keys (put back, untimed, between rounds) |

OPS is ``SHOAL_BENCH_DS_OPS`` (default 2,000). ``python benches/test_datastore.py
bench.json`` prints documents/s per implementation and the shoal / sqlite ratios.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

sa = pytest.importorskip("sqlalchemy")

from shoal.datastore import Datastore, View  # noqa: E402

N = int(os.environ.get("SHOAL_BENCH_DS_N", "100000"))
OPS = int(os.environ.get("SHOAL_BENCH_DS_OPS", "2000"))
ROUNDS = int(os.environ.get("SHOAL_BENCH_ROUNDS", "5"))
PG_URL = os.environ.get("SHOAL_BENCH_PG_URL")
IMPLS = ["shoal", "sqlite", "postgresql"]


class ByName(View):
    """One row per document: its name (indexed) and age."""

    def get_table(self, metadata: Any) -> Any:
        return sa.Table(
            "users_by_name",
            metadata,
            sa.Column("name", sa.Unicode, index=True),
            sa.Column("age", sa.Integer),
        )

    def map(self, doc: Dict[str, Any]) -> List[Dict[str, Any]]:
        return [{"name": doc["name"], "age": doc["age"]}]


class Users(Datastore):
    """The benchmark's store: table ``users``, one view."""

    tablename = "users"

    def create_views(self) -> Dict[str, View]:
        return {"by_name": ByName()}


def doc(i: int) -> Dict[str, Any]:
    """Document number ``i``."""
    return {
        "name": f"user{i}",
        "email": f"user{i}@example.com",
        "age": i % 90,
        "tags": ["a", "b"] if i % 2 else ["c"],
    }


def open_store(impl: str, path: Path) -> Datastore:
    """An empty datastore of ``impl`` under ``path`` (skips PostgreSQL without a URL)."""
    if impl == "shoal":
        return Users(f"shoal://{path / 'db'}")
    if impl == "sqlite":
        ds = Users(f"sqlite:///{path / 'db.sqlite'}")

        @sa.event.listens_for(ds.engine, "connect")
        def _pragmas(dbapi_conn: Any, record: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        ds.engine.dispose()  # reconnect with the pragmas
        return ds
    url = PG_URL
    if not url:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        import _pg_server

        try:
            url = _pg_server.server().new_database()
        except _pg_server.Unavailable as e:
            pytest.skip(f"PostgreSQL column NOT RUN: {e}")
    ds = Users(url)
    with ds.engine.begin() as conn:  # start from an empty database
        for table in ("users_by_name", "users"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    return ds


class Fixture:
    """A filled store and the next fresh key number."""

    def __init__(self, impl: str, ds: Datastore) -> None:
        self.impl = impl
        self.ds = ds
        self.counter = itertools.count(N)
        self.rng = random.Random(7)

    def fresh(self, n: int) -> List[int]:
        """``n`` key numbers never used before."""
        return [next(self.counter) for _ in range(n)]

    def sample(self, n: int) -> List[str]:
        """``n`` random stored keys."""
        return [f"k{self.rng.randrange(N)}" for _ in range(n)]


@pytest.fixture(scope="module", params=IMPLS)
def filled(request: Any, tmp_path_factory: Any) -> Iterator[Fixture]:
    """A store of N documents per implementation (filled with put_many of 1,000)."""
    impl = request.param
    ds = open_store(impl, tmp_path_factory.mktemp(f"ds-{impl}"))
    for start in range(0, N, 1000):
        ds.put_many({f"k{i}": doc(i) for i in range(start, min(N, start + 1000))})
    assert len(ds) == N
    yield Fixture(impl, ds)
    ds.close()


def describe(benchmark: Any, op: str, impl: str, docs: int) -> None:
    """Name the group and record what one round does."""
    benchmark.group = f"ds_{op}"
    benchmark.extra_info.update(suite="datastore", ds_op=op, impl=impl, ds_docs=docs, n=N)


def run(benchmark: Any, target: Callable[..., Any], setup: Optional[Callable[[], Any]]) -> None:
    benchmark.pedantic(target, setup=setup, rounds=ROUNDS, iterations=1)


def test_put(benchmark: Any, filled: Fixture) -> None:
    describe(benchmark, "put", filled.impl, OPS)
    ds = filled.ds
    batches: List[List[int]] = []

    def setup() -> Any:
        batches.append(filled.fresh(OPS))
        return (batches[-1],), {}

    def target(nums: List[int]) -> None:
        put = ds.put
        for i in nums:
            put(f"k{i}", doc(i))

    run(benchmark, target, setup)
    last = batches[-1][-1]
    assert ds.get(f"k{last}")["name"] == f"user{last}"  # type: ignore[index]


def test_put_many(benchmark: Any, filled: Fixture) -> None:
    describe(benchmark, "put_many", filled.impl, 1000)
    ds = filled.ds

    def setup() -> Any:
        return ({f"k{i}": doc(i) for i in filled.fresh(1000)},), {}

    run(benchmark, ds.put_many, setup)
    assert len(ds.query("by_name", name="user5")) == 1


def test_get(benchmark: Any, filled: Fixture) -> None:
    describe(benchmark, "get", filled.impl, OPS)
    ds = filled.ds

    def setup() -> Any:
        return (filled.sample(OPS),), {}

    def target(keys: List[str]) -> None:
        get = ds.get
        for k in keys:
            if get(k) is None:
                raise AssertionError(k)

    run(benchmark, target, setup)


def test_get_many(benchmark: Any, filled: Fixture) -> None:
    calls = max(1, OPS // 10)
    describe(benchmark, "get_many", filled.impl, calls * 100)
    ds = filled.ds

    def setup() -> Any:
        return ([filled.sample(100) for _ in range(calls)],), {}

    def target(lists: List[List[str]]) -> None:
        for keys in lists:
            if len(ds.get_many(keys)) != len(set(keys)):
                raise AssertionError(keys)

    run(benchmark, target, setup)


def test_query(benchmark: Any, filled: Fixture) -> None:
    describe(benchmark, "query", filled.impl, OPS)
    ds = filled.ds

    def setup() -> Any:
        return ([f"user{filled.rng.randrange(N)}" for _ in range(OPS)],), {}

    def target(names: List[str]) -> None:
        query = ds.query
        for name in names:
            if len(query("by_name", name=name)) != 1:
                raise AssertionError(name)

    run(benchmark, target, setup)


def test_delete(benchmark: Any, filled: Fixture) -> None:
    describe(benchmark, "delete", filled.impl, OPS)
    ds = filled.ds

    def setup() -> Any:
        nums = filled.fresh(OPS)
        ds.put_many({f"k{i}": doc(i) for i in nums})
        return ([f"k{i}" for i in nums],), {}

    def target(keys: List[str]) -> None:
        delete = ds.delete
        for k in keys:
            delete(k)

    run(benchmark, target, setup)
    assert ds.query("by_name", name=f"user{next(filled.counter) - 1}") == []


# --------------------------------------------------------------------------- report


def report(path: str, stat: str = "min") -> str:
    """Markdown table: documents/s per operation and implementation, shoal / sqlite."""
    with open(path) as f:
        data = json.load(f)
    rates: Dict[str, Dict[str, float]] = {}
    for b in data["benchmarks"]:
        info = b.get("extra_info") or {}
        if info.get("suite") != "datastore":
            continue
        rates.setdefault(info["ds_op"], {})[info["impl"]] = info["ds_docs"] / b["stats"][stat]
    out = [
        "| operation | shoal | sqlite (SQLAlchemy) | postgresql (SQLAlchemy) | shoal / sqlite |",
        "|---|---:|---:|---:|---:|",
    ]
    for op in ["put", "put_many", "get", "get_many", "query", "delete"]:
        r = rates.get(op, {})
        ours, lite, pg = r.get("shoal"), r.get("sqlite"), r.get("postgresql")
        ratio = f"{ours / lite:.1f}×" if ours and lite else "–"
        out.append(f"| {op} | {fmt(ours)} | {fmt(lite)} | {fmt(pg)} | {ratio} |")
    return "\n".join(out)


def fmt(rate: Optional[float]) -> str:
    """Documents per second, compact."""
    if rate is None:
        return "–"
    return f"{rate / 1e3:.1f}k/s" if rate >= 1e3 else f"{rate:.0f}/s"


if __name__ == "__main__":
    args = sys.argv[1:]
    stat = "min"
    if "--stat" in args:
        i = args.index("--stat")
        stat = args[i + 1]
        del args[i : i + 2]
    print(report(args[0], stat))
