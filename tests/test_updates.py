"""Update operators, replacement, upsert, delete_many / delete_one."""

from __future__ import annotations

import datetime

import pytest
import shoal


@pytest.fixture
def coll():
    with shoal.open() as store:
        c = store.collection("people")
        c.insert_many(
            [
                {"_id": 1, "name": "ada", "age": 36, "tags": ["math"], "n": {"a": 1}},
                {"_id": 2, "name": "alan", "age": 41, "tags": []},
                {"_id": 3, "name": "grace", "age": 85},
            ]
        )
        yield c


def test_set_and_unset_nested_paths(coll):
    r = coll.update({"_id": 1}, {"$set": {"n.b": 2, "x.y.z": 3}, "$unset": {"n.a": ""}})
    assert r == (1, 1, None)
    assert coll.get(1)["n"] == {"b": 2}
    assert coll.get(1)["x"] == {"y": {"z": 3}}


def test_inc_mul_min_max(coll):
    coll.update({"_id": 2}, {"$inc": {"age": 2, "visits": 1}, "$mul": {"score": 3}})
    doc = coll.get(2)
    assert doc["age"] == 43 and doc["visits"] == 1 and doc["score"] == 0
    coll.update({"_id": 2}, {"$min": {"age": 40}, "$max": {"visits": 0}})
    doc = coll.get(2)
    assert doc["age"] == 40 and doc["visits"] == 1
    coll.update({"_id": 2}, {"$inc": {"age": 0.5}})
    assert coll.get(2)["age"] == 40.5


def test_array_operators(coll):
    coll.update({"_id": 1}, {"$push": {"tags": {"$each": ["poetry", "math"]}}})
    assert coll.get(1)["tags"] == ["math", "poetry", "math"]
    coll.update({"_id": 1}, {"$addToSet": {"tags": {"$each": ["math", "music"]}}})
    assert coll.get(1)["tags"] == ["math", "poetry", "math", "music"]
    coll.update({"_id": 1}, {"$pull": {"tags": "math"}})
    assert coll.get(1)["tags"] == ["poetry", "music"]
    coll.update({"_id": 1}, {"$pop": {"tags": -1}})
    assert coll.get(1)["tags"] == ["music"]
    coll.update({"_id": 2}, {"$push": {"tags": 5}})
    coll.update({"_id": 2}, {"$push": {"tags": 9}})
    coll.update({"_id": 2}, {"$pull": {"tags": {"$gt": 6}}})
    assert coll.get(2)["tags"] == [5]
    coll.update({"_id": 3}, {"$push": {"pets": {"kind": "cat"}}})
    coll.update({"_id": 3}, {"$pull": {"pets": {"kind": "cat"}}})
    assert coll.get(3)["pets"] == []


def test_rename_and_current_date(coll):
    coll.update({"_id": 3}, {"$rename": {"name": "full_name"}, "$currentDate": {"seen": True}})
    doc = coll.get(3)
    assert "name" not in doc and doc["full_name"] == "grace"
    assert isinstance(doc["seen"], datetime.datetime)
    assert doc["seen"].utcoffset() == datetime.timedelta(0)


def test_multi_updates_every_match_atomically(coll):
    r = coll.update({"age": {"$gt": 40}}, {"$set": {"senior": True}}, multi=True)
    assert r.matched == 2 and r.modified == 2
    assert coll.count({"senior": True}) == 2
    # An error on any document changes none of them.
    with pytest.raises(shoal.QueryError):
        coll.update({}, {"$inc": {"name": 1}}, multi=True)
    assert [d["name"] for d in coll.find()] == ["ada", "alan", "grace"]


def test_single_update_touches_only_the_first_match(coll):
    r = coll.update({"age": {"$gt": 0}}, {"$set": {"first": True}})
    assert r.matched == 1
    assert coll.count({"first": True}) == 1 and coll.get(1)["first"] is True


def test_replacement_keeps_the_key(coll):
    coll.update({"name": "alan"}, {"name": "Alan Turing"})
    assert coll.get(2) == {"name": "Alan Turing", "_id": 2}
    with pytest.raises(shoal.QueryError):
        coll.update({"_id": 2}, {"_id": 99, "name": "x"})
    assert 99 not in coll and coll.get(2)["name"] == "Alan Turing"


