"""Document benchmarks: shoal collections side by side with sqlite3 (JSON), TinyDB and mongita.

Each operation is one pytest-benchmark group (``doc_*``), parametrized by
store (and, for shoal, by API variant). ``extra_info`` carries ``ops`` (and
``items``: documents returned, for the queries) so that ``report.py`` can turn
times into ops/s. Inserts get a fresh store per round (opened, and for a
sampled insert prefilled, in an untimed setup); reads share one filled store
per adapter; update and delete share another one, and each round works on
its own chunk of random ids (delete puts its documents back, untimed).
Every round's results are checked outside the timed region: documents
against the workload, counts against the expected counts.
"""

from __future__ import annotations

import itertools
import shutil
from typing import Any, Callable, List, Optional, Sequence, Tuple

import pytest
from _doc_stores import (
    ROUNDS,
    SCORE,
    DocAdapter,
    DocData,
    N,
    selected_doc_adapters,
)

SPOT_CHECKS = 100  # documents fetched back after an insert round

StoreFactory = Callable[[type[DocAdapter], str], DocAdapter]


def require(cls: type[DocAdapter]) -> Any:
    """Skip the calling benchmark if the store's library is not installed."""
    return pytest.importorskip(cls.module)


def cases(op: str) -> List[Any]:
    """One param per (store, variant) of ``op``; the first variant is the store's primary."""
    params = []
    for cls in selected_doc_adapters():
        for i, (label, method) in enumerate(cls.OPS[op].items()):
            pid = cls.name if i == 0 else f"{cls.name}-{method}"
            params.append(pytest.param(cls, label, method, i == 0, id=pid))
    return params


def describe(
    benchmark: Any,
    op: str,
    cls: type[DocAdapter],
    label: str,
    method: str,
    primary: bool,
    ops: int,
    items: Optional[int] = None,
) -> None:
    benchmark.group = op
    benchmark.extra_info.update(
        suite="documents",
        op=op,
        store=cls.name,
        variant=label,
        method=method,
        primary=primary,
        ops=ops,
        items=ops if items is None else items,
        n=N,
    )


def run_rounds(
    benchmark: Any,
    target: Callable[..., Any],
    make_args: Callable[[int], Tuple[Any, ...]],
    check: Callable[[Tuple[Any, ...], Any], None],
    *,
    warmup_rounds: int = 0,
) -> None:
    """Time ``target(*make_args(r))`` per round; ``check(args, result)`` after each, untimed.

    ``--benchmark-disable`` runs the target once and skips teardowns: the
    leftover result is checked at the end, so a smoke run checks too.
    """
    pending: List[Tuple[Tuple[Any, ...], Any]] = []
    counter = itertools.count()

    def setup() -> Any:
        return make_args(next(counter)), {}

    def run(*args: Any) -> None:
        pending.append((args, target(*args)))

    def teardown(*args: Any) -> None:
        check(*pending.pop())

    benchmark.pedantic(
        run, setup=setup, teardown=teardown, rounds=ROUNDS, warmup_rounds=warmup_rounds
    )
    while pending:
        check(*pending.pop())


def run_read(benchmark: Any, store: DocAdapter, method: str, args: Tuple[Any, ...]) -> Any:
    """Time ``method(*args)`` on a session's filled store (one warm-up round)."""
    fn = getattr(store, method)
    return benchmark.pedantic(fn, args=args, rounds=ROUNDS, warmup_rounds=1)


