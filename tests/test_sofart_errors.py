"""Failure paths of the sofart face: bad input, closed databases, damaged or foreign
files, another process holding the store, and files shared with the original package.
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from shoal.sofart import CollectionException, Database, DatabaseError
from shoal.sofart.serializers import _msgpack


def write_legacy(path: Path, data: dict[str, Any], serializer: str = "json") -> None:
    if serializer == "json":
        path.write_text(json.dumps(data))
    elif serializer == "pickle":
        path.write_bytes(pickle.dumps(data))
    else:
        path.write_bytes(_msgpack.encode(data))


LEGACY = {
    "_infos": {"creation_date": "2016-07-27T00:00:00", "serializer": "json", "total_entries": 3},
    "users": [{"_id": "u1", "n": 1}, {"_id": "u2", "n": 2}],
    "empty": [],
    "posts": [{"_id": 7, "t": "x"}],
}


def test_closed_database(tmp_path: Path) -> None:
    d = Database(tmp_path / "f.json")
    c = d.c
    d.close()
    d.close()
    assert d.closed
    for call in (lambda: c.save({}), lambda: list(c.find()), d.collection_names, d.count, d.sync):
        with pytest.raises(DatabaseError) as info:
            call()
        assert "closed" in info.value.parameter
    with Database() as m:
        m.c.save({})
    assert m.closed


@pytest.mark.parametrize("bad", [(1, 2), [1], {"a": 1}, object()])
def test_bad_ids(bad: Any) -> None:
    c = Database().c
    with pytest.raises(TypeError):
        c.save({"_id": bad})
    with pytest.raises(TypeError):
        c.insert_one({"_id": bad})
    assert c.count() == 0


def test_exotic_ids_and_values() -> None:
    c = Database(serializer="pickle").c
    for i in (b"raw", 2.5, Decimal("3.25"), -(2**70)):
        assert c.save({"_id": i}) == i
        assert c.find_one(i) == {"_id": i}
    with pytest.raises(CollectionException):
        c.save({"\x00s": 1})
    with pytest.raises(TypeError):
        c.save({"s": {1, 2}})  # no sets, even with pickle
    with pytest.raises(TypeError):
        Database().c.save({1: "non-str key"})


def test_msgpack_limits() -> None:
    c = Database(serializer="msgpack").c
    with pytest.raises(TypeError):
        c.save({"big": 2**64})
    assert c.save({"_id": "ok", "b": b"\x00", "n": -(2**63)}) == "ok"


def test_collection_names_must_be_str() -> None:
    d = Database()
    with pytest.raises(TypeError):
        d.create_collection(5)  # type: ignore[arg-type]
    d.create_collection("with space/and ü")
    assert d.collection_names() == ["with space/and ü"]


@pytest.mark.parametrize(
    "content",
    [b"", b"not json at all", b"[1, 2]", b'{"_infos": 5}', b'{"_infos": {}, "c": 5}'],
)
def test_corrupt_json_file(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "f.json"
    p.write_bytes(content)
    for mode in ("single", "multi"):
        with pytest.raises(DatabaseError) as info:
            Database(p, mode=mode)
        assert "Seems to be corrupt" in info.value.parameter
    assert p.read_bytes() == content


def test_file_with_bad_documents(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    content = json.dumps({"_infos": {}, "c": [{"_id": 1}, [1, 2]]})
    p.write_text(content)
    with pytest.raises(DatabaseError) as info:
        Database(p)
    assert "cannot import" in info.value.parameter
    p.write_text(json.dumps({"_infos": {}, "c": [{"_id": 1}, {"_id": 1}]}))
    with pytest.raises(DatabaseError):
        Database(p, mode="multi")
    assert json.loads(p.read_text())["c"] == [{"_id": 1}, {"_id": 1}]


@pytest.mark.parametrize("serializer", ["json", "msgpack", "pickle"])
def test_import_legacy_file(tmp_path: Path, serializer: str) -> None:
    p = tmp_path / "legacy.db"
    write_legacy(p, LEGACY, serializer)
    kw = {"allow_pickle": True} if serializer == "pickle" else {}
    for mode in ("single", "multi"):
        d = Database(p, mode=mode, serializer=serializer, **kw)
        assert d.collection_names() == ["users", "empty", "posts"]
        assert list(d.users.find()) == LEGACY["users"]
        assert d.posts.find_one(7) == {"_id": 7, "t": "x"}
        assert d.count() == 3
        d.close()


def test_pickle_import_needs_permission(tmp_path: Path) -> None:
    p = tmp_path / "f.pkl"
    write_legacy(p, LEGACY, "pickle")
    with pytest.raises(DatabaseError) as info:
        Database(p, serializer="pickle")
    assert "allow_pickle=True" in info.value.parameter
    d = Database(p, serializer="pickle", allow_pickle=True)
    d.users.save({"_id": "u3"})
    d.sync()
    d.close()
    # written by the face: reopening trusts its own record, no unpickling
    assert Database(p, serializer="pickle").users.count() == 3


def test_replaced_file_is_imported_again(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    d = Database(p, mode="multi")
    d.c.save({"_id": "old"})
    d.close()
    write_legacy(p, LEGACY)  # another tool rewrote the file
    for mode in ("single", "multi"):
        d = Database(p, mode=mode)
        assert d.collection_names() == ["users", "empty", "posts"]
        d.close()


def test_unsynced_multi_writes_survive_without_export(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    script = textwrap.dedent(
        f"""
        import os
        from shoal.sofart import Database
        d = Database({str(p)!r}, mode="multi")
        d.c.save({{"_id": "kept"}})
        os._exit(0)  # no close, no export of the legacy file
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    assert json.loads(p.read_text()).keys() == {"_infos"}
    assert Database(p).c.find_one("kept") == {"_id": "kept"}