def test_key_fields_cannot_change(coll):
    for upd in ({"$set": {"_id": 7}}, {"$unset": {"_id": ""}}, {"$rename": {"_id": "id"}}):
        with pytest.raises(shoal.QueryError):
            coll.update({"_id": 1}, upd)
    assert coll.get(1)["name"] == "ada"


def test_upsert(coll):
    r = coll.update({"name": "edsger", "age": {"$gt": 1}}, {"$set": {"age": 72}}, upsert=True)
    assert r.matched == 0 and isinstance(r.upserted_key, str)
    assert coll.get(r.upserted_key) == {"_id": r.upserted_key, "name": "edsger", "age": 72}
    r = coll.update({"_id": 10}, {"name": "x"}, upsert=True)
    assert r.upserted_key == 10 and coll.get(10) == {"name": "x", "_id": 10}
    r = coll.update({"name": "nobody"}, {"$set": {"a": 1}})
    assert r == (0, 0, None) and coll.count() == 5


def test_bad_updates_are_query_errors(coll):
    for upd in (
        {},
        {"$bogus": {"a": 1}},
        {"$set": {"a": 1}, "plain": 2},
        {"$set": 5},
        {"$inc": {"age": "one"}},
        {"$pop": {"tags": 2}},
        {"$set": {"a..b": 1}},
    ):
        with pytest.raises(shoal.QueryError):
            coll.update({"_id": 1}, upd)
    with pytest.raises(shoal.QueryError):
        coll.update({"_id": 1}, ["not", "a", "dict"])
    with pytest.raises(shoal.QueryError):
        coll.update({"_id": 2}, {"$push": {"name": 1}})
    assert coll.get(1)["name"] == "ada" and coll.get(2)["name"] == "alan"


def test_delete_many_and_delete_one(coll):
    assert coll.delete_one({"age": {"$gt": 40}}) is True
    assert 2 not in coll and 3 in coll
    assert coll.delete_one({"name": "nobody"}) is False
    assert coll.delete_many({"age": {"$gt": 0}}) == 2
    assert len(coll) == 0
    with pytest.raises(shoal.QueryError):
        coll.delete_many({"age": {"$bogus": 1}})


def test_updates_survive_reopen(tmp_path):
    with shoal.open(tmp_path / "s") as store:
        c = store.collection("c")
        c.insert({"_id": "a", "n": 1})
        c.update({"_id": "a"}, {"$inc": {"n": 41}})
    with shoal.open(tmp_path / "s") as store:
        assert store.collection("c").get("a") == {"_id": "a", "n": 42}


def test_primary_key_filters_read_only_their_documents(tmp_path):
    # Equality (or $in) on the primary key is a direct lookup, and must give
    # exactly what a scan gives.
    with shoal.open(tmp_path / "s") as store:
        c = store.collection("c")
        c.insert_many([{"_id": i, "v": i % 7} for i in range(2000)])
        assert c.find({"_id": 1500}) == [{"_id": 1500, "v": 1500 % 7}]
        assert c.find({"_id": 1500, "v": 0}) == []
        assert [d["_id"] for d in c.find({"_id": {"$in": [9, 3, 1999, 5000, 3]}})] == [3, 9, 1999]
        assert c.count({"_id": {"$in": [1, 2, 3]}, "v": {"$gt": 1}}) == 2
        assert c.find_one({"_id": 1.0}) == {"_id": 1, "v": 1}
        assert c.update({"_id": 42}, {"$set": {"v": "x"}}) == (1, 1, None)
        assert c.update({"_id": 42, "v": 0}, {"$set": {"v": "y"}}) == (0, 0, None)
        assert c.get(42)["v"] == "x"
        assert c.delete_one({"_id": 43}) is True and 43 not in c
        assert c.delete_many({"_id": {"$in": [44, 45, 9999]}}) == 2
        assert c.update({"_id": 9999}, {"$set": {"v": 1}}, upsert=True).upserted_key == 9999
        pair = store.collection("pairs", key=("a", "b"))
        pair.insert_many([{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}])
        assert pair.find({"a": 1, "b": "y"}) == [{"a": 1, "b": "y"}]
        assert [d["b"] for d in pair.find({"a": 1})] == ["x", "y"]
