"""shoal.sophy, 0.7 API: spec/sophy.md part B and behaviours D.17-D.37."""

from __future__ import annotations

import pickle
import uuid

import pytest
from shoal import sophy
from shoal.sophy import (
    BytesIndex,
    Cursor,
    JsonIndex,
    MsgPackIndex,
    PickleIndex,
    Schema,
    SerializedIndex,
    Sophia,
    SophiaError,
    StringIndex,
    U8Index,
    U16Index,
    U16RevIndex,
    U32Index,
    U64Index,
    UUIDIndex,
)


@pytest.fixture
def env(tmp_path):
    e = Sophia(str(tmp_path / "env"))
    yield e
    e.close()


def open_db(env, schema=None, name="main"):
    db = env.add_database(name, schema or Schema.key_value())
    env.open()
    return db


@pytest.fixture
def db(env):
    return open_db(env)


def keys_of(items):
    return [k for k, _ in items]


def test_star_import_names():
    ns: dict = {}
    exec("from shoal.sophy import *", ns)
    expected = {
        "Sophia", "Database", "DatabaseTransaction", "Transaction", "Cursor", "Schema",
        "Configuration", "Document", "SophiaError", "BaseIndex", "SerializedIndex", "BytesIndex",
        "StringIndex", "JsonIndex", "MsgPackIndex", "PickleIndex", "UUIDIndex", "U64Index",
        "U32Index", "U16Index", "U8Index", "U64RevIndex", "U32RevIndex", "U16RevIndex",
        "U8RevIndex", "SCHEMA_STRING", "SCHEMA_U64", "SCHEMA_U32", "SCHEMA_U16", "SCHEMA_U8",
        "SCHEMA_U64_REV", "SCHEMA_U32_REV", "SCHEMA_U16_REV", "SCHEMA_U8_REV", "connect",
        "SimpleDatabase", "View", "CannotCloseException",
    }  # fmt: skip
    assert expected <= set(ns)
    assert sophy.SCHEMA_U16_REV == "u16_rev"
    assert sophy.U8RevIndex("x").data_type == "u8_rev"


def test_d17_closed_env(env):
    db = env.add_database("main", Schema.key_value())
    with pytest.raises(SophiaError, match="Sophia environment is closed."):
        db["k"] = "v"
    with pytest.raises(SophiaError, match="Sophia environment is closed."):
        env.version  # noqa: B018 - reading settings needs an open env
    assert env.open() is True
    assert env.open() is False
    assert env.version == "2.2" and env.version_storage == "2.2"
    assert env.status == "online"
    assert env.close() is True
    assert env.close() is False


def test_d18_missing_keys(db):
    with pytest.raises(KeyError) as info:
        db["nope"]
    assert info.value.args == (("nope",),)
    assert db.get("nope") is None
    assert db.get("nope", 5) == 5
    del db["nope"]
    db.delete("nope")
    assert not db.exists("nope") and "nope" not in db


def test_d19_string_schema_converts(db):
    db[1] = 2
    assert db[1] == db["1"] == "2"
    assert list(db) == [("1", "2")]


def test_d20_multi_get(db):
    for i in range(4):
        db[f"k{i}"] = f"v{i}"
    assert db.multi_get(["k0", "k3", "k99"]) == ["v0", "v3", None]
    assert db.multi_get_dict(["k0", "k3", "k99"]) == {"k0": "v0", "k3": "v3"}


@pytest.mark.parametrize(
    ("sl", "expected"),
    [
        (slice("k01", "k21"), ["k1", "k2"]),
        (slice("a1", "k1"), ["k0", "k1"]),
        (slice(None, "a1"), []),
        (slice("kx", "k2"), ["k3", "k2"]),
        (slice("k2", None, True), ["k3", "k2"]),
        (slice(None, "k1", True), ["k1", "k0"]),
        (slice("k1", "k2", True), ["k2", "k1"]),
    ],
)
def test_d21_ranges(db, sl, expected):
    for i in range(4):
        db[f"k{i}"] = f"v{i}"
    assert keys_of(db[sl]) == expected


