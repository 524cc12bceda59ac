"""Callable filters: a Python function (or ``"$where"`` in a filter document)
applied to the documents the rest of the filter lets through."""

from __future__ import annotations

from typing import Any

import pytest
import shoal


@pytest.fixture
def coll() -> Any:
    with shoal.open(durability="memory") as s:
        c = s.collection("c")
        c.create_index("g")
        c.insert_many({"_id": i, "g": i % 3, "name": f"n{i}"} for i in range(10))
        yield c


def ids(docs: list[dict[str, Any]]) -> list[Any]:
    return [d["_id"] for d in docs]


def test_find_with_a_callable(coll: Any) -> None:
    odd = lambda d: d["_id"] % 2 == 1  # noqa: E731
    assert ids(coll.find(odd)) == [1, 3, 5, 7, 9]
    assert ids(coll.find({"g": 1, "$where": odd})) == [1, 7]
    assert ids(coll.find(odd, sort=[("_id", -1)], skip=1, limit=2)) == [7, 5]
    assert coll.find(odd, projection=["name"], limit=1) == [{"_id": 1, "name": "n1"}]
    assert coll.find_one({"g": 2, "$where": odd})["_id"] == 5
    assert coll.find_one(lambda d: False) is None
    assert coll.count({"g": 0, "$where": odd}) == 2  # 3, 9
    assert coll.count(odd) == 5


def test_update_and_delete_with_a_callable(coll: Any) -> None:
    big = lambda d: d["_id"] >= 7  # noqa: E731
    r = coll.update({"g": 1, "$where": big}, {"$set": {"x": 1}}, multi=True)
    assert r.matched == 1 and coll.get(7)["x"] == 1
    r = coll.update(big, {"$set": {"y": 1}})
    assert r.matched == 1 and coll.get(7)["y"] == 1 and "y" not in coll.get(8)
    r = coll.update({"_id": 50, "$where": big}, {"$set": {"z": 1}}, upsert=True)
    assert r.upserted_key == 50 and coll.get(50) == {"_id": 50, "z": 1}
    assert coll.delete_one(big) is True and 7 not in coll
    assert coll.delete_many({"g": 2, "$where": big}) == 1  # 8
    assert ids(coll.find(big)) == [9, 50]


def test_callable_inside_a_transaction(coll: Any) -> None:
    store = coll.store
    with store.transaction() as tx:
        tc = tx[coll]
        tc.insert({"_id": 100, "g": 0})
        assert ids(tc.find(lambda d: d["_id"] > 50)) == [100]
        tc.delete_many(lambda d: d["_id"] > 50)
    assert 100 not in coll


def test_bad_callable_filters(coll: Any) -> None:
    with pytest.raises(shoal.QueryError, match=r"\$where"):
        coll.find({"$where": "this.a > 1"})
    with pytest.raises(shoal.QueryError):
        coll.distinct("g", lambda d: True)
    with pytest.raises(ZeroDivisionError):
        coll.find(lambda d: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        coll.delete_many(lambda d: 1 / 0)
    assert len(coll) == 10
