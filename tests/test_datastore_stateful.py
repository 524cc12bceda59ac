"""shoal.datastore against a plain dict model (hypothesis state machine): puts,
batches, deletes, stale revisions, unique-view violations, close and reopen,
on the native engine and on SQLite through SQLAlchemy."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import _pg_server
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from shoal.datastore import Datastore, IntegrityError, RevisionConflict, View

sa = pytest.importorskip("sqlalchemy")

KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
TAGS = st.lists(st.sampled_from(["x", "y", "z"]), max_size=3)
EMAILS = st.one_of(st.none(), st.sampled_from(["p@q", "r@s", "t@u"]))
DOCS = st.fixed_dictionaries({"tags": TAGS, "email": EMAILS, "n": st.integers(-5, 5)})


class Tags(View):
    def get_table(self, metadata: Any) -> Any:
        return sa.Table("tags", metadata, sa.Column("tag", sa.Unicode, index=True))

    def map(self, doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for t in doc["tags"]:
            yield {"tag": t}


class Emails(View):
    def get_table(self, metadata: Any) -> Any:
        return sa.Table(
            "emails",
            metadata,
            sa.Column("email", sa.Unicode, unique=True),
            sa.Column("n", sa.Integer, index=True),
        )

    def map(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"email": doc["email"], "n": doc["n"]}]


class Store(Datastore):
    def create_views(self) -> dict[str, View]:
        return {"tags": Tags(), "emails": Emails()}


class DatastoreModel(RuleBasedStateMachine):
    backend = "native"

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="shoal-ds-"))
        if self.backend == "native":
            self.url = f"shoal://{self.dir / 'db'}"
        elif self.backend == "sqlite":
            self.url = f"sqlite:///{self.dir / 'db.sqlite'}"
        else:
            try:
                self.url = _pg_server.server().new_database()
            except _pg_server.Unavailable as e:
                pytest.skip(f"PostgreSQL tests NOT RUN: {e}")
        self.ds = Store(self.url)
        self.docs: dict[str, dict[str, Any]] = {}
        self.revs: dict[str, int] = {}
        self.ids: dict[str, int] = {}
        self.next_id = 1
        # PostgreSQL sequences are not transactional: a rolled-back insert uses
        # up ids, so there ids are learnt (unique, increasing, stable per key).
        self.exact_ids = self.backend != "postgresql"
        self.rows: list[tuple[str, str]] = []  # (key, tag) in insertion order
        self.held: dict[str, dict[str, Any]] = {}  # documents read by get()

    def teardown(self) -> None:
        self.ds.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _email_clash(self, batch: dict[str, dict[str, Any]]) -> bool:
        owners: dict[str, str] = {}
        after = {**self.docs, **batch}
        for key, doc in after.items():
            email = doc["email"]
            if email is None:
                continue
            if email in owners:
                return True
            owners[email] = key
        return False

    def _apply(self, batch: dict[str, dict[str, Any]]) -> None:
        for key, doc in batch.items():
            if key in self.docs:
                self.revs[key] += 1
            else:
                self.revs[key] = 0
                self.ids[key] = self.next_id if self.exact_ids else 0
                self.next_id += 1
            self.docs[key] = doc
        moved = set(batch)
        self.rows = [r for r in self.rows if r[0] not in moved]
        for key, doc in batch.items():
            self.rows.extend((key, t) for t in doc["tags"])
        # (rows of one batch follow the batch's order)

    @rule(key=KEYS, doc=DOCS)
    def put(self, key: str, doc: dict[str, Any]) -> None:
        if self._email_clash({key: doc}):
            with pytest.raises(IntegrityError):
                self.ds.put(key, doc)
            return
        res = self.ds.put(key, doc)
        self._apply({key: doc})
        self._learn_id(key, res["id"])
        assert res["id"] == self.ids[key] and res["rev"] == str(self.revs[key])

    @rule(batch=st.dictionaries(KEYS, DOCS, max_size=4))
    def put_many(self, batch: dict[str, dict[str, Any]]) -> None:
        if self._email_clash(batch):
            with pytest.raises(IntegrityError):
                self.ds.put_many(batch)
            return
        self.ds.put_many(batch)
        self._apply(batch)

    @rule(key=KEYS)
    def delete(self, key: str) -> None:
        self.ds.delete(key)
        if self.docs.pop(key, None) is not None:
            self.rows = [r for r in self.rows if r[0] != key]

    @rule(key=KEYS)
    def read(self, key: str) -> None:
        doc = self.ds.get(key)
        if doc is not None:
            self.held[key] = doc

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data(), n=st.integers(-5, 5))
    def put_held(self, data: Any, n: int) -> None:
        key = data.draw(st.sampled_from(sorted(self.held)))
        doc = self.held[key]
        doc["n"] = n
        fresh = key in self.docs and doc["_rev"] == str(self.revs[key])
        clean = {k: v for k, v in doc.items() if not k.startswith("_")}
        if not fresh:
            with pytest.raises(RevisionConflict):
                self.ds.put(key, doc)
        elif self._email_clash({key: clean}):
            with pytest.raises(IntegrityError):
                self.ds.put(key, doc)
        else:
            self.ds.put(key, doc)
            self._apply({key: clean})
            assert doc["_rev"] == str(self.revs[key])

    @rule()
    def reopen(self) -> None:
        self.ds.close()
        self.ds = Store(self.url)

    def _learn_id(self, key: str, got: int) -> None:
        if self.ids[key] == 0:  # a new document on PostgreSQL
            assert got > max(self.ids.values())
            self.ids[key] = got

    @invariant()
    def documents_match(self) -> None:
        got = self.ds.get_many(["a", "b", "c", "d", "e"])
        assert set(got) == set(self.docs)
        for key in sorted(got, key=lambda k: got[k]["_id"]):
            self._learn_id(key, got[key]["_id"])
        for key, doc in got.items():
            assert {k: v for k, v in doc.items() if not k.startswith("_")} == self.docs[key]
            assert doc["_id"] == self.ids[key] and doc["_rev"] == str(self.revs[key])
        assert len(self.ds) == len(self.docs)

    @invariant()
    def views_match(self) -> None:
        rows = [(r["_key"], r["tag"]) for r in self.ds.query("tags")]
        if self.backend == "native":
            assert rows == self.rows  # insertion order
        else:
            assert sorted(rows) == sorted(self.rows)
        for tag in ("x", "y"):
            got = sorted(r["_key"] for r in self.ds.query("tags", tag=tag))
            assert got == sorted(k for k, t in self.rows if t == tag)
        emails = {r["_key"]: (r["email"], r["n"]) for r in self.ds.query("emails")}
        assert emails == {k: (d["email"], d["n"]) for k, d in self.docs.items()}
        by_n = [r["_key"] for r in self.ds.query("emails", order_by=["-n", "_key"], n=[0, 1, 2])]
        want = sorted(
            (k for k, d in self.docs.items() if d["n"] in (0, 1, 2)),
            key=lambda k: (-self.docs[k]["n"], k),
        )
        assert by_n == want


class SQLiteDatastoreModel(DatastoreModel):
    backend = "sqlite"


class PostgresDatastoreModel(DatastoreModel):
    backend = "postgresql"


TestNativeDatastore = DatastoreModel.TestCase
TestNativeDatastore.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestSQLiteDatastore = SQLiteDatastoreModel.TestCase
TestSQLiteDatastore.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
TestPostgresDatastore = PostgresDatastoreModel.TestCase
TestPostgresDatastore.settings = settings(max_examples=15, stateful_step_count=20, deadline=None)
