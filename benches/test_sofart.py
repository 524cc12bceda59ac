"""sofart face benchmarks: ``shoal.sofart`` side by side with the original ``sofart`` 0.3.6.

Both run the same calls (the seed's API; pymongo names only where the seed
has none) on a single-mode database file, synced at the end of the writes.
Documents are those of the document suite (name, age, city, tags, nested),
saved without ``_id`` (sofart generates UUIDs). The original is skipped when
not installed (it needs a shim to import on Python 3.8+, provided here).

On the shoal side the database has secondary indexes on ``city`` and ``age``
(``c.create_index``, the pymongo call a user of the face makes); the
``*_noindex`` groups run the same queries without them. Groups are prefixed
``sofart_``; ``extra_info`` uses ``face_*`` keys. Print the table::

    pytest benches/test_sofart.py --benchmark-only --benchmark-json=sofart.json -p no:cacheprovider
    python benches/test_sofart.py sofart.json          # --stat median|mean (default min)

The original slows down with size (a list scan per query, a full copy per
write), so it runs fewer operations per round (rates are per operation).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doc_stores import AGE_SPAN, ROUNDS, N, make_doc_data  # noqa: E402

MODULES = ["shoal.sofart", "sofart"]
LABEL = {"shoal.sofart": "shoal.sofart", "sofart": "sofart 0.3.6"}
# operations per round: (shoal.sofart, sofart)
COUNTS = {
    "find_id": (20000, 20),
    "find_eq": (200, 5),
    "find_eq_noindex": (10, 5),
    "find_range": (200, 5),
    "count": (200, 5),
    "update": (2000, 3),
    "delete": (2000, 3),
}


def load(module: str) -> Any:
    if module == "sofart":
        if not hasattr(platform, "dist"):  # `isit` calls platform.dist (removed in 3.8)
            platform.dist = lambda *a, **k: ("", "", "")  # type: ignore[attr-defined]
        pytest.importorskip("sofart")
    return importlib.import_module(module)


@pytest.fixture(scope="module")
def workload() -> Any:
    data = make_doc_data(N)
    docs = [{k: v for k, v in d.items() if k != "_id"} for d in data.docs]
    return data, docs


def describe(benchmark: Any, op: str, module: str, variant: str, ops: int) -> None:
    benchmark.group = f"sofart_{op}"
    benchmark.extra_info.update(
        face_op=op, face_store=module, face_variant=variant, face_ops=ops, face_items=ops, n=N
    )


class Filled:
    """A database of ``module`` holding the workload, with the ids it generated."""

    def __init__(self, module: str, path: str, docs: List[Dict[str, Any]], indexes: bool):
        m = load(module)
        self.module = module
        self.db = m.Database(path)
        self.c = self.db.people
        if module == "shoal.sofart":
            if indexes:
                self.c.create_index("city")
                self.c.create_index("age")
            self.ids = self.c.insert_many([dict(d) for d in docs]).inserted_ids
        else:
            self.ids = [self.c.save(d) for d in docs]

    def close(self) -> None:
        if self.module == "shoal.sofart":  # the original has no close (nor needs one)
            self.db.close()


@pytest.fixture(scope="module")
def filled(workload: Any, tmp_path_factory: Any) -> Iterator[Callable[[str, bool], Filled]]:
    made: Dict[Tuple[str, bool], Filled] = {}
    _, docs = workload

    def get(module: str, indexes: bool = True) -> Filled:
        key = (module, indexes and module == "shoal.sofart")
        if key not in made:
            path = tmp_path_factory.mktemp("sofart") / f"{module}.json"
            made[key] = Filled(module, str(path), docs, key[1])
        return made[key]

    yield get
    for f in made.values():
        f.close()


# --------------------------------------------------------------------------- writes


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("how", ["save", "insert_many"])
def test_insert(benchmark: Any, workload: Any, tmp_path: Path, module: str, how: str) -> None:
    """Load N documents into an empty single-mode database, then sync()."""
    m = load(module)
    if how == "insert_many" and module == "sofart":
        pytest.skip("sofart has no batch insert (its number is the save loop)")
    data, docs = workload
    variant = "c.save(doc) x N; db.sync()" if how == "save" else "c.insert_many(docs); db.sync()"
    describe(benchmark, "insert" if how == "save" else "insert_many", module, variant, N)
    counter = iter(range(1_000_000))

    def setup() -> Any:
        path = tmp_path / f"db{next(counter)}.json"
        return (m.Database(str(path)),), {}

    def run(db: Any) -> None:
        c = db.people
        if how == "save":
            save = c.save
            for d in docs:
                save(d)
        else:
            c.insert_many([dict(d) for d in docs])
        db.sync()

    def teardown(db: Any) -> None:
        assert db.people.count() == N
        if module == "shoal.sofart":
            db.close()

    benchmark.pedantic(run, setup=setup, teardown=teardown, rounds=min(ROUNDS, 3))


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("op", ["update", "delete"])
def test_write_by_id(benchmark: Any, workload: Any, tmp_path: Path, module: str, op: str) -> None:
    """Update (the seed has no update: remove + save) or remove documents by id."""
    load(module)
    _, docs = workload
    ops = COUNTS[op][MODULES.index(module)]
    variant = {
        "update": "c.remove(id); c.save({**doc, '_id': id})",
        "delete": "c.remove(id)",
    }[op]
    describe(benchmark, op, module, variant, ops)
    f = Filled(module, str(tmp_path / "db.json"), docs, indexes=False)
    rounds = iter(range(1_000_000))

    done = []

    def setup() -> Any:
        r = next(rounds)
        done.append(r)
        return (f.ids[r * ops : (r + 1) * ops],), {}

    def run(ids: List[Any]) -> None:
        c = f.c
        for i in ids:
            if op == "update":
                doc = c.find_one(i)
                c.remove(i)
                doc["score"] = 1
                c.save(doc)
            else:
                c.remove(i)

    try:
        benchmark.pedantic(run, setup=setup, rounds=ROUNDS)
        assert f.c.count() == (N if op == "update" else N - ops * len(done))
    finally:
        f.close()
        shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.parametrize("module", ["shoal.sofart"])
def test_update_one(benchmark: Any, filled: Any, module: str) -> None:
    """pymongo's update_one by id (shoal only; the seed has no update)."""
    f = filled(module)
    ops = COUNTS["update"][0]
    describe(benchmark, "update", module, "c.update_one({'_id': id}, {'$set': ...})", ops)
    ids = f.ids[:ops]

    def run() -> int:
        update = f.c.update_one
        n = 0
        for i in ids:
            n += update({"_id": i}, {"$set": {"score": 2}}).modified_count
        return n

    benchmark.pedantic(run, rounds=ROUNDS)


