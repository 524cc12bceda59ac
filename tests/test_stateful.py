"""Stateful model test: a KV space against a plain dict, at every durability level.

Keys mix ints, a few floats, strs and ``(int, str)`` tuples; the model orders
them with :func:`_util.model_key`, which mirrors the "any" key codec.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import shoal
from _util import model_key
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

keys = st.one_of(
    st.integers(-20, 20),
    st.sampled_from([1.5, -0.5, 2.0, -0.0]),
    st.text("abc", max_size=3),
    st.tuples(st.integers(0, 3), st.text("ab", max_size=2)),
)
values = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=10),
    st.lists(st.integers(-1000, 1000), max_size=5),
)
bounds = st.one_of(st.none(), keys)
prefixes = st.one_of(st.text("abc", max_size=2), st.tuples(st.integers(0, 3)))
ops = st.lists(
    st.one_of(st.tuples(st.just("put"), keys, values), st.tuples(st.just("del"), keys, st.none())),
    min_size=1,
    max_size=6,
)


ABSENT = object()


class Rollback(Exception):
    pass


def apply_ops(model: dict, ops_list) -> dict:
    model = dict(model)
    for op, k, v in ops_list:
        if op == "put":
            model[model_key(k)] = (k, v)
        else:
            model.pop(model_key(k), None)
    return model


def ordered(model: dict) -> list:
    return [model[m] for m in sorted(model)]


def as_model_items(items) -> list:
    return [(model_key(k), v) for k, v in items]


def bound_key(b):
    return None if b is None else model_key(b)


def ascending(start, stop):
    """``(start, stop)`` swapped if needed so that start <= stop."""
    if start is not None and stop is not None and model_key(start) > model_key(stop):
        return stop, start
    return start, stop


def expected_slice(model: dict, start, stop, step) -> list:
    """``kv[start:stop:step]`` per the contract, as (model key, value) pairs."""
    lo, hi = bound_key(start), bound_key(stop)
    if step == -1 or (lo is not None and hi is not None and lo > hi):
        keys = [
            m
            for m in sorted(model, reverse=True)
            if (lo is None or m <= lo) and (hi is None or m > hi)
        ]
    else:
        keys = [m for m in sorted(model) if (lo is None or m >= lo) and (hi is None or m < hi)]
    return [(m, model[m][1]) for m in keys]


def expected_cursor(model: dict, start, stop, reverse: bool) -> list:
    """``cursor(start, stop, reverse=...)``: start <= key < stop, either direction."""
    lo, hi = bound_key(start), bound_key(stop)
    keys = [m for m in sorted(model) if (lo is None or m >= lo) and (hi is None or m < hi)]
    if reverse:
        keys.reverse()
    return [(m, model[m][1]) for m in keys]


def expected_prefix(model: dict, prefix, reverse: bool) -> list:
    if isinstance(prefix, str):
        keys = [m for m, (k, _) in model.items() if isinstance(k, str) and k.startswith(prefix)]
    else:
        keys = [
            m
            for m, (k, _) in model.items()
            if isinstance(k, tuple) and model_key(k[: len(prefix)]) == model_key(prefix)
        ]
    keys.sort(reverse=reverse)
    return [(m, model[m][1]) for m in keys]


class KVMachine(RuleBasedStateMachine):
    durability = "flush"

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="shoal-stateful-")
        self.path = os.path.join(self.dir, "db")
        self.store = shoal.open(self.path, durability=self.durability)
        self.kv = self.store.kv("t")
        self.model: dict = {}  # model_key -> (key, value)

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- writes --

    @rule(k=keys, v=values)
    def put(self, k, v) -> None:
        self.kv[k] = v
        self.model[model_key(k)] = (k, v)

    @rule(k=keys)
    def delete(self, k) -> None:
        if model_key(k) in self.model:
            del self.kv[k]
            del self.model[model_key(k)]
        else:
            try:
                del self.kv[k]
            except KeyError:
                pass
            else:
                raise AssertionError(f"del of missing key {k!r} did not raise KeyError")

    @rule(k=keys)
    def discard(self, k) -> None:
        self.kv.discard(k)
        self.model.pop(model_key(k), None)

    @rule(k=keys, default=values)
    def pop(self, k, default) -> None:
        expected = self.model.pop(model_key(k), (None, default))[1]
        assert self.kv.pop(k, default) == expected

    @rule(pairs=st.lists(st.tuples(keys, values), max_size=8))
    def update(self, pairs) -> None:
        self.kv.update(pairs)
        for k, v in pairs:
            self.model[model_key(k)] = (k, v)

    @rule(ks=st.lists(keys, max_size=5))
    def delete_many(self, ks) -> None:
        self.kv.delete_many(ks)
        for k in ks:
            self.model.pop(model_key(k), None)

    @rule(ops_list=ops)
    def transaction_commit(self, ops_list) -> None:
        local = dict(self.model)
        with self.kv.transaction() as tx:
            for op, k, v in ops_list:
                if op == "put":
                    tx[k] = v
                else:
                    tx.pop(k, None)
                local = apply_ops(local, [(op, k, v)])
                assert tx.get(k, ABSENT) == local.get(model_key(k), (k, ABSENT))[1]
            assert as_model_items(tx.items()) == as_model_items(ordered(local))
            assert len(tx) == len(local)
            # Not visible outside before the commit (unless it matches already).
            assert as_model_items(self.kv.items()) == as_model_items(ordered(self.model))
        self.model = local

    @rule(ops_list=ops)
    def transaction_rollback(self, ops_list) -> None:
        try:
            with self.kv.transaction() as tx:
                for op, k, v in ops_list:
                    if op == "put":
                        tx[k] = v
                    else:
                        tx.pop(k, None)
                raise Rollback
        except Rollback:
            pass

    @rule(ops_list=ops)
    def batch(self, ops_list) -> None:
        with self.store.batch() as b:
            for op, k, v in ops_list:
                if op == "put":
                    b.put(self.kv, k, v)
                else:
                    b.delete(self.kv, k)
        self.model = apply_ops(self.model, ops_list)

    @rule(start=bounds, stop=bounds)
    def delete_range(self, start, stop) -> None:
        lo = None if start is None else model_key(start)
        hi = None if stop is None else model_key(stop)
        if lo is not None and hi is not None and lo > hi:
            return  # only ascending ranges are deleted
        del self.kv[start:stop]
        for m in list(self.model):
            if (lo is None or lo <= m) and (hi is None or m < hi):
                del self.model[m]

    @rule()
    def close_and_reopen(self) -> None:
        self.store.close()
        self.store = shoal.open(self.path, durability=self.durability)
        self.kv = self.store.kv("t")

    # -- reads --

    @rule(start=bounds, stop=bounds, step=st.sampled_from([None, -1]))
    def slice_read(self, start, stop, step) -> None:
        got = list(self.kv[start:stop:step])
        assert as_model_items(got) == expected_slice(self.model, start, stop, step)

    @rule(start=bounds, stop=bounds, reverse=st.booleans())
    def cursor_range(self, start, stop, reverse) -> None:
        start, stop = ascending(start, stop)
        got = list(self.kv.cursor(start, stop, reverse=reverse))
        assert as_model_items(got) == expected_cursor(self.model, start, stop, reverse)
        assert self.kv.count(start, stop) == len(got)

    @rule(prefix=prefixes, reverse=st.booleans())
    def cursor_prefix(self, prefix, reverse) -> None:
        got = list(self.kv.cursor(prefix=prefix, reverse=reverse))
        assert as_model_items(got) == expected_prefix(self.model, prefix, reverse)
        assert self.kv.count(prefix=prefix) == len(got)

    @rule(
        ops_list=ops,
        start=bounds,
        stop=bounds,
        step=st.sampled_from([None, -1]),
        prefix=prefixes,
        reverse=st.booleans(),
        commit=st.booleans(),
    )
    def transaction_scans(self, ops_list, start, stop, step, prefix, reverse, commit) -> None:
        # Range reads through a transaction merge its own writes in.
        local = apply_ops(self.model, ops_list)
        with self.kv.snapshot() as snap:
            tx = self.kv.transaction()
            for op, k, v in ops_list:
                if op == "put":
                    tx[k] = v
                else:
                    tx.pop(k, None)
            got = list(tx[start:stop:step])
            assert as_model_items(got) == expected_slice(local, start, stop, step)
            lo, hi = ascending(start, stop)
            got = list(tx.cursor(lo, hi, reverse=reverse))
            assert as_model_items(got) == expected_cursor(local, lo, hi, reverse)
            got = list(tx.cursor(prefix=prefix, reverse=reverse))
            assert as_model_items(got) == expected_prefix(local, prefix, reverse)
            # The snapshot taken before sees none of it.
            assert as_model_items(snap.items()) == as_model_items(ordered(self.model))
            got = list(snap[start:stop:step])
            assert as_model_items(got) == expected_slice(self.model, start, stop, step)
            if commit:
                tx.commit()
                self.model = local
            else:
                tx.rollback()

    @rule(k=keys)
    def get(self, k) -> None:
        m = model_key(k)
        assert (k in self.kv) == (m in self.model)
        assert self.kv.get(k, ABSENT) == self.model.get(m, (k, ABSENT))[1]

    @rule(start=keys)
    def cursor_seek(self, start) -> None:
        cur = self.kv.cursor(values=False)
        cur.seek(start)
        m = model_key(start)
        expected = [x for x in sorted(self.model) if x >= m][:3]
        assert [model_key(k) for k in cur.fetch(3)] == expected
        cur.close()

    @invariant()
    def matches_model(self) -> None:
        items = ordered(self.model)
        assert as_model_items(self.kv.items()) == as_model_items(items)
        assert len(self.kv) == len(items)
        first, last = self.kv.first(), self.kv.last()
        if items:
            assert first is not None and last is not None
            assert as_model_items([first, last]) == as_model_items([items[0], items[-1]])
        else:
            assert first is None and last is None


# SHOAL_STATEFUL_EXAMPLES raises the number of runs for a long soak.
MACHINE_SETTINGS = settings(
    max_examples=int(os.environ.get("SHOAL_STATEFUL_EXAMPLES", "30")),
    stateful_step_count=30,
    deadline=None,
)


class SyncMachine(KVMachine):
    durability = "sync"


class FlushMachine(KVMachine):
    durability = "flush"


class MemoryMachine(KVMachine):
    durability = "memory"


TestStatefulSync = SyncMachine.TestCase
TestStatefulSync.settings = MACHINE_SETTINGS
TestStatefulFlush = FlushMachine.TestCase
TestStatefulFlush.settings = MACHINE_SETTINGS
TestStatefulMemory = MemoryMachine.TestCase
TestStatefulMemory.settings = MACHINE_SETTINGS
