"""``shoal import KIND SOURCE PATH``: files written by the original libraries come
back through the faces exactly as the originals read them; pickles need
--allow-pickle; non-empty targets need --append; errors are one line."""

from __future__ import annotations

import json
import os
import pickle
import platform
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import shoal
from _util import cli_fails, cli_ok, shoal_cli
from shoal import microdb as face_microdb
from shoal import sofart as face_sofart
from shoal.cli import main
from shoal.dynafile import Dynafile
from shoal.migrate import (
    MigrationError,
    _common,
    import_microdb,
    import_sofart,
    import_sqlitedict,
    import_tinydb,
)

cli = shoal_cli
ok = cli_ok
fails = cli_fails


def original(name: str) -> Any:
    if name == "sofart" and not hasattr(platform, "dist"):
        platform.dist = lambda *a, **k: ("", "", "")  # type: ignore[attr-defined]
    try:
        return __import__(name)
    except ImportError:
        pytest.skip(f"import of genuine {name} files: tests NOT RUN: {name} is not installed")


# -- TinyDB ----------------------------------------------------------------------------

TINY = {"_default": {"1": {"a": 1, "b": [1, "x"]}, "3": {"a": None}},
        "users": {"2": {"name": "ada", "nested": {"k": 1.5}}}}


def test_tinydb_tables_become_collections_with_doc_ids(tmp_path: Path) -> None:
    src = tmp_path / "tiny.json"
    src.write_text(json.dumps(TINY))
    out = ok("import", "tinydb", src, tmp_path / "st")
    assert "default: 2" in out and "users: 1" in out and "3 records" in out
    with shoal.open(tmp_path / "st") as store:
        assert sorted(store.collections()) == ["default", "users"]
        assert store.collection("default").find() == [
            {"_id": 1, "a": 1, "b": [1, "x"]}, {"_id": 3, "a": None}]
        assert store.collection("users").get(2) == {"_id": 2, "name": "ada",
                                                     "nested": {"k": 1.5}}
    fails("import", "tinydb", src, tmp_path / "st", says="--append")
    src.write_text(json.dumps({"_default": {"1": {"a": 2}, "9": {"z": 0}}}))
    ok("import", "tinydb", src, tmp_path / "st", "--append")
    with shoal.open(tmp_path / "st") as store:
        assert store.collection("default").find() == [
            {"_id": 1, "a": 2}, {"_id": 3, "a": None}, {"_id": 9, "z": 0}]


def test_genuine_tinydb_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tinydb = original("tinydb")
    monkeypatch.setattr(_common, "BATCH", 7)  # several batches
    src = tmp_path / "db.json"
    db = tinydb.TinyDB(src)
    db.insert_multiple([{"i": i, "s": str(i)} for i in range(25)])
    db.remove(doc_ids=[5, 7])
    db.table("log").insert({"msg": "hi", "tags": ["a"]})
    db.close()
    import_tinydb(src, tmp_path / "st")
    db = tinydb.TinyDB(src)
    with shoal.open(tmp_path / "st") as store:
        for table, name in (("_default", "default"), ("log", "log")):
            expected = {d.doc_id: dict(d) for d in db.table(table).all()}
            got = {d.pop("_id"): d for d in store.collection(name).find()}
            assert got == expected
    db.close()


def test_tinydb_bad_input(tmp_path: Path) -> None:
    src = tmp_path / "t.json"
    src.write_text(json.dumps({"_default": {"1": {"_id": "mine"}}}))
    with pytest.raises(MigrationError, match="own '_id'"):
        import_tinydb(src, tmp_path / "st")
    src.write_text("[1, 2]")
    fails("import", "tinydb", src, tmp_path / "st2", says="not a TinyDB JSON file")
    fails("import", "tinydb", tmp_path / "missing.json", tmp_path / "st3", says="missing.json")


# -- sqlitedict ---------------------------------------------------------------------------

