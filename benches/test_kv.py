"""Key/value benchmarks: shoal side by side with LMDB, LevelDB, RocksDB, Sophia and dict.

Each operation is one pytest-benchmark group, parametrized by store (and, for
shoal, by API variant). ``extra_info`` carries ``ops`` (and ``items``) so that
``report.py`` can turn times into ops/s. Writes get a fresh store per round
(built in an untimed setup); reads share one filled store per adapter.
"""

from __future__ import annotations

import shutil
from typing import Any, Callable, List, Optional, Sequence

import pytest
from _stores import RANGE_LEN, ROUNDS, Adapter, Data, N, selected_adapters


def require(cls: type[Adapter]) -> Any:
    """Skip the calling benchmark if the store's library is not installed."""
    return pytest.importorskip(cls.module)


def cases(op: str) -> List[Any]:
    """One param per (store, variant) of ``op``; the first variant is the store's primary."""
    params = []
    for cls in selected_adapters():
        for i, (label, method) in enumerate(cls.OPS[op].items()):
            pid = cls.name if i == 0 else f"{cls.name}-{method}"
            params.append(pytest.param(cls, label, method, i == 0, id=pid))
    return params


def describe(
    benchmark: Any,
    op: str,
    cls: type[Adapter],
    label: str,
    method: str,
    primary: bool,
    ops: int,
    items: Optional[int] = None,
) -> None:
    benchmark.group = op
    benchmark.extra_info.update(
        op=op,
        store=cls.name,
        variant=label,
        method=method,
        primary=primary,
        ops=ops,
        items=ops if items is None else items,
        n=N,
    )


def run_write(
    benchmark: Any,
    fresh_path: Callable[[str], str],
    cls: type[Adapter],
    method: str,
    arg: Sequence[Any],
    *,
    prefill: Optional[Sequence[Any]] = None,
    check: Callable[[Adapter], None],
) -> None:
    """Time ``method(arg)`` on a fresh store per round (opened/filled untimed)."""
    require(cls)

    def setup() -> Any:
        store = cls(fresh_path(cls.name))
        if prefill is not None:
            store.fill(prefill)
        return (store,), {}

    def target(store: Adapter) -> None:
        getattr(store, method)(arg)

    def teardown(store: Adapter) -> None:
        try:
            check(store)
        finally:
            store.close()
            shutil.rmtree(store.path, ignore_errors=True)

    benchmark.pedantic(target, setup=setup, teardown=teardown, rounds=ROUNDS)


def run_read(
    benchmark: Any,
    populated: Callable[[type[Adapter]], Adapter],
    cls: type[Adapter],
    method: str,
    args: tuple,
) -> Any:
    """Time ``method(*args)`` on the session's filled store (one warm-up round)."""
    require(cls)
    fn = getattr(populated(cls), method)
    return benchmark.pedantic(fn, args=args, rounds=ROUNDS, warmup_rounds=1)


def check_full(data: Data) -> Callable[[Adapter], None]:
    def check(store: Adapter) -> None:
        assert store.count() == data.n
        assert store.first_last() == (data.keys_sorted[0], data.keys_sorted[-1])
        k, v = data.pairs_shuffled[-1]
        assert store.get_value(k) == v

    return check


def check_empty(store: Adapter) -> None:
    assert store.count() == 0


# --------------------------------------------------------------------------- writes


@pytest.mark.parametrize("cls,label,method,primary", cases("put_seq"))
def test_put_seq(benchmark, data, fresh_path, cls, label, method, primary):
    describe(benchmark, "put_seq", cls, label, method, primary, data.n)
    run_write(benchmark, fresh_path, cls, method, data.pairs_sorted, check=check_full(data))


@pytest.mark.parametrize("cls,label,method,primary", cases("put_random"))
def test_put_random(benchmark, data, fresh_path, cls, label, method, primary):
    describe(benchmark, "put_random", cls, label, method, primary, data.n)
    run_write(benchmark, fresh_path, cls, method, data.pairs_shuffled, check=check_full(data))


@pytest.mark.parametrize("cls,label,method,primary", cases("put_batch"))
def test_put_batch(benchmark, data, fresh_path, cls, label, method, primary):
    describe(benchmark, "put_batch", cls, label, method, primary, data.n)
    run_write(benchmark, fresh_path, cls, method, data.pairs_shuffled, check=check_full(data))


@pytest.mark.parametrize("cls,label,method,primary", cases("delete"))
def test_delete(benchmark, data, fresh_path, cls, label, method, primary):
    describe(benchmark, "delete", cls, label, method, primary, data.n)
    run_write(
        benchmark,
        fresh_path,
        cls,
        method,
        data.keys_shuffled,
        prefill=data.pairs_sorted,
        check=check_empty,
    )


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize("cls,label,method,primary", cases("get"))
def test_get(benchmark, data, populated, cls, label, method, primary):
    describe(benchmark, "get", cls, label, method, primary, data.n)
    last = run_read(benchmark, populated, cls, method, (data.keys_shuffled,))
    assert last == data.value_of[data.keys_shuffled[-1]]


@pytest.mark.parametrize("cls,label,method,primary", cases("get_missing"))
def test_get_missing(benchmark, data, populated, cls, label, method, primary):
    describe(benchmark, "get_missing", cls, label, method, primary, len(data.missing))
    last = run_read(benchmark, populated, cls, method, (data.missing,))
    assert last is None


@pytest.mark.parametrize("cls,label,method,primary", cases("scan"))
def test_scan(benchmark, data, populated, cls, label, method, primary):
    describe(benchmark, "scan", cls, label, method, primary, data.n)
    last = run_read(benchmark, populated, cls, method, ())
    assert last == data.keys_sorted[-1]


@pytest.mark.parametrize("cls,label,method,primary", cases("scan_reverse"))
def test_scan_reverse(benchmark, data, populated, cls, label, method, primary):
    describe(benchmark, "scan_reverse", cls, label, method, primary, data.n)
    last = run_read(benchmark, populated, cls, method, ())
    assert last == data.keys_sorted[0]


@pytest.mark.parametrize("cls,label,method,primary", cases("range"))
def test_range(benchmark, data, populated, cls, label, method, primary):
    ranges = len(data.range_starts)
    describe(benchmark, "range", cls, label, method, primary, ranges, ranges * RANGE_LEN)
    last = run_read(benchmark, populated, cls, method, (data.range_starts,))
    assert last == data.range_last[-1]
