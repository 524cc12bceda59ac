"""The numbered behaviours of spec/sofart.md section 2 (test_bNN) and the defects of
section 4 that the face must not reproduce (test_dNN), one test each.
"""

from __future__ import annotations

import collections.abc
import copy
import datetime
import json
import os
import pickle
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import shoal.sofart as sofart
from shoal.sofart import (
    Collection,
    CollectionError,
    CollectionException,
    Database,
    DatabaseError,
    DatabaseException,
    QueryError,
    QueryException,
)


@pytest.fixture
def db() -> Any:
    d = Database()
    yield d
    d.close()


@pytest.fixture
def c(db: Database) -> Collection:
    return db.c


def ids(found: Any) -> list[Any]:
    return [d["_id"] for d in found]


# -- 1.1 / 1.2: names and exceptions ------------------------------------------------
def test_module_names() -> None:
    assert (sofart.__title__, sofart.__version__, sofart.__author__) == (
        "sofart",
        "0.3.6",
        "toxinu",
    )
    from shoal.sofart.collection import Collection as C
    from shoal.sofart.database import Database as D
    from shoal.sofart.operators import computequery, isadvancedquery
    from shoal.sofart.serializers import _json, _msgpack, _pickle

    assert (C, D) == (Collection, Database)
    assert isadvancedquery(None, {"$gt": 1}) and not isadvancedquery(None, {"$regex": "x"})
    assert computequery(5, {"$gt": 1, "$lt": 9})
    for module in (_json, _pickle, _msgpack):
        assert hasattr(module.Serializer("x"), "load")


def test_exception_classes() -> None:
    assert issubclass(DatabaseException, RuntimeError)
    assert issubclass(DatabaseError, DatabaseException)
    assert issubclass(CollectionException, RuntimeError)
    assert issubclass(CollectionError, CollectionException)
    assert issubclass(QueryError, QueryException)
    assert issubclass(QueryException, RuntimeError)
    e = DatabaseError("boom")
    assert (str(e), e.parameter) == ("'boom'", "boom")
    assert str(CollectionError("x")) == "'x'"
    assert str(CollectionException("plain")) == "plain"
    assert str(QueryError("q")) == "'q'"


def test_repr(tmp_path: Path) -> None:
    d = Database()
    assert repr(d) == 'Database(path="None", mode="single")'
    assert repr(d.users) == 'users(Database(path="None", mode="single"))'
    p = tmp_path / "f.json"
    assert repr(Database(p, mode="multi")) == f'Database(path="{p}", mode="multi")'


# -- section 2 -------------------------------------------------------------------------
def test_b01_invalid_mode(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError) as info:
        Database(tmp_path / "x", mode="foo")
    assert str(info.value) == "'Invalid database mode'"


