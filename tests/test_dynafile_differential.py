"""dynafile face: the same operations on the original ``dynafile`` (when installed) and on the face.

Only operations where the original is not defective are compared: string
partition keys, string sort keys, explicit ``starts_with`` bounds on backward
queries, batches with one run per partition, deletes of existing items.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, List, Tuple

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

dynafile = pytest.importorskip("dynafile")

from shoal.dynafile import Dynafile, Event  # noqa: E402

PKS = st.sampled_from(["a", "b", "user#1"])
SKS = st.sampled_from(["x", "xy", "y", "a#1", "a#2"])
VALUES = st.integers(0, 3)  # filtration raises comparing str and int


def _scan(db: Any) -> List[Any]:
    return sorted(db.scan(), key=lambda i: (i["PK"], i["SK"]))


class Differential(RuleBasedStateMachine):
    """Operations applied to both; results and events compared at each step."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="shoal-dynafile-diff-"))
        self.orig = dynafile.Dynafile(self.dir / "orig")
        self.ours = Dynafile(self.dir / "ours")
        self.orig_events: List[Any] = []
        self.our_events: List[Event] = []
        self.orig.add_stream_listener(self.orig_events.append)
        self.ours.add_stream_listener(self.our_events.append)

    def teardown(self) -> None:
        self.ours.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def check_events(self) -> None:
        assert [tuple(e) for e in self.our_events] == [tuple(e) for e in self.orig_events]

    @rule(pk=PKS, sk=SKS, v=VALUES)
    def put(self, pk: str, sk: str, v: Any) -> None:
        item = {"PK": pk, "SK": sk, "v": v, "nested": {"n": v}}
        self.orig.put_item(item=dict(item))
        self.ours.put_item(item=dict(item))
        self.check_events()

    @rule(pk=PKS, sk=SKS)
    def delete_existing(self, pk: str, sk: str) -> None:
        key = {"PK": pk, "SK": sk}
        if self.orig.get_item(key=key) is None:
            return
        self.orig.delete_item(key=key)
        self.ours.delete_item(key=key)
        self.check_events()

    @rule(pk=PKS, sk=SKS)
    def get(self, pk: str, sk: str) -> None:
        key = {"PK": pk, "SK": sk}
        assert self.ours.get_item(key=key) == self.orig.get_item(key=key)

    @rule(pk=PKS, bound=st.sampled_from(["", "a", "x", "xz", "z"]), forward=st.booleans())
    def query(self, pk: str, bound: str, forward: bool) -> None:
        kwargs = {"starts_with": bound, "scan_index_forward": forward}
        assert list(self.ours.query(pk, **kwargs)) == list(self.orig.query(pk, **kwargs))
        if forward:
            assert list(self.ours.query(pk)) == list(self.orig.query(pk))

    @rule(
        pk=PKS,
        flt=st.sampled_from(
            ["SK =~ /^a/", "v > 1", "nested.n == 2", "v", "not v", "v in 1, 2", "SK == 'x'"]
        ),
    )
    def filtered(self, pk: str, flt: str) -> None:
        pytest.importorskip("filtration")
        assert list(self.ours.query(pk, _filter=flt)) == list(self.orig.query(pk, _filter=flt))
        ours = sorted(self.ours.scan(_filter=flt), key=lambda i: (i["PK"], i["SK"]))
        theirs = sorted(self.orig.scan(_filter=flt), key=lambda i: (i["PK"], i["SK"]))
        assert ours == theirs

    @rule(ops=st.lists(st.tuples(PKS, SKS, VALUES), max_size=5))
    def batch_one_run_per_partition(self, ops: List[Tuple[str, str, Any]]) -> None:
        ops = sorted(ops, key=lambda op: op[0])  # the original loses non-consecutive runs
        for db in (self.orig, self.ours):
            with db.batch_writer() as w:
                for pk, sk, v in ops:
                    w.put_item(item={"PK": pk, "SK": sk, "v": v})
        assert _scan(self.ours) == _scan(self.orig)
        # Events: the original emits per partition group, in queue order within it.
        assert sorted(map(repr, self.our_events)) == sorted(map(repr, self.orig_events))
        self.our_events[:] = self.orig_events[:] = []

    @rule()
    def same_table(self) -> None:
        assert _scan(self.ours) == _scan(self.orig)


Differential.TestCase.settings = settings(max_examples=15, stateful_step_count=15, deadline=None)
test_face_matches_the_original = Differential.TestCase


def test_readme_example_matches(tmp_path: Path) -> None:
    results = []
    for db in (dynafile.Dynafile(tmp_path / "orig"), Dynafile(tmp_path / "ours")):
        db.put_item(item={"PK": "user#1", "SK": "user#1", "name": "Bob"})
        db.put_item(item={"PK": "user#1", "SK": "role#1", "TYPE": "sender"})
        db.put_item(item={"PK": "user#2", "SK": "user#2", "name": "Alice"})
        with db.batch_writer():
            db.put_item(item={"PK": "user#3", "SK": "user#3", "name": "Steve"})
            db.delete_item(key={"PK": "user#3", "SK": "user#3"})
        results.append(
            (
                db.get_item(key={"PK": "user#1", "SK": "user#1"}),
                list(db.query(pk="user#1")),
                sorted(db.scan(), key=lambda i: i["PK"] + i["SK"]),
            )
        )
        if hasattr(db, "close") and isinstance(db, Dynafile):
            db.close()
    assert results[0] == results[1]