# --------------------------------------------------------------------------- reads


def _ops(op: str, module: str) -> int:
    return COUNTS[op][MODULES.index(module)]


@pytest.mark.parametrize("module", MODULES)
def test_find_by_id(benchmark: Any, workload: Any, filled: Any, module: str) -> None:
    f = filled(module)
    ops = _ops("find_id", module)
    describe(benchmark, "find_id", module, "c.find_one(id)", ops)
    ids = [f.ids[(i * 7919) % N] for i in range(ops)]

    def run() -> Any:
        find_one = f.c.find_one
        doc = None
        for i in ids:
            doc = find_one(i)
        return doc

    assert benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1)["_id"] == ids[-1]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("op", ["find_eq", "find_eq_noindex", "find_range", "count"])
def test_query(benchmark: Any, workload: Any, filled: Any, module: str, op: str) -> None:
    data, _ = workload
    f = filled(module, op != "find_eq_noindex")
    ops = _ops(op, module)
    cities = [data.cities[i % len(data.cities)] for i in range(ops)]
    ages = [data.ages[i % len(data.ages)] for i in range(ops)]
    count_call = (
        "c.count_documents({'city': c})" if module == "shoal.sofart" else "len(list(c.find(...)))"
    )
    variant = {
        "find_eq": "list(c.find({'city': c}))",
        "find_eq_noindex": "list(c.find({'city': c})), no index",
        "find_range": "list(c.find({'age': {'$gte': a, '$lt': a + 2}}))",
        "count": count_call,
    }[op]
    describe(benchmark, op, module, variant, ops)
    c = f.c

    def run() -> int:
        total = 0
        if op in ("find_eq", "find_eq_noindex"):
            for city in cities:
                total += len(list(c.find({"city": city})))
        elif op == "find_range":
            for a in ages:
                total += len(list(c.find({"age": {"$gte": a, "$lt": a + AGE_SPAN}})))
        elif module == "shoal.sofart":
            for city in cities:
                total += c.count_documents({"city": city})
        else:
            for city in cities:
                total += len(list(c.find({"city": city})))
        return total

    got = benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1)
    if op == "find_range":
        assert got == sum(len(data.range_ids(a)) for a in ages)
    else:
        assert got == sum(len(data.ids_by_city[city]) for city in cities)


# --------------------------------------------------------------------------- report


def report(path: str, stat: str = "min") -> str:
    """Markdown table: operations/s per (operation, variant) and shoal.sofart / sofart."""
    with open(path) as fh:
        doc = json.load(fh)
    rates: Dict[str, Dict[str, Tuple[str, float]]] = {}
    for b in doc["benchmarks"]:
        info = b.get("extra_info") or {}
        if "face_op" not in info or not b["group"].startswith("sofart_"):
            continue
        rate = info["face_items"] / b["stats"][stat]
        rates.setdefault(info["face_op"], {})
        best = rates[info["face_op"]].get(info["face_store"])
        if best is None or rate > best[1]:
            rates[info["face_op"]][info["face_store"]] = (info["face_variant"], rate)
    theirs_insert = rates.get("insert", {}).get("sofart")
    if theirs_insert and "insert_many" in rates:
        rates["insert_many"]["sofart"] = theirs_insert
    out = [
        f"N = {os.environ.get('SHOAL_BENCH_N', '100000')} documents, stat = {stat}",
        "",
        "| operation | shoal.sofart | sofart 0.3.6 | ratio |",
        "|---|---:|---:|---:|",
    ]
    order = ["insert", "insert_many", "find_id", "find_eq", "find_eq_noindex", "find_range",
             "count", "update", "delete"]  # fmt: skip
    for op in order:
        r = rates.get(op, {})
        ours, theirs = r.get("shoal.sofart"), r.get("sofart")
        ratio = f"{ours[1] / theirs[1]:,.0f}×" if ours and theirs else "–"
        if ours and theirs and ours[1] / theirs[1] < 10:
            ratio = f"{ours[1] / theirs[1]:.2f}×"
        out.append(
            f"| {op} (`{ours[0] if ours else ''}`) | {fmt(ours)} | {fmt(theirs)} | {ratio} |"
        )
    return "\n".join(out)


def fmt(entry: Optional[Tuple[str, float]]) -> str:
    if entry is None:
        return "–"
    rate = entry[1]
    if rate >= 1e6:
        return f"{rate / 1e6:.2f}M/s"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f}k/s"
    return f"{rate:.1f}/s"


if __name__ == "__main__":
    args = sys.argv[1:]
    stat = "min"
    if "--stat" in args:
        i = args.index("--stat")
        stat = args[i + 1]
        del args[i : i + 2]
    print(report(args[0], stat))
