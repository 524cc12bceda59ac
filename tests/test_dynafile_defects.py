"""dynafile face: the original's defects (spec section 6) are gone; bad input fails cleanly."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, List

import pytest
import shoal
from shoal.dynafile import (
    Dynafile,
    DynafileError,
    Event,
    FilterSyntaxError,
    IndexNotFound,
    TableClosedError,
    ValidationError,
)


@pytest.fixture
def db(tmp_path: Path) -> Any:
    d = Dynafile(tmp_path / "db")
    yield d
    d.close()


def keys(items: Any) -> List[Any]:
    return [(i["PK"], i["SK"]) for i in items]


def test_d01_batch_keeps_every_run_of_a_partition(db: Any) -> None:
    with db.batch_writer() as w:
        w.put_item(item={"PK": "1", "SK": "a"})
        w.put_item(item={"PK": "2", "SK": "b"})
        w.put_item(item={"PK": "1", "SK": "c"})
    assert keys(db.scan()) == [("1", "a"), ("1", "c"), ("2", "b")]


def test_d02_a_raising_block_applies_nothing(db: Any) -> None:
    got: List[Event] = []
    db.add_stream_listener(got.append)
    with pytest.raises(RuntimeError), db.batch_writer() as w:
        w.put_item(item={"PK": "1", "SK": "a"})
        raise RuntimeError("boom")
    assert list(db.scan()) == [] and got == []


def test_d03_deleting_missing_items_is_a_noop_and_batches_are_atomic(db: Any) -> None:
    db.delete_item(key={"PK": "1", "SK": "missing"})
    with db.batch_writer() as w:
        w.put_item(item={"PK": "1", "SK": "a"})
        w.delete_item(key={"PK": "2", "SK": "missing"})
        w.put_item(item={"PK": "3", "SK": "c"})
    assert keys(db.scan()) == [("1", "a"), ("3", "c")]
    # A bad action is refused when queued; the block then raises and nothing applies.
    with pytest.raises(TypeError), db.batch_writer() as w:
        w.put_item(item={"PK": "4", "SK": "d"})
        w.put_item(item={"PK": ["bad"], "SK": "e"})
    assert keys(db.scan()) == [("1", "a"), ("3", "c")]


def test_d04_events_follow_the_commit_and_listeners_cannot_undo(db: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "unraisablehook", lambda u: None)
    seen_in_listener: List[Any] = []

    def listener(event: Event) -> None:
        # The write is already visible when the listener runs.
        seen_in_listener.append(db.get_item(key=event.new))
        raise RuntimeError("listener failure")

    db.add_stream_listener(listener)
    db.put_item(item={"PK": "1", "SK": "a"})
    assert seen_in_listener == [{"PK": "1", "SK": "a"}]
    assert db.get_item(key={"PK": "1", "SK": "a"}) == {"PK": "1", "SK": "a"}
    # A failed write emits nothing.
    with pytest.raises(TypeError):
        db.put_item(item={"PK": "1", "SK": "b", "bad": {1, 2}})
    assert len(seen_in_listener) == 1


def test_d05_backward_query_without_bound_returns_the_partition(db: Any) -> None:
    for sk in ["", "a", "b"]:
        db.put_item(item={"PK": "s", "SK": sk})
    for sk in [1, 2, 3]:
        db.put_item(item={"PK": "n", "SK": sk})
    assert [i["SK"] for i in db.query("s", scan_index_forward=False)] == ["b", "a", ""]
    assert [i["SK"] for i in db.query("n")] == [1, 2, 3]
    assert [i["SK"] for i in db.query("n", scan_index_forward=False)] == [3, 2, 1]
    # An explicit "" bound is still a bound.
    assert [i["SK"] for i in db.query("s", starts_with="", scan_index_forward=False)] == [""]


def test_d06_partition_key_types(db: Any) -> None:
    for pk in ["s", 1, 2.5, b"b"]:
        db.put_item(item={"PK": pk, "SK": "x"})
        assert db.get_item(key={"PK": pk, "SK": "x"}) == {"PK": pk, "SK": "x"}
        assert [i["PK"] for i in db.query(pk)] == [pk]
    for bad in [None, True, [1], {"a": 1}, (1, 2)]:
        with pytest.raises((TypeError, ValueError)):
            db.put_item(item={"PK": bad, "SK": "x"})
        with pytest.raises((TypeError, ValueError)):
            db.get_item(key={"PK": bad, "SK": "x"})
    with pytest.raises(ValidationError, match="missing"):
        db.put_item(item={"SK": "x"})
    with pytest.raises(ValidationError):
        db.get_item(key={"SK": "x"})
    with pytest.raises(TypeError):
        db.put_item(item={"PK": "1", "SK": [1]})
    assert len(list(db.scan())) == 4


def test_d07_reads_do_not_load_the_table(db: Any) -> None:
    for p in range(20):
        db.put_item(item={"PK": f"p{p}", "SK": "a"})
    plan = db._coll.explain({"PK": "p3"}, sort=[("SK", 1)])
    assert plan["access"] == "key_range" and plan["docs_examined"] == 1
    plan = db._coll.explain({"PK": "p3", "SK": "a"})
    assert plan["docs_examined"] == 1


def test_d08_filter_strings_parse_completely(db: Any) -> None:
    db.put_item(item={"PK": "1", "SK": "a", "a": 1})
    for bad in ["a == -1", "a == 1.5", "PK#x == 1", "a ==", "(a", "", "a b", "a == 'x"]:
        with pytest.raises(FilterSyntaxError) as info:
            list(db.scan(_filter=bad))
        assert "position" in str(info.value)
        assert isinstance(info.value, ValueError)
    with pytest.raises(FilterSyntaxError) as info:
        db.query("1", _filter="a == 1 and b == -2")
    assert info.value.position == 16


def test_d09_string_filters_need_no_extra_package() -> None:
    code = textwrap.dedent(
        """
        import sys, tempfile
        sys.modules["filtration"] = None
        sys.modules["pyparsing"] = None
        sys.modules["ipcalc"] = None
        from shoal.dynafile import Dynafile
        with tempfile.TemporaryDirectory() as d, Dynafile(d) as db:
            db.put_item(item={"PK": "1", "SK": "ab", "ip": "10.1.2.3"})
            assert len(list(db.scan(_filter="SK =~ /^a/ and ip in 10.0.0.0/8"))) == 1
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_d10_gsi_duplicates_stale_entries_atomicity(db: Any) -> None:
    db.create_gsi("g", "G", "H")
    db.put_item(item={"PK": "1", "SK": "a", "G": "x", "H": 1})
    db.put_item(item={"PK": "2", "SK": "b", "G": "x", "H": 1})
    assert keys(db.query("x", index="g")) == [("1", "a"), ("2", "b")]
    db.put_item(item={"PK": "1", "SK": "a", "G": "y", "H": 1})
    db.put_item(item={"PK": "2", "SK": "b"})
    assert keys(db.query("x", index="g")) == []
    assert keys(db.query("y", index="g")) == [("1", "a")]
    # Index entries are written in the item's commit: a failed transaction leaves none.
    with pytest.raises(DynafileError), db.transaction() as tx:
        tx.put_item(item={"PK": "3", "SK": "c", "G": "z", "H": 1})
        tx.put_item(item={"PK": "4", "SK": "d"}, condition="PK")
    assert list(db.query("z", index="g")) == []
    entries = db._coll.explain({"G": "z"})
    assert entries["returned"] == 0


