"""dynafile face: spec behaviours 1-19 (section 3), one test each, and the roadmap (section 4)."""

from __future__ import annotations

import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, List

import pytest
from shoal.dynafile import (
    Action,
    ActionType,
    ConditionalCheckFailed,
    Dynafile,
    DynafileError,
    Event,
    IndexNotFound,
    TransactionCanceled,
    ValidationError,
)


@pytest.fixture
def db(tmp_path: Path) -> Any:
    d = Dynafile(tmp_path / "db")
    yield d
    d.close()


@pytest.fixture
def clock(monkeypatch: Any) -> Any:
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def sks(items: Any) -> List[Any]:
    return [i["SK"] for i in items]


def put_all(db: Any, pk: Any, keys: Any) -> None:
    for sk in keys:
        db.put_item(item={"PK": pk, "SK": sk})


# --- section 3: behaviours of the original ------------------------------------------


def test_01_get_on_empty_db_is_none(db: Any) -> None:
    assert db.get_item(key={"PK": "1", "SK": "2"}) is None


def test_02_get_ignores_extra_key_attributes(db: Any) -> None:
    db.put_item(item={"PK": "1", "SK": "2", "name": "Dynafile"})
    assert db.get_item(key={"PK": "1", "SK": "2", "name": "x"})["name"] == "Dynafile"


def test_03_persistence_across_objects_and_reopen(tmp_path: Path) -> None:
    first = Dynafile(tmp_path / "db")
    first.put_item(item={"PK": "1", "SK": "2", "name": "Dynafile"})
    second = Dynafile(tmp_path / "db")  # same process: shares the engine
    assert second.get_item(key={"PK": "1", "SK": "2"})["name"] == "Dynafile"
    first.close()
    second.close()
    with Dynafile(tmp_path / "db") as third:
        assert third.get_item(key={"PK": "1", "SK": "2"})["name"] == "Dynafile"


def test_04_delete(db: Any) -> None:
    db.put_item(item={"PK": "1", "SK": "2"})
    db.delete_item(key={"PK": "1", "SK": "2"})
    assert db.get_item(key={"PK": "1", "SK": "2"}) is None


def test_05_starts_with_is_a_bound(db: Any) -> None:
    put_all(db, "1", ["aa", "ab", "ac"])
    assert sks(db.query(pk="1", starts_with="ab")) == ["ab", "ac"]
    assert sks(db.query(pk="1", starts_with="ab", scan_index_forward=False)) == ["ab", "aa"]


def test_06_query_whole_partition_and_bound_includes_later_keys(db: Any) -> None:
    put_all(db, "1", ["ba", "ab", "aa", "ac"])
    put_all(db, "2", ["aa"])
    assert sks(db.query(pk="1")) == ["aa", "ab", "ac", "ba"]
    assert sks(db.query(pk="1", starts_with="ab")) == ["ab", "ac", "ba"]


def test_07_callable_and_string_filters(db: Any) -> None:
    put_all(db, "1", ["aa", "ab", "ac", "ba"])
    assert sks(db.query(pk="1", _filter=lambda i: i["SK"].startswith("a"))) == ["aa", "ab", "ac"]
    assert sks(db.query(pk="1", _filter="SK =~ /^a/")) == ["aa", "ab", "ac"]


def test_08_nested_filter(db: Any) -> None:
    db.put_item(item={"PK": "1", "SK": "a", "data": {"count": 0}})
    db.put_item(item={"PK": "1", "SK": "b", "data": {"count": 1}})
    assert sks(db.query(pk="1", _filter="data.count > 0")) == ["b"]
    assert sks(db.scan(_filter="data.count > 0")) == ["b"]


def test_09_scan_all_partitions(db: Any) -> None:
    put_all(db, "1", ["aa", "ab"])
    put_all(db, "2", ["ac", "ba"])
    assert sorted(sks(db.scan())) == ["aa", "ab", "ac", "ba"]
    assert {i["SK"] for i in db.scan(_filter="SK =~ /^a/")} == {"aa", "ab", "ac"}


def test_10_unknown_partition_is_empty(db: Any) -> None:
    put_all(db, "1", ["aa"])
    assert list(db.query("nope")) == []


