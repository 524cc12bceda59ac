"""find(): sort, projection, skip/limit windows, distinct."""

from __future__ import annotations

import pytest
import shoal


@pytest.fixture
def coll():
    with shoal.open() as store:
        c = store.collection("people")
        c.insert_many(
            [
                {"_id": 1, "name": "ada", "age": 36, "tags": ["b", "z"], "n": {"a": 1, "b": 2}},
                {"_id": 2, "name": "alan", "age": 41, "tags": ["a"]},
                {"_id": 3, "name": "grace", "age": 36, "n": {"a": 3}},
                {"_id": 4, "name": "edsger", "tags": []},
            ]
        )
        yield c


def ids(docs):
    return [d["_id"] for d in docs]


def test_sort_forms_and_ties_keep_key_order(coll):
    assert ids(coll.find(sort="age")) == [4, 1, 3, 2]  # missing sorts as None, first
    assert ids(coll.find(sort=[("age", -1)])) == [2, 1, 3, 4]
    assert ids(coll.find(sort={"age": -1, "name": 1})) == [2, 1, 3, 4]
    assert ids(coll.find(sort=[("age", 1), ("name", -1)])) == [4, 3, 1, 2]
    assert ids(coll.find({"age": 36}, sort=[("name", -1)])) == [3, 1]


def test_sort_by_arrays_uses_min_or_max_element(coll):
    # ascending: smallest element ("a" < "b"); empty list sorts before values
    assert ids(coll.find({"tags": {"$exists": True}}, sort="tags"))[-2:] == [2, 1]
    assert ids(coll.find({"tags": {"$exists": True}}, sort=[("tags", -1)]))[0] == 1


def test_skip_and_limit_apply_after_sorting(coll):
    assert ids(coll.find(sort=[("_id", -1)], skip=1, limit=2)) == [3, 2]
    assert ids(coll.find(skip=3)) == [4]
    assert coll.find(skip=10) == []
    assert coll.find_one(sort=[("age", -1)])["_id"] == 2


def test_projection_inclusion_exclusion_and_id(coll):
    assert coll.find({"_id": 1}, projection={"name": 1}) == [{"_id": 1, "name": "ada"}]
    assert coll.find({"_id": 1}, projection=["name", "n.b"]) == [
        {"_id": 1, "name": "ada", "n": {"b": 2}}
    ]
    assert coll.find({"_id": 1}, projection={"name": 1, "_id": 0}) == [{"name": "ada"}]
    assert coll.find({"_id": 3}, projection={"n": 0, "age": 0}) == [{"_id": 3, "name": "grace"}]
    assert coll.find_one({"_id": 1}, projection={"n.a": 0})["n"] == {"b": 2}
    # _id alone: kept alone, or dropped alone (as in MongoDB).
    assert coll.find({"_id": 1}, projection={"_id": 1}) == [{"_id": 1}]
    assert "_id" not in coll.find_one({"_id": 1}, projection={"_id": 0})
    assert coll.find_one({"_id": 1}, projection={"_id": 0})["name"] == "ada"
    assert coll.find_one({"_id": 1}, projection={}) == coll.get(1)
    with pytest.raises(shoal.QueryError):
        coll.find(projection={"name": 1, "age": 0})
    with pytest.raises(shoal.QueryError):
        coll.find(projection={"name": "yes"})


def test_bad_sorts_are_query_errors(coll):
    for bad in ([("age", 2)], [("age",)], [(1, 1)], []):
        with pytest.raises(shoal.QueryError):
            coll.find(sort=bad)


def test_distinct(coll):
    assert coll.distinct("age") == [36, 41]
    assert coll.distinct("tags") == ["a", "b", "z"]
    assert coll.distinct("n.a", {"age": 36}) == [1, 3]
    assert coll.distinct("missing") == []
    with pytest.raises(shoal.QueryError):
        coll.distinct("a..b")
