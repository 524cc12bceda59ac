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
        # sorted on the primary key: one key range read in order, streamed
        ({}, {"sort": [("_id", -1)]}),
        ({"odd": True}, {"sort": [("_id", -1)], "skip": 5, "limit": 700}),
        ({"_id": {"$gte": 4000}}, {"sort": [("_id", -1)]}),
        ({"_id": {"$lt": 100}, "odd": True}, {"sort": [("_id", 1)], "limit": 7}),
    ],
)
def test_cursor_yields_what_find_returns(coll: Any, flt: dict, kw: dict) -> None:
    with coll.cursor(flt, **kw) as cur:
        got = list(cur)
    assert got == coll.find(flt, **kw)
    assert coll.cursor(flt, **kw).to_list() == got


def test_a_sort_on_the_key_reads_only_what_it_returns(coll: Any) -> None:
    # The whole key range, read backwards: no sort, and the limit stops it.
    plan = coll.explain({}, sort=[("_id", -1)], limit=3)
    assert plan["access"] == "key_range" and plan["reverse"] is True
    assert plan["docs_examined"] == 3
    assert [d["_id"] for d in coll.find(sort=[("_id", -1)], limit=3)] == [4999, 4998, 4997]
    plan = coll.explain({"odd": True}, sort=[("_id", 1)], limit=3)
    assert plan["docs_examined"] == 6 and plan["covered"] is False
    # An index whose every field is pinned by equality holds those documents
    # in key order: read forwards or backwards, it needs no sort either.
    for direction, expected in ((1, [3, 10, 17]), (-1, [4994, 4987, 4980])):
        plan = coll.explain({"g": 3}, sort=[("_id", direction)], limit=3)
        assert plan["access"] == "index" and plan["ordered"] is True, plan
        assert plan["keys_examined"] == 3
        got = coll.find({"g": 3}, sort=[("_id", direction)], limit=3)
        assert [d["_id"] for d in got] == expected
        assert coll.find({"g": 3}, sort=[("_id", direction)], skip=700) == sorted(
            (d for d in coll.find() if d["g"] == 3), key=lambda d: d["_id"] * direction)[700:]
    cur = coll.cursor(sort=[("_id", -1)])
    assert [d["_id"] for d in cur.fetch(2)] == [4999, 4998]


def test_compound_keys_sort_in_key_order(tmp_path: Any) -> None:
    with shoal.open(tmp_path / "db") as s:
        c = s.collection("c", key=("a", "b"))
        c.insert_many({"a": i % 3, "b": i, "v": i} for i in range(30))
        by_key = sorted(c.find(), key=lambda d: (d["a"], d["b"]))
        assert c.find(sort=[("a", -1), ("b", -1)]) == by_key[::-1]
        assert c.cursor(sort=[("a", 1), ("b", 1)]).to_list() == by_key
        assert c.explain({}, sort=[("a", -1), ("b", -1)], limit=4)["docs_examined"] == 4
        # Mixed directions cannot be one range read: sorted in memory.
        assert c.find(sort=[("a", 1), ("b", -1)]) == sorted(by_key, key=lambda d: (d["a"], -d["b"]))


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