def test_11_events_put_overwrite_delete(db: Any) -> None:
    got: List[Event] = []
    db.add_stream_listener(got.append)
    db.put_item(item={"PK": "1", "SK": "aa"})
    db.put_item(item={"PK": "1", "SK": "aa", "v": 2})
    db.delete_item(key={"PK": "1", "SK": "aa"})
    assert got == [
        Event(action="PUT", new={"PK": "1", "SK": "aa"}, old=None),
        ("PUT", {"PK": "1", "SK": "aa", "v": 2}, {"PK": "1", "SK": "aa"}),
        Event(action="DELETE", new=None, old={"PK": "1", "SK": "aa", "v": 2}),
    ]


def test_12_batch_writer(db: Any) -> None:
    got: List[Event] = []
    db.add_stream_listener(got.append)
    with db.batch_writer() as w:
        w.put_item(item={"PK": "1", "SK": "1"})
        w.put_item(item={"PK": "1", "SK": "aa"})
        w.delete_item(key={"PK": "1", "SK": "aa"})
        assert got == []  # queued only
    assert db.get_item(key={"PK": "1", "SK": "aa"}) is None
    assert db.get_item(key={"PK": "1", "SK": "1"}) == {"PK": "1", "SK": "1"}
    assert [(e.action, (e.new or e.old)["SK"]) for e in got] == [
        ("PUT", "1"),
        ("PUT", "aa"),
        ("DELETE", "aa"),
    ]


def test_13_ttl_on_read(tmp_path: Path, clock: Any) -> None:
    db = Dynafile(tmp_path / "db", ttl_attribute="ttl")
    got: List[Event] = []
    db.add_stream_listener(got.append)
    live = {"PK": "1", "SK": "live", "ttl": clock[0] + 1000}
    dead = {"PK": "2", "SK": "dead", "ttl": clock[0] - 1000}
    db.put_item(item=live)
    db.put_item(item=dead)
    assert list(db.scan()) == [live]
    assert list(db.query("1")) == [live]
    assert db.get_item(key=live) == live
    assert list(db.query("2")) == []
    assert db.get_item(key=dead) is None
    assert db.get_item(key={"PK": "9", "SK": "never"}) is None
    # Gone from storage, with a DELETE event.
    assert db._coll.count() == 1 and db.expire() == 0
    assert Event("DELETE", None, dead) in got
    # Items expire as time passes.
    clock[0] += 2000
    assert list(db.scan()) == []
    db.close()


def test_14_ttl_zero_or_missing_never_expires(tmp_path: Path, clock: Any) -> None:
    db = Dynafile(tmp_path / "db", ttl_attribute="ttl")
    items = [
        {"PK": "1", "SK": "zero", "ttl": 0},
        {"PK": "1", "SK": "missing"},
        {"PK": "1", "SK": "none", "ttl": None},
    ]
    for item in items:
        db.put_item(item=item)
    clock[0] += 10**9
    assert sorted(sks(db.scan())) == ["missing", "none", "zero"]
    db.close()


def test_15_no_bound_with_integer_sort_keys(db: Any) -> None:
    put_all(db, "n", [10, 9])
    assert sks(db.query("n", starts_with=None)) == [9, 10]
    assert sks(db.query("n")) == [9, 10]
    assert sks(db.query("n", scan_index_forward=False)) == [10, 9]
    assert sks(db.query("n", starts_with=9.5)) == [10]


def test_16_returned_items_are_copies(db: Any) -> None:
    db.put_item(item={"PK": "1", "SK": "a", "list": [1], "nested": {"x": 1}})
    for got in (db.get_item(key={"PK": "1", "SK": "a"}), next(db.query("1")), next(db.scan())):
        got["list"].append(2)
        got["nested"]["x"] = 2
        got["new"] = 1
    assert db.get_item(key={"PK": "1", "SK": "a"}) == {
        "PK": "1",
        "SK": "a",
        "list": [1],
        "nested": {"x": 1},
    }
    item = {"PK": "1", "SK": "b", "list": [1]}
    db.put_item(item=item)
    item["list"].append(2)
    assert db.get_item(key=item)["list"] == [1]


