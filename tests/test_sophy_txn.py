"""shoal.sophy transactions: spec/sophy.md B.6, A.8 and behaviours D.30-D.31."""

from __future__ import annotations

import gc
import threading

import pytest
from shoal.sophy import DatabaseTransaction, Schema, Sophia, SophiaError, Transaction

ROLLED_BACK = "transaction was rolled back by another concurrent transaction."
WAITING = "transaction is not finished, waiting for a concurrent transaction to finish."


@pytest.fixture
def env(tmp_path):
    e = Sophia(str(tmp_path / "env"))
    e.add_database("main", Schema.key_value())
    e.add_database("other", Schema.key_value())
    e.open()
    yield e
    e.close()


@pytest.fixture
def db(env):
    return env["main"]


def begin(env):
    return env.transaction().begin()


def test_younger_writer_commits_first_waits_then_dies(env, db):
    t1, t2 = begin(env), begin(env)
    t1[db]["k"] = "1"
    t2[db]["k"] = "2"
    with pytest.raises(SophiaError, match=WAITING):
        t2.commit(begin=False)
    assert "k" not in db  # nothing written, still retryable
    t1.commit(begin=False)
    with pytest.raises(SophiaError, match=ROLLED_BACK):
        t2.commit(begin=False)
    assert db["k"] == "1"
    with pytest.raises(SophiaError, match="Cannot commit"):
        t2.commit()  # dead


def test_waiting_writer_commits_after_the_older_rolls_back(env, db):
    t1, t2 = begin(env), begin(env)
    t1[db]["k"] = "1"
    t2[db]["k"] = "2"
    with pytest.raises(SophiaError, match=WAITING):
        t2.commit(begin=False)
    t1.rollback(begin=False)
    t2.commit(begin=False)
    assert db["k"] == "2"


def test_older_writer_commits_first(env, db):
    t1, t2 = begin(env), begin(env)
    t1[db]["k"] = "1"
    t2[db]["k"] = "2"
    t1.commit(begin=False)
    with pytest.raises(SophiaError, match=ROLLED_BACK):
        t2.commit(begin=False)
    assert db["k"] == "1"


def test_disjoint_writers_both_commit(env, db):
    t1, t2 = begin(env), begin(env)
    t1[db]["a"] = "1"
    t2[db]["b"] = "2"
    t2.commit(begin=False)
    t1.commit(begin=False)
    assert (db["a"], db["b"]) == ("1", "2")


def test_read_then_concurrent_commit(env, db):
    db["a"] = "0"
    t1, t2 = begin(env), begin(env)
    assert t1[db]["a"] == "0"
    t2[db]["a"] = "x"
    t2.commit(begin=False)
    t1[db]["other"] = "1"
    with pytest.raises(SophiaError, match=ROLLED_BACK):
        t1.commit(begin=False)
    assert "other" not in db


def test_read_only_transaction_commits(env, db):
    db["a"] = "0"
    t1 = begin(env)
    assert t1[db].get("a") == "0"
    db["a"] = "plain"
    t1.commit(begin=False)


def test_repeatable_reads_and_own_writes(env, db):
    db["a"] = "0"
    t = begin(env)
    db["a"] = "changed"
    db["b"] = "new"
    assert t[db]["a"] == "0"
    assert t[db].get("b") is None
    t[db]["c"] = "own"
    assert t[db]["c"] == "own" and "c" in t[db] and t[db].exists("c")
    assert "c" not in db
    del t[db]["a"]
    assert t[db].get("a") is None
    # cursors and slices of a DatabaseTransaction read the committed state
    assert list(t[db].keys()) == ["a", "b"]
    assert [k for k, _ in t[db]["a":"z"]] == ["a", "b"]
    assert len(t[db]) == 2
    t.rollback(begin=False)


def test_plain_write_then_blind_transaction_write(env, db):
    t = begin(env)
    t[db]["w"] = "tx"
    db["w"] = "plain"
    t.commit(begin=False)
    assert db["w"] == "tx"  # last writer wins


def test_spans_databases(env, db):
    other = env["other"]
    with env.transaction() as t:
        t[db]["a"] = "1"
        t[other]["b"] = "2"
        assert "a" not in db
    assert db["a"] == "1" and other["b"] == "2"
    with pytest.raises(RuntimeError):
        with env.transaction() as t:
            t[db]["x"] = "1"
            t[other]["y"] = "2"
            raise RuntimeError
    assert "x" not in db and "y" not in other