def test_d22_tuple_bounds(db):
    for i in range(4):
        db[f"k{i}"] = f"v{i}"
    assert list(db.get_range(("k1",), "k2")) == list(db.get_range("k1", "k2"))
    assert list(db.get_range(b"k1", b"k2")) == [("k1", "v1"), ("k2", "v2")]


def test_d23_u32_falsy_bounds(env):
    db = open_db(env, Schema([U32Index("k")], [U32Index("v")]))
    for i in range(5):
        db[i] = i
    assert list(db[:0]) == [(0, 0)]
    assert keys_of(db.get_range(start=2, stop=0)) == [2, 1, 0]
    assert list(db.cursor(order="<", key=1)) == [(0, 0)]
    assert keys_of(db.cursor(order=">", key=0)) == [1, 2, 3, 4]


def test_d24_empty_string_key(db):
    db.update({"": "e", "a": "f", "b": "g"})
    assert list(db[:""]) == [("", "e")]
    assert keys_of(db.cursor(order=">", key="")) == ["a", "b"]
    assert db[""] == "e"


def test_d25_multipart_schema(env):
    schema = Schema((U8Index("k1"), StringIndex("k2")), (U8Index("v1"), StringIndex("v2")))
    assert (schema.key_length, schema.value_length) == (2, 2)
    db = open_db(env, schema)
    db.set((1, "k1"), (11, "v1"))
    assert db[1, "k1"] == (11, "v1")
    assert db.get((1, "k1")) == (11, "v1")
    with pytest.raises(ValueError, match="key must be a 2-tuple"):
        db.set(1, (101, "v1"))
    with pytest.raises(ValueError, match="value must be a 2-tuple"):
        db.set((2, "k2"), 5)
    with pytest.raises(ValueError):
        db.update({(2, "ok"): (1, "x"), (1, "k1", 2): 100})
    assert list(db) == [((1, "k1"), (11, "v1"))]
    with pytest.raises(KeyError) as info:
        db[2, "x"]
    assert info.value.args == ((2, "x"),)


def test_d26_u16_rev(env):
    db = open_db(env, Schema([U16RevIndex("k")], [U16Index("v")]))
    for i in range(100):
        db[i] = i
    assert list(db.keys())[:3] == [99, 98, 97]
    assert keys_of(db[2:]) == [2, 1, 0]
    assert list(db[:2]) == []


def test_d27_u64_range(env):
    db = open_db(env, Schema([U64Index("k")], [U64Index("v")]))
    db[2**64 - 1] = 0
    db[5] = 1
    assert db[2**64 - 1] == 0
    for bad in (2**64, -1):
        with pytest.raises(OverflowError):
            db.set(bad, 0)
    with pytest.raises(TypeError):
        db.set("x", 0)
    assert list(db.keys()) == [5, 2**64 - 1]


def test_d28_string_and_bytes_indexes(env):
    s = env.add_database("s", Schema.key_value())
    b = env.add_database("b", Schema([BytesIndex("k")], [BytesIndex("v")]))
    env.open()
    key = "\u2036hello\u2033"
    s[key] = key
    assert s[key.encode("utf-8")] == key
    b[b"\xff"] = b"\xff"
    assert b[b"\xff"] == b"\xff"
    b["text"] = "text"
    assert b[b"text"] == b"text"
    assert list(b.keys()) == [b"text", b"\xff"]


