"""shoal.sophy, legacy (0.1.x) API: spec/sophy.md part A and behaviours D.1-D.16."""

from __future__ import annotations

import gc
import os

import pytest
from shoal import sophy
from shoal.sophy import (
    CannotCloseException,
    Database,
    SimpleDatabase,
    Sophia,
    SophiaError,
    View,
    connect,
)


@pytest.fixture
def env(tmp_path):
    e = Sophia(str(tmp_path / "env"), [("main", "string")])
    yield e
    e.close()


@pytest.fixture
def db(env):
    return env["main"]


def keys_of(items):
    return [k for k, _ in items]


# ------------------------------------------------------------------ D.1 - D.9


def test_d1_update_and_transaction(tmp_path):
    db = connect(str(tmp_path / "data-dir"), "db-name")
    try:
        db["k1"] = "v1"
        db.update(k2="v2", k3="v3", k4="v4")
        with db.transaction() as txn:
            txn["k1"] = "v1-e"
            txn["k5"] = "v5"
        assert db["k1"] == "v1-e"
        assert list(db) == [("k1", "v1-e"), ("k2", "v2"), ("k3", "v3"), ("k4", "v4"), ("k5", "v5")]
        assert isinstance(db, Database)
        assert isinstance(db.sophia, Sophia)
        assert db.name == "db-name"
    finally:
        db.sophia.close()


SLICES = [
    (slice("k2", "k444"), ["k2", "k3", "k4"]),
    (slice("k3", "k1"), ["k3", "k2", "k1"]),
    (slice("k2", "k4", True), ["k4", "k3", "k2"]),
    (slice("k4", "k2", True), ["k4", "k3", "k2"]),
    (slice(None, "k3"), ["k1", "k2", "k3"]),
    (slice(None, "k3", True), ["k3", "k2", "k1"]),
    (slice("k3", None), ["k3", "k4", "k5"]),
    (slice("k3", None, True), ["k5", "k4", "k3"]),
    (slice(None, None), ["k1", "k2", "k3", "k4", "k5"]),
    (slice(None, None, True), ["k5", "k4", "k3", "k2", "k1"]),
    (slice("a", "b"), []),
    (slice("k9", None), []),
]


@pytest.mark.parametrize(("sl", "expected"), SLICES)
def test_d2_slice_table(db, sl, expected):
    db.update({f"k{i}": f"v{i}" for i in range(1, 6)})
    assert keys_of(db[sl]) == expected
    assert keys_of(db.get_range(sl.start, sl.stop, bool(sl.step))) == expected
    # a generator, as in the original
    assert hasattr(db[sl], "__next__")


def test_d3_delete(db):
    db.update(k1="v1", k3="v3")
    del db["k3"]
    with pytest.raises(KeyError) as info:
        db["k3"]
    assert info.value.args == ("k3",)
    del db["never"]  # no error
    with db.transaction() as txn:
        del txn["k1"]
        del txn["kxx"]  # no error
    assert list(db) == []


def test_d4_rollback_inside_block(db):
    db["k1"] = "v1-e2"
    with db.transaction() as txn:
        txn["k1"] = "whoops"
        txn.rollback()
        txn["k2"] = "v2-e2"
    assert list(db.items()) == [("k1", "v1-e2"), ("k2", "v2-e2")]


def test_d5_exception_rolls_back(db):
    db["k1"] = "v1"
    with pytest.raises(ZeroDivisionError):
        with db.transaction() as txn:
            txn["k1"] = "changed"
            txn["k2"] = "new"
            1 / 0  # noqa: B018
    assert list(db) == [("k1", "v1")]


def test_d6_prefix_cursor(db):
    db.update(aa="foo", abc="bar", az="baze", baz="nugget")
    assert list(db.cursor(prefix="a")) == [("aa", "foo"), ("abc", "bar"), ("az", "baze")]


def test_d7_cursor_order_keys_values(db):
    db.update(k1="v1", k2="v2", k3="v3")
    assert keys_of(db.cursor(order="<")) == ["k3", "k2", "k1"]
    assert list(db.cursor(keys=False)) == ["v1", "v2", "v3"]
    assert list(db.cursor(values=False)) == ["k1", "k2", "k3"]
    assert list(db.cursor(keys=False, values=False)) == [None, None, None]


def test_d8_len_status_version(env, db):
    for i in range(5):
        db[f"k{i}"] = "v"
    del db["k0"]
    assert len(db) == 4
    assert db.status == "online"
    assert env.version == "2.1.1"
    assert isinstance(db.index_count, int)


