"""Optimistic transactions: single-space TxKV and cross-space Transaction."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path

import pytest
import shoal
from _util import LETTERS, assert_all_raise


class Boom(Exception):
    pass


# -- single space -----------------------------------------------------------


def test_txkv_is_a_mutable_mapping(kv: shoal.KV) -> None:
    with kv.transaction() as tx:
        assert isinstance(tx, shoal.TxKV)
        assert isinstance(tx, MutableMapping)
        assert isinstance(tx.transaction, shoal.Transaction)
        assert tx.transaction.active
        assert tx.kv.name == kv.name
    assert not tx.transaction.active


def test_commit_at_block_end(letters: shoal.KV) -> None:
    with letters.transaction() as tx:
        tx["k"] = "new"
        tx["a"] = "changed"
        del tx["b"]
        # Not visible outside before the commit.
        assert "k" not in letters
        assert letters["a"] == 0
        assert letters["b"] == 1
    assert letters["k"] == "new"
    assert letters["a"] == "changed"
    assert "b" not in letters


def test_transaction_sees_its_own_writes(letters: shoal.KV) -> None:
    with letters.transaction() as tx:
        tx["bb"] = "ins"
        tx["c"] = "upd"
        del tx["d"]
        assert tx["bb"] == "ins"
        assert tx.get("c") == "upd"
        assert tx.get("d", "gone") == "gone"
        assert "d" not in tx
        assert "bb" in tx
        with pytest.raises(KeyError):
            tx["d"]  # noqa: B018
        with pytest.raises(KeyError):
            del tx["d"]
        assert len(tx) == 10
        assert list(tx) == ["a", "b", "bb", "c", "e", "f", "g", "h", "i", "j"]
        assert list(tx["b":"e"]) == [("b", 1), ("bb", "ins"), ("c", "upd")]
        assert list(tx["e":"b"]) == [("e", 4), ("c", "upd"), ("bb", "ins")]
        assert list(tx.cursor("b", "e", values=False)) == ["b", "bb", "c"]
        assert list(tx.cursor(prefix="b", values=False)) == ["b", "bb"]
        assert list(tx.cursor("a", "d", reverse=True, values=False)) == ["c", "bb", "b", "a"]
        assert list(tx[::-1])[:2] == [("j", 9), ("i", 8)]
        assert tx.cursor(values=False, reverse=True).fetch(100)[-3:] == ["bb", "b", "a"]
        assert list(tx.keys())[:4] == ["a", "b", "bb", "c"]
        assert ("bb", "ins") in tx.items()
        # The mixin methods work through the transaction too.
        assert tx.pop("bb") == "ins"
        assert tx.setdefault("z", 26) == 26
        tx.update({"y": 25})
        assert list(tx)[-2:] == ["y", "z"]
    expected = dict(LETTERS, c="upd", y=25, z=26)
    del expected["d"]
    assert dict(letters.items()) == expected


def test_rollback_when_block_raises(letters: shoal.KV) -> None:
    with pytest.raises(Boom), letters.transaction() as tx:
        tx["new"] = 1
        del tx["a"]
        tx["b"] = "changed"
        raise Boom
    assert tx.transaction.active is False
    assert dict(letters.items()) == LETTERS


def test_explicit_commit_and_rollback(letters: shoal.KV) -> None:
    tx = letters.transaction()
    tx["x"] = 1
    tx.commit()
    assert letters["x"] == 1
    assert not tx.transaction.active

    tx = letters.transaction()
    tx["y"] = 1
    tx.rollback()
    assert "y" not in letters
    assert not tx.transaction.active


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_use_after_end_is_closed(letters: shoal.KV, end: str) -> None:
    tx = letters.transaction()
    tx["x"] = 1
    getattr(tx, end)()
    assert_all_raise(
        shoal.ClosedError,
        {
            'tx["a"]': lambda: tx["a"],
            'tx.__setitem__("y", 2)': lambda: tx.__setitem__("y", 2),
            'tx.__delitem__("a")': lambda: tx.__delitem__("a"),
            'tx.get("a")': lambda: tx.get("a"),
            '"a" in tx': lambda: "a" in tx,
            "len(tx)": lambda: len(tx),
            "list(tx)": lambda: list(tx),
            "tx.cursor()": lambda: tx.cursor(),
            "tx.commit()": lambda: tx.commit(),
        },
    )
    expected = dict(LETTERS, x=1) if end == "commit" else LETTERS
    assert dict(letters.items()) == expected


def test_explicit_commit_inside_with_block(letters: shoal.KV) -> None:
    with letters.transaction() as tx:
        tx["x"] = 1
        tx.commit()
    assert letters["x"] == 1


def test_explicit_rollback_inside_with_block(letters: shoal.KV) -> None:
    with letters.transaction() as tx:
        tx["x"] = 1
        tx.rollback()
    assert "x" not in letters
    assert dict(letters.items()) == LETTERS


def test_conflict_with_autocommit_write(letters: shoal.KV) -> None:
    tx = letters.transaction()
    assert tx["a"] == 0
    tx["a"] = tx["a"] + 1
    tx["other"] = "from tx"
    letters["a"] = 100
    with pytest.raises(shoal.ConflictError):
        tx.commit()
    assert letters["a"] == 100
    assert "other" not in letters
    assert not tx.transaction.active


def test_conflict_raised_by_with_block(letters: shoal.KV) -> None:
    with pytest.raises(shoal.ConflictError), letters.transaction() as tx:
        tx.get("b")
        letters["b"] = "outside"
        tx["c"] = "inside"
    assert letters["b"] == "outside"
    assert letters["c"] == 2


def test_conflict_on_read_of_missing_key(letters: shoal.KV) -> None:
    tx = letters.transaction()
    assert "new" not in tx
    tx["flag"] = "absent"
    letters["new"] = 1
    with pytest.raises(shoal.ConflictError):
        tx.commit()
    assert "flag" not in letters


def test_conflict_with_delete(letters: shoal.KV) -> None:
    tx = letters.transaction()
    assert tx["c"] == 2
    tx["d"] = "x"
    del letters["c"]
    with pytest.raises(shoal.ConflictError):
        tx.commit()
    assert letters["d"] == 3


def test_conflict_between_transactions(letters: shoal.KV) -> None:
    t1 = letters.transaction()
    t2 = letters.transaction()
    t1["a"] = t1["a"] + 10
    t2["a"] = t2["a"] + 20
    t1.commit()
    with pytest.raises(shoal.ConflictError):
        t2.commit()
    assert letters["a"] == 10


def test_retry_after_conflict(letters: shoal.KV) -> None:
    attempts = 0
    while True:
        attempts += 1
        try:
            with letters.transaction() as tx:
                tx["a"] = tx["a"] + 1
                if attempts == 1:
                    letters["a"] = 41
        except shoal.ConflictError:
            continue
        break
    assert attempts == 2
    assert letters["a"] == 42


def test_blind_writes_do_not_conflict(letters: shoal.KV) -> None:
    t1 = letters.transaction()
    t2 = letters.transaction()
    t1["a"] = "t1"
    t1["x"] = "t1"
    t2["a"] = "t2"
    t2["y"] = "t2"
    letters["a"] = "auto"
    t2.commit()
    t1.commit()
    assert letters["a"] == "t1"
    assert letters["x"] == "t1"
    assert letters["y"] == "t2"


def test_unrelated_reads_do_not_conflict(letters: shoal.KV) -> None:
    tx = letters.transaction()
    assert tx["a"] == 0
    tx["b"] = "tx"
    letters["c"] = "outside"
    tx.commit()
    assert letters["b"] == "tx"
    assert letters["c"] == "outside"


def test_transaction_reads_a_stable_state(letters: shoal.KV) -> None:
    # Writes committed after the transaction began are not seen by it
    # (snapshot reads); a writing transaction that read such a key conflicts.
    tx = letters.transaction()
    letters["z"] = "late"
    assert "z" not in tx
    assert tx.get("z") is None
    tx["flag"] = "z was absent"
    with pytest.raises(shoal.ConflictError):
        tx.commit()
    assert "flag" not in letters
    assert letters["z"] == "late"


def test_range_read_conflicts_with_insert_in_range(letters: shoal.KV) -> None:
    # Documented in src/engine/txn.rs: a scanned range joins the read set.
    tx = letters.transaction()
    assert [k for k, _ in tx["c":"f"]] == ["c", "d", "e"]
    tx["summary"] = 3
    letters["cc"] = "phantom"
    with pytest.raises(shoal.ConflictError):
        tx.commit()
    assert "summary" not in letters


def test_range_read_ignores_writes_outside_the_range(letters: shoal.KV) -> None:
    tx = letters.transaction()
    assert tx.cursor("c", "f", values=False).fetch(10) == ["c", "d", "e"]
    tx["summary"] = 3
    letters["x"] = "outside"
    letters["f"] = "stop bound is excluded"
    tx.commit()
    assert letters["summary"] == 3


def test_len_reads_the_whole_space(letters: shoal.KV) -> None:
    tx = letters.transaction()
    n = len(tx)
    tx["count"] = n
    letters["zz"] = 1
    with pytest.raises(shoal.ConflictError):
        tx.commit()
    assert "count" not in letters


def test_read_only_transaction_commits(letters: shoal.KV) -> None:
    with letters.transaction() as tx:
        assert tx["a"] == 0
        assert len(tx) == 10
    assert dict(letters.items()) == LETTERS


def test_transaction_bad_value_is_a_type_error(letters: shoal.KV) -> None:
    with letters.transaction() as tx:
        tx["ok"] = 1
        with pytest.raises(TypeError):
            tx["bad"] = object()
        with pytest.raises(TypeError):
            tx[["list"]] = 1
        assert "bad" not in tx
    assert letters["ok"] == 1
    assert "bad" not in letters
    assert len(letters) == 11


def test_transaction_survives_reopen(db_path: Path) -> None:
    with shoal.open(db_path) as store:
        kv = store.kv("t")
        with kv.transaction() as tx:
            tx.update({i: i for i in range(100)})
    with shoal.open(db_path) as store:
        assert len(store.kv("t")) == 100


def test_uncommitted_transaction_is_dropped_at_close(db_path: Path) -> None:
    store = shoal.open(db_path)
    kv = store.kv("t")
    kv["a"] = 1
    tx = kv.transaction()
    tx["b"] = 2
    store.close()
    with pytest.raises(shoal.ClosedError):
        tx.commit()
    with shoal.open(db_path) as store:
        assert dict(store.kv("t").items()) == {"a": 1}


# -- across spaces -----------------------------------------------------------


@pytest.fixture
def two(store: shoal.Store) -> tuple[shoal.KV, shoal.KV]:
    a = store.kv("a")
    b = store.kv("b", key="str", value="json")
    a["x"] = 1
    b["x"] = {"n": 1}
    return a, b


def test_store_transaction_views(store: shoal.Store, two) -> None:
    a, b = two
    with store.transaction() as t:
        assert isinstance(t, shoal.Transaction)
        assert t.active
        ta = t.view(a)
        tb = t[b]
        assert isinstance(ta, shoal.TxKV) and isinstance(tb, shoal.TxKV)
        assert ta.transaction is t
        ta["y"] = 2
        tb["y"] = {"n": 2}
        assert ta["y"] == 2
        assert t.view(a)["y"] == 2  # a second view sees the same writes
        assert "y" not in a
        assert "y" not in b
    assert not t.active
    assert a["y"] == 2
    assert b["y"] == {"n": 2}


def test_store_transaction_methods(store: shoal.Store, two) -> None:
    a, b = two
    with store.transaction() as t:
        assert t.get(a, "x") == 1
        assert t.get(a, "missing") is None
        assert t.get(a, "missing", "dflt") == "dflt"
        t.put(a, "p", [1])
        t.put(b, "p", {"q": True})
        assert t.get(b, "p") == {"q": True}
        t.delete(b, "x")
        assert t.get(b, "x", "gone") == "gone"
        with pytest.raises(KeyError):
            t.delete(b, "x")
        with pytest.raises(KeyError):
            t.delete(a, "never")
    assert dict(a.items()) == {"x": 1, "p": [1]}
    assert dict(b.items()) == {"p": {"q": True}}


def test_store_transaction_rolls_back_every_space(store: shoal.Store, two) -> None:
    a, b = two
    with pytest.raises(Boom), store.transaction() as t:
        t.put(a, "y", 2)
        t[b]["y"] = {"n": 2}
        t.delete(a, "x")
        raise Boom
    assert dict(a.items()) == {"x": 1}
    assert dict(b.items()) == {"x": {"n": 1}}


def test_store_transaction_conflict_is_all_or_nothing(store: shoal.Store, two) -> None:
    a, b = two
    t = store.transaction()
    assert t.get(b, "x") == {"n": 1}
    t.put(a, "from-tx", 1)
    t.put(b, "from-tx", {"n": 1})
    b["x"] = {"n": "outside"}
    with pytest.raises(shoal.ConflictError):
        t.commit()
    assert "from-tx" not in a
    assert "from-tx" not in b
    assert b["x"] == {"n": "outside"}
    assert not t.active


def test_store_transaction_codec_errors(store: shoal.Store, two) -> None:
    a, b = two
    with store.transaction() as t:
        with pytest.raises(TypeError):
            t.put(b, 1, {"n": 1})  # int key on a str space
        with pytest.raises(TypeError):
            t.put(b, "k", {1, 2})  # a set is not JSON
        t.put(a, "ok", 1)
    assert dict(a.items()) == {"x": 1, "ok": 1}
    assert dict(b.items()) == {"x": {"n": 1}}


def test_store_transaction_explicit_end(store: shoal.Store, two) -> None:
    a, _ = two
    t = shoal.Transaction(store)
    t.put(a, "y", 2)
    t.rollback()
    assert "y" not in a
    with pytest.raises(shoal.ClosedError):
        t.put(a, "z", 3)
    with pytest.raises(shoal.ClosedError):
        t.get(a, "x")
    t = store.transaction()
    t.put(a, "y", 2)
    t.commit()
    with pytest.raises(shoal.ClosedError):
        t.commit()
    assert a["y"] == 2


def test_write_skew_is_prevented(kv: shoal.KV) -> None:
    # Constraint: a + b >= 0. Each transaction checks it, then withdraws
    # from a different key; snapshot isolation alone would let both commit.
    kv.update({"a": 50, "b": 50})
    t1, t2 = kv.transaction(), kv.transaction()
    for tx, key in [(t1, "a"), (t2, "b")]:
        assert tx["a"] + tx["b"] >= 100
        tx[key] = tx[key] - 100
    t1.commit()
    with pytest.raises(shoal.ConflictError):
        t2.commit()
    assert dict(kv.items()) == {"a": -50, "b": 50}


def test_discard_is_a_blind_delete(tmp_path) -> None:
    with shoal.open(tmp_path / "db") as s:
        kv = s.kv("a")
        kv["x"] = 1
        t1, t2 = s.transaction(), s.transaction()
        t1[kv].discard("x")
        t1[kv].discard("missing")  # no KeyError
        assert "x" not in t1[kv]
        t2[kv]["x"] = 2
        t2.commit()
        t1.commit()  # nothing read: no conflict; the later commit wins
        assert "x" not in kv
