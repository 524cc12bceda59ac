"""``Collection.cursor()``: the documents of a query, streamed."""

from __future__ import annotations

from typing import Any

import pytest
import shoal


@pytest.fixture
def coll() -> Any:
    with shoal.open(durability="memory") as s:
        c = s.collection("c")
        c.create_index("g")
        c.insert_many({"_id": i, "g": i % 7, "odd": i % 2 == 1} for i in range(5000))
        yield c


@pytest.mark.parametrize(
    "flt,kw",
    [
        ({}, {}),
        ({"odd": True}, {}),
        ({"odd": True}, {"skip": 10, "limit": 1500}),
        ({"g": 3}, {}),  # through the index
        ({"odd": False}, {"sort": [("g", -1)], "limit": 20}),
        ({"odd": True}, {"projection": ["g"], "skip": 2500, "limit": 5}),
        ({"odd": True}, {"limit": 0}),
    ],
)
def test_cursor_yields_what_find_returns(coll: Any, flt: dict, kw: dict) -> None:
    with coll.cursor(flt, **kw) as cur:
        got = list(cur)
    assert got == coll.find(flt, **kw)
    assert coll.cursor(flt, **kw).to_list() == got


def test_fetch_in_batches_and_close(coll: Any) -> None:
    cur = coll.cursor({"odd": True})
    first = cur.fetch(10)
    assert [d["_id"] for d in first] == list(range(1, 20, 2))
    assert next(cur)["_id"] == 21
    rest = cur.fetch(100_000)
    assert len(rest) == 2500 - 11
    assert cur.fetch(5) == [] and list(cur) == []
    cur.close()
    assert cur.closed
    with pytest.raises(shoal.ClosedError):
        cur.fetch()


def test_a_cursor_reads_one_point_in_time(coll: Any) -> None:
    cur = coll.cursor({"odd": True})
    assert len(cur.fetch(3)) == 3
    coll.delete_many({"_id": {"$gte": 4000}})
    coll.insert({"_id": 10_001, "odd": True})
    assert len(cur.to_list()) == 2500 - 3


def test_cursor_inside_a_transaction_sees_its_writes(coll: Any) -> None:
    with coll.store.transaction() as tx:
        tc = tx[coll]
        tc.insert({"_id": -1, "odd": True})
        assert next(tc.cursor({"odd": True}))["_id"] == -1


def test_closing_the_store_closes_cursors(coll: Any) -> None:
    cur = coll.cursor({})
    cur.fetch(1)
    coll.store.close()
    with pytest.raises(shoal.ClosedError):
        cur.fetch(5000)


def test_callable_filters_are_refused(coll: Any) -> None:
    with pytest.raises(shoal.QueryError):
        coll.cursor(lambda d: True)
