"""A hypothesis state machine for collections with indexes: inserts, puts,
deletes, updates (on their own and inside transactions, committed or rolled
back), index creation and removal, change events, close and reopen, all
checked against a plain dict model; after every step, queries through the
indexes (and counts from their counters) must equal a Python scan of the
model, and ``verify()`` must find the indexes in agreement."""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

import shoal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

IDS = st.integers(0, 12)
GROUPS = st.one_of(st.integers(0, 3), st.sampled_from(["a", "b"]), st.none())
TAGS = st.lists(st.sampled_from(["x", "y", "z"]), max_size=3)
INDEXES = [("g", False), ("tags", False), ("u", True)]


class CollectionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="shoal-coll-sm-")
        self.store = shoal.open(self.dir, durability="flush")
        self.coll = self.store.collection("c")
        self.model: dict[int, dict[str, Any]] = {}
        self.indexed: set[str] = set()
        self.events: list[tuple[str, Any]] = []
        self.expected_events: list[tuple[str, Any]] = []
        self.coll.watch(self._on_event)

    def _on_event(self, e: shoal.ChangeEvent) -> None:
        self.events.append((e.action, e.key))

    def _doc(self, i: int, g: Any, tags: list[str]) -> dict[str, Any]:
        # u is unique among documents: derived from the id.
        return {"_id": i, "g": g, "tags": tags, "u": f"u{i}"}

    @rule(i=IDS, g=GROUPS, tags=TAGS)
    def insert(self, i: int, g: Any, tags: list[str]) -> None:
        doc = self._doc(i, g, tags)
        if i in self.model:
            try:
                self.coll.insert(doc)
            except shoal.DuplicateKeyError:
                return
            raise AssertionError("duplicate insert accepted")
        self.coll.insert(doc)
        self.model[i] = doc
        self.expected_events.append(("insert", i))

    @rule(i=IDS, g=GROUPS, tags=TAGS)
    def put(self, i: int, g: Any, tags: list[str]) -> None:
        doc = self._doc(i, g, tags)
        self.coll.put(doc)
        if self.model.get(i) != doc:
            self.expected_events.append(("replace" if i in self.model else "insert", i))
        elif i in self.model:
            self.expected_events.append(("replace", i))
        self.model[i] = doc

    @rule(i=IDS)
    def delete(self, i: int) -> None:
        assert self.coll.delete(i) == (i in self.model)
        if self.model.pop(i, None) is not None:
            self.expected_events.append(("delete", i))

    @rule(g=GROUPS, new=GROUPS)
    def update_group(self, g: Any, new: Any) -> None:
        r = self.coll.update({"g": g}, {"$set": {"g": new}}, multi=True)
        hit = sorted(i for i, d in self.model.items() if d["g"] == g)
        assert r.matched == len(hit)
        for i in hit:
            if self.model[i]["g"] != new:
                self.model[i] = {**self.model[i], "g": new}
                self.expected_events.append(("update", i))

    @rule(i=IDS, g=GROUPS, commit=st.booleans())
    def transaction(self, i: int, g: Any, commit: bool) -> None:
        tx = self.store.transaction()
        tc = tx[self.coll]
        doc = self._doc(i, g, ["x"])
        tc.put(doc)
        other = (i + 1) % 13
        existed = tc.delete(other)
        assert existed == (other in self.model)
        assert tc.get(i) == doc and tc.get(other) is None
        if not commit:
            tx.rollback()
            return
        tx.commit()
        self.expected_events.append(("replace" if i in self.model else "insert", i))
        self.model[i] = doc
        if other != i and self.model.pop(other, None) is not None:
            self.expected_events.append(("delete", other))

    @rule(which=st.sampled_from(INDEXES))
    def create_index(self, which: tuple[str, bool]) -> None:
        field, unique = which
        self.coll.create_index(field, unique=unique)
        self.indexed.add(field)

    @precondition(lambda self: bool(self.indexed))
    @rule(data=st.data())
    def drop_index(self, data: Any) -> None:
        field = data.draw(st.sampled_from(sorted(self.indexed)))
        self.coll.drop_index(f"{field}_1")
        self.indexed.discard(field)

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = shoal.open(self.dir, durability="flush")
        self.coll = self.store.collection("c")
        self.coll.watch(self._on_event)
        assert {i["name"] for i in self.coll.indexes()} == {f"{f}_1" for f in self.indexed}

    @invariant()
    def queries_agree_with_the_model(self) -> None:
        want = sorted(self.model)
        assert [d["_id"] for d in self.coll.find()] == want
        for g in [0, 1, 2, 3, "a", "b", None]:
            ids = [i for i in want if self.model[i]["g"] == g]
            assert [d["_id"] for d in self.coll.find({"g": g})] == ids, g
            assert self.coll.count({"g": g}) == len(ids)
        for t in ["x", "y", "z"]:
            ids = [i for i in want if t in self.model[i]["tags"]]
            assert self.coll.count({"tags": t}) == len(ids)
            assert [d["_id"] for d in self.coll.find({"tags": t})] == ids
        ids = [i for i in want if isinstance(self.model[i]["g"], int) and self.model[i]["g"] >= 2]
        assert [d["_id"] for d in self.coll.find({"g": {"$gte": 2}})] == ids
        assert self.events == self.expected_events

    def teardown(self) -> None:
        try:
            report = self.store.verify()
            assert report["problems"] == [], report["problems"]
            self.store.close()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


CollectionMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None
)
test_collection_machine = CollectionMachine.TestCase