def test_d9_close_open(env, db):
    db["k"] = "v"
    assert env.close() is True
    assert env.close() is False
    assert env.open() is True
    assert env.open() is False
    assert env["main"]["k"] == "v"
    assert db["k"] == "v"  # old handles are re-bound (spec E.7)


def test_d9_data_survives_a_new_environment(tmp_path):
    path = str(tmp_path / "e")
    env = Sophia(path, [("a", "string")])
    env["a"]["x"] = "1"
    env.close()
    env2 = Sophia(path, [("a", "string")])
    assert env2["a"]["x"] == "1"
    env2.close()


def test_d10_views(db):
    db.update(k1="v1", k2="v2", k3="v3")
    v = db.view("v1")
    assert isinstance(v, View)
    db["k1"] = "v1-e"
    del db["k2"]
    db["k4"] = "v4"
    assert v["k1"] == "v1"
    assert v["k2"] == "v2"
    assert list(v) == [("k1", "v1"), ("k2", "v2"), ("k3", "v3")]
    assert len(v) == 3
    assert "k2" in v and "k4" not in v
    with pytest.raises(ValueError, match="Views are read-only."):
        v["x"] = "1"
    with pytest.raises(ValueError, match="Views are read-only."):
        del v["k1"]
    with pytest.raises(KeyError):
        v["k4"]
    assert list(v.keys()) == ["k1", "k2", "k3"]
    assert list(v.values()) == ["v1", "v2", "v3"]
    assert keys_of(v.cursor(order="<")) == ["k3", "k2", "k1"]
    same_name = db.view("v1")
    assert len(same_name) == 3  # several views may share a name (k1, k3, k4)
    v.close()
    same_name.close()


def test_d11_view_reverse_slice(db):
    db.update(k1="1", k2="2", k3="3", k4="4")
    v = db.view("v")
    db["k5"] = "5"
    assert keys_of(v["k2"::True]) == ["k4", "k3", "k2"]
    v.close()


def test_d12_u32(tmp_path):
    env = Sophia(str(tmp_path / "u"), [("n", "u32")])
    db = env["n"]
    for k in (10, 2, 300, 1):
        db[k] = str(k)
    assert [k for k, _ in db] == [1, 2, 10, 300]
    assert keys_of(db[2:10]) == [2, 10]
    assert keys_of(db[10:2]) == [10, 2]
    with pytest.raises(TypeError):
        db["abc"] = "x"
    with pytest.raises(OverflowError):
        db[2**32 + 5] = "x"
    with pytest.raises(OverflowError):
        db[-1] = "x"
    assert len(db) == 4
    env.close()


def test_d13_multipart_string_keys(tmp_path):
    env = Sophia(str(tmp_path / "m"), [("m", ("string", "string", "string"))])
    db = env["m"]
    keys = [("a", "b", "c"), ("a", "b", "d"), ("a", "c", "a"), ("b", "a", "a"), ("b", "b", "b")]
    for k in keys:
        db[k] = "-".join(k)
    assert keys_of(db) == keys
    assert db["a", "b", "d"] == "a-b-d"
    # bounds that are not keys, as in upstream r1..r7
    assert keys_of(db[("a", "b", "cc") : ("b", "a", "b")]) == keys[1:4]
    assert keys_of(db[("b", "a", "b") : ("a", "b", "cc")]) == keys[1:4][::-1]
    assert keys_of(db[: ("a", "c")]) == keys[:2]
    assert keys_of(db[("a", "c") :]) == keys[2:]
    assert keys_of(db[("a", "c") :: True]) == keys[2:][::-1]
    assert keys_of(db.cursor(prefix="b")) == keys[3:]
    env.close()


def test_d14_create_database_while_open(tmp_path):
    path = str(tmp_path / "e")
    env = Sophia(path, [("main", "string")])
    foo = env.create_database("foo")
    foo["k"] = "v"
    assert env.create_database("foo") is foo
    env.close()
    env.open()
    assert env["foo"]["k"] == "v"
    assert set(env.dbs) == {"main", "foo"}
    env.close()