def test_d11_non_numeric_ttl_means_no_expiry(tmp_path: Path) -> None:
    with Dynafile(tmp_path / "db", ttl_attribute="ttl") as db:
        for i, ttl in enumerate(["soon", [1], {"a": 1}, True, None]):
            db.put_item(item={"PK": "1", "SK": i, "ttl": ttl})
        db.put_item(item={"PK": "1", "SK": 99, "ttl": time.time() - 10})
        assert [i["SK"] for i in db.query("1")] == [0, 1, 2, 3, 4]
        assert len(list(db.scan())) == 5


def test_d12_threads_and_processes(tmp_path: Path) -> None:
    import threading

    with Dynafile(tmp_path / "db") as db:

        def writer(t: int) -> None:
            other = Dynafile(tmp_path / "db")  # shares the engine
            for i in range(40):
                other.put_item(item={"PK": f"t{t}", "SK": i})
            other.close()

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(list(db.scan())) == 160
        code = f"from shoal.dynafile import Dynafile; Dynafile({str(tmp_path / 'db')!r})"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode != 0 and "DynafileError" in out.stderr


# --- failure paths ----------------------------------------------------------------------


def test_closed_table_raises_and_others_keep_working(tmp_path: Path) -> None:
    a = Dynafile(tmp_path / "db")
    b = Dynafile(tmp_path / "db")
    a.close()
    a.close()  # idempotent
    assert a.closed
    for call in (
        lambda: a.put_item(item={"PK": "1", "SK": "1"}),
        lambda: a.get_item(key={"PK": "1", "SK": "1"}),
        lambda: a.delete_item(key={"PK": "1", "SK": "1"}),
        lambda: a.query("1"),
        lambda: a.scan(),
        lambda: a.update_item(key={"PK": "1", "SK": "1"}),
        lambda: a.batch_get(keys=[{"PK": "1", "SK": "1"}]),
        lambda: a.create_gsi("g", "G"),
    ):
        with pytest.raises(TableClosedError):
            call()
    b.put_item(item={"PK": "1", "SK": "1"})
    assert b.get_item(key={"PK": "1", "SK": "1"}) is not None
    b.close()