def test_d29_serialized_indexes(env):
    j = env.add_database("j", Schema([StringIndex("k")], [JsonIndex("v")]))
    p = env.add_database("p", Schema([StringIndex("k")], [PickleIndex("v")]))
    ser = SerializedIndex("v", pickle.dumps, pickle.loads)
    s = env.add_database("s", Schema([StringIndex("k")], [ser]))
    u = env.add_database("u", Schema([UUIDIndex("k")], [StringIndex("v")]))
    env.open()
    for db in (j, p, s):
        db["a"] = {"x": [1, 2], "y": None}
        db["n"] = None
        assert db["a"] == {"x": [1, 2], "y": None}
        assert db["n"] is None
    ids = sorted(uuid.uuid4() for _ in range(5))
    for i in ids:
        u[i] = str(i)
    assert list(u.keys()) == sorted(ids, key=lambda i: i.bytes)
    assert u[ids[0]] == str(ids[0])
    with pytest.raises(TypeError):
        u["not a uuid"] = "x"


def test_json_index_key_order(env):
    db = open_db(env, Schema([JsonIndex("k")], [StringIndex("v")]))
    db[[1, "a"]] = "x"
    db[{"b": 1}] = "y"
    assert db[[1, "a"]] == "x"
    assert list(db.keys()) == [[1, "a"], {"b": 1}]  # ordered by JSON bytes


def test_msgpack_index(env):
    try:
        import msgpack  # noqa: F401
    except ImportError:
        with pytest.raises(SophiaError, match="msgpack-python library not installed!"):
            MsgPackIndex("v")
        return
    db = open_db(env, Schema([StringIndex("k")], [MsgPackIndex("v")]))
    db["a"] = {"b": b"\x00", "t": "x"}
    assert db["a"] == {"b": b"\x00", "t": "x"}


def test_d31_update_in_transaction_rolled_back(env, db):
    with env.transaction() as t:
        t[db].update(k1="v1")
        t.rollback()
    assert "k1" not in db


def test_d32_log_cursor(db):
    keys = [f"log:{i:08x}" for i in range(16)]
    for k in keys:
        db[k] = k
    db["other"] = "x"
    k12 = keys[12]
    assert list(db.cursor(prefix="log:", key=k12, values=False)) == keys[12:]
    assert list(db.cursor(prefix="log:", key=k12, order=">", values=False)) == keys[13:]
    assert list(db.cursor(prefix="log:", key=k12, order="<=", values=False)) == keys[12::-1]
    assert list(db.cursor(prefix="log:", key=k12, order="<", values=False)) == keys[11::-1]


def test_d33_prefix_on_int_key(env):
    nums = open_db(env, Schema([U32Index("k")], [U32Index("v")]))
    with pytest.raises(SophiaError, match="prefix search is only supported"):
        nums.cursor(prefix="x")


def test_d34_limit_field(env):
    db = env.add_database("main", Schema.key_value())
    db.limit_field = 64
    env.open()
    with pytest.raises(SophiaError, match="field 'x"):
        db["k"] = "x" * 128
    assert "k" not in db
    db["k"] = "x" * 64
    db.limit_field = 200
    db["k"] = "x" * 128
    assert db["k"] == "x" * 128


def test_d35_bad_option(env):
    env.add_database("main", Schema.key_value())
    env.config.set_option("bogus.setting", 1)
    with pytest.raises(SophiaError):
        env.open()
    assert env.is_open is False
    env.config.clear_option("bogus.setting")
    env.config.clear_option("bogus.setting")
    assert env.open() is True
    with pytest.raises(SophiaError):
        env.config.set_option("bogus.other", 1)  # refused while open, not remembered
    env.close()
    assert env.open() is True


def test_d36_config_stability(tmp_path):
    path = str(tmp_path / "e")
    env = Sophia(path)
    env.scheduler_threads = 2
    db = env.add_database("main", Schema.key_value())
    db.compression = "lz4"
    env.open()
    assert env.scheduler_threads == 2
    assert db.compression == "lz4"
    env.close()
    env = Sophia(path)
    db = env.add_database("main", Schema.key_value())
    env.open()
    assert db.compression == "lz4"
    assert env.scheduler_threads != 2
    assert db.mmap == 1 and db.sync == 1
    with pytest.raises(SophiaError):
        env.scheduler_threads = 3  # only while closed
    env.close()