def test_d31_update_joins_the_transaction(env, db):
    with env.transaction() as t:
        t[db].update(k1="v1")
        t[db].multi_set({"k2": "v2"})
        t.rollback()
    assert "k1" not in db and "k2" not in db
    with env.transaction() as t:
        t[db].update(k1="v1")
        t[db].multi_delete(["k1"])
        t[db].multi_set(k3="v3")
        assert t[db].multi_get(["k1", "k3"]) == [None, "v3"]
        assert t[db].multi_get_dict(["k1", "k3"]) == {"k3": "v3"}
    assert list(db) == [("k3", "v3")]


def test_commit_inside_block_begins_again(env, db):
    with env.transaction() as t:
        t[db]["c1"] = "1"
        t.commit()
        assert db["c1"] == "1"
        t[db]["c2"] = "2"
    assert db["c2"] == "2"


def test_failed_commit_in_with_rolls_back_and_reraises(env, db):
    t2 = begin(env)
    t2[db]["k"] = "2"
    with pytest.raises(SophiaError, match=ROLLED_BACK):
        with env.transaction() as t1:
            t1[db]["k"] = "1"
            t1[db]["z"] = "z"
            t2.commit(begin=False)
    assert "z" not in db and db["k"] == "2"


def test_error_messages(env, db):
    t = env.transaction()
    assert isinstance(t, Transaction)
    with pytest.raises(SophiaError, match="Transaction is not currently open. Cannot commit."):
        t.commit()
    with pytest.raises(SophiaError, match="Transaction is not currently open. Cannot rollback."):
        t.rollback()
    assert t.begin() is t
    with pytest.raises(SophiaError, match="This transaction has already been started."):
        t.begin()
    with pytest.raises(SophiaError, match="Transaction __getitem__ value must be a Database"):
        t["main"]
    dbt = t[db]
    assert isinstance(dbt, DatabaseTransaction)
    assert dbt.name == "main" and dbt.compression == "none"
    t.rollback(begin=False)
    for action in (lambda: dbt.set("a", "b"), lambda: dbt.get("a"), lambda: dbt.delete("a")):
        with pytest.raises(SophiaError, match="Transaction is not active."):
            action()


def test_invalidated_by_close(env, db):
    t = begin(env)
    t[db]["inv"] = "1"
    env.close()
    env.open()
    with pytest.raises(SophiaError, match="Transaction was invalidated"):
        t.commit()
    assert db.get("inv") is None
    t.begin()
    t[db]["ok"] = "1"
    t.commit(begin=False)
    assert db["ok"] == "1"


def test_transaction_needs_open_env(tmp_path):
    env = Sophia(str(tmp_path / "e"))
    env.add_database("d", Schema.key_value())
    with pytest.raises(SophiaError, match="closed"):
        env.transaction().begin()


def test_bad_input_in_transaction_writes_nothing(env, db):
    with env.transaction() as t:
        t[db]["a"] = "1"
        with pytest.raises(TypeError):
            t[db][None] = "x"
        with pytest.raises(TypeError):
            t[db].update({"b": "2", "c": None})
    assert list(db) == [("a", "1")]


def test_counters(env, db):
    before = env.transaction_commit
    with env.transaction() as t:
        t[db]["a"] = "1"
    assert env.transaction_commit == before + 1
    t = begin(env)
    assert env.transaction_online_rw == 1
    t.rollback(begin=False)
    assert env.transaction_rollback >= 1


def test_legacy_transaction_conflicts(tmp_path):
    env = Sophia(str(tmp_path / "e"), [("d", "string")])
    db = env["d"]
    t1, t2 = db.transaction(), db.transaction()
    t1.open()
    t2.open()
    t1["k"] = "1"
    t2["k"] = "2"
    t1.commit(begin=False)
    with pytest.raises(Exception, match=ROLLED_BACK):
        t2.commit(begin=False)
    assert db["k"] == "1"
    env.close()


def test_threads_increment_with_retries(env, db):
    db["n"] = "0"

    def work():
        for _ in range(20):
            while True:
                t = env.transaction().begin()
                try:
                    t[db]["n"] = str(int(t[db]["n"]) + 1)
                    t.commit(begin=False)
                    break
                except SophiaError:
                    if t._tx is not None:
                        t.rollback(begin=False)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert db["n"] == "60"


def test_abandoned_transaction_does_not_block_writers(env, db):
    t1 = begin(env)
    t1[db]["k"] = "1"
    del t1  # dropped without commit or rollback
    gc.collect()
    t2 = begin(env)
    t2[db]["k"] = "2"
    t2.commit(begin=False)
    assert db["k"] == "2"