def test_d15_simple_database(tmp_path):
    db = SimpleDatabase(str(tmp_path / "dir" / "db-test"))
    assert db.db_name == "db-test"
    db["k1"] = "v1"
    db.update(k3="v3", k4="v4")
    assert "k3" in db
    assert len(db) == 3
    assert list(db["k2":"k33"]) == [("k3", "v3")]
    assert db.dbs["db-test"]["k1"] == "v1"
    assert list(db.keys()) == ["k1", "k3", "k4"]
    with db.transaction() as t:
        t["k9"] = "v9"
    assert db["k9"] == "v9"
    v = db.view("x")
    del db["k9"]
    assert v["k9"] == "v9"
    v.close()
    assert os.path.isdir(tmp_path / "dir")
    db.close()


def test_simple_database_name_rules(tmp_path):
    db = SimpleDatabase(str(tmp_path / "mydb.sdb"))
    assert db.db_name == "mydb"
    db.close()
    db = SimpleDatabase(str(tmp_path / ".hidden"))
    assert db.db_name == "default"
    db.close()


def test_d16_seed_conveniences(tmp_path):
    env = Sophia(str(tmp_path / "my" / "data-dir"), log_path=str(tmp_path / "log"), threads=4)
    db = env.database("my-db", mmap=True, sync=True, compression="zstd")
    assert db.mmap == 1 and db.sync == 1 and db.compression == "zstd"
    db["k"] = "v"
    db.checkpoint()
    db.gc()
    assert isinstance(db.memory_used, int)
    assert isinstance(db.index_count, int)
    assert len(db) == 1
    assert db.status == "online"
    assert env.scheduler_threads == 4
    assert env.log_path == str(tmp_path / "log")
    with pytest.raises(SophiaError):
        env.database("x", no_such_option=1)
    env.close()


# ------------------------------------------------------------------ part A details


def test_values_are_text(db):
    db["a"] = b"bytes"
    db["b"] = b"\xff\xfe"
    db["c"] = 12
    db["d"] = 1.5
    assert db["a"] == "bytes"
    assert db["b"] == b"\xff\xfe"
    assert db["c"] == "12"
    assert db["d"] == "1.5"
    with pytest.raises(TypeError):
        db["e"] = None
    with pytest.raises(TypeError):
        db[None] = "x"
    assert "e" not in db


def test_bytes_keys_are_strings(db):
    db[b"k"] = "v"
    assert db["k"] == "v"
    assert list(db.keys()) == ["k"]
    with pytest.raises(UnicodeDecodeError):  # never stored as something else
        db[b"\xff"] = "v"
    assert len(db) == 1


def test_update_needs_a_dict(db):
    with pytest.raises(TypeError):
        db.update([("a", "b")])
    assert len(db) == 0


def test_unknown_index_type(tmp_path):
    msg = "Unrecognized index type, must be one of: string, u32, u32rev, u64, u64rev"
    with pytest.raises(ValueError, match=msg):
        Sophia(str(tmp_path / "e"), [("x", "float")])
    with pytest.raises(ValueError, match="Unrecognized"):
        connect(str(tmp_path / "f"), "x", ("string", "nope"))


def test_unknown_database(env):
    with pytest.raises(KeyError) as info:
        env["nope"]
    assert info.value.args == ("nope",)  # spec E.12: the name as given


def test_cursor_examples(db):
    for k in ("aa", "aab", "ab", "abb", "baa", "bab"):
        db[k] = k
    assert list(db.cursor(key="ab", values=False)) == ["ab", "abb", "baa", "bab"]
    assert list(db.cursor(key="abb", order="<", values=False)) == ["ab", "aab", "aa"]
    assert list(db.cursor(key="c")) == []
    assert list(db.cursor(key="a", order="<")) == []
    cur = db.cursor(key="baa", values=False)
    assert list(cur) == ["baa", "bab"]
    assert list(cur) == ["baa", "bab"]  # re-iterable


def test_prefix_cursor_examples(db):
    for k in ("aaa", "aab", "aba", "abb", "baa"):
        db[k] = k
    assert len(list(db.cursor(prefix="a"))) == 4
    assert list(db.cursor(prefix="ab", values=False)) == ["aba", "abb"]


def test_transaction_open_commit_keeps_going(db):
    txn = db.transaction()
    txn.open()
    txn["a"] = "1"
    assert txn["a"] == "1"
    assert "a" in txn
    assert "a" not in db  # others see nothing until commit
    txn.commit()  # begins again
    assert db["a"] == "1"
    txn["b"] = "2"
    txn.rollback(begin=False)
    assert "b" not in db
    with pytest.raises(SophiaError):
        txn["c"] = "3"


def test_database_close_is_refused_while_open(env, db):
    assert db.close() is False
    env.close()
    assert db.close() is True