def test_d37_log_rotate(env):
    open_db(env)
    before = env.log_files
    env.log_rotate()
    assert env.log_files == before + 1
    env.close()
    assert env.open() is True
    env.close()
    with pytest.raises(SophiaError):
        env.log_rotate()
    with pytest.raises(SophiaError):
        env.backup_run()


# ------------------------------------------------------------------ part B details


def test_add_remove_get_database(env):
    db = env.add_database("main", Schema.key_value())
    assert env.get_database("main") is db is env["main"]
    with pytest.raises(KeyError):
        env.get_database("nope")
    with pytest.raises(KeyError):
        env.remove_database("nope")
    env.open()
    with pytest.raises(SophiaError, match="cannot add database to open environment."):
        env.add_database("x", Schema.key_value())
    with pytest.raises(SophiaError, match="cannot remove database from open environment."):
        env.remove_database("main")
    db["k"] = "v"
    env.close()
    env.remove_database("main")
    env.open()
    with pytest.raises(SophiaError):
        db["k"]
    with pytest.raises(KeyError):
        env["main"]


def test_database_survives_close_open(env, db):
    db["k"] = "v"
    env.close()
    with pytest.raises(SophiaError, match="closed"):
        db.get("k")
    env.open()
    assert db["k"] == "v"
    assert db.name == "main" and db.env is env
    assert env.path.endswith("env")


def test_keys_values_items_are_cursors(db):
    db.update(a="1", b="2")
    for cur in (db.keys(), db.values(), db.items()):
        assert isinstance(cur, Cursor)
        assert list(cur) == list(cur)
    assert list(db.keys()) == ["a", "b"]
    assert list(db.values()) == ["1", "2"]
    assert list(db.items()) == [("a", "1"), ("b", "2")]
    assert list(db) == [("a", "1"), ("b", "2")]
    assert len(db) == 2


def test_cursor_protocol(env, db):
    db.update(a="1", b="2", c="3")
    cur = db.cursor(order="<=", key="b", prefix="")
    assert (cur.keys, cur.values, cur.order, cur.prefix, cur.key) == (
        True,
        True,
        b"<=",
        b"",
        ("b",),
    )
    assert db.cursor().key is None and db.cursor().prefix is None
    with pytest.raises(StopIteration):
        next(cur)  # before iter()
    it = iter(cur)
    assert next(it) == ("b", "2")
    assert next(cur) == ("a", "1")
    with pytest.raises(StopIteration):
        next(cur)
    bad = db.cursor(order="!!")
    with pytest.raises(SophiaError):
        list(bad)
    assert db["a"] == "1"  # database still usable
    cur = db.cursor()
    iter(cur)
    next(cur)
    env.close()
    with pytest.raises(SophiaError, match="Cursor was invalidated"):
        next(cur)
    env.open()
    assert list(cur) == [("a", "1"), ("b", "2"), ("c", "3")]


def test_multi_set_and_multi_delete(db):
    db.multi_set({"a": "1"}, b="2")
    db.multi_set(c="3")
    assert db.multi_get(["a", "b", "c"]) == ["1", "2", "3"]
    db.multi_delete(["a", "c", "zz"])
    assert list(db) == [("b", "2")]
    with pytest.raises(TypeError):
        db.update("not a dict")


def test_none_is_refused(env):
    db = open_db(env, Schema([StringIndex("k")], [BytesIndex("v")]))
    with pytest.raises(TypeError):
        db[None] = b"x"
    with pytest.raises(TypeError):
        db["k"] = None
    with pytest.raises(TypeError):
        db[(None,)] = b"x"
    assert len(db) == 0


def test_invalid_utf8_refused_on_write(db):
    with pytest.raises(UnicodeDecodeError):
        db["k"] = b"\xff\xfe"
    with pytest.raises(UnicodeDecodeError):
        db[b"\xff"] = "v"
    assert len(db) == 0