def _sqlitedict_file(path: Path, tables: dict[str, dict[str, Any]]) -> None:
    """What sqlitedict writes: (key TEXT PRIMARY KEY, value BLOB) of pickles."""
    con = sqlite3.connect(path)
    for table, items in tables.items():
        con.execute(f'CREATE TABLE "{table}" (key TEXT PRIMARY KEY, value BLOB)')
        con.executemany(f'INSERT INTO "{table}" VALUES (?, ?)',
                        [(k, pickle.dumps(v, pickle.HIGHEST_PROTOCOL)) for k, v in items.items()])
    con.commit()
    con.close()


def test_sqlitedict_needs_allow_pickle(tmp_path: Path) -> None:
    src = tmp_path / "d.sqlite"
    _sqlitedict_file(src, {"unnamed": {"b": [1, 2], "a": {"x": b"\x00"}}, "other": {"k": 1}})
    fails("import", "sqlitedict", src, tmp_path / "st", says="--allow-pickle")
    assert not (tmp_path / "st").exists()
    out = ok("import", "sqlitedict", src, tmp_path / "st", "--allow-pickle")
    assert "unnamed: 2" in out and "other: 1" in out
    with shoal.open(tmp_path / "st") as store:
        assert dict(store.kv("unnamed").items()) == {"a": {"x": b"\x00"}, "b": [1, 2]}
        assert store.kv("unnamed").key_codec == "str"
        assert dict(store.kv("other").items()) == {"k": 1}
    fails("import", "sqlitedict", src, tmp_path / "st", "--allow-pickle", says="--append")


def test_sqlitedict_values_msgpack_cannot_hold(tmp_path: Path) -> None:
    src = tmp_path / "d.sqlite"
    _sqlitedict_file(src, {"t": {"ok": 1, "bad": {1, 2}}})
    fails("import", "sqlitedict", src, tmp_path / "st", "--allow-pickle",
          says="--value-codec pickle")
    with shoal.open(tmp_path / "st") as store:
        assert len(store.kv("t")) == 0  # the failing batch wrote nothing
    import_sqlitedict(src, tmp_path / "st2", allow_pickle=True, value_codec="pickle")
    with shoal.open(tmp_path / "st2") as store:
        assert store.kv("t", value="pickle")["bad"] == {1, 2}


def test_genuine_sqlitedict_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sqlitedict = original("sqlitedict")
    monkeypatch.setattr(_common, "BATCH", 7)  # several batches
    src = tmp_path / "d.sqlite"
    with sqlitedict.SqliteDict(src, tablename="things", autocommit=True) as d:
        d.update({f"k{i}": {"i": i, "l": [i] * 3} for i in range(30)})
    with sqlitedict.SqliteDict(src, tablename="more", autocommit=True) as d:
        d["x"] = "y"
    import_sqlitedict(src, tmp_path / "st", allow_pickle=True)
    with shoal.open(tmp_path / "st") as store:
        for table in ("things", "more"):
            with sqlitedict.SqliteDict(src, tablename=table, flag="r") as d:
                assert dict(store.kv(table).items()) == dict(d.items())


# -- sofart --------------------------------------------------------------------------------

def _sofart_docs() -> dict[str, list[dict[str, Any]]]:
    return {"songs": [{"artist": "A", "n": i, "tags": ["x", i]} for i in range(40)],
            "other": [{"x": None, "f": 1.5, "d": {"k": [True]}}]}


@pytest.mark.parametrize("serializer", ["json", "pickle"])
def test_genuine_sofart_file(tmp_path: Path, serializer: str) -> None:
    sofart = original("sofart")
    src = tmp_path / f"so.{serializer}"
    db = sofart.Database(str(src), mode="single", serializer=serializer)
    for name, docs in _sofart_docs().items():
        for doc in docs:
            db[name].save(doc)
    db.sync()
    target = tmp_path / "new.fart"
    args = ["import", "sofart", src, target]
    if serializer == "pickle":
        fails(*args, says="--allow-pickle")
        args.append("--allow-pickle")
    out = ok(*args)
    assert "songs: 40" in out and "other: 1" in out
    theirs = sofart.Database(str(src), mode="single", serializer=serializer)
    for mode in ("single", "multi"):
        with face_sofart.Database(target, mode=mode, serializer=serializer) as ours:
            assert ours.collection_names() == ["songs", "other"]
            for name in ("songs", "other"):
                assert list(ours[name].find()) == list(theirs[name].find())  # order and _id kept
    fails("import", "sofart", src, target, *args[4:], says="--append")


