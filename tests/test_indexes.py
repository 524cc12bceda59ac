"""Secondary indexes: definitions, unique and sparse rules, atomicity with
the documents, persistence, and the planner's choices as ``explain`` shows
them. (``test_indexes_model.py`` checks that indexes never change results.)
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pytest
import shoal


@pytest.fixture
def store(tmp_path: Any) -> Any:
    s = shoal.open(tmp_path / "db")
    yield s
    s.close()


@pytest.fixture
def people(store: Any) -> Any:
    c = store.collection("people")
    c.insert_many(
        {
            "_id": i,
            "name": f"p{i}",
            "age": i % 50,
            "city": "abcde"[i % 5],
            "tags": [f"t{i % 3}", "all"],
        }
        for i in range(200)
    )
    return c


# --- definitions ---------------------------------------------------------------


def test_create_index_forms_and_names(people: Any) -> None:
    assert people.create_index("city") == "city_1"
    assert people.create_index([("age", -1), ("city", 1)]) == "age_-1_city_1"
    assert people.create_index(["name", "age"]) == "name_1_age_1"
    assert people.create_index({"tags": 1}, name="by_tag") == "by_tag"
    listed = {i["name"]: i for i in people.indexes()}
    assert set(listed) == {"city_1", "age_-1_city_1", "name_1_age_1", "by_tag"}
    assert listed["age_-1_city_1"]["fields"] == [("age", -1), ("city", 1)]
    assert listed["by_tag"]["multikey"] is True
    assert listed["city_1"]["multikey"] is False
    # The same definition again is a no-op; another under the same name is refused.
    assert people.create_index("city") == "city_1"
    with pytest.raises(shoal.InvalidArgumentError):
        people.create_index("age", name="city_1")
    with pytest.raises(shoal.InvalidArgumentError):
        people.create_index("city", name="other")


@pytest.mark.parametrize(
    "fields,error",
    [
        ([], shoal.InvalidArgumentError),
        ("", shoal.InvalidArgumentError),
        ("a..b", shoal.InvalidArgumentError),
        ("$a", shoal.InvalidArgumentError),
        ([("a", 2)], shoal.InvalidArgumentError),
        (["a", "a"], shoal.InvalidArgumentError),
        (5, TypeError),
        ([("a", "up")], TypeError),
        ([("a", 1, 2)], TypeError),
    ],
)
def test_bad_index_fields_are_refused(people: Any, fields: Any, error: type) -> None:
    with pytest.raises(error):
        people.create_index(fields)
    assert people.indexes() == []


def test_drop_index(people: Any) -> None:
    people.create_index("city")
    assert people.explain({"city": "a"})["access"] == "index"
    people.drop_index("city_1")
    assert people.indexes() == []
    assert people.explain({"city": "a"})["access"] == "scan"
    assert people.count({"city": "a"}) == 40
    with pytest.raises(KeyError):
        people.drop_index("city_1")
    # Recreated (same id reused): no stale entries or counters.
    people.create_index("city")
    assert people.count({"city": "a"}) == 40
    assert people.explain({"city": "a"}, count=True)["docs_examined"] == 0


# --- unique and sparse -----------------------------------------------------------


def test_unique_index_refuses_duplicates_and_writes_nothing(store: Any) -> None:
    users = store.collection("users")
    users.create_index("email", unique=True)
    users.insert({"_id": 1, "email": "a@x"})
    with pytest.raises(shoal.DuplicateKeyError, match="email"):
        users.insert({"_id": 2, "email": "a@x"})
    with pytest.raises(shoal.DuplicateKeyError):
        users.insert_many([{"_id": 3, "email": "c@x"}, {"_id": 4, "email": "c@x"}])
    with pytest.raises(shoal.DuplicateKeyError):
        users.put({"_id": 5, "email": "a@x"})
    assert [d["_id"] for d in users.find()] == [1]
    assert users.count({"email": "c@x"}) == 0
    # A document may keep its own value; 1 and 1.0 are the same value.
    users.put({"_id": 1, "email": "a@x", "n": 1})
    users.insert({"_id": 6, "email": 1})
    with pytest.raises(shoal.DuplicateKeyError):
        users.insert({"_id": 7, "email": 1.0})
    # An update that would duplicate writes nothing, even with multi.
    users.insert({"_id": 8, "email": "b@x"})
    with pytest.raises(shoal.DuplicateKeyError):
        users.update({"_id": 8}, {"$set": {"email": "a@x"}})
    with pytest.raises(shoal.DuplicateKeyError):
        users.update({}, {"$set": {"email": "same"}}, multi=True)
    assert users.get(8)["email"] == "b@x"
    # A value moving from one document to another in one update is fine.
    users.delete(1)
    users.insert({"_id": 1, "email": "moving"})
    users.update({"_id": {"$in": [1, 8]}}, {"$set": {"email": "x"}}, multi=False)
    assert users.find_one({"email": "x"})["_id"] == 1
    # Missing fields are all None: a second document without one collides.
    users.insert({"_id": 10})
    with pytest.raises(shoal.DuplicateKeyError):
        users.insert({"_id": 11})


def test_unique_index_on_existing_duplicates_is_not_created(people: Any) -> None:
    with pytest.raises(shoal.DuplicateKeyError):
        people.create_index("city", unique=True)
    assert people.indexes() == []
    assert people.explain({"city": "a"})["access"] == "scan"


def test_unique_index_refuses_values_it_cannot_compare(store: Any) -> None:
    c = store.collection("c")
    c.create_index("a", unique=True)
    with pytest.raises(shoal.InvalidArgumentError, match="unique index"):
        c.insert({"_id": 1, "a": {"x": 1}})
    assert len(c) == 0


def test_sparse_index_skips_documents_without_the_field(store: Any) -> None:
    c = store.collection("c")
    c.create_index("email", unique=True, sparse=True)
    c.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3, "email": "a"}])
    with pytest.raises(shoal.DuplicateKeyError):
        c.insert({"_id": 4, "email": "a"})
    assert c.explain({"email": "a"})["access"] == "index"
    # None matches the documents the sparse index lacks: it is not used.
    assert c.explain({"email": None})["access"] == "scan"
    assert [d["_id"] for d in c.find({"email": None})] == [1, 2]
    assert c.count({"email": {"$in": [None, "a"]}}) == 3


# --- the planner ---------------------------------------------------------------


def test_planner_choices(people: Any) -> None:
    people.create_index("city")
    people.create_index("age")
    people.create_index([("city", 1), ("age", 1)])
    plan = people.explain({"_id": {"$in": [1, 2]}, "city": "b"})
    assert plan["access"] == "primary_key" and plan["docs_examined"] == 2
    plan = people.explain({"city": "b", "age": {"$gte": 10, "$lt": 20}})
    assert plan["index"] == "city_1_age_1" and plan["equality_fields"] == 1 and plan["range_field"]
    assert plan["docs_examined"] == plan["returned"] == 8
    plan = people.explain({"age": {"$gt": 45}})
    assert plan["index"] == "age_1" and plan["docs_examined"] == plan["returned"] == 16
    assert people.explain({"name": "p1"})["access"] == "scan"
    # $or: one plan per branch when every branch has one, else a scan.
    plan = people.explain({"$or": [{"city": "a"}, {"age": 1}]})
    assert plan["access"] == "union" and plan["branches"] == ["city_1", "age_1"]
    assert plan["docs_examined"] == plan["returned"] == 44
    plan = people.explain({"name": "p6", "$or": [{"age": {"$lt": 2}}, {"_id": 6}]})
    assert plan["access"] == "union" and plan["branches"] == ["age_1", "key_range"]
    assert plan["returned"] == 1
    assert people.explain({"$or": [{"city": "a"}, {"name": "p1"}]})["access"] == "scan"


def test_counting_with_an_index_reads_no_document(people: Any) -> None:
    people.create_index("city")
    people.create_index("age")
    people.create_index("tags")
    for flt, n in [
        ({"city": "a"}, 40),
        ({"city": {"$in": ["a", "b", "zz"]}}, 80),
        ({"age": {"$gte": 10, "$lt": 20}}, 40),
        ({"tags": "t1"}, 67),
        ({"tags": {"$in": ["t1", "all"]}}, 200),
    ]:
        plan = people.explain(flt, count=True)
        assert plan["access"] == "index" and plan["docs_examined"] == 0, (flt, plan)
        assert people.count(flt) == n == plan["returned"]
    # A condition the index does not cover: the candidates are read.
    plan = people.explain({"city": "a", "name": "p0"}, count=True)
    assert plan["docs_examined"] == 40 and plan["returned"] == 1


def test_sort_and_limit_read_through_the_index(people: Any) -> None:
    people.create_index("age")
    plan = people.explain({}, sort=[("age", -1)], limit=3)
    assert plan["ordered"] and plan["docs_examined"] == 3
    top = people.find({}, sort=[("age", -1)], limit=3)
    assert [(d["age"], d["_id"]) for d in top] == [(49, 49), (49, 99), (49, 149)]
    plan = people.explain({"age": {"$lt": 5}}, sort=[("age", 1)], skip=2, limit=2)
    assert plan["ordered"] and plan["docs_examined"] == 4
    got = people.find({"age": {"$lt": 5}}, sort=[("age", 1)], skip=2, limit=2)
    assert [(d["age"], d["_id"]) for d in got] == [(0, 100), (0, 150)]


def test_index_values_of_every_type(store: Any) -> None:
    c = store.collection("c")
    c.create_index("v")
    values = [
        None,
        True,
        -(2**70),
        -1.5,
        0,
        2**64,
        decimal.Decimal("2.5"),
        "s",
        b"b",
        uuid.UUID(int=5),
        datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
        datetime.datetime(2021, 1, 1),
        [1, 2],
        {"x": 1},
    ]
    c.insert_many({"_id": i, "v": v} for i, v in enumerate(values))
    for i, v in enumerate(values):
        if isinstance(v, (list, dict)):
            continue
        assert i in [d["_id"] for d in c.find({"v": v})], v
    assert [d["_id"] for d in c.find({"v": {"$gte": 0, "$lt": 3}})] == [4, 6, 12]
    assert c.count({"v": {"$gt": datetime.datetime(2020, 6, 1)}}) == 1
    assert c.find({"v": {"x": 1}})[0]["_id"] == 13


# --- atomicity, persistence, drop ------------------------------------------------


def test_indexes_persist_and_follow_every_write(tmp_path: Any) -> None:
    path = tmp_path / "db"
    with shoal.open(path) as s:
        c = s.collection("c")
        c.create_index("k")
        c.insert_many({"_id": i, "k": i % 3} for i in range(30))
        c.update({"k": 0}, {"$set": {"k": 5}}, multi=True)
        c.delete_many({"k": 1})
        c.put({"_id": 100, "k": [7, 8]})
        c.replace({"_id": 2, "k": 7})
        c.delete(5)
    with shoal.open(path) as s:
        c = s.collection("c")
        assert c.indexes()[0]["multikey"] is True
        assert c.count({"k": 5}) == 10
        assert c.count({"k": 1}) == 0
        assert sorted(d["_id"] for d in c.find({"k": 7})) == [2, 100]
        assert c.count({"k": 2}) == 8  # 10 minus 2 (replaced) and 5 (deleted)
        assert c.explain({"k": 2}, count=True)["docs_examined"] == 0


def test_handles_share_their_collection_indexes(store: Any) -> None:
    a = store.collection("c")
    b = store.collection("c")
    a.create_index("k", unique=True)
    b.insert({"_id": 1, "k": 1})
    with pytest.raises(shoal.DuplicateKeyError):
        a.insert({"_id": 2, "k": 1})
    assert b.explain({"k": 1})["index"] == "k_1"


def test_drop_collection_removes_its_indexes(store: Any) -> None:
    c = store.collection("c")
    c.create_index("k")
    c.insert({"_id": 1, "k": 1})
    assert c.drop() is True
    assert "c" not in store.collections()
    c2 = store.collection("c")
    assert c2.indexes() == []
    assert len(c2) == 0
    assert store.drop_collection("c") is True
    assert store.drop_collection("c") is False