def test_store_held_by_another_process(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    Database(p, mode="multi").close()
    script = textwrap.dedent(
        f"""
        import sys, time
        from shoal.sofart import Database
        d = Database({str(p)!r}, mode="multi")
        print("ready", flush=True)
        sys.stdin.readline()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with pytest.raises(DatabaseError) as info:
            Database(p, mode="multi")
        assert "another process" in info.value.parameter
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=60)


def test_damaged_store_directory(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    d = Database(p, mode="multi")
    d.c.save({"_id": 1})
    d.close()
    before = p.read_bytes()
    for root, _, files in os.walk(str(p) + ".shoal"):
        for name in files:
            with open(os.path.join(root, name), "r+b") as f:
                size = f.seek(0, 2)
                f.seek(0)
                f.write(b"\xde\xad" * (size // 2 + 1))
    with pytest.raises(DatabaseError):
        Database(p, mode="multi")
    assert p.read_bytes() == before


def test_msgpack_codec_rejects_garbage() -> None:
    for data in (b"\xc1", b"\x92\x01", b"\x01\x02", b"\xd9\x05ab"):
        with pytest.raises(ValueError):
            _msgpack.decode(data)
    value = {"a": [None, True, -1, 2**40, 1.5, "t" * 40, b"b" * 300, {"n": []}]}
    assert _msgpack.decode(_msgpack.encode(value)) == value


# -- files shared with the original -----------------------------------------------------
def _original() -> Any:
    if not hasattr(platform, "dist"):
        platform.dist = lambda *a, **k: ("", "", "")  # type: ignore[attr-defined]
    return pytest.importorskip("sofart")


@pytest.mark.parametrize("serializer", ["json", "pickle"])
def test_files_interchange_with_original(tmp_path: Path, serializer: str) -> None:
    sofart = _original()
    theirs_path = tmp_path / "theirs.db"
    theirs = sofart.Database(str(theirs_path), serializer=serializer)
    theirs.people.save({"_id": "a", "n": 1})
    theirs.people.save({"n": 2})
    theirs.sync()
    ours = Database(theirs_path, serializer=serializer, allow_pickle=True)
    assert list(ours.people.find()) == list(theirs.people.find())
    ours.people.save({"_id": "b", "n": 3})
    ours.sync()
    again = sofart.Database(str(theirs_path), serializer=serializer)
    assert [d["_id"] for d in again.people.find()][-1] == "b"
    assert again.db["_infos"]["total_entries"] == 3


def test_index_definitions_travel_in_the_file(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    data = json.loads(json.dumps(LEGACY))
    data["_infos"]["indexes"] = {"users": [{"name": "n_1", "fields": [["n", 1]], "unique": True}]}
    write_legacy(p, data)
    d = Database(p)
    assert d.users.index_information()["n_1"]["unique"] is True
    assert d.users.explain({"n": 2})["access"] == "index"
    d.sync()
    assert json.loads(p.read_text())["_infos"]["indexes"]["users"][0]["fields"] == [["n", 1]]
    data["_infos"]["indexes"] = {"users": [{"fields": 5}]}
    write_legacy(p, data)
    with pytest.raises(DatabaseError):
        Database(p)


def test_single_mode_sync_supersedes_the_multi_mode_store(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    m = Database(p, mode="multi")
    m.c.save({"_id": "multi"})
    m.close()
    s = Database(p)
    assert s.c.count() == 1  # opened from the store (its stamp matches the file)
    s.c.save({"_id": "single"})
    s.sync()
    s.close()
    m = Database(p, mode="multi")
    assert [d["_id"] for d in m.c.find()] == ["multi", "single"]
    m.close()