def test_sofart_json_to_msgpack_and_append(tmp_path: Path) -> None:
    src = tmp_path / "so.json"
    with face_sofart.Database(src) as db:  # the face writes the original's format
        db.a.insert_many([{"_id": i, "v": i} for i in range(3)])
        db.sync()
    import_sofart(src, tmp_path / "t.db", serializer="msgpack")
    with face_sofart.Database(src) as db:
        db.a.replace_one({"_id": 1}, {"v": "new"})
        db.a.insert_one({"_id": 7, "v": 7})
        db.sync()
    import_sofart(src, tmp_path / "t.db", append=True, serializer="msgpack")
    with face_sofart.Database(tmp_path / "t.db", serializer="msgpack") as db:
        assert list(db.a.find()) == [{"_id": 0, "v": 0}, {"_id": 1, "v": "new"},
                                     {"_id": 2, "v": 2}, {"_id": 7, "v": 7}]
    (tmp_path / "junk").write_bytes(b"\x01\x02garbage")
    fails("import", "sofart", tmp_path / "junk", tmp_path / "u.db", says="junk")


# -- microdb --------------------------------------------------------------------------------

def test_microdb_literal_file_with_python_values(tmp_path: Path) -> None:
    src = tmp_path / "m.json"
    records = [{"job": "j", "name": f"n{i}", "t": (1, 2), "s": {1}, "b": b"x", "c": 1j}
               for i in range(30)]
    src.write_text(repr(records) + "\n")
    r = cli("import", "microdb", src, tmp_path / "out.json")
    assert r.returncode == 2 and "--partition-keys" in r.stderr  # required
    ok("import", "microdb", src, tmp_path / "out.json", "--partition-keys", "job,name")
    assert list(face_microdb.MicroDB(tmp_path / "out.json", ["job", "name"]).all()) == records
    assert (tmp_path / "out.json").read_text() == repr(records) + "\n"  # the original's format
    fails("import", "microdb", src, tmp_path / "out.json", "--partition-keys", "job,name",
          says="--append")


def test_microdb_wrong_keys_would_lose_records(tmp_path: Path) -> None:
    src = tmp_path / "m.json"
    src.write_text(repr([{"a": 1, "b": 1}, {"a": 1, "b": 2}]))
    fails("import", "microdb", src, tmp_path / "o.json", "--partition-keys", "a",
          says="would lose records")
    assert not (tmp_path / "o.json").exists()


def test_microdb_file_is_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    src = tmp_path / "evil.json"
    src.write_text(f"[__import__('pathlib').Path({str(marker)!r}).touch()]")
    fails("import", "microdb", src, tmp_path / "o.json", "--partition-keys", "a",
          says="not a microdb file")
    assert not marker.exists()


def test_genuine_microdb_grid_file(tmp_path: Path) -> None:
    microdb = original("microdb")
    src = tmp_path / "m.json"
    m = microdb.MicroDB(str(src), partition_keys=["k"])
    for i in range(50):
        m.upsert({"k": i, "v": [i, str(i)], "t": (i,)})
    m.save_as_grid()
    import_microdb(src, tmp_path / "o.json", partition_keys=["k"], grid=True)
    theirs = list(microdb.MicroDB(str(src), partition_keys=["k"]).all())
    assert list(face_microdb.MicroDB(tmp_path / "o.json", ["k"]).all()) == theirs
    # and the original reads what the import wrote
    assert list(microdb.MicroDB(str(tmp_path / "o.json"), partition_keys=["k"]).all()) == theirs


# -- dynafile ---------------------------------------------------------------------------------