def test_b02_file_created_at_once(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    Database(p)
    data = json.loads(p.read_text())
    assert list(data) == ["_infos"]
    assert data["_infos"]["total_entries"] == 0
    assert data["_infos"]["serializer"] == "json"
    datetime.datetime.fromisoformat(data["_infos"]["creation_date"])


def test_b03_no_implicit_creation(db: Database) -> None:
    assert db.collection_names() == []
    db.test  # noqa: B018 - attribute access alone
    db["other"]  # noqa: B018
    assert db.collection_names() == []


def test_b04_generated_id(c: Collection) -> None:
    doc = {"a": 1}
    i = c.save(doc)
    assert isinstance(i, str) and len(i) == 36 and uuid.UUID(i).version == 4
    assert c.find_one() == {"a": 1, "_id": i}
    assert doc == {"a": 1}


def test_b05_given_id(c: Collection) -> None:
    assert c.save({"_id": 5, "x": 1}) == 5
    assert c.find_one(5) == {"_id": 5, "x": 1}


@pytest.mark.parametrize("falsy", [0, "", None, False])
def test_b06_falsy_id_replaced(c: Collection, falsy: Any) -> None:
    i = c.save({"_id": falsy})
    assert isinstance(i, str) and len(i) == 36
    assert c.find_one(i) == {"_id": i}


def test_b07_duplicate_id(c: Collection) -> None:
    c.save({"_id": 5})
    with pytest.raises(CollectionException) as info:
        c.save({"_id": 5, "other": 1})
    assert str(info.value) == "Id already taken"
    assert c.count() == 1 and c.find_one(5) == {"_id": 5}


def test_b07_python_equality_of_ids(c: Collection) -> None:
    c.save({"_id": 1})
    for same in (1.0, True):
        with pytest.raises(CollectionException):
            c.save({"_id": same})
    assert c.count() == 1


def test_b08_save_needs_a_dict(c: Collection) -> None:
    for bad in ([1], "x", None, 5):
        with pytest.raises(CollectionException) as info:
            c.save(bad)
        assert str(info.value) == "Save is not valid"


def test_b09_insertion_order(c: Collection) -> None:
    a, b, cc = {"n": "a", "_id": "z"}, {"n": "b", "_id": 1}, {"n": "c"}
    got = [c.save(d) for d in (a, b, cc)]
    assert list(c.find()) == [
        {"n": "a", "_id": "z"},
        {"n": "b", "_id": 1},
        {"n": "c", "_id": got[2]},
    ]


def test_b10_find_is_a_lazy_generator(c: Collection) -> None:
    cursor = c.find()
    assert isinstance(cursor, collections.abc.Generator)
    assert iter(cursor) is cursor
    c.save({"late": True})  # saved before the first next(): seen
    assert list(cursor) == [c.find_one()]


def test_b11_limit(c: Collection) -> None:
    for i in range(4):
        c.save({"i": i})
    assert [d["i"] for d in c.find({}, limit=2)] == [0, 1]
    assert len(list(c.find({}, limit=0))) == 4
    assert list(c.find({}, limit=-1)) == []


def test_b12_find_by_id(c: Collection) -> None:
    i = c.save({"x": 1})
    assert list(c.find("nope")) == []
    assert list(c.find(i)) == [{"x": 1, "_id": i}]


def test_b13_python_equality(c: Collection) -> None:
    for v in (1, True, 2, 1.0, "1"):
        c.save({"v": v})
    assert [d["v"] for d in c.find({"v": 1})] == [1, True, 1.0]
    assert [d["v"] for d in c.find({"v": True})] == [1, True, 1.0]


def test_b14_lists_compare_whole(c: Collection) -> None:
    c.save({"t": ["a", "b"]})
    assert list(c.find({"t": "a"})) == []
    assert len(list(c.find({"t": ["a", "b"]}))) == 1
    assert list(c.find({"t": ["b", "a"]})) == []


def test_b15_no_dot_notation(c: Collection) -> None:
    c.save({"n": {"a": 1}})
    c.save({"n.a": 2})
    assert list(c.find({"n.a": 1})) == []
    assert [d["n.a"] for d in c.find({"n.a": 2})] == [2]
    assert len(list(c.find({"n": {"a": 1}}))) == 1


def test_b16_regex_anchored(c: Collection) -> None:
    c.save({"artist": "Jambon"})
    assert c.find_one({"artist": re.compile("^JambON", re.I)}) is not None
    assert c.find_one({"artist": "JamBOn"}) is None
    assert c.find_one({"artist": re.compile("amb")}) is None
    assert c.find_one({"artist": re.compile("Jamb")}) is not None


def test_b17_ranges(c: Collection) -> None:
    c.save({"value": 2, "value2": 150})
    assert c.find_one({"value": {"$gt": 1, "$lte": 2}}) is not None
    assert c.find_one({"value": {"$gt": 3, "$lte": 2}}) is None
    assert c.find_one({"value": {"$gt": 1}, "value2": {"$lt": 100}}) is None
    assert c.find_one({"value": {"$gt": 1}, "value2": {"$gte": 150}}) is not None


def test_b18_all(c: Collection) -> None:
    c.save({"test013": [1, 2, 3]})
    assert c.find_one({"test013": {"$all": [2, 3]}}) is not None
    assert c.find_one({"test013": {"$all": [2, 3, 4]}}) is None


def test_b19_all_on_strings(c: Collection) -> None:
    c.save({"s": "abc"})
    assert c.find_one({"s": {"$all": ["a", "c"]}}) is not None
    assert c.find_one({"s": {"$all": ["a", "d"]}}) is None


def test_b20_exists(c: Collection) -> None:
    c.save({"_id": "present", "f": 0})
    c.save({"_id": "absent"})
    c.save({"_id": "none", "f": None})
    assert ids(c.find({"f": {"$exists": True}})) == ["present"]
    assert ids(c.find({"f": {"$exists": False}})) == ["absent", "none"]
    assert ids(c.find({"f": {"$exists": 1}})) == ["present"]
    assert ids(c.find({"f": {"$exists": 0}})) == ["absent", "none"]


def test_b21_mod(c: Collection) -> None:
    c.save({"value": 2})
    c.save({"value2": 150})
    assert c.find_one({"value": {"$mod": [2, 0]}}) is not None
    assert c.find_one({"value2": {"$mod": [60, 30]}}) is not None
    assert c.find_one({"value2": {"$mod": [60, 25]}}) is None
    cursor = c.find({"value": {"$mod": [2]}})
    with pytest.raises(QueryError):
        next(cursor)


def test_b22_ne_excludes_missing(c: Collection) -> None:
    c.save({"_id": 1, "value": 2})
    c.save({"_id": 2, "value": 3})
    c.save({"_id": 3})
    assert ids(c.find({"value": {"$ne": 2}})) == [2]


def test_b23_in_nin(c: Collection) -> None:
    c.save({"_id": "list", "test017": [1, 2, 5]})
    c.save({"_id": "one", "test017": 1})
    assert ids(c.find({"test017": {"$in": [1, 6, 9]}})) == ["list", "one"]
    assert ids(c.find({"test017": {"$in": [6, 120, 9]}})) == []
    assert ids(c.find({"test017": {"$nin": [1, 6, 9]}})) == []
    assert c.find_one({"test017": {"$nin": [6, 120, 9]}})["_id"] == "list"


def test_b24_nin_on_missing(c: Collection) -> None:
    c.save({"other": 1})
    assert list(c.find({"f": {"$nin": [1]}})) == []


def test_b25_remove_while_iterating(c: Collection) -> None:
    for i in range(50):
        c.save({"i": i})
    seen = []
    for d in c.find():
        seen.append(d["i"])
        c.remove(d["_id"])
    assert seen == list(range(50)) and c.count() == 0


def test_b26_remove_unknown(c: Collection) -> None:
    c.save({"x": 1})
    c.save({"_id": 5})
    for unknown in ("unknown", {"$gt": 1}, {"$exists": True}, re.compile(".*"), [5], None):
        c.remove(unknown)  # equality only: never a query
    assert c.count() == 2


def test_b27_rename_errors(db: Database) -> None:
    db.a.save({})
    db.b.save({})
    with pytest.raises(DatabaseError) as info:
        db.rename("a", "b")
    assert info.value.parameter == "Collection name already taken"
    with pytest.raises(DatabaseError) as info:
        db.rename("missing", "z")
    assert info.value.parameter == "Collection not exist"


def test_b28_collection_rename(db: Database) -> None:
    c = db.first
    c.save({"k": 1})
    db.second.save({})
    c.rename("c2")
    assert c.name == "c2" and c.find_one({"k": 1})["k"] == 1
    assert db.collection_names() == ["second", "c2"]
    with pytest.raises(CollectionException) as info:
        c.rename("second")
    assert str(info.value) == "Collection name already taken"


def test_b29_drop_collection(db: Database) -> None:
    with pytest.raises(DatabaseError) as info:
        db.drop_collection("_infos")
    assert info.value.parameter == 'Can\'t remove "_infos" database'
    db.drop_collection("missing")
    db.x.save({})
    db.x.drop()
    assert db.collection_names() == []


def test_b30_single_mode_needs_sync(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    Database(p).c.save({"x": 1})
    assert Database(p).c.count() == 0
    d = Database(p)
    d.c.save({"x": 1})
    d.sync()
    assert Database(p).c.count() == 1
    assert json.loads(p.read_text())["c"][0]["x"] == 1


def test_b30_unsynced_not_seen_while_open(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    first = Database(p)
    first.c.save({"x": 1})
    second = Database(p)
    assert second.c.count() == 0
    first.sync()
    assert Database(p).c.count() == 1


def test_b31_multi_mode_write_through(tmp_path: Path) -> None:
    p = tmp_path / "m.json"
    Database(p, mode="multi").c.save({"x": 1})
    assert Database(p).c.count() == 1


@pytest.mark.parametrize(
    ("serializer", "kind"), [("pickle", tuple), ("json", list), ("msgpack", list)]
)
def test_b32_tuples(tmp_path: Path, serializer: str, kind: type) -> None:
    p = tmp_path / f"t.{serializer}"
    d = Database(p, serializer=serializer)
    d.c.save({"t": (1, 2), "n": [("a", (1,))]})
    d.sync()
    d.close()
    again = Database(p, serializer=serializer).c.find_one()
    assert type(again["t"]) is kind and list(again["t"]) == [1, 2]
    if serializer == "pickle":
        assert again["n"] == [("a", (1,))]
        shutil_rmtree(str(p) + ".shoal")  # the file alone: an import (needs allow_pickle)
        assert Database(p, serializer="pickle", allow_pickle=True).c.find_one()["t"] == (1, 2)


def shutil_rmtree(path: str) -> None:
    import shutil

    shutil.rmtree(path)


def test_b33_memory_database() -> None:
    d = Database()
    d.c.save({"x": 1})
    assert d.c.count() == 1
    with pytest.raises(DatabaseError) as info:
        d.sync()
    assert info.value.parameter == "Need path"


def test_b34_count_and_collections(db: Database) -> None:
    db.a.save({})
    db.a.save({})
    db.b.save({})
    db.create_collection("empty")
    assert db.count() == 3
    assert db.collections == db.collection_names() == ["a", "b", "empty"]


def test_b35_false_values(c: Collection) -> None:
    c.save({"read": False})
    c.save({"read": True, "_id": "t"})
    assert c.find_one({"read": False})["read"] is False
    c.remove("t")
    assert c.find_one({"read": True}) is None


def test_b36_combined(c: Collection) -> None:
    c.save({"read": False, "string": "Yeah"})
    assert c.find_one({"string": "Yeah"}) is not None
    assert c.find_one({"read": False}) is not None
    assert c.find_one({"read": True, "string": "Yeah"}) is None


# -- other parts of section 1 -------------------------------------------------------
def test_item_access_bypasses_attributes(db: Database) -> None:
    db["path"].save({"x": 1})
    assert db.collection_names() == ["path"]
    assert db.path is None
    assert db._private.name == "_private"


def test_create_collection_is_idempotent(db: Database) -> None:
    assert db.create_collection("a") is None
    db.a.save({"x": 1})
    db.create_collection("a")
    assert db.a.count() == 1


def test_entries_view(c: Collection) -> None:
    assert c.empty and len(c.entries) == 0
    c.save({"_id": 1})
    c.save({"_id": 2})
    assert not c.empty
    assert len(c.entries) == 2 and [d["_id"] for d in c.entries] == [1, 2]
    assert c.entries[-1] == {"_id": 2}


def test_db_snapshot_and_attributes(tmp_path: Path) -> None:
    d = Database(tmp_path / "f.json", serializer="json")
    d.c.save({"_id": 1})
    snap = d.db
    assert snap["c"] == [{"_id": 1}] and snap["_infos"]["total_entries"] == 1
    assert d.serializer_name == "json" and d.serializer.path == str(tmp_path / "f.json")
    assert d.init_schema["_infos"]["serializer"] == "json"
    assert Database().serializer is None


def test_unknown_serializer(tmp_path: Path) -> None:
    with pytest.raises(ImportError):
        Database(tmp_path / "f", serializer="yaml")


def test_opening_json_as_pickle(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    Database(p).sync()
    os.utime(p, ns=(1, 1))  # looks replaced by another tool: the file is read
    with pytest.raises(DatabaseError) as info:
        Database(p, serializer="pickle", allow_pickle=True)
    assert "Seems to be corrupt" in info.value.parameter


# -- section 4: defects ---------------------------------------------------------------
def test_d01_no_isit() -> None:
    assert "isit" not in sys.modules or sys.modules["isit"].__name__ == "isit"
    import shoal.sofart.collection

    assert "isit" not in shoal.sofart.collection.__dict__


def test_d02_msgpack_modern(tmp_path: Path) -> None:
    p = tmp_path / "f.mp"
    d = Database(p, serializer="msgpack")
    d.c.save({"_id": "x", "text": "é", "raw": b"\x00\xff"})
    d.sync()
    from shoal.sofart.serializers import _msgpack

    raw = _msgpack.Serializer(str(p)).load()
    assert raw["c"] == [{"_id": "x", "text": "é", "raw": b"\x00\xff"}]


def test_d03_count_and_collections_exist(db: Database) -> None:
    assert db.count() == 0 and db.collections == []


def test_d04_exists_does_not_short_circuit(c: Collection) -> None:
    c.save({"v": 5})
    assert c.find_one({"v": {"$exists": True, "$gt": 100}}) is None
    assert c.find_one({"v": {"$exists": True, "$gt": 1}}) is not None


def test_d05_incomparable_types_do_not_match(c: Collection) -> None:
    c.save({"v": "a"})
    c.save({"v": 5})
    assert [d["v"] for d in c.find({"v": {"$gt": 1}})] == [5]
    assert [d["v"] for d in c.find({"v": {"$lt": "b"}})] == ["a"]


def test_d06_non_string_operator_keys(c: Collection) -> None:
    c.save({"v": 5})
    assert c.find_one({"v": {1: 2, "$gt": 1}}) is not None


def test_d07_total_entries_do_not_drift(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    d = Database(p)
    d.c.save({"_id": 1})
    d.c.remove("unknown")
    d.c.remove("unknown")
    d.sync()
    assert json.loads(p.read_text())["_infos"]["total_entries"] == 1


def test_d08_handles_see_live_data(db: Database) -> None:
    c1, c2 = db.x, db.x
    c1.save({"_id": 1})
    assert c2.count() == 1 and c2.find_one(1) == {"_id": 1}
    with pytest.raises(CollectionException):
        db.never_saved.rename("y")


def test_d09_infos_name_rejected(db: Database) -> None:
    with pytest.raises(DatabaseError):
        db._infos.save({"x": 1})
    with pytest.raises(DatabaseError):
        db.create_collection("_infos")
    db.a.save({})
    with pytest.raises(DatabaseError):
        db.rename("a", "_infos")
    db.b.save({})
    assert db.collection_names() == ["a", "b"]


@pytest.mark.parametrize("serializer", ["json", "msgpack"])
def test_d10_unserialisable_value_fails_at_save(tmp_path: Path, serializer: str) -> None:
    p = tmp_path / "f.db"
    d = Database(p, serializer=serializer)
    d.c.save({"_id": 1, "ok": True})
    d.sync()
    before = p.read_bytes()
    for bad in (datetime.datetime.now(), {1, 2}, uuid.uuid4()):
        with pytest.raises(TypeError):
            d.c.save({"_id": 2, "bad": bad})
    assert d.c.count() == 1
    d.sync()
    assert p.read_bytes() == before or d.c.find_one(1) == {"_id": 1, "ok": True}
    again = Database(p, serializer=serializer)
    assert list(again.c.find()) == [{"_id": 1, "ok": True}]


def test_d10_sync_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "f.json"
    d = Database(p)
    d.c.save({"_id": 1})
    d.sync()
    before = p.read_bytes()
    from shoal.sofart.serializers import _json

    def broken(obj: Any) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(_json.Serializer, "encode", staticmethod(broken))
    d.c.save({"_id": 2})
    with pytest.raises(OSError):
        d.sync()
    assert p.read_bytes() == before
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []


def test_d11_multi_mode_shares_one_store(tmp_path: Path) -> None:
    p = tmp_path / "m.json"
    a = Database(p, mode="multi")
    b = Database(p, mode="multi")
    a.c.save({"_id": 1})
    b.c.save({"_id": 2})
    assert ids(a.c.find()) == [1, 2] == ids(b.c.find())
    a.close()
    b.close()
    assert ids(Database(p).c.find()) == [1, 2]
    assert [d["_id"] for d in json.loads(p.read_text())["c"]] == [1, 2]


def test_d12_multi_without_path() -> None:
    with pytest.raises(DatabaseError) as info:
        Database(mode="multi")
    assert info.value.parameter == "Need path"


def test_d13_dunders_are_not_collections(db: Database) -> None:
    assert not hasattr(db, "__deepcopy__")
    with pytest.raises(AttributeError):
        db.__nonexistent__  # noqa: B018
    assert isinstance(db.anything, Collection)
    copy.copy(db.c)  # handles copy (they are names)
    with pytest.raises((TypeError, pickle.PicklingError)):
        pickle.dumps(db)


def test_d14_documents_are_independent(c: Collection) -> None:
    given = {"_id": 1, "l": [1, [2]], "d": {"k": [3]}}
    c.save(given)
    given["l"][1].append("changed")
    given["d"]["k"].append("changed")
    got = c.find_one(1)
    got["l"][1].append("mutated")
    assert c.find_one(1) == {"_id": 1, "l": [1, [2]], "d": {"k": [3]}}


def test_d15_id_operations_use_the_index(c: Collection) -> None:
    for i in range(100):
        c.save({"_id": i, "v": i})
    plan = c.explain({"_id": 42})
    assert plan["access"] == "index" and plan["docs_examined"] == 1