def test_bad_arguments(db: Any) -> None:
    db.put_item(item={"PK": "1", "SK": "a"})
    before = list(db.scan())
    with pytest.raises(TypeError):
        db.put_item(item=["PK", "SK"])
    with pytest.raises(TypeError):
        db.get_item(key="1")
    with pytest.raises(TypeError):
        db.put_item({"PK": "1", "SK": "b"})  # keyword-only
    with pytest.raises(TypeError):
        list(db.scan(_filter=5))
    with pytest.raises(TypeError):
        db.put_item(item={"PK": "1", "SK": "b"}, condition=5)
    with pytest.raises(IndexNotFound):
        db.query("1", index="nope")
    with pytest.raises(IndexNotFound):
        db.scan(index="nope")
    with pytest.raises(ValidationError):
        db.create_gsi("bad name!", "G")
    with pytest.raises(TypeError):
        db.create_gsi("g", 5)
    with pytest.raises(ValueError):
        db.put_item(item={"PK": "1", "SK": "big", "blob": b"x" * (17 * 1024 * 1024)})
    with pytest.raises(TypeError):
        db.update_item(key={"PK": "1", "SK": "a"}, remove_attributes="name")
    with pytest.raises(TypeError):
        db.add_stream_listener(5)
    with pytest.raises(TypeError):
        Dynafile(db.path, pk_attribute=5)
    assert list(db.scan()) == before


def test_conditional_failures_write_nothing(db: Any) -> None:
    got: List[Event] = []
    db.put_item(item={"PK": "1", "SK": "a", "v": 1})
    db.add_stream_listener(got.append)
    before = list(db.scan())
    with pytest.raises(DynafileError):
        db.put_item(item={"PK": "1", "SK": "a", "v": 2}, condition="v == 2")
    with pytest.raises(DynafileError):
        db.delete_item(key={"PK": "1", "SK": "a"}, condition="v > 1")
    with pytest.raises(DynafileError):
        db.update_item(key={"PK": "1", "SK": "a"}, set_attributes={"v": 3}, condition="not PK")
    with pytest.raises(ZeroDivisionError):
        db.update_item(key={"PK": "1", "SK": "a"}, transform=lambda i: 1 / 0)
    assert list(db.scan()) == before and got == []


def test_original_directory_needs_allow_pickle(tmp_path: Path) -> None:
    part = tmp_path / "db" / "_partitions" / "abc"
    part.mkdir(parents=True)
    items = {"a": {"PK": "1", "SK": "a", "v": 1}, "b": {"PK": "1", "SK": "b"}}
    with open(part / "data.pickle", "wb") as f:
        pickle.dump(items, f)
    with pytest.raises(DynafileError, match="allow_pickle=True"):
        Dynafile(tmp_path / "db")
    with Dynafile(tmp_path / "db", allow_pickle=True) as db:
        assert keys(db.scan()) == [("1", "a"), ("1", "b")]
        db.delete_item(key={"PK": "1", "SK": "a"})
    with Dynafile(tmp_path / "db") as db:  # imported once: no second import
        assert keys(db.scan()) == [("1", "b")]


def test_original_directory_with_foreign_classes_is_refused(tmp_path: Path) -> None:
    part = tmp_path / "db" / "_partitions" / "abc"
    part.mkdir(parents=True)
    with open(part / "data.pickle", "wb") as f:
        pickle.dump({"a": {"PK": "1", "SK": "a", "p": Path("/")}}, f)
    with pytest.raises(DynafileError, match="refusing"):
        Dynafile(tmp_path / "db", allow_pickle=True)
    # Nothing half-imported, and the directory can be opened again.
    with pytest.raises(DynafileError):
        Dynafile(tmp_path / "db", allow_pickle=True)


def test_importing_a_real_original_table(tmp_path: Path) -> None:
    dynafile = pytest.importorskip("dynafile")
    orig = dynafile.Dynafile(tmp_path / "db")
    orig.put_item(item={"PK": "user#1", "SK": "user#1", "name": "Bob"})
    orig.put_item(item={"PK": "user#1", "SK": "role#1", "TYPE": "sender"})
    orig.put_item(item={"PK": "user#2", "SK": "user#2", "name": "Alice"})
    with Dynafile(tmp_path / "db", allow_pickle=True) as db:
        assert [i["SK"] for i in db.query("user#1")] == ["role#1", "user#1"]
        assert db.get_item(key={"PK": "user#2", "SK": "user#2"})["name"] == "Alice"


def test_store_errors_are_shoal_errors(db: Any) -> None:
    with pytest.raises(shoal.Error):
        db.put_item(item={"PK": "1", "SK": "a", "deep": _nested(200)})


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def test_killed_writer_loses_nothing_committed(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os
        from shoal.dynafile import Dynafile
        db = Dynafile({str(tmp_path / "db")!r})
        db.create_gsi("g", "G")
        for i in range(200):
            db.put_item(item={{"PK": f"p{{i % 7}}", "SK": i, "G": i % 3}})
        with db.batch_writer() as w:
            for i in range(200, 300):
                w.put_item(item={{"PK": "batch", "SK": i}})
        print("written", flush=True)
        os._exit(9)  # no close, no flush: a killed process
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "written", out.stderr
    with Dynafile(tmp_path / "db") as db:
        assert len(list(db.scan())) == 300
        assert len(list(db.query(1, index="g"))) == 67
        assert [i["SK"] for i in db.query("batch")][:2] == [200, 201]