def test_env_options_and_actions(env):
    env.memory_limit = 1024
    assert env.memory_limit == 1024
    assert env.config.get_option("memory.limit") == 1024
    for name in (
        "memory_used", "memory_pager_pool_size", "scheduler_zone", "scheduler_checkpoint_lsn",
        "scheduler_snapshot_ssn_last", "performance_set", "compaction_0_mode", "log_files",
        "metric_lsn", "backup_last",
    ):  # fmt: skip
        assert isinstance(getattr(env, name), int), name
    for name in ("version", "version_storage", "build"):
        assert isinstance(getattr(env, name), str)
    for action in (
        "scheduler_checkpoint", "scheduler_snapshot", "scheduler_gc_active", "scheduler_gc",
        "scheduler_lru_active", "scheduler_lru", "scheduler_run", "log_rotate", "log_gc",
    ):  # fmt: skip
        getattr(env, action)()
    with pytest.raises(SophiaError):
        env.backup_run()  # no backup_path


def test_backup_run(tmp_path):
    env = Sophia(str(tmp_path / "e"), [("d", "string")], backup_path=str(tmp_path / "bk"))
    env["d"]["k"] = "v"
    env.backup_run()
    assert env.backup_last == 1
    env.close()
    assert os.path.isdir(tmp_path / "bk" / "1")


def test_db_properties(db):
    for name in (
        "storage", "format", "amqf", "database_path", "path_fail_on_exists", "path_fail_on_drop",
        "cache_mode", "cache", "mmap", "sync", "node_preload", "node_size", "page_size",
        "page_checksum", "compression_key", "compression", "compression_branch", "lru",
        "lru_step", "database_id",
    ):  # fmt: skip
        value = getattr(db, name)
        setattr(db, name, value)
        assert getattr(db, name) == value
    for name in (
        "status", "index_memory_used", "index_size", "index_size_uncompressed",
        "index_size_snapshot", "index_size_amqf", "index_count", "index_count_dup",
        "index_read_disk", "index_read_cache", "index_node_count", "index_branch_count",
        "index_branch_max", "index_page_count",
    ):  # fmt: skip
        getattr(db, name)
        with pytest.raises(AttributeError):
            setattr(db, name, 1)
    db.branch()
    db.compact()
    db.compact_index()
    assert db.config is db.sophia.config


def test_auto_open_false_and_declared_databases(tmp_path):
    env = Sophia(str(tmp_path / "e"), databases=[("a", "string"), ("b", "u64")], auto_open=False)
    assert env.auto_open is False
    with pytest.raises(SophiaError, match="closed"):
        env["a"]["k"] = "v"
    assert env.open() is True
    env["b"][5] = "five"
    assert env["b"][5] == "five"
    assert env.path == str(tmp_path / "e")
    env.close()


def test_two_connects_share_a_directory(tmp_path):
    a = connect(str(tmp_path / "d"), "a")
    b = connect(str(tmp_path / "d"), "b")
    a["k"] = "from a"
    b["k"] = "from b"
    assert a["k"] == "from a" and b["k"] == "from b"
    a.sophia.close()
    assert b["k"] == "from b"
    b.sophia.close()
    c = connect(str(tmp_path / "d"), "a")
    assert c["k"] == "from a"
    c.sophia.close()


def test_cannot_close_exception_is_exported():
    assert issubclass(CannotCloseException, Exception)
    assert issubclass(SophiaError, Exception)
    names = {n for n in dir(sophy) if not n.startswith("_")}
    assert {"connect", "Sophia", "Database", "SimpleDatabase", "Transaction", "View",
            "Cursor", "CannotCloseException"} <= names  # fmt: skip


# ------------------------------------------------------------------ defects (spec E)


def test_e2_falsy_bounds_are_honoured(tmp_path):
    env = Sophia(str(tmp_path / "e"), [("s", "string"), ("n", "u32")])
    s, n = env["s"], env["n"]
    s.update({"": "e", "a": "f", "b": "g"})
    for i in range(3):
        n[i] = str(i)
    assert list(s[:""]) == [("", "e")]
    assert list(s.cursor(key="", order=">", values=False)) == ["a", "b"]
    assert keys_of(n.get_range(stop=0)) == [0]
    assert list(n.cursor(key=0, order=">", values=False)) == [1, 2]
    env.close()


