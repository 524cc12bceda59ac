"""Stateful model tests of shoal.sophy against a sorted dict, with close and reopen.

Three machines: a 0.7 string database, a 0.7 ``(StringIndex, U16RevIndex)``
database (a descending part: ranges stop by comparing Python keys, as sophy
does) and a legacy ``connect()`` database. The model implements the range
algorithm of spec A.6 and the cursor rules of A.7 on its own.
``SOPHY_STATE_EXAMPLES`` (default 15) sets the number of runs per machine.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Callable, Optional

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from shoal.sophy import Schema, Sophia, StringIndex, U16RevIndex, connect

ORDERS = [">=", ">", "<=", "<"]


def model_range(keys: list, order_key: Callable, start: Any, stop: Any, reverse: bool) -> list:
    """Spec A.6 on a list of keys, ``order_key`` giving the storage order."""
    if reverse:
        if (start is None) != (stop is None):
            start, stop = stop, start
        elif start is not None and start < stop:
            start, stop = stop, start
    elif start is not None and stop is not None and start > stop:
        reverse = True
    ordered = sorted(keys, key=order_key, reverse=reverse)
    out = []
    for k in ordered:
        if start is not None:
            if not reverse and order_key(k) < order_key(start):
                continue
            if reverse and order_key(k) > order_key(start):
                continue
        if stop is not None and ((not reverse and k > stop) or (reverse and k < stop)):
            break
        out.append(k)
    return out


def model_cursor(
    keys: list, order_key: Callable, order: str, key: Any, prefix: Optional[str]
) -> list:
    """Spec A.7: seek in storage order, keep keys whose first part has the prefix."""
    reverse = order.startswith("<")
    out = []
    for k in sorted(keys, key=order_key, reverse=reverse):
        if key is not None:
            a, b = order_key(k), order_key(key)
            if order == ">=" and a < b or order == ">" and a <= b:
                continue
            if order == "<=" and a > b or order == "<" and a >= b:
                continue
        first = k[0] if isinstance(k, tuple) else k
        if prefix is not None and not first.startswith(prefix):
            continue
        out.append(k)
    return out


class SophyMachine(RuleBasedStateMachine):
    keys: Any = st.text("abc", max_size=3)
    values: Any = st.text("xyz\u00e9", max_size=4)
    legacy = False

    def order_key(self, k: Any) -> Any:
        return k

    def make_schema(self) -> Any:
        return Schema.key_value()

    def __init__(self) -> None:
        super().__init__()
        self.path = tempfile.mkdtemp(prefix="sophy-state-")
        self.model: dict = {}
        self.open_env()

    def open_env(self) -> None:
        if self.legacy:
            self.db = connect(self.path, "d")
            self.env = self.db.sophia
        else:
            self.env = Sophia(self.path)
            self.db = self.env.add_database("d", self.make_schema())
            self.env.open()

    def teardown(self) -> None:
        self.env.close()
        shutil.rmtree(self.path, ignore_errors=True)

    @rule(data=st.data())
    def set(self, data: Any) -> None:
        k, v = data.draw(self.keys), data.draw(self.values)
        self.db[k] = v
        self.model[k] = v

    @rule(data=st.data())
    def delete(self, data: Any) -> None:
        k = data.draw(self.keys)
        del self.db[k]
        self.model.pop(k, None)

    @rule(data=st.data())
    def update(self, data: Any) -> None:
        pairs = data.draw(st.dictionaries(self.keys, self.values, max_size=5))
        self.db.update(pairs)
        self.model.update(pairs)

    @rule(data=st.data())
    def multi_delete(self, data: Any) -> None:
        keys = data.draw(st.lists(self.keys, max_size=4))
        self.db.multi_delete(keys)
        for k in keys:
            self.model.pop(k, None)

    @rule(data=st.data(), commit=st.booleans())
    def transaction(self, data: Any, commit: bool) -> None:
        puts = data.draw(st.dictionaries(self.keys, self.values, max_size=4))
        dels = data.draw(st.lists(self.keys, max_size=2))
        if self.legacy:
            txn = self.db.transaction()
            txn.open()
            view = txn
        else:
            txn = self.env.transaction().begin()
            view = txn[self.db]
        expected = dict(self.model)
        for k, v in puts.items():
            view[k] = v
            expected[k] = v
        for k in dels:
            del view[k]
            expected.pop(k, None)
        for k in list(puts) + dels:
            assert view.get(k) == expected.get(k)  # reads see own writes
        if commit:
            txn.commit(begin=False)
            self.model = expected
        else:
            txn.rollback(begin=False)

    @rule(new_object=st.booleans())
    def reopen(self, new_object: bool) -> None:
        if new_object:
            self.env.close()
            self.open_env()
        else:
            assert self.env.close() is True
            assert self.env.open() is True

    @precondition(lambda self: self.legacy)
    @rule(data=st.data())
    def view_is_frozen(self, data: Any) -> None:
        view = self.db.view("v")
        before = sorted(self.model.items(), key=lambda kv: self.order_key(kv[0]))
        k, v = data.draw(self.keys), data.draw(self.values)
        self.db[k] = v
        self.model[k] = v
        assert list(view) == before
        view.close()

    @rule(data=st.data(), reverse=st.booleans())
    def check_range(self, data: Any, reverse: bool) -> None:
        bound = st.one_of(st.none(), self.keys)
        start, stop = data.draw(bound), data.draw(bound)
        expected = model_range(list(self.model), self.order_key, start, stop, reverse)
        got = list(self.db.get_range(start, stop, reverse))
        assert [k for k, _ in got] == expected
        assert all(self.model[k] == v for k, v in got)

    @rule(data=st.data(), order=st.sampled_from(ORDERS))
    def check_cursor(self, data: Any, order: str) -> None:
        key = data.draw(st.one_of(st.none(), self.keys))
        prefix = data.draw(st.one_of(st.none(), st.text("ab", max_size=2)))
        expected = model_cursor(list(self.model), self.order_key, order, key, prefix)
        got = list(self.db.cursor(order=order, key=key, prefix=prefix, values=False))
        assert got == expected

    @invariant()
    def same_items(self) -> None:
        expected = sorted(self.model.items(), key=lambda kv: self.order_key(kv[0]))
        assert list(self.db) == expected
        assert len(self.db) == len(expected)


class StringMachine(SophyMachine):
    pass


class RevMachine(SophyMachine):
    keys = st.tuples(st.text("ab", max_size=2), st.integers(0, 2**16 - 1) | st.integers(0, 4))

    def order_key(self, k: Any) -> Any:
        return (k[0], -k[1])

    def make_schema(self) -> Any:
        return Schema([StringIndex("s"), U16RevIndex("n")], [StringIndex("v")])


class LegacyMachine(SophyMachine):
    legacy = True


_settings = settings(
    max_examples=int(os.environ.get("SOPHY_STATE_EXAMPLES", "15")),
    stateful_step_count=25,
    deadline=None,
)
TestStringMachine = _settings(StringMachine).TestCase
TestRevMachine = _settings(RevMachine).TestCase
TestLegacyMachine = _settings(LegacyMachine).TestCase