def test_schema_building():
    s = Schema()
    s.add_key(StringIndex("a"))
    s.add_key(U8Index("b"))
    s.add_value(JsonIndex("v"))
    assert (s.key_length, s.value_length) == (2, 1)
    kv = Schema.key_value()
    assert (kv.key_length, kv.value_length) == (1, 1)
    with pytest.raises(TypeError):
        Schema(["not an index"])


def test_schema_mismatch_on_reopen(tmp_path):
    path = str(tmp_path / "e")
    env = Sophia(path)
    env.add_database("d", Schema.key_value())
    env.open()
    env.close()
    env = Sophia(path)
    env.add_database("d", Schema([U32Index("k")], [U32Index("v")]))
    with pytest.raises(SophiaError):
        env.open()
    assert not env.is_open


def test_env_settings(env):
    open_db(env)
    for name in (
        "build", "status", "transaction_latency", "transaction_log", "log_path",
    ):  # fmt: skip
        assert isinstance(getattr(env, name), str), name
    for name in (
        "errors", "backup_active", "backup_last", "backup_last_complete", "scheduler_threads",
        "transaction_online_rw", "transaction_online_ro", "transaction_commit",
        "transaction_rollback", "transaction_conflict", "transaction_lock", "transaction_vlsn",
        "transaction_gc", "metric_lsn", "metric_tsn", "metric_nsn", "metric_dsn", "metric_bsn",
        "metric_lfsn", "log_enable", "log_sync", "log_rotate_wm", "log_rotate_sync", "log_files",
    ):  # fmt: skip
        assert isinstance(getattr(env, name), int), name
    assert env.error is None
    assert env.backup_path is None
    assert env.scheduler_trace(0) == ""
    env.log_gc()
    cfg = env.config
    assert cfg.get_option("scheduler.threads") == 6
    assert cfg.get_option("db.main.compression") == "none"
    cfg.set_option("db.main.compression", "zstd")
    assert env["main"].compression == "zstd"
    with pytest.raises(ValueError, match="Setting value must be bool, int, bytes or string."):
        cfg.set_option("log.sync", 1.5)
    with pytest.raises(SophiaError):
        cfg.set_option("sophia.version", "9")  # read-only
    cfg.run_operation("scheduler.checkpoint")
    with pytest.raises(SophiaError):
        cfg.run_operation("nope")


def test_db_settings(env):
    db = open_db(env)
    assert db.database_name == "main"
    assert db.database_id == 0
    assert db.database_path.endswith("main")
    assert (db.direct_io, db.expire, db.limit_key, db.limit_field) == (0, 0, 1024, 2097152)
    assert db.compaction_cache == 4294967296
    db.compaction_node_size = 8 * 1024**3
    assert db.compaction_node_size == 8 * 1024**3
    assert db.compaction_page_size == 131072
    assert (db.compaction_gc_wm, db.compaction_gc_period) == (30, 60)
    db.update(a="1", b="2")
    assert db.index_count == 2
    for name in ("stat_get", "stat_set", "scheduler_gc", "index_node_count", "index_size"):
        assert isinstance(getattr(db, name), int)
    with pytest.raises(AttributeError):
        db.index_count = 5


def test_log_sync_opens_with_fsync(env):
    env.log_sync = True
    open_db(env)
    assert env._store.durability == "sync"


def test_database_name_with_odd_characters(env):
    db = open_db(env, name="my db/1.x")
    db["k"] = "v"
    env.close()
    env.open()
    assert db["k"] == "v"


def test_exclusive_orders_without_key_start_at_the_ends(env):
    # spec A.7: key=None starts at the first/last key (sophy 0.7.1 skips a key
    # equal to the integer type's extreme value here)
    db = open_db(env, Schema([U16Index("k")], [U8Index("v")]))
    for k in (0, 5, 2**16 - 1):
        db[k] = 1
    assert list(db.cursor(order=">", values=False)) == [0, 5, 2**16 - 1]
    assert list(db.cursor(order="<", values=False)) == [2**16 - 1, 5, 0]