def test_17_gsi_branch_semantics(tmp_path: Path) -> None:
    db = Dynafile(tmp_path / "db")
    db.put_item(item={"PK": "1", "SK": "2"})
    db.create_gsi(name="gsi1", pk_attribute="SK", sk_attribute="PK")
    assert list(db.query(pk="2", index="gsi1")) == [{"PK": "1", "SK": "2"}]
    db.create_gsi(name="gsi2", pk_attribute="G", sk_attribute="H")
    db.put_item(item={"PK": "1", "SK": "3", "G": "g"})  # no H: not in gsi2
    db.put_item(item={"PK": "1", "SK": "4", "G": "g", "H": 1})
    assert sks(db.query(pk="g", index="gsi2")) == ["4"]
    db.delete_item(key={"PK": "1", "SK": "4"})
    assert list(db.query(pk="g", index="gsi2")) == []
    db.close()
    other = Dynafile(tmp_path / "db")
    assert list(other.query(pk="2", index="gsi1")) == [{"PK": "1", "SK": "2"}]
    assert set(other.list_gsis()) == {"gsi1", "gsi2"}
    other.close()


def test_18_gsi_keeps_items_sharing_a_gsi_key(db: Any) -> None:
    db.create_gsi("gsi", "GSI1_PK", "GSI1_SK")
    db.put_item(item={"PK": "1", "SK": "a", "GSI1_PK": "g", "GSI1_SK": "s"})
    db.put_item(item={"PK": "2", "SK": "b", "GSI1_PK": "g", "GSI1_SK": "s"})
    assert [(i["PK"], i["SK"]) for i in db.query("g", index="gsi")] == [("1", "a"), ("2", "b")]
    assert [i["PK"] for i in db.query("g", index="gsi", scan_index_forward=False)] == ["2", "1"]


def test_19_meta_json(tmp_path: Path) -> None:
    db = Dynafile(tmp_path / "db", pk_attribute="id", sk_attribute="ts")
    db.put_item(item={"id": "a", "ts": 1})
    db.close()
    assert (tmp_path / "db" / "meta.json").exists()
    with pytest.raises(DynafileError, match="PK or SK attribute different"):
        Dynafile(tmp_path / "db", pk_attribute="PK")
    with Dynafile(tmp_path / "db") as again:
        assert (again.pk_attribute, again.sk_attribute) == ("id", "ts")
        assert again.get_item(key={"id": "a", "ts": 1}) == {"id": "a", "ts": 1}
    # A live object and a new one with other attributes: refused too.
    live = Dynafile(tmp_path / "db")
    with pytest.raises(DynafileError):
        Dynafile(tmp_path / "db", sk_attribute="SK")
    live.close()


# --- module names --------------------------------------------------------------------


def test_star_import_names() -> None:
    ns: dict = {}
    exec("from shoal.dynafile import *", ns)
    for name in ("Dynafile", "Event", "EventListener", "Action", "ActionType"):
        assert name in ns
    from shoal.dynafile import dispatcher

    assert dispatcher.Event is Event
    d = dispatcher.Dispatcher()
    seen: List[Any] = []
    d.connect(seen.append)
    d.emit(Event("PUT", {"a": 1}, None))
    d.remove(seen.append)
    d.emit(Event("PUT", {"a": 2}, None))
    assert seen == [("PUT", {"a": 1}, None)]
    assert ActionType.PUT == "PUT" and Action("PUT", {"a": 1}) == ("PUT", {"a": 1})


def test_execute_batch(db: Any) -> None:
    db.execute_batch(
        [
            Action(ActionType.PUT, {"PK": "1", "SK": "a"}),
            Action(ActionType.PUT, {"PK": "2", "SK": "b"}),
            Action(ActionType.DELETE, {"PK": "1", "SK": "a"}),
        ]
    )
    assert list(db.scan()) == [{"PK": "2", "SK": "b"}]
    with pytest.raises(ValidationError):
        db.execute_batch([Action("MERGE", {"PK": "1", "SK": "a"})])
    with pytest.raises(TypeError):
        db.execute_batch(["nope"])


def test_batch_writer_outside_with_and_overlapping(db: Any) -> None:
    w = db.batch_writer()
    with pytest.raises(AttributeError):
        w.put_item(item={"PK": "1", "SK": "1"})
    w.__enter__()
    w.put_item(item={"PK": "1", "SK": "1"})
    with pytest.warns(UserWarning, match="Unprocessed items dropped"):
        w.__enter__()
    w.__exit__(None, None, None)
    assert list(db.scan()) == []


def test_generators_are_lazy(db: Any) -> None:
    gen = db.query("1")
    db.put_item(item={"PK": "1", "SK": "a"})
    assert sks(gen) == ["a"]
    gen = db.scan()
    db.put_item(item={"PK": "2", "SK": "b"})
    assert sorted(sks(gen)) == ["a", "b"]


