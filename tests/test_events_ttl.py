"""Change events (``Collection.watch``) and time to live (``ttl=``)."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest
import shoal
from shoal import ChangeEvent


@pytest.fixture
def store(tmp_path: Any) -> Any:
    s = shoal.open(tmp_path / "db")
    yield s
    s.close()


# --- change events ---------------------------------------------------------------


def test_every_committed_change_makes_one_event_in_order(store: Any) -> None:
    c = store.collection("c")
    got: list[ChangeEvent] = []
    c.watch(got.append)
    c.insert({"_id": 1, "a": 1})
    c.put({"_id": 1, "a": 2})
    c.replace({"_id": 1, "a": 3})
    c.update({"_id": 1}, {"$inc": {"a": 1}})
    c.update({"_id": 1}, {"$set": {"a": 4}})  # no change: no event
    c.insert_many([{"_id": 2}, {"_id": 3}])
    c.delete_many({"_id": {"$gte": 2}})
    c.delete(1)
    c.delete(1)  # nothing deleted: no event
    assert [(e.action, e.key) for e in got] == [
        ("insert", 1),
        ("replace", 1),
        ("replace", 1),
        ("update", 1),
        ("insert", 2),
        ("insert", 3),
        ("delete", 2),
        ("delete", 3),
        ("delete", 1),
    ]
    assert got[1] == ("c", "replace", 1, {"_id": 1, "a": 1}, {"_id": 1, "a": 2})
    assert got[3].old == {"_id": 1, "a": 3} and got[3].new == {"_id": 1, "a": 4}
    assert got[-1].new is None and got[0].old is None
    # Events carry fresh objects.
    got[0].new["a"] = 99
    assert c.find() == []


def test_failed_writes_and_other_collections_make_no_event(store: Any) -> None:
    c, other = store.collection("c"), store.collection("other")
    got: list[ChangeEvent] = []
    c.watch(got.append)
    c.insert({"_id": 1})
    with pytest.raises(shoal.DuplicateKeyError):
        c.insert_many([{"_id": 2}, {"_id": 1}])
    other.insert({"_id": 1})
    assert [e.key for e in got] == [1]


def test_transactions_deliver_at_commit_and_never_after_rollback(store: Any) -> None:
    c = store.collection("c")
    got: list[ChangeEvent] = []
    c.watch(got.append)
    with store.transaction() as tx:
        tx[c].insert({"_id": 1})
        tx[c].insert({"_id": 2})
        assert got == []
    assert [e.key for e in got] == [1, 2]
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx[c].insert({"_id": 3})
        raise RuntimeError
    tx = store.transaction()
    tx[c].delete(1)
    tx.rollback()
    assert [e.key for e in got] == [1, 2]


def test_a_raising_listener_cannot_undo_the_write(store: Any, monkeypatch: Any) -> None:
    c = store.collection("c")
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))
    got: list[ChangeEvent] = []

    def bad(e: ChangeEvent) -> None:
        raise ValueError("listener bug")

    c.watch(bad)
    c.watch(got.append)
    c.insert({"_id": 1})
    assert c.get(1) == {"_id": 1}
    assert [e.key for e in got] == [1]  # the other listener still ran
    assert len(seen) == 1 and isinstance(seen[0], ValueError)
    assert c.unwatch(bad) is True and c.unwatch(bad) is False
    c.insert({"_id": 2})
    assert len(seen) == 1
    with pytest.raises(TypeError):
        c.watch(5)


def test_a_listener_may_write_and_its_events_follow(store: Any) -> None:
    c, log = store.collection("c"), store.collection("log")
    got: list[tuple[str, Any]] = []

    def mirror(e: ChangeEvent) -> None:
        got.append((e.collection, e.key))
        if e.collection == "c":
            log.insert({"_id": e.key})

    c.watch(mirror)
    log.watch(mirror)
    c.insert_many([{"_id": 1}, {"_id": 2}])
    assert got == [("c", 1), ("c", 2), ("log", 1), ("log", 2)]


def test_all_handles_and_threads_are_seen_once(store: Any) -> None:
    events: list[ChangeEvent] = []
    store.collection("c").watch(events.append)

    def writer(t: int) -> None:
        c = store.collection("c")
        for i in range(50):
            c.insert({"_id": (t, i)})

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    store.collection("c").insert({"_id": (9, 9)})  # delivers anything left queued
    keys = [e.key for e in events]
    assert len(keys) == 201 and len(set(keys)) == 201
    for t in range(4):
        mine = [k for k in keys if k[0] == t]
        assert mine == sorted(mine)  # one thread's commits, in order


# --- time to live ----------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: Any) -> Any:
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_expired_documents_are_never_read(store: Any, clock: Any) -> None:
    c = store.collection("t", ttl="exp")
    c.create_index("g")
    c.insert_many(
        [
            {"_id": 1, "exp": clock[0] + 10, "g": 1},
            {"_id": 2, "exp": clock[0] + 20, "g": 1},
            {"_id": 3, "exp": 0, "g": 1},
            {"_id": 4, "g": 1},
            {"_id": 5, "exp": "soon", "g": 1},
        ]
    )
    assert c.count({"g": 1}) == 5
    clock[0] += 15
    assert c.get(1) is None and 1 not in c
    assert [d["_id"] for d in c.find({"g": 1})] == [2, 3, 4, 5]
    assert [d["_id"] for d in c] == [2, 3, 4, 5]
    assert c.count({"g": 1}) == 4 and len(c) == 4 and c.count() == 4
    assert c.distinct("g") == [1]
    assert c.update({"_id": 1}, {"$set": {"x": 1}}).matched == 0
    assert c.delete_many({"g": 1}) == 4
    clock[0] += 100
    assert c.find() == []


def test_expire_removes_documents_and_their_index_entries(store: Any, clock: Any) -> None:
    c = store.collection("t", ttl="exp")
    c.create_index("exp")
    c.create_index("g")
    got: list[ChangeEvent] = []
    c.watch(got.append)
    c.insert_many({"_id": i, "exp": clock[0] + i, "g": i % 2} for i in range(1, 11))
    clock[0] += 5.5
    assert c.expire() == 5
    assert [e.key for e in got if e.action == "expire"] == [1, 2, 3, 4, 5]
    assert c.expire() == 0
    c.set_ttl(None)  # now every stored document is visible again
    assert c.count({"g": 0}) == 3 and c.count({"g": 1}) == 2
    assert c.explain({"g": 0}, count=True)["docs_examined"] == 0


def test_writes_treat_expired_documents_as_absent(store: Any, clock: Any) -> None:
    c = store.collection("t", ttl="exp")
    c.create_index("k", unique=True)
    c.insert({"_id": 1, "k": "a", "exp": clock[0] + 1})
    clock[0] += 2
    c.insert({"_id": 2, "k": "b"})
    # The expired document is replaced, and its unique value freed.
    c.insert({"_id": 1, "k": "c"})
    c.insert({"_id": 3, "k": "a"})
    assert c.get(1) == {"_id": 1, "k": "c"}
    c.put({"_id": 4, "k": "d", "exp": clock[0] - 1})
    with pytest.raises(KeyError):
        c.replace({"_id": 4, "k": "e"})
    assert c.delete(4) is False
    c.update({"_id": 5}, {"$set": {"k": "f"}}, upsert=True)
    assert c.count({"k": {"$in": ["a", "b", "c", "d", "f"]}}) == 4


def test_ttl_is_stored_with_the_collection(tmp_path: Any, clock: Any) -> None:
    with shoal.open(tmp_path / "db") as s:
        c = s.collection("t", ttl="meta.exp")
        c.insert({"_id": 1, "meta": {"exp": clock[0] - 1}})
        c.insert({"_id": 2, "meta": {"exp": clock[0] + 1}})
    with shoal.open(tmp_path / "db") as s:
        c = s.collection("t")
        assert c.ttl == "meta.exp"
        assert [d["_id"] for d in c.find()] == [2]
        with pytest.raises(shoal.InvalidArgumentError):
            c.set_ttl("bad..path")


def test_a_large_insert_many_replaces_expired_documents(store: Any, clock: Any) -> None:
    # A batch of 8 or more probes its key range once; an expired document in
    # that range must still be removed (with its index entry) and counted.
    c = store.collection("t", ttl="exp")
    c.create_index("g")
    c.insert({"_id": 5, "exp": clock[0] + 1, "g": "old"})
    clock[0] += 2
    got: list[ChangeEvent] = []
    c.watch(got.append)
    c.insert_many({"_id": i, "g": "new"} for i in range(10))
    assert [(e.action, e.key) for e in got if e.action == "expire"] == [("expire", 5)]
    assert c.count({"g": "old"}) == 0 and c.count({"g": "new"}) == 10
    c.set_ttl(None)
    assert len(c) == 10 and c.get(5) == {"_id": 5, "g": "new"}
