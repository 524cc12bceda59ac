"""Stateful model of the sofart face against plain Python lists, with sync, close and reopen.

The model keeps, per collection, the list of documents in insertion order,
and (single mode) the state at the last ``sync()``: reopening a single-mode
database goes back to it, reopening a multi-mode one keeps everything.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from shoal.sofart import CollectionException, Database, DatabaseError
from test_sofart_query import model_match

NAMES = st.sampled_from(["a", "b", "odd name", "ü"])
IDS = st.one_of(st.none(), st.integers(0, 6), st.sampled_from(["x", "y", ""]), st.just(True))
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["p", "q"]))
DOCS = st.dictionaries(st.sampled_from(["k", "v"]), VALUES, max_size=2)
QUERIES = st.one_of(
    st.dictionaries(st.sampled_from(["k", "v"]), VALUES, max_size=2),
    st.builds(lambda v: {"v": {"$gte": v}}, st.integers(-2, 2)),
    st.builds(lambda v: {"k": {"$in": v}}, st.lists(VALUES, max_size=3)),
    st.builds(lambda b: {"k": {"$exists": b}}, st.booleans()),
)


class SofartMachine(RuleBasedStateMachine):
    mode = "single"
    serializer = "json"

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="sofart-state-"))
        self.path = self.dir / "db.file"
        self.db = Database(self.path, mode=self.mode, serializer=self.serializer)
        self.model: dict[str, list[dict[str, Any]]] = {}
        self.synced: dict[str, list[dict[str, Any]]] = {}
        self.generated = 0

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(name=NAMES, doc=DOCS, _id=IDS)
    def save(self, name: str, doc: dict[str, Any], _id: Any) -> None:
        if _id is not None:
            doc = {**doc, "_id": _id}
        docs = self.model.setdefault(name, [])
        if _id and any(d["_id"] == _id for d in docs):
            with pytest.raises(CollectionException):
                self.db[name].save(doc)
            return
        got = self.db[name].save(doc)
        if _id:
            assert got == _id
        else:
            assert isinstance(got, str) and len(got) == 36
        docs.append({**doc, "_id": got})

    @rule(name=NAMES, _id=IDS)
    def remove(self, name: str, _id: Any) -> None:
        self.db[name].remove(_id)
        if name in self.model:
            self.model[name] = [d for d in self.model[name] if not d["_id"] == _id]

    @rule(name=NAMES, query=QUERIES, value=VALUES)
    def update_many(self, name: str, query: dict[str, Any], value: Any) -> None:
        r = self.db[name].update_many(query, {"$set": {"u": value}})
        hits = [d for d in self.model.get(name, []) if model_match(d, query)]
        assert r.matched_count == len(hits)
        for d in hits:
            d["u"] = value

    @rule(name=NAMES, query=QUERIES)
    def delete_many(self, name: str, query: dict[str, Any]) -> None:
        n = self.db[name].delete_many(query).deleted_count
        docs = self.model.get(name, [])
        keep = [d for d in docs if not model_match(d, query)]
        assert n == len(docs) - len(keep)
        if name in self.model:
            self.model[name] = keep

    @rule(name=NAMES, query=QUERIES, limit=st.integers(-1, 3))
    def find(self, name: str, query: dict[str, Any], limit: int) -> None:
        want = [d for d in self.model.get(name, []) if model_match(d, query)]
        want = [] if limit < 0 else want[:limit] if limit else want
        assert list(self.db[name].find(query, limit=limit)) == want

    @rule(name=NAMES)
    def create_collection(self, name: str) -> None:
        self.db.create_collection(name)
        self.model.setdefault(name, [])

    @rule(name=NAMES)
    def drop(self, name: str) -> None:
        self.db.drop_collection(name)
        self.model.pop(name, None)

    @rule(old=NAMES, new=NAMES)
    def rename(self, old: str, new: str) -> None:
        if old not in self.model or new in self.model:
            with pytest.raises(DatabaseError):
                self.db.rename(old, new)
            return
        self.db.rename(old, new)
        self.model[new] = self.model.pop(old)

    @rule(name=NAMES, field=st.sampled_from(["k", "v", "u"]))
    def create_index(self, name: str, field: str) -> None:
        self.db[name].create_index(field)
        self.model.setdefault(name, [])

    @rule()
    def sync(self) -> None:
        self.db.sync()
        self.synced = copy.deepcopy(self.model)

    @rule()
    def reopen(self) -> None:
        self.db.close()
        self.db = Database(self.path, mode=self.mode, serializer=self.serializer)
        if self.mode == "single":
            self.model = copy.deepcopy(self.synced)

    @precondition(lambda self: self.mode == "single")
    @rule()
    def second_database_sees_synced_state(self) -> None:
        other = Database(self.path, mode=self.mode, serializer=self.serializer)
        try:
            assert other.collection_names() == list(self.synced)
            for name, docs in self.synced.items():
                assert list(other[name].find()) == docs
        finally:
            other.close()

    @invariant()
    def same_contents(self) -> None:
        assert self.db.collection_names() == list(self.model)
        assert self.db.count() == sum(map(len, self.model.values()))
        for name, docs in self.model.items():
            assert list(self.db[name].find()) == docs


class MultiMachine(SofartMachine):
    mode = "multi"


class PickleMachine(SofartMachine):
    serializer = "pickle"


class MsgpackMultiMachine(SofartMachine):
    mode = "multi"
    serializer = "msgpack"


# Opening and closing stores dominates the run time: fewer, shorter programs.
_SETTINGS = settings(
    max_examples=12,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
for _machine in (SofartMachine, MultiMachine, PickleMachine, MsgpackMultiMachine):
    _machine.TestCase.settings = _SETTINGS

TestSingleJson = SofartMachine.TestCase
TestMultiJson = MultiMachine.TestCase
TestSinglePickle = PickleMachine.TestCase
TestMultiMsgpack = MsgpackMultiMachine.TestCase
