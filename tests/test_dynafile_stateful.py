"""dynafile face: a hypothesis state machine against a plain dict model, with close and reopen."""

from __future__ import annotations

import shutil
import tempfile
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from shoal.dynafile import ConditionalCheckFailed, Dynafile, TransactionCanceled

PKS = st.sampled_from(["a", "b", 7, b"k"])
SKS = st.sampled_from(["x", "xy", "y", "", 1, 2.5, None])
BOUNDS = st.sampled_from(["x", "xz", "", 2, None])
VALUES = st.one_of(st.integers(-3, 3), st.sampled_from(["", "v", "w"]), st.none())

Key = Tuple[Any, Any]


def _class(v: Any) -> int:
    if v is None:
        return 0
    if isinstance(v, (int, float)):
        return 1
    if isinstance(v, str):
        return 2
    return 3


def _order(sk: Any) -> Tuple[int, Any]:
    return (_class(sk), sk if sk is not None else 0)


def _ident(v: Any) -> Tuple[int, Any]:
    return (_class(v), v)


class TableMachine(RuleBasedStateMachine):
    """Every operation on the face and on a dict of ``{key: item}``; compared after each step."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="shoal-dynafile-")
        self.db = Dynafile(self.dir + "/db")
        self.model: Dict[Tuple[Any, Any], Dict[str, Any]] = {}

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def key(self, pk: Any, sk: Any) -> Tuple[Any, Any]:
        return (_ident(pk), _ident(sk))

    def partition(self, pk: Any) -> List[Dict[str, Any]]:
        items = [i for i in self.model.values() if _ident(i["PK"]) == _ident(pk)]
        return sorted(items, key=lambda i: _order(i["SK"]))

    @rule(pk=PKS, sk=SKS, v=VALUES)
    def put(self, pk: Any, sk: Any, v: Any) -> None:
        item = {"PK": pk, "SK": sk, "v": v}
        self.db.put_item(item=item)
        self.model[self.key(pk, sk)] = item

    @rule(pk=PKS, sk=SKS)
    def delete(self, pk: Any, sk: Any) -> None:
        self.db.delete_item(key={"PK": pk, "SK": sk})
        self.model.pop(self.key(pk, sk), None)

    @rule(pk=PKS, sk=SKS, v=VALUES)
    def put_if_absent(self, pk: Any, sk: Any, v: Any) -> None:
        item = {"PK": pk, "SK": sk, "v": v}
        if self.key(pk, sk) in self.model:
            with pytest.raises(ConditionalCheckFailed):
                self.db.put_item(item=item, condition="not PK")
        else:
            self.db.put_item(item=item, condition="not PK")
            self.model[self.key(pk, sk)] = item

    @rule(pk=PKS, sk=SKS, w=VALUES)
    def update(self, pk: Any, sk: Any, w: Any) -> None:
        new = self.db.update_item(key={"PK": pk, "SK": sk}, set_attributes={"w": w})
        expected = dict(self.model.get(self.key(pk, sk), {"PK": pk, "SK": sk}))
        expected["w"] = w
        assert new == expected
        self.model[self.key(pk, sk)] = expected

    @rule(ops=st.lists(st.tuples(st.booleans(), PKS, SKS, VALUES), max_size=6), fail=st.booleans())
    def batch(self, ops: List[Tuple[bool, Any, Any, Any]], fail: bool) -> None:
        try:
            with self.db.batch_writer() as w:
                for is_put, pk, sk, v in ops:
                    if is_put:
                        w.put_item(item={"PK": pk, "SK": sk, "v": v})
                    else:
                        w.delete_item(key={"PK": pk, "SK": sk})
                if fail:
                    raise RuntimeError("discard")
        except RuntimeError:
            return
        for is_put, pk, sk, v in ops:
            if is_put:
                self.model[self.key(pk, sk)] = {"PK": pk, "SK": sk, "v": v}
            else:
                self.model.pop(self.key(pk, sk), None)

    @rule(
        ops=st.lists(st.tuples(PKS, SKS, VALUES), max_size=4, unique_by=lambda t: _ident(t[:2])),
        check=st.tuples(PKS, SKS),
    )
    def transaction(self, ops: List[Tuple[Any, Any, Any]], check: Tuple[Any, Any]) -> None:
        ops = [op for op in ops if self.key(op[0], op[1]) != self.key(*check)]
        exists = self.key(*check) in self.model
        try:
            with self.db.transaction() as tx:
                for pk, sk, v in ops:
                    tx.put_item(item={"PK": pk, "SK": sk, "v": v})
                tx.condition_check(key={"PK": check[0], "SK": check[1]}, condition="PK")
        except TransactionCanceled:
            assert not exists
            return
        assert exists
        for pk, sk, v in ops:
            self.model[self.key(pk, sk)] = {"PK": pk, "SK": sk, "v": v}

    @rule(pk=PKS, sk=SKS)
    def get(self, pk: Any, sk: Any) -> None:
        assert self.db.get_item(key={"PK": pk, "SK": sk}) == self.model.get(self.key(pk, sk))

    @rule(keys=st.lists(st.tuples(PKS, SKS), max_size=4))
    def batch_get(self, keys: List[Tuple[Any, Any]]) -> None:
        got = self.db.batch_get(keys=[{"PK": pk, "SK": sk} for pk, sk in keys])
        expected = [self.model[self.key(*k)] for k in keys if self.key(*k) in self.model]
        assert got == expected

    @rule(pk=PKS, bound=BOUNDS, forward=st.booleans(), bounded=st.booleans())
    def query(self, pk: Any, bound: Any, forward: bool, bounded: bool) -> None:
        items = self.partition(pk)
        if bounded and bound is not None:
            got = list(self.db.query(pk, starts_with=bound, scan_index_forward=forward))
            same = [i for i in items if _class(i["SK"]) == _class(bound)]
            items = [i for i in same if (i["SK"] >= bound if forward else i["SK"] <= bound)]
        else:
            got = list(self.db.query(pk, scan_index_forward=forward))
        assert got == (items if forward else items[::-1])

    @rule(pk=PKS, prefix=st.sampled_from(["x", "", "y", "xy"]))
    def begins_with(self, pk: Any, prefix: str) -> None:
        expected = [
            i for i in self.partition(pk) if isinstance(i["SK"], str) and i["SK"].startswith(prefix)
        ]
        assert list(self.db.query(pk, begins_with=prefix)) == expected

    @rule(v=VALUES)
    def scan_filter(self, v: Any) -> None:
        if not isinstance(v, int) or v < 0:
            return
        got = sorted(
            self.db.scan(_filter=f"v == {v}"), key=lambda i: (_ident(i["PK"]), _order(i["SK"]))
        )
        expected = sorted(
            (i for i in self.model.values() if type(i.get("v")) is int and i["v"] == v),
            key=lambda i: (_ident(i["PK"]), _order(i["SK"])),
        )
        assert got == expected

    @rule()
    def reopen(self) -> None:
        self.db.close()
        self.db = Dynafile(self.dir + "/db")

    @invariant()
    def same_items(self) -> None:
        got = sorted(self.db.scan(), key=lambda i: (_ident(i["PK"]), _order(i["SK"])))
        expected = sorted(self.model.values(), key=lambda i: (_ident(i["PK"]), _order(i["SK"])))
        assert got == expected


TableMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
test_table_against_a_dict = TableMachine.TestCase