def spot_keys(keys: Sequence[int], n: int = SPOT_CHECKS) -> List[int]:
    """About ``n`` keys spread evenly over ``keys``, first and last included."""
    step = max(1, len(keys) // n)
    return sorted({*keys[::step], keys[0], keys[-1]}) if keys else []


def check_docs(
    cls: type[DocAdapter], data: DocData, got: Sequence[Any], ids: Sequence[int]
) -> None:
    """``got`` (any order) holds exactly the workload's documents ``ids``."""
    docs = sorted((cls.normalize(d) for d in got), key=lambda d: d["_id"])
    assert [d["_id"] for d in docs] == sorted(ids)
    assert docs == [data.doc(i) for i in sorted(ids)]


# --------------------------------------------------------------------------- inserts


def run_insert(
    benchmark: Any,
    data: DocData,
    fresh_path: Callable[[str], str],
    cls: type[DocAdapter],
    method: str,
    docs: Sequence[Any],
    prefill: int,
) -> None:
    """Time ``method(docs[prefill:])`` on a fresh store holding ``docs[:prefill]``."""
    timed = docs[prefill:]
    keys = [d["_id"] for d in data.docs[prefill : prefill + len(timed)]]

    def make_args(_round: int) -> Tuple[Any, ...]:
        store = cls(fresh_path(f"doc-{cls.name}"))
        if prefill:
            store.fill(docs[:prefill])
        return (store,)

    def target(store: DocAdapter) -> Any:
        return getattr(store, method)(timed)

    def check(args: Tuple[Any, ...], _result: Any) -> None:
        (store,) = args
        try:
            assert store.count_all() == prefill + len(timed)
            for k in spot_keys(keys):
                assert store.fetch(k) == data.doc(k), k
        finally:
            store.close()
            shutil.rmtree(store.path, ignore_errors=True)

    run_rounds(benchmark, target, make_args, check)


@pytest.mark.parametrize("cls,label,method,primary", cases("doc_insert"))
def test_insert(benchmark, doc_data, fresh_path, cls, label, method, primary):
    require(cls)
    docs = cls.adapt_docs(doc_data)
    n = doc_data.n
    sample = cls.INSERT_SAMPLE
    if sample is not None and sample < n:
        prefill = max(0, n // 2 - sample // 2)
        ops = sample
    else:
        prefill, ops = 0, n
    describe(benchmark, "doc_insert", cls, label, method, primary, ops)
    benchmark.extra_info["prefilled"] = prefill
    run_insert(benchmark, doc_data, fresh_path, cls, method, docs[: prefill + ops], prefill)


@pytest.mark.parametrize("cls,label,method,primary", cases("doc_insert_batch"))
def test_insert_batch(benchmark, doc_data, fresh_path, cls, label, method, primary):
    require(cls)
    describe(benchmark, "doc_insert_batch", cls, label, method, primary, doc_data.n)
    run_insert(benchmark, doc_data, fresh_path, cls, method, cls.adapt_docs(doc_data), 0)


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize("cls,label,method,primary", cases("doc_get"))
def test_get(benchmark, doc_data, doc_store, cls, label, method, primary):
    require(cls)
    count = min(cls.ops_per_round("doc_get", method), len(doc_data.get_ids))
    ids = doc_data.get_ids[:count]
    keys = doc_data.cached((cls.name, "get_ids"), lambda: cls.adapt_keys(doc_data.get_ids))
    describe(benchmark, "doc_get", cls, label, method, primary, count)
    got = run_read(benchmark, doc_store(cls, "read"), method, (keys[:count],))
    assert len(got) == count
    for k, d in zip(ids, got):
        assert cls.normalize(d) == doc_data.doc(k), k


@pytest.mark.parametrize("cls,label,method,primary", cases("doc_find_eq"))
def test_find_eq(benchmark, doc_data, doc_store, cls, label, method, primary):
    require(cls)
    cities = doc_data.cities[: cls.ops_per_round("doc_find_eq", method)]
    expected = [doc_data.ids_by_city[c] for c in cities]
    items = sum(map(len, expected))
    describe(benchmark, "doc_find_eq", cls, label, method, primary, len(cities), items)
    got = run_read(benchmark, doc_store(cls, "read"), method, (cities,))
    assert len(got) == len(cities)
    for docs, ids in zip(got, expected):
        check_docs(cls, doc_data, docs, ids)


@pytest.mark.parametrize("cls,label,method,primary", cases("doc_find_range"))
def test_find_range(benchmark, doc_data, doc_store, cls, label, method, primary):
    require(cls)
    starts = doc_data.ages[: cls.ops_per_round("doc_find_range", method)]
    expected = [doc_data.range_ids(a) for a in starts]
    items = sum(map(len, expected))
    describe(benchmark, "doc_find_range", cls, label, method, primary, len(starts), items)
    got = run_read(benchmark, doc_store(cls, "read"), method, (starts,))
    assert len(got) == len(starts)
    for docs, ids in zip(got, expected):
        check_docs(cls, doc_data, docs, ids)


@pytest.mark.parametrize("cls,label,method,primary", cases("doc_count"))
def test_count(benchmark, doc_data, doc_store, cls, label, method, primary):
    require(cls)
    cities = doc_data.cities[: cls.ops_per_round("doc_count", method)]
    describe(benchmark, "doc_count", cls, label, method, primary, len(cities))
    got = run_read(benchmark, doc_store(cls, "read"), method, (cities,))
    assert list(got) == [len(doc_data.ids_by_city[c]) for c in cities]


# --------------------------------------------------------------------------- writes

# A fresh value for every update round of the session, so that no update
# ever sets a field to the value it already holds.
_update_values = itertools.count(1)


@pytest.mark.parametrize("cls,label,method,primary", cases("doc_update"))
def test_update(benchmark, doc_data, doc_store, cls, label, method, primary):
    require(cls)
    store = doc_store(cls, "write")
    count = min(cls.ops_per_round("doc_update", method), doc_data.n)
    describe(benchmark, "doc_update", cls, label, method, primary, count)

    def make_args(round_no: int) -> Tuple[Any, ...]:
        ids = doc_data.write_chunk(round_no, count)
        return ids, cls.adapt_keys(ids), next(_update_values)

    def target(_ids: List[int], keys: List[Any], value: int) -> Any:
        return getattr(store, method)(keys, value)

    def check(args: Tuple[Any, ...], result: Any) -> None:
        ids, _keys, value = args
        assert list(result) == [1] * len(ids)
        for k in ids:
            assert store.fetch(k) == {**doc_data.doc(k), SCORE: value}, k

    run_rounds(benchmark, target, make_args, check)


@pytest.mark.parametrize("cls,label,method,primary", cases("doc_delete"))
def test_delete(benchmark, doc_data, doc_store, cls, label, method, primary):
    require(cls)
    store = doc_store(cls, "write")
    docs = cls.adapt_docs(doc_data)
    count = min(cls.ops_per_round("doc_delete", method), doc_data.n)
    describe(benchmark, "doc_delete", cls, label, method, primary, count)
    assert store.count_all() == doc_data.n

    def make_args(round_no: int) -> Tuple[Any, ...]:
        ids = doc_data.write_chunk(round_no, count)
        return ids, cls.adapt_keys(ids)

    def target(_ids: List[int], keys: List[Any]) -> Any:
        return getattr(store, method)(keys)

    def check(args: Tuple[Any, ...], result: Any) -> None:
        ids, _keys = args
        assert [int(r) for r in result] == [1] * len(ids)
        assert store.count_all() == doc_data.n - len(ids)
        for k in ids:
            assert store.fetch(k) is None, k
        store.fill([docs[k - 1] for k in ids])  # put them back (untimed)
        assert store.count_all() == doc_data.n

    run_rounds(benchmark, target, make_args, check)
