"""The pymongo names on sofart collections: inserts, cursors, updates, deletes, indexes."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import shoal
from shoal.sofart import (
    Collection,
    CollectionException,
    Database,
    DuplicateKeyError,
)


@pytest.fixture
def c() -> Any:
    db = Database()
    yield db.people
    db.close()


def fill(c: Collection) -> None:
    c.insert_many(
        [
            {"_id": "ada", "age": 36, "tags": ["math"], "city": "London"},
            {"_id": "alan", "age": 41, "tags": ["cs", "math"], "city": "London"},
            {"_id": "grace", "age": 85, "tags": ["cs"], "city": "NYC"},
            {"_id": "edsger", "age": 72, "tags": [], "city": "Austin"},
        ]
    )


def test_insert_one_and_many(c: Collection) -> None:
    doc: dict[str, Any] = {"name": "x"}
    r = c.insert_one(doc)
    assert doc["_id"] == r.inserted_id and len(r.inserted_id) == 36
    assert r.acknowledged
    docs: list[dict[str, Any]] = [{"n": 1}, {"_id": 7, "n": 2}]
    r2 = c.insert_many(docs)
    assert r2.inserted_ids == [docs[0]["_id"], 7]
    assert c.count_documents({}) == 3
    with pytest.raises(DuplicateKeyError):
        c.insert_one({"_id": 7})
    with pytest.raises(TypeError):
        c.insert_many([])


def test_insert_many_is_atomic(c: Collection) -> None:
    c.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError) as info:
        c.insert_many([{"_id": 2}, {"_id": 3}, {"_id": 1}])
    assert isinstance(info.value, shoal.DuplicateKeyError)
    assert isinstance(info.value, CollectionException)
    with pytest.raises(DuplicateKeyError):
        c.insert_many([{"_id": 4}, {"_id": 4}])
    with pytest.raises(TypeError):
        c.insert_many([{"_id": 5}, {"_id": 6, "bad": datetime.date.today()}])
    assert [d["_id"] for d in c.find()] == [1]


def test_cursor_chaining(c: Collection) -> None:
    fill(c)
    names = [d["_id"] for d in c.find({"city": "London"}).sort("age", -1)]
    assert names == ["alan", "ada"]
    page = c.find().sort([("age", 1)]).skip(1).limit(2)
    assert [d["_id"] for d in page] == ["alan", "edsger"]
    assert [d["_id"] for d in c.find(sort="age", skip=3)] == ["grace"]
    proj = list(c.find({"age": {"$gt": 70}}, {"age": 1}))
    assert proj == [{"_id": "grace", "age": 85}, {"_id": "edsger", "age": 72}]
    proj = list(c.find({"age": {"$gt": 70}}, projection={"_id": 0, "city": 1}))
    assert proj == [{"city": "NYC"}, {"city": "Austin"}]
    cursor = c.find()
    next(cursor)
    with pytest.raises(CollectionException):
        cursor.sort("age")
    assert c.find_one({"tags": {"$in": ["cs"]}}, {"_id": 1}) == {"_id": "alan"}
    assert c.find_one(filter={"city": "NYC"})["_id"] == "grace"


def test_cursor_generator_protocol(c: Collection) -> None:
    fill(c)
    cursor = c.find()
    assert cursor.send(None)["_id"] == "ada"
    with pytest.raises(ValueError):
        cursor.throw(ValueError)
    cursor.close()


def test_residual_queries_with_sort_skip_projection(c: Collection) -> None:
    fill(c)
    found = c.find({"tags": {"$all": ["math"]}}, {"age": 1}).sort("age", -1).skip(0).limit(5)
    assert list(found) == [{"_id": "alan", "age": 41}, {"_id": "ada", "age": 36}]


def test_update_one_many(c: Collection) -> None:
    fill(c)
    r = c.update_one({"city": "London"}, {"$inc": {"age": 1}})
    assert (r.matched_count, r.modified_count, r.upserted_id) == (1, 1, None)
    assert c.find_one("ada")["age"] == 37
    r = c.update_many({"city": "London"}, {"$set": {"country": "UK"}, "$push": {"tags": "uk"}})
    assert (r.matched_count, r.modified_count) == (2, 2)
    assert c.find_one("alan")["tags"] == ["cs", "math", "uk"]
    r = c.update_many({"city": "Nowhere"}, {"$set": {"x": 1}})
    assert (r.matched_count, r.modified_count) == (0, 0)
    r = c.update_many({"tags": {"$all": ["cs"]}}, {"$set": {"coder": True}})
    assert r.matched_count == 2
    assert [d["_id"] for d in c.find({"coder": True})] == ["alan", "grace"]


def test_update_errors_change_nothing(c: Collection) -> None:
    fill(c)
    with pytest.raises(shoal.Error):
        c.update_many({}, {"$inc": {"city": 1}})
    assert c.find_one("ada")["city"] == "London"
    with pytest.raises(ValueError):
        c.update_one({}, {"age": 1})
    with pytest.raises(CollectionException):
        c.update_one({}, {"$set": {"_id": "new"}})
    with pytest.raises(TypeError):
        c.update_one({}, {"$set": {"when": datetime.datetime.now()}})
    with pytest.raises(TypeError):
        c.update_one({}, {"$currentDate": {"when": True}})


def test_upsert(c: Collection) -> None:
    r = c.update_one({"name": "zed", "age": {"$gt": 5}}, {"$set": {"age": 9}}, upsert=True)
    assert r.matched_count == 0 and isinstance(r.upserted_id, str)
    assert c.find_one(r.upserted_id) == {"_id": r.upserted_id, "name": "zed", "age": 9}
    r = c.update_one({"_id": "k"}, {"$inc": {"n": 1}}, upsert=True)
    assert r.upserted_id == "k"
    r = c.update_one({"_id": "k"}, {"$inc": {"n": 1}}, upsert=True)
    assert r.upserted_id is None and c.find_one("k")["n"] == 2
    assert [d["_id"] for d in c.find()] == [c.find_one({"name": "zed"})["_id"], "k"]


def test_replace_one(c: Collection) -> None:
    fill(c)
    r = c.replace_one({"_id": "ada"}, {"name": "Ada Lovelace"})
    assert (r.matched_count, r.modified_count) == (1, 1)
    assert c.find_one("ada") == {"_id": "ada", "name": "Ada Lovelace"}
    assert [d["_id"] for d in c.find()][0] == "ada"  # keeps its place
    with pytest.raises(CollectionException):
        c.replace_one({"_id": "ada"}, {"_id": "other"})
    with pytest.raises(ValueError):
        c.replace_one({"_id": "ada"}, {"$set": {"x": 1}})
    r = c.replace_one({"_id": "new"}, {"v": 1}, upsert=True)
    assert r.upserted_id == "new" and c.find_one("new") == {"_id": "new", "v": 1}
    assert c.replace_one({"_id": "none"}, {"v": 1}).matched_count == 0


def test_delete_one_many(c: Collection) -> None:
    fill(c)
    assert c.delete_one({"city": "London"}).deleted_count == 1
    assert c.find_one("ada") is None
    assert c.delete_many({"age": {"$gt": 50}}).deleted_count == 2
    assert c.delete_many({"tags": {"$all": ["cs"]}}).deleted_count == 1
    assert c.count() == 0
    assert c.delete_many({}).deleted_count == 0


def test_counts_and_distinct(c: Collection) -> None:
    fill(c)
    assert c.count_documents({"city": "London"}) == 2
    assert c.count_documents({}, skip=1, limit=2) == 2
    assert c.estimated_document_count() == 4
    assert c.distinct("city") == ["Austin", "London", "NYC"]
    assert c.distinct("tags", {"city": "London"}) == ["cs", "math"]
    assert c.distinct("city", {"tags": {"$all": ["cs"]}}) == ["London", "NYC"]
    assert Database().nothing.distinct("x") == []


def test_indexes(c: Collection) -> None:
    fill(c)
    name = c.create_index("age")
    assert name == "age_1"
    c.create_index([("city", 1), ("age", -1)], unique=True)
    info = c.index_information()
    assert info["age_1"]["key"] == [("age", 1)] and "city_1_age_-1" in info
    assert c.explain({"age": {"$gte": 40, "$lt": 80}})["access"] == "index"
    assert [d["_id"] for d in c.find({"age": {"$gte": 40, "$lt": 80}})] == ["alan", "edsger"]
    with pytest.raises(DuplicateKeyError):
        c.insert_one({"city": "NYC", "age": 85})
    c.drop_index("age_1")
    assert "age_1" not in c.index_information()
    with pytest.raises(CollectionException):
        c.drop_index("_id_")


def test_index_survives_sync_and_reopen(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    d = Database(p)
    d.c.create_index("v", unique=True)
    d.c.save({"v": 1})
    d.sync()
    d.close()
    again = Database(p)
    assert "v_1" in again.c.index_information()
    with pytest.raises(DuplicateKeyError):
        again.c.save({"v": 1})


def test_cursor_throw_and_close_finish_it(c: Collection) -> None:
    fill(c)
    cursor = c.find()
    assert next(cursor)["_id"] == "ada"
    with pytest.raises(KeyError):
        cursor.throw(KeyError("stop"))
    assert list(cursor) == []
    other = c.find()
    other.close()
    assert list(other) == []