# --- section 4: roadmap ----------------------------------------------------------------


def test_conditional_put_and_delete(db: Any) -> None:
    got: List[Event] = []
    db.add_stream_listener(got.append)
    db.put_item(item={"PK": "1", "SK": "a", "v": 1}, condition="not PK")
    with pytest.raises(ConditionalCheckFailed) as info:
        db.put_item(item={"PK": "1", "SK": "a", "v": 2}, condition="not PK")
    assert info.value.code == "ConditionalCheckFailedException"
    assert db.get_item(key={"PK": "1", "SK": "a"})["v"] == 1
    db.put_item(item={"PK": "1", "SK": "a", "v": 2}, condition=lambda cur: cur["v"] == 1)
    with pytest.raises(ConditionalCheckFailed):
        db.delete_item(key={"PK": "1", "SK": "a"}, condition="v == 1")
    db.delete_item(key={"PK": "1", "SK": "a"}, condition="v == 2")
    db.delete_item(key={"PK": "1", "SK": "a"}, condition="not v")  # missing: no-op
    with pytest.raises(ConditionalCheckFailed):
        db.delete_item(key={"PK": "1", "SK": "a"}, condition="v")
    assert [e.action for e in got] == ["PUT", "PUT", "DELETE"]


def test_update_item(db: Any) -> None:
    got: List[Event] = []
    db.add_stream_listener(got.append)
    new = db.update_item(key={"PK": "1", "SK": "a"}, set_attributes={"n": 1, "x": "y"})
    assert new == {"PK": "1", "SK": "a", "n": 1, "x": "y"}
    new = db.update_item(
        key={"PK": "1", "SK": "a"},
        remove_attributes=["x"],
        transform=lambda item: {**item, "n": item["n"] + 1},
        condition="n == 1",
    )
    assert new == {"PK": "1", "SK": "a", "n": 2}
    assert db.get_item(key={"PK": "1", "SK": "a"}) == new
    assert got[-1] == Event("PUT", new, {"PK": "1", "SK": "a", "n": 1, "x": "y"})
    with pytest.raises(ConditionalCheckFailed):
        db.update_item(key={"PK": "1", "SK": "a"}, set_attributes={"n": 9}, condition="n == 1")
    with pytest.raises(ValueError):
        db.update_item(key={"PK": "1", "SK": "a"}, set_attributes={"SK": "b"})
    with pytest.raises(ValueError):
        db.update_item(key={"PK": "1", "SK": "a"}, remove_attributes=["PK"])
    with pytest.raises(ValueError):
        db.update_item(key={"PK": "1", "SK": "a"}, transform=lambda i: {**i, "PK": "2"})
    with pytest.raises(TypeError):
        db.update_item(key={"PK": "1", "SK": "a"}, transform=lambda i: None)
    assert db.get_item(key={"PK": "1", "SK": "a"}) == new
    assert list(db.query("2")) == []


def test_batch_get(db: Any, clock: Any) -> None:
    db.put_item(item={"PK": "1", "SK": "a"})
    db.put_item(item={"PK": "2", "SK": 5})
    got = db.batch_get(keys=[{"PK": "2", "SK": 5}, {"PK": "3", "SK": "x"}, {"PK": "1", "SK": "a"}])
    assert got == [{"PK": "2", "SK": 5}, {"PK": "1", "SK": "a"}]
    assert db.batch_get(keys=[]) == []


def test_transactions(db: Any) -> None:
    got: List[Event] = []
    db.add_stream_listener(got.append)
    db.put_item(item={"PK": "acct", "SK": "a", "balance": 10})
    db.put_item(item={"PK": "acct", "SK": "b", "balance": 0})
    with db.transaction() as tx:
        tx.update_item(
            key={"PK": "acct", "SK": "a"},
            transform=lambda i: {**i, "balance": i["balance"] - 5},
            condition=lambda i: i["balance"] >= 5,
        )
        tx.update_item(
            key={"PK": "acct", "SK": "b"}, transform=lambda i: {**i, "balance": i["balance"] + 5}
        )
        tx.put_item(item={"PK": "log", "SK": 1, "what": "a->b"})
        tx.condition_check(key={"PK": "acct", "SK": "zzz"}, condition="not PK")
        assert len(got) == 2  # nothing yet
    assert [e.new["SK"] for e in got[2:]] == ["a", "b", 1]  # action order, after commit
    assert db.get_item(key={"PK": "acct", "SK": "a"})["balance"] == 5
    before = list(db.scan())
    with pytest.raises(TransactionCanceled) as info:
        with db.transaction() as tx:
            tx.delete_item(key={"PK": "acct", "SK": "a"})
            tx.condition_check(key={"PK": "acct", "SK": "b"}, condition="balance > 100")
            tx.put_item(item={"PK": "x", "SK": 1}, condition="not PK")
    reasons = info.value.reasons
    assert reasons[0] is None and isinstance(reasons[1], ConditionalCheckFailed)
    assert reasons[2] is None
    assert list(db.scan()) == before
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.put_item(item={"PK": "y", "SK": 1})
        raise RuntimeError("abort")
    assert list(db.scan()) == before
    with pytest.raises(ValidationError, match="twice"), db.transaction() as tx:
        tx.put_item(item={"PK": "z", "SK": 1})
        tx.delete_item(key={"PK": "z", "SK": 1})
    assert list(db.scan()) == before