def test_genuine_dynafile_table(tmp_path: Path) -> None:
    dynafile = original("dynafile")
    src = tmp_path / "orig"
    db = dynafile.Dynafile(str(src), pk_attribute="P", sk_attribute="S")
    for p in range(30):
        for s in ("c", "a", "b10", "b2"):
            db.put_item(item={"P": f"user#{p}", "S": s, "v": {"n": [p, s]}})
    fails("import", "dynafile", src, tmp_path / "t", says="--allow-pickle")
    fails("import", "dynafile", src, tmp_path / "t", "--allow-pickle",
          says="--pk-attribute")  # not PK/SK: refused, not scrambled
    out = ok("import", "dynafile", src, tmp_path / "t", "--allow-pickle",
             "--pk-attribute", "P", "--sk-attribute", "S")
    assert "120 records" in out
    with Dynafile(tmp_path / "t") as ours:
        assert (ours.pk_attribute, ours.sk_attribute) == ("P", "S")
        for p in range(30):
            theirs = list(db.query(pk=f"user#{p}"))
            assert [i["S"] for i in theirs] == ["a", "b10", "b2", "c"]
            assert list(ours.query(pk=f"user#{p}")) == theirs
            # (the original's backward query without a bound is empty: a defect)
            assert list(ours.query(pk=f"user#{p}", scan_index_forward=False)) == theirs[::-1]
    fails("import", "dynafile", src, tmp_path / "t", "--allow-pickle", "--pk-attribute", "P",
          "--sk-attribute", "S", says="--append")


def test_dynafile_source_must_be_a_table(tmp_path: Path) -> None:
    fails("import", "dynafile", tmp_path, tmp_path / "t", "--allow-pickle",
          says="no dynafile partition")


# -- sophy -----------------------------------------------------------------------------------

def test_genuine_sophy_environment(tmp_path: Path) -> None:
    sophy = original("sophy")
    from shoal import sophy as face

    def declare(module: Any, env: Any) -> tuple[Any, ...]:
        # (three value fields crash the original's C library: "memory allocation failed")
        return (
            env.add_database("main", module.Schema(
                [module.StringIndex("k"), module.U32RevIndex("n")],
                [module.JsonIndex("v"), module.U64Index("m")])),
            env.add_database("kv", module.Schema.key_value()),
            env.add_database("raw", module.Schema([module.BytesIndex("b")],
                                                  [module.StringIndex("s")])),
        )

    src = tmp_path / "env"
    env = sophy.Sophia(str(src))
    main, kv, raw = declare(sophy, env)
    env.open()
    main.update({(f"k{i % 7}", i): ({"i": [i]}, i * 3) for i in range(1300)})
    kv["a"] = "b"
    raw.update({bytes([i, 255]): str(i) for i in range(10)})
    expected = [list(db.items()) for db in (main, kv, raw)]
    env.close()
    before = sorted((p.relative_to(src), p.read_bytes()) for p in src.rglob("*") if p.is_file())
    fails("import", "sophy", src, tmp_path / "out", says="--databases")
    fails("import", "sophy", src, tmp_path / "out", "--databases", "main,kv,raw",
          says="--field b=bytes")  # not text: said, not mangled
    out = ok("import", "sophy", src, tmp_path / "out", "--databases", "main,kv,raw",
             "--field", "v=json", "--field", "b=bytes")
    assert "main: 1,300" in out and "kv: 1" in out and "raw: 10" in out
    after = sorted((p.relative_to(src), p.read_bytes()) for p in src.rglob("*") if p.is_file())
    assert after == before  # the source is never written
    env = face.Sophia(str(tmp_path / "out"))
    dbs = declare(face, env)
    env.open()
    assert [list(db.items()) for db in dbs] == expected
    env.close()


def test_sophy_without_a_scheme(tmp_path: Path) -> None:
    fails("import", "sophy", tmp_path, tmp_path / "out", says="no Sophia database")


# -- every subcommand has --help ------------------------------------------------------------

def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert "usage: shoal import" in ok("import", "--help")  # end to end once
    for kind in ("sofart", "microdb", "dynafile", "sophy", "tinydb", "sqlitedict"):
        with pytest.raises(SystemExit) as exit_:
            main(["import", kind, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert f"usage: shoal import {kind}" in out and "SOURCE" in out and "--append" in out


def test_library_refuses_pickle_without_the_flag(tmp_path: Path) -> None:
    src = tmp_path / "d.sqlite"
    _sqlitedict_file(src, {"t": {"k": 1}})
    with pytest.raises(MigrationError, match="allow_pickle=True"):
        import_sqlitedict(src, tmp_path / "st")
    assert os.path.exists(src)