def test_e3_rev_types_sort_descending(tmp_path):
    env = Sophia(str(tmp_path / "e"), [("a", "u32rev"), ("b", "u64rev")])
    for name in ("a", "b"):
        db = env[name]
        for k in (5, 1, 9, 0):
            db[k] = str(k)
        assert [k for k, _ in db] == [9, 5, 1, 0]
        assert db[9] == "9"
    env.close()


def test_e4_mixed_multipart_keys_iterate(tmp_path):
    env = Sophia(str(tmp_path / "e"), [("m", ("string", "u64"))])
    db = env["m"]
    db["b", 2] = "b2"
    db["a", 10] = "a10"
    db["a", 9] = "a9"
    assert keys_of(db) == [("a", 9), ("a", 10), ("b", 2)]
    assert keys_of(db[("a", 10) :]) == [("a", 10), ("b", 2)]
    with pytest.raises(OverflowError):
        db["a", -1] = "x"
    with pytest.raises(ValueError, match="2-tuple"):
        db["a"] = "x"
    env.close()


def test_e5_transaction_iteration_len_slices_update(db):
    db.update(a="1", b="2")
    with db.transaction() as txn:
        txn["c"] = "3"
        del txn["a"]
        txn.update(d="4")
        assert list(txn) == [("b", "2"), ("c", "3"), ("d", "4")]
        assert len(txn) == 3
        assert keys_of(txn["c":]) == ["c", "d"]
        assert list(txn.cursor(order="<", values=False)) == ["d", "c", "b"]
        assert len(db) == 2
    assert list(db) == [("b", "2"), ("c", "3"), ("d", "4")]


def test_e7_stale_handles_raise_cleanly(env, db):
    db.update(a="1", b="2")
    v = db.view("v")
    cur = iter(db.cursor())
    next(cur)
    env.close()
    gc.collect()
    for action in (
        lambda: db["a"],
        lambda: db.__setitem__("a", "x"),
        lambda: list(v),
        lambda: v["a"],
        lambda: next(cur),
        lambda: len(db),
    ):
        with pytest.raises(SophiaError):
            action()


def test_e8_readme_methods_exist(db):
    db.checkpoint()
    db.gc()
    assert db.memory_used >= 0


def test_e9_reverse_prefix_without_key(db):
    db.update(aa="1", ab="2", b="3")
    assert list(db.cursor(prefix="a", order="<=", values=False)) == ["ab", "aa"]
    assert list(db.cursor(prefix="a", order="<", values=False)) == ["ab", "aa"]


def test_e11_multi_delete_is_atomic(db):
    db.update(a="1", b="2", c="3")
    with pytest.raises(TypeError):
        db.multi_delete(["a", None])  # bad key: nothing deleted
    assert len(db) == 3
    db.multi_delete(["a", "b", "zz"])
    assert list(db) == [("c", "3")]


# ------------------------------------------------------------------ part C


def test_part_c_create_database_switches_to_legacy_mode(tmp_path):
    env = Sophia(str(tmp_path / "e"))  # 0.7 mode, closed
    db = env.create_database("x")
    assert env.is_open
    assert env.version == "2.1.1"
    db["k"] = b"\xff"
    assert db["k"] == b"\xff"  # legacy text values
    with pytest.raises(KeyError) as info:
        db["missing"]
    assert info.value.args == ("missing",)
    env.close()


def test_part_c_legacy_keywords_select_legacy_mode(tmp_path):
    env = Sophia(str(tmp_path / "e"), auto_open=True)
    assert env.is_open and env.version == "2.1.1"
    env.close()
    env = Sophia(str(tmp_path / "f"), memory_limit=0)
    assert env.is_open
    env.close()


def test_sync_option_makes_commits_fsync(tmp_path):
    env = Sophia(str(tmp_path / "e"), [("a", "string")])
    assert env._store.durability == "flush"
    db = env.database("b", sync=True)
    assert env._store.durability == "sync"
    db["k"] = "v"
    assert env["a"].status == "online"
    env.close()


def test_engine_errors_are_sophia_errors(db):
    with pytest.raises(SophiaError):
        db["k" * 70000] = "v"  # beyond shoal's key size limit
    assert len(db) == 0


def test_reprs(env, db):
    assert "main" in repr(db)
    assert "open" in repr(env)
    assert "order" in repr(db.cursor())


def test_keys_values_items_are_generators(db):
    db.update(a="1", b="2")
    assert next(db.keys()) == "a"
    assert next(db.values()) == "1"
    assert next(db.items()) == ("a", "1")
    v = db.view("v")
    assert next(v.keys()) == "a"
    v.close()