def test_transact_write(db: Any) -> None:
    db.transact_write(
        [
            {"put_item": {"item": {"PK": "1", "SK": "a"}}},
            {"update_item": {"key": {"PK": "1", "SK": "b"}, "set_attributes": {"v": 1}}},
            Action(ActionType.PUT, {"PK": "2", "SK": "c"}),
        ]
    )
    assert sks(db.scan()) == ["a", "b", "c"]
    with pytest.raises(TransactionCanceled):
        db.transact_write(
            [
                {"delete_item": {"key": {"PK": "1", "SK": "a"}}},
                {"condition_check": {"key": {"PK": "1", "SK": "b"}, "condition": "v == 2"}},
            ]
        )
    assert sks(db.scan()) == ["a", "b", "c"]
    with pytest.raises(ValidationError):
        db.transact_write([{"merge": {}}])
    with pytest.raises(ValidationError):
        db.transact_write([{"put_item": {}, "delete_item": {}}])


def test_gsi_maintenance_and_scan(db: Any) -> None:
    db.put_item(item={"PK": "1", "SK": "a", "G": "x", "H": 2})
    db.create_gsi("g", "G", "H")  # back-fills
    db.put_item(item={"PK": "2", "SK": "b", "G": "x", "H": 1})
    db.put_item(item={"PK": "3", "SK": "c", "G": "y", "H": 1})
    assert sks(db.query("x", index="g")) == ["b", "a"]
    assert sks(db.query("x", index="g", starts_with=2)) == ["a"]
    db.put_item(item={"PK": "2", "SK": "b", "G": "y", "H": 1})  # moves: stale entry gone
    assert sks(db.query("x", index="g")) == ["a"]
    assert sks(db.query("y", index="g")) == ["b", "c"]
    db.update_item(key={"PK": "2", "SK": "b"}, remove_attributes=["H"])  # leaves the index
    assert sks(db.query("y", index="g")) == ["c"]
    assert sks(db.scan(index="g")) == ["a", "c"]
    assert sks(db.scan(index="g", _filter="H == 1")) == ["c"]
    with pytest.raises(DynafileError, match="GSI already exists"):
        db.create_gsi("g", "A", "B")
    db.create_gsi("by_g", "G")  # no sort attribute: ordered by table key
    assert sks(db.query("y", index="by_g")) == ["b", "c"]
    with pytest.raises(ValidationError):
        db.query("y", index="by_g", starts_with="a")
    db.delete_gsi("g")
    with pytest.raises(IndexNotFound, match="Index does not exist"):
        list(db.query("x", index="g"))
    with pytest.raises(KeyError):
        db.delete_gsi("g")
    assert db.list_gsis() == {"by_g": {"pk_attribute": "G", "sk_attribute": None}}


def test_lsi(db: Any) -> None:
    db.create_lsi("by_date", "date")
    db.put_item(item={"PK": "u", "SK": "1", "date": "2024-03"})
    db.put_item(item={"PK": "u", "SK": "2", "date": "2024-01"})
    db.put_item(item={"PK": "u", "SK": "3"})  # sparse
    db.put_item(item={"PK": "u", "SK": "4", "date": "2024-01"})  # tie: by table SK
    db.put_item(item={"PK": "v", "SK": "1", "date": "2024-02"})
    assert sks(db.query("u", index="by_date")) == ["2", "4", "1"]
    assert sks(db.query("u", index="by_date", scan_index_forward=False)) == ["1", "4", "2"]
    assert sks(db.query("u", index="by_date", begins_with="2024-0", starts_with="2024-02")) == ["1"]
    assert db.list_lsis() == {"by_date": {"sk_attribute": "date"}}
    db.delete_lsi("by_date")
    with pytest.raises(IndexNotFound):
        db.query("u", index="by_date")


