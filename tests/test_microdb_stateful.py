"""Stateful model tests of shoal.microdb, and differential tests against the original.

The model is an ordered dict from key tuple to record plus the records last saved
to the file; rules upsert, delete, mutate records in place, save (row or grid
form), erase, close and reopen (with or without durability: a plain table
reopens from the file, a durable one from the file plus its journal).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from shoal.microdb import MicroDB

jobs = st.sampled_from(["clean", "study", None, 1, (1, "x")])
names = st.one_of(st.sampled_from(["Alice", "Bob", "", "it's"]), st.integers(-3, 3))
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.text(max_size=2), st.integers()),
    st.sets(st.integers(0, 5), max_size=3),
    st.dictionaries(st.integers(0, 3), st.text(max_size=2), max_size=2),
)


@st.composite
def records(draw: Any) -> dict:
    rec: dict = {}
    if draw(st.integers(0, 5)):
        rec["job"] = draw(jobs)
    if draw(st.integers(0, 3)):
        rec["name"] = draw(names)
    rec["status"] = draw(values)
    if draw(st.booleans()):
        rec["extra"] = draw(values)
    return rec


def key(rec: dict) -> tuple:
    return (rec.get("job"), rec.get("name"))


class MicroDBMachine(RuleBasedStateMachine):
    durable = False

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="shoal-microdb-")
        self.path = Path(self.dir) / "m.json"
        self.db = MicroDB(self.path, ["job", "name"], durable=self.durable)
        self.model: dict = {}
        self.saved: list = []

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(rec=records())
    def upsert(self, rec: dict) -> None:
        self.db.upsert(rec)
        self.model[key(rec)] = rec

    @rule(data=st.data())
    def delete(self, data: Any) -> None:
        if self.model and data.draw(st.booleans()):
            k = data.draw(st.sampled_from(list(self.model)))
            del self.db[k]
            del self.model[k]
        else:
            k = (data.draw(jobs), "nobody")
            with pytest.raises(KeyError):
                del self.db[k]

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), value=values)
    def mutate_in_place(self, data: Any, value: Any) -> None:
        k = data.draw(st.sampled_from(list(self.model)))
        rec = self.db.get(k)
        assert rec is self.model[k]
        rec["status"] = value
        if self.durable:
            self.db.upsert(rec)  # durable mode journals what is upserted

    @rule(rec=records())
    def lookups(self, rec: dict) -> None:
        k = key(rec)
        assert (rec in self.db) == (k in self.model)
        assert (k in self.db) == (k in self.model)
        assert self.db.get(rec, "missing") is self.model.get(k, "missing")
        if k in self.model:
            assert self.db[k] is self.model[k]

    @rule()
    def save(self) -> None:
        self.db.save()
        self.saved = [dict(r) for r in self.model.values()]
        assert self.path.read_text("utf-8") == repr(list(self.model.values())) + "\n"

    @rule()
    def save_as_grid(self) -> None:
        records = list(self.model.values())
        header = list(dict.fromkeys(f for r in records for f in r))
        if all(len(r) == len(header) for r in records):
            self.db.save_as_grid()
            self.saved = [{f: r[f] for f in header} for r in records]
        else:
            with pytest.raises(Exception, match="dosen't have these keys"):  # noqa: B017
                self.db.save_as_grid()

    @rule()
    def erase_all(self) -> None:
        self.db.erase_all()
        self.model.clear()
        self.saved = []

    @rule()
    def reopen(self) -> None:
        self.db.close()
        self.db = MicroDB(self.path, ["job", "name"], durable=self.durable)
        if self.durable:
            # the journal replays every change since the last save
            self.model = {k: dict(r) for k, r in self.model.items()}
        else:
            self.model = {key(r): r for r in self.saved}
        assert repr(list(self.db)) == repr(list(self.model.values()))
        self.model = {key(r): r for r in self.db}

    @invariant()
    def same_records(self) -> None:
        assert len(self.db) == len(self.model)
        assert [id(r) for r in self.db.all()] == [id(r) for r in self.model.values()]
        assert str(self.db) == str(list(self.model.values()))


class DurableMicroDBMachine(MicroDBMachine):
    durable = True


TestMicroDB = MicroDBMachine.TestCase
TestMicroDB.settings = settings(stateful_step_count=30)
TestDurableMicroDB = DurableMicroDBMachine.TestCase
TestDurableMicroDB.settings = settings(stateful_step_count=30, max_examples=40)


# --------------------------------------------------------------------------- differential

ops = st.lists(
    st.one_of(
        st.tuples(st.just("upsert"), records()),
        st.tuples(st.just("delete"), records()),
        st.tuples(st.just("get"), records()),
    ),
    max_size=25,
)


@settings(max_examples=60)
@given(ops=ops)
def test_same_as_the_original(tmp_path_factory: pytest.TempPathFactory, ops: list) -> None:
    original = pytest.importorskip("microdb")
    where = tmp_path_factory.mktemp("diff")
    ours = MicroDB(where / "ours.json", ["job", "name"])
    theirs = original.MicroDB(str(where / "theirs.json"), ["job", "name"])
    for op, rec in ops:
        if op == "upsert":
            assert ours.upsert(rec) is theirs.upsert(rec) is None
        elif op == "delete":
            k = ours.gen_key(rec)
            assert k == theirs.gen_key(rec)
            if k in theirs._dict:
                del ours[k]
                del theirs[k]
        else:
            assert ours.get(rec, 0) is theirs.get(rec, 0)
            assert (rec in ours) == (rec in theirs)
        assert len(ours) == len(theirs)
    assert str(ours) == str(theirs)
    assert list(ours.all()) == list(theirs.all())
    ours.save()
    theirs.save()
    assert (where / "ours.json").read_bytes() == (where / "theirs.json").read_bytes()
    # files cross over: each side loads what the other wrote
    assert str(original.MicroDB(str(where / "ours.json"), ["job", "name"])) == str(ours)
    assert str(MicroDB(where / "theirs.json", ["job", "name"])) == str(theirs)


def test_grid_files_cross_over(tmp_path: Path) -> None:
    original = pytest.importorskip("microdb")
    theirs = original.MicroDB(str(tmp_path / "g.json"), ["job", "name"])
    for i in range(20):
        theirs.upsert({"job": "j", "name": i, "status": ("x", i), "n": None})
    theirs.save_as_grid()  # header in set order
    ours = MicroDB(tmp_path / "g.json", ["job", "name"])
    assert list(ours) == list(theirs.all())
    ours.save_as_grid(tmp_path / "ours.json")
    again = original.MicroDB(str(tmp_path / "ours.json"), ["job", "name"])
    assert list(again.all()) == list(theirs.all())


def test_pprint_same_as_the_original(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = pytest.importorskip("microdb")
    ours = MicroDB(tmp_path / "a.json", ["k"])
    theirs = original.MicroDB(str(tmp_path / "b.json"), ["k"])
    for i in range(12):
        rec = {"k": i, "payload": "x" * (i * 7), "nested": {"z": i, "a": [i] * i}}
        ours.upsert(rec)
        theirs.upsert(rec)
    ours.pprint_all()
    mine = capsys.readouterr().out
    theirs.pprint_all()
    assert mine == capsys.readouterr().out


def test_signatures_match_the_original() -> None:
    import inspect

    original = pytest.importorskip("microdb")
    for name, member in vars(original.MicroDB).items():
        if not callable(member) or (name.startswith("_") and not name.startswith("__")):
            continue
        if name in ("__init__", "__str__", "__len__", "__getitem__", "__delitem__",
                    "__contains__") or not name.startswith("__"):
            theirs = list(inspect.signature(member).parameters)
            ours = list(inspect.signature(getattr(MicroDB, name)).parameters)
            assert ours[: len(theirs)] == theirs, name