def test_parallel_scan_segments_are_disjoint_and_cover(db: Any) -> None:
    import hashlib

    for p in range(30):
        put_all(db, f"p{p}", ["a", "b"])
    put_all(db, 7, ["c"])
    everything = sorted((i["PK"], i["SK"]) for i in db.scan() if isinstance(i["PK"], str))
    parts = [list(db.scan(segment=s, total_segments=4)) for s in range(4)]
    seen = [(i["PK"], i["SK"]) for part in parts for i in part]
    assert len(seen) == len(set(seen)) == len(everything) + 1
    for s, part in enumerate(parts):
        for i in part:
            if isinstance(i["PK"], str):
                assert int(hashlib.sha256(i["PK"].encode()).hexdigest(), 16) % 4 == s
    with pytest.raises(ValueError):
        db.scan(segment=1)
    with pytest.raises(ValueError):
        db.scan(segment=4, total_segments=4)


def test_begins_with_is_a_prefix(db: Any) -> None:
    put_all(db, "1", ["a", "ab", "abc", "abd", "ac", "b", "ab\U0010ffff", 1])
    assert sks(db.query("1", begins_with="ab")) == ["ab", "abc", "abd", "ab\U0010ffff"]
    assert sks(db.query("1", begins_with="ab", scan_index_forward=False)) == [
        "ab\U0010ffff",
        "abd",
        "abc",
        "ab",
    ]
    assert sks(db.query("1", begins_with="abc", starts_with="ab")) == ["abc"]
    put_all(db, "b", [b"\x01\xff", b"\x01\xff\x00", b"\x02"])
    assert sks(db.query("b", begins_with=b"\x01\xff")) == [b"\x01\xff", b"\x01\xff\x00"]
    with pytest.raises(TypeError):
        db.query("1", begins_with=1)


def test_sort_keys_keep_their_type_order(db: Any) -> None:
    put_all(db, "1", ["b", 2, 10, "a", 1.5, b"x", None])
    assert sks(db.query("1")) == [None, 1.5, 2, 10, "a", "b", b"x"]


def test_threads_do_not_lose_updates(db: Any) -> None:
    db.put_item(item={"PK": "c", "SK": "n", "n": 0})

    def work() -> None:
        for _ in range(50):
            db.update_item(key={"PK": "c", "SK": "n"}, transform=lambda i: {**i, "n": i["n"] + 1})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.get_item(key={"PK": "c", "SK": "n"})["n"] == 200


def test_decimal_keys_and_values(db: Any) -> None:
    db.put_item(item={"PK": Decimal("7"), "SK": Decimal("1.5"), "v": Decimal("2.25")})
    got = db.get_item(key={"PK": 7, "SK": 1.5})
    assert got == {"PK": 7, "SK": 1.5, "v": Decimal("2.25")}
    assert db.get_item(key={"PK": Decimal("7.0"), "SK": Decimal("1.50")}) == got


def test_listener_sees_changes_of_other_objects_and_can_be_removed(tmp_path: Path) -> None:
    a = Dynafile(tmp_path / "db")
    b = Dynafile(tmp_path / "db")
    got: List[Event] = []
    a.add_stream_listener(got.append)
    b.put_item(item={"PK": "1", "SK": "1"})
    a.remove_stream_listener(got.append)
    b.put_item(item={"PK": "1", "SK": "2"})
    assert len(got) == 1
    with pytest.raises(ValueError):
        a.remove_stream_listener(got.append)
    a.close()
    b.close()


def test_a_raising_listener_cannot_undo_the_write(db: Any, monkeypatch: Any) -> None:
    seen: List[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))
    got: List[Event] = []

    def bad(event: Event) -> None:
        raise ValueError("listener bug")

    db.add_stream_listener(bad)
    db.add_stream_listener(got.append)
    db.put_item(item={"PK": "1", "SK": "1"})
    assert db.get_item(key={"PK": "1", "SK": "1"}) is not None
    assert len(got) == 1 and len(seen) == 1 and isinstance(seen[0], ValueError)
