"""shoal.datastore: every behaviour of spec/datastore.md section 2, each defect of
section 4 not reproduced, and the failure paths, on both backends (the native
engine and SQLite through SQLAlchemy)."""

from __future__ import annotations

import datetime as dt
import threading
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import _pg_server
import pytest
import shoal
from shoal import datastore
from shoal.datastore import Datastore, IntegrityError, RevisionConflict, View

sa = pytest.importorskip("sqlalchemy")

BACKENDS = ["native", "sqlite", "postgresql"]
_PG_URLS: dict[Path, str] = {}


def strip(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """A document without the four computed fields."""
    if doc is None:
        return None
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def url_for(backend: str, path: Path) -> str:
    """The URL of the backend's database for ``path`` (the same one for the same path)."""
    if backend == "postgresql":
        if path not in _PG_URLS:
            try:
                _PG_URLS[path] = _pg_server.server().new_database()
            except _pg_server.Unavailable as e:
                pytest.skip(f"PostgreSQL tests NOT RUN: {e}")
        return _PG_URLS[path]
    if backend == "native":
        return f"shoal://{path / 'db'}"
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / 'db.sqlite'}"


# -- views used by the tests ----------------------------------------------------


class LnameView(View):
    def get_table(self, metadata: Any) -> Any:
        return sa.Table("lname_view", metadata, sa.Column("lname", sa.Unicode, index=True))

    def map(self, doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield {"lname": doc["name"].lower()}


class EmptyView(View):
    def get_table(self, metadata: Any) -> Any:
        return sa.Table("empty_view", metadata, sa.Column("x", sa.Integer))

    def map(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        return []


class EmailView(View):
    def get_table(self, metadata: Any) -> Any:
        return sa.Table("email_view", metadata, sa.Column("email", sa.Unicode, unique=True))

    def map(self, doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if "email" in doc:
            yield {"email": doc["email"].lower()}


class BookView(View):
    def get_table(self, metadata: Any) -> Any:
        return sa.Table(
            "book_view",
            metadata,
            sa.Column("title", sa.Unicode, index=True),
            sa.Column("author", sa.Unicode, index=True),
            sa.Column("year", sa.Integer),
        )

    def map(self, doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for author in doc.get("authors", []):
            yield {"title": doc["title"], "author": author, "year": doc.get("year")}


class TagView(View):
    def get_table(self, metadata: Any) -> Any:
        return sa.Table("tag_view", metadata, sa.Column("tag", sa.Unicode, index=True))

    def map(self, doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for t in doc.get("tags", []):
            yield {"tag": t}


class LnameStore(Datastore):
    def create_views(self) -> dict[str, View]:
        return {"lname": LnameView()}


@pytest.fixture(params=BACKENDS)
def backend(request: Any) -> str:
    return str(request.param)


@pytest.fixture
def make(backend: str, tmp_path: Path) -> Iterator[Callable[..., Datastore]]:
    """Open datastores on one database of the backend; all closed at the end."""
    opened: list[Datastore] = []

    def _make(cls: type[Datastore] = Datastore, **kw: Any) -> Datastore:
        ds = cls(url_for(backend, tmp_path), **kw)
        opened.append(ds)
        return ds

    yield _make
    for ds in opened:
        ds.close()


@pytest.fixture
def ds(make: Callable[..., Datastore]) -> Datastore:
    return make()


# -- section 2: behaviours -------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://", "shoal://"])
def test_b01_put_get(url: str) -> None:
    with Datastore(url) as ds:
        ds.put("foo", {"name": "foo"})
        assert strip(ds.get("foo")) == {"name": "foo"}


def test_b02_computed_fields(ds: Datastore) -> None:
    ds.put("foo", {"name": "foo", "_id": 99, "_key": "x", "_updated": 5})
    doc = ds.get("foo")
    assert doc is not None
    assert doc["_id"] == 1 and doc["_key"] == "foo" and doc["_rev"] == "0"
    # Defect 4: _updated is the time of the put (naive UTC), no longer always None.
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert isinstance(doc["_updated"], dt.datetime)
    assert abs(now - doc["_updated"]) < dt.timedelta(minutes=5)


def test_b03_put_returns_the_row_and_replaces(ds: Datastore) -> None:
    r1 = ds.put("foo", {"a": 1, "b": 2})
    assert r1["id"] == 1 and r1["key"] == "foo" and r1["rev"] == "0"
    assert isinstance(r1["updated"], dt.datetime)
    r2 = ds.put("foo", {"c": 3})
    assert r2["id"] == 1 and r2["rev"] == "1"
    assert strip(ds.get("foo")) == {"c": 3}
    assert ds.put("bar", {})["id"] == 2


def test_b04_missing(ds: Datastore) -> None:
    assert ds.get("missing") is None


def test_b05_put_many(ds: Datastore) -> None:
    ds.put_many({str(i): {"i": i} for i in range(100)})
    for i in range(100):
        assert ds.get(str(i))["i"] == i  # type: ignore[index]
    assert len(ds) == 100
    assert sorted(ds.get(str(i))["_id"] for i in range(100)) == list(range(1, 101))  # type: ignore[index]


def test_b06_get_many(ds: Datastore) -> None:
    ds.put("a", {"x": 1})
    ds.put("b", {"x": 2})
    got = ds.get_many(["a", "b", "c"])
    assert set(got) == {"a", "b"}
    assert got["a"] == ds.get("a") and got["b"]["x"] == 2
    assert ds.get_many([]) == {}
    assert set(ds.get_many(iter(["a"]))) == {"a"}


def test_b07_view_through_create_views(make: Callable[..., Datastore]) -> None:
    ds = make(LnameStore)
    ds.put("foo", {"name": "Foo"})
    ds.put("bar", {"name": "Bar"})
    assert [r["_key"] for r in ds.query("lname", lname="foo")] == ["foo"]
    assert list(ds.views) == ["lname"] and isinstance(ds.views["lname"], LnameView)


def test_b08_empty_map(make: Callable[..., Datastore]) -> None:
    ds = make(views={"empty": EmptyView()})
    ds.put("foo", {"name": "Foo"})
    assert ds.query("empty") == []
    assert ds.query("empty", x=1) == []


def test_b09_in_and_and(make: Callable[..., Datastore]) -> None:
    ds = make(views={"index": EmailView(), "book": BookView()})
    ds.put("a", {"email": "a@x"})
    ds.put("b", {"email": "b@x"})
    ds.put("c", {"email": "c@x"})
    assert sorted(r["_key"] for r in ds.query("index", email=["a@x", "b@x"])) == ["a", "b"]
    assert ds.query("index", email=[]) == []
    ds.put("b1", {"title": "T", "authors": ["A", "B"]})
    ds.put("b2", {"title": "T", "authors": ["C"]})
    ds.put("b3", {"title": "U", "authors": ["A"]})
    rows = ds.query("book", title="T", author="A")
    assert [(r["_key"], r["author"]) for r in rows] == [("b1", "A")]
    assert sorted(r["_key"] for r in ds.query("book", author=("A", "C"))) == ["b1", "b2", "b3"]


def test_b10_order_limit_offset(make: Callable[..., Datastore]) -> None:
    ds = make(views={"book": BookView()})
    ds.put_many(
        {
            "k1": {"title": "x", "authors": ["ann"], "year": 2001},
            "k2": {"title": "y", "authors": ["bob"], "year": 1999},
            "k3": {"title": "z", "authors": ["ann"], "year": 2010},
            "k4": {"title": "w", "authors": ["bob"], "year": 2005},
        }
    )
    assert [r["_key"] for r in ds.query("book", order_by="-_key")] == ["k4", "k3", "k2", "k1"]
    rows = ds.query("book", order_by=["author", "-year"])
    assert [r["_key"] for r in rows] == ["k3", "k1", "k4", "k2"]
    assert [r["_key"] for r in ds.query("book", order_by="year", limit=1)] == ["k2"]
    assert [r["_key"] for r in ds.query("book", order_by="year", offset=1)] == ["k1", "k4", "k3"]
    assert [r["_key"] for r in ds.query("book", order_by="year", limit=2, offset=1)] == [
        "k1",
        "k4",
    ]
    assert ds.query("book", order_by="year", limit=0) == []
    assert ds.query("book", order_by="year", offset=10) == []


def test_b11_include_docs(make: Callable[..., Datastore]) -> None:
    ds = make(views={"tags": TagView()})
    ds.put("a", {"tags": ["x", "y"]})
    ds.put("b", {"tags": ["x"]})
    rows = ds.query("tags", include_docs=True, tag="x")
    assert len(rows) == 2
    for r in rows:
        assert r["_doc"] == ds.get(r["_key"])
    assert all("_doc" not in r for r in ds.query("tags"))


def test_b12_unique_violation_changes_nothing(make: Callable[..., Datastore]) -> None:
    ds = make(views={"index": EmailView()})
    ds.put("first", {"email": "Joe@x"})
    with pytest.raises(IntegrityError) as info:
        ds.put("second", {"email": "joe@X"})
    assert isinstance(info.value, shoal.DuplicateKeyError)
    assert ds.get("second") is None
    assert strip(ds.get("first")) == {"email": "Joe@x"}
    assert [r["_key"] for r in ds.query("index", email="joe@x")] == ["first"]
    # An update of an existing document that collides keeps its old version and rows.
    ds.put("third", {"email": "t@x"})
    with pytest.raises(IntegrityError):
        ds.put("third", {"email": "JOE@x"})
    assert ds.get("third")["email"] == "t@x"  # type: ignore[index]
    assert [r["_key"] for r in ds.query("index", email="t@x")] == ["third"]
    # NULLs never collide.
    ds.put("n1", {})
    ds.put("n2", {})
    # put_many: one collision writes none of the batch.
    with pytest.raises(IntegrityError):
        ds.put_many({"m1": {"email": "m@x"}, "m2": {"email": "first@x"}, "m3": {"email": "m@x"}})
    assert ds.get_many(["m1", "m2", "m3"]) == {}
    assert ds.query("index", email="m@x") == []


def test_b13_update_remaps(make: Callable[..., Datastore]) -> None:
    ds = make(views={"tags": TagView()})
    ds.put("d", {"tags": ["a", "b"]})
    assert sorted(r["tag"] for r in ds.query("tags")) == ["a", "b"]
    ds.put("d", {"tags": []})
    assert ds.query("tags") == []
    ds.put("d", {"tags": ["c"]})
    ds.put_many({"d": {"tags": ["e"]}, "f": {"tags": ["e"]}})
    assert sorted((r["_key"], r["tag"]) for r in ds.query("tags")) == [("d", "e"), ("f", "e")]


def test_b14_rows_are_plain_dicts_of_every_column(make: Callable[..., Datastore]) -> None:
    ds = make(views={"book": BookView()})
    ds.put("k", {"title": "T", "authors": ["A"]})
    (row,) = ds.query("book")
    assert type(row) is dict
    assert row == {"title": "T", "author": "A", "year": None, "_id": 1, "_key": "k"}
    assert list(row) == ["title", "author", "year", "_id", "_key"]


def test_b15_tablename(backend: str, tmp_path: Path) -> None:
    class Users(Datastore):
        tablename = "users"

    for ds in (Users(url_for(backend, tmp_path)), Datastore(url_for(backend, tmp_path / "b"))):
        with ds:
            ds.put("x", {})
    with Datastore(url_for(backend, tmp_path / "c"), tablename="people") as ds:
        assert ds.tablename == "people"
        ds.put("x", {})
        if backend == "native":
            assert ds.store is not None and "people" in ds.store.collections()
        else:
            assert sa.inspect(ds.engine).has_table("people")
            assert not sa.inspect(ds.engine).has_table("store")
    assert Datastore.tablename == "store"
    with Users(url_for(backend, tmp_path)) as ds:
        assert ds.tablename == "users" and ds.get("x") is not None
        if backend != "native":
            assert sa.inspect(ds.engine).has_table("users")


def test_b16_reopen(make: Callable[..., Datastore]) -> None:
    ds = make(LnameStore)
    ds.put("foo", {"name": "Foo"})
    ds.put_many({"bar": {"name": "Bar"}, "baz": {"name": "Baz"}})
    ds.close()
    ds2 = make(LnameStore)
    assert strip(ds2.get("foo")) == {"name": "Foo"}
    assert [r["_key"] for r in ds2.query("lname", lname="bar")] == ["bar"]
    assert ds2.put("new", {"name": "New"})["id"] == 4
    assert ds2.put("foo", {"name": "Foo"})["rev"] == "1"


def test_b17_json_data_type_roundtrip() -> None:
    meta = sa.MetaData()
    t = sa.Table(
        "t",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("doc", datastore.JsonDataType()),
        sa.Column("zdoc", datastore.JsonDataType(compress=True)),
    )
    engine = sa.create_engine("sqlite://")
    meta.create_all(engine)
    value = {"name": "Foo", "n": [1, 2.5, None, True]}
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"doc": value, "zdoc": value}, {"doc": None, "zdoc": None}])
        rows = conn.execute(sa.select(t.c.doc, t.c.zdoc).order_by(t.c.id)).all()
    assert rows[0] == (value, value) and rows[1] == (None, None)
    engine.dispose()


def test_importable_from_store_module() -> None:
    from shoal.datastore.store import Datastore as D
    from shoal.datastore.store import JsonDataType as J
    from shoal.datastore.store import View as V

    assert (D, J, V) == (Datastore, datastore.JsonDataType, View)


# -- section 4: defects not reproduced ---------------------------------------------


def test_d1_delete(make: Callable[..., Datastore]) -> None:
    ds = make(views={"tags": TagView()})
    ds.put("a", {"tags": ["x", "y"]})
    ds.put("b", {"tags": ["x"]})
    assert ds.delete("a") is None
    assert ds.get("a") is None and "a" not in ds and len(ds) == 1
    assert [r["_key"] for r in ds.query("tags")] == ["b"]
    ds.delete("a")  # missing: no-op
    ds.delete("never")
    assert ds.put("a", {})["id"] == 3  # ids are never reused
    ds.delete("a")
    assert ds.put("c", {})["id"] == 4


def test_d2_add_view_backfills(make: Callable[..., Datastore]) -> None:
    ds = make()
    ds.put_many({f"k{i}": {"tags": [f"t{i % 3}"]} for i in range(10)})
    ds.add_view("tags", TagView())
    assert sorted(r["_key"] for r in ds.query("tags", tag="t0")) == ["k0", "k3", "k6", "k9"]
    ds.put("k10", {"tags": ["t0"]})  # the original crashed here
    assert len(ds.query("tags", tag="t0")) == 5
    with pytest.raises(ValueError, match="already a view"):
        ds.add_view("tags", TagView())


def test_d2_failed_backfill_leaves_no_view(make: Callable[..., Datastore]) -> None:
    ds = make()
    ds.put("ok", {"name": "Ok"})
    ds.put("bad", {"nom": "x"})
    with pytest.raises(KeyError):
        ds.add_view("lname", LnameView())
    assert "lname" not in ds.views
    ds.put("ok2", {"name": "Ok2"})
    ds.delete("bad")
    ds.add_view("lname", LnameView())  # storage was dropped: this back-fills afresh
    assert sorted(r["_key"] for r in ds.query("lname")) == ["ok", "ok2"]


def test_d2_view_new_at_reopen_is_backfilled(make: Callable[..., Datastore]) -> None:
    ds = make()
    ds.put("foo", {"name": "Foo"})
    ds.close()
    ds = make(LnameStore)
    assert [r["_key"] for r in ds.query("lname", lname="foo")] == ["foo"]


def test_d4_revisions(ds: Datastore) -> None:
    ds.put("k", {"v": 1})
    doc = ds.get("k")
    assert doc is not None and doc["_rev"] == "0"
    doc["v"] = 2
    res = ds.put("k", doc)
    assert res["rev"] == "1" and doc["_rev"] == "1"  # the caller's dict follows
    doc["v"] = 3
    ds.put("k", doc)  # the same dict again: no self-conflict
    stale = dict(doc, _rev="1")
    with pytest.raises(RevisionConflict) as info:
        ds.put("k", stale)
    assert isinstance(info.value, shoal.ConflictError)
    assert ds.get("k")["v"] == 3  # type: ignore[index]
    with pytest.raises(RevisionConflict):
        ds.put_many({"k": stale, "other": {}})
    assert ds.get("other") is None
    # No _rev, a None _rev, or a copy to another key: no check.
    ds.put("k", {"v": 4})
    ds.put("k", {"v": 5, "_rev": None})
    ds.put("copy", ds.get("k"))  # type: ignore[arg-type]
    assert ds.get("copy")["v"] == 5 and ds.get("copy")["_rev"] == "0"  # type: ignore[index]
    # Deleted meanwhile.
    ds.delete("k")
    with pytest.raises(RevisionConflict, match="deleted"):
        ds.put("k", {"v": 6, "_rev": "4", "_key": "k"})
    # updated= is kept (naive UTC).
    when = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    r = ds.put("t", {}, updated=when)
    assert r["updated"] == dt.datetime(2020, 1, 2, 1, 4, 5) == ds.get("t")["_updated"]  # type: ignore[index]
    with pytest.raises(TypeError):
        ds.put("t", {}, updated="yesterday")


def test_d5_missing_columns_are_null(make: Callable[..., Datastore]) -> None:
    class Partial(View):
        def get_table(self, metadata: Any) -> Any:
            return sa.Table(
                "partial", metadata, sa.Column("a", sa.Integer), sa.Column("b", sa.Unicode)
            )

        def map(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
            return [{"a": 1}, {}]

    ds = make(views={"p": Partial()})
    ds.put("k", {})
    rows = ds.query("p", order_by="a")
    assert [(r["a"], r["b"]) for r in rows] == [(None, None), (1, None)]
    assert [r["a"] for r in ds.query("p", b=None)] == [None, 1] or len(ds.query("p", b=None)) == 2
    assert [r["a"] for r in ds.query("p", a=None)] == [None]


def test_d6_unknown_names_are_errors(make: Callable[..., Datastore]) -> None:
    ds = make(LnameStore)
    ds.put("foo", {"name": "Foo"})
    with pytest.raises(KeyError, match="nope.*lname"):
        ds.query("nope")
    with pytest.raises(ValueError, match="no column 'lnam'"):
        ds.query("lname", lnam="foo")
    with pytest.raises(ValueError, match="no column 'x'"):
        ds.query("lname", order_by="-x")


@pytest.mark.parametrize("new_key", [True, False])
def test_d7_concurrent_writers_of_one_key(make: Callable[..., Datastore], new_key: bool) -> None:
    ds = make(views={"tags": TagView()})
    if not new_key:
        ds.put("k", {"tags": []})
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                ds.put("k", {"tags": [f"w{n}-{i}"]})
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    doc = ds.get("k")
    assert doc is not None and doc["_id"] == 1
    assert doc["_rev"] == str(30 - (1 if new_key else 0))
    assert [r["tag"] for r in ds.query("tags")] == doc["tags"]


def test_d8_json_data_type_compress_flag() -> None:
    from shoal.datastore.jsontype import decode_json, encode_json

    t = datastore.JsonDataType()
    plain = t.process_bind_param({"a": 1}, None)
    assert plain == b'{"a": 1}'
    packed = datastore.JsonDataType(compress=True).process_bind_param({"a": 1}, None)
    assert zlib.decompress(packed) == plain
    assert t.process_result_value(packed, None) == {"a": 1}
    assert t.process_result_value(plain, None) == {"a": 1}
    assert decode_json(encode_json([1, "x"], True)) == [1, "x"]
    assert decode_json('{"s": "x"}') == {"s": "x"}


def test_opens_a_database_written_by_the_original(tmp_path: Path) -> None:
    """The original's tables (rev "0", zlib JSON blobs) read and update in place."""
    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    meta = sa.MetaData()
    store = sa.Table(
        "store",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rev", sa.Unicode),
        sa.Column("updated", sa.DateTime),
        sa.Column("key", sa.Unicode, nullable=False, unique=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    view = sa.Table(
        "lname_view",
        meta,
        sa.Column("lname", sa.Unicode, index=True),
        sa.Column("_id", sa.Integer, index=True),
        sa.Column("_key", sa.Unicode),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            store.insert(),
            [{"rev": "0", "key": "foo", "data": zlib.compress(b'{"name": "Foo"}')}],
        )
        conn.execute(view.insert(), [{"lname": "foo", "_id": 1, "_key": "foo"}])
    engine.dispose()
    with LnameStore(f"sqlite:///{path}") as ds:
        doc = ds.get("foo")
        assert doc == {"name": "Foo", "_id": 1, "_key": "foo", "_rev": "0", "_updated": None}
        assert [r["_key"] for r in ds.query("lname", lname="foo")] == ["foo"]
        doc["name"] = "Fool"
        assert ds.put("foo", doc)["rev"] == "1"
        assert [r["_key"] for r in ds.query("lname", lname="fool")] == ["foo"]


# -- failure paths -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "doc", "error"),
    [
        (1, {}, TypeError),
        (None, {}, TypeError),
        (b"k", {}, TypeError),
        ("k", [1, 2], TypeError),
        ("k", "text", TypeError),
        ("k", {"when": dt.datetime(2020, 1, 1)}, TypeError),
        ("k", {"s": {1, 2}}, TypeError),
        ("k", {"o": object()}, TypeError),
    ],
)
def test_bad_documents_write_nothing(ds: Datastore, key: Any, doc: Any, error: type) -> None:
    ds.put("keep", {"v": 1})
    with pytest.raises(error):
        ds.put(key, doc)
    with pytest.raises(error):
        ds.put_many({"ok": {}, key: doc})
    assert ds.get("ok") is None and len(ds) == 1 and ds.get("keep")["v"] == 1  # type: ignore[index]


def test_circular_document(ds: Datastore) -> None:
    doc: dict[str, Any] = {}
    doc["self"] = doc
    with pytest.raises(ValueError):
        ds.put("k", doc)
    assert ds.get("k") is None


def test_json_normalisation(ds: Datastore) -> None:
    ds.put("k", {"t": (1, 2), 3: "x", "f": 1.5, "u": "é", "big": 2**70, "n": None})
    assert strip(ds.get("k")) == {
        "t": [1, 2],
        "3": "x",
        "f": 1.5,
        "u": "é",
        "big": 2**70,
        "n": None,
    }


def test_bad_keys_elsewhere(ds: Datastore) -> None:
    with pytest.raises(TypeError):
        ds.get(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ds.delete(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ds.get_many("abc")
    with pytest.raises(TypeError):
        ds.get_many([1])
    with pytest.raises(TypeError):
        ds.put_many([("a", {})])  # type: ignore[arg-type]
    assert 1 not in ds


class Exploding(View):
    def get_table(self, metadata: Any) -> Any:
        return sa.Table("boom_view", metadata, sa.Column("v", sa.Integer))

    def map(self, doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield {"v": 1}
        if doc.get("boom"):
            raise RuntimeError("map failed")


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ({"boom": True}, RuntimeError),
        ({"bad_row": "not a dict"}, TypeError),
        ({"bad_row": {"nope": 1}}, ValueError),
        ({"bad_row": {"v": "text"}}, TypeError),
        ({"bad_row": {"v": 1.5}}, TypeError),
        ({"bad_row": {"must": None}}, IntegrityError),
        ({"one_dict": True}, TypeError),
    ],
)
def test_view_failures_roll_back_the_document(
    make: Callable[..., Datastore], doc: dict[str, Any], error: type
) -> None:
    class Strict(View):
        def get_table(self, metadata: Any) -> Any:
            return sa.Table(
                "strict_view",
                metadata,
                sa.Column("v", sa.Integer),
                sa.Column("must", sa.Unicode, nullable=False),
            )

        def map(self, d: dict[str, Any]) -> Any:
            if d.get("one_dict"):
                return {"v": 1, "must": "x"}
            if "bad_row" in d:
                row = d["bad_row"]
                return [row if not isinstance(row, dict) else {"must": "x", **row}]
            return [{"v": 1, "must": "x"}]

    ds = make(views={"boom": Exploding(), "strict": Strict()})
    ds.put("k", {"old": True})
    before = ds.get("k")
    with pytest.raises(error):
        ds.put("k", doc)
    assert ds.get("k") == before
    with pytest.raises(error):
        ds.put("new", doc)
    assert ds.get("new") is None
    with pytest.raises(error):
        ds.put_many({"new2": {}, "new3": doc})
    assert ds.get_many(["new2", "new3"]) == {}
    assert [r["_key"] for r in ds.query("boom")] == ["k"]
    assert [r["_key"] for r in ds.query("strict")] == ["k"]


def test_view_row_values_are_checked_and_converted(make: Callable[..., Datastore]) -> None:
    class Typed(View):
        def get_table(self, metadata: Any) -> Any:
            return sa.Table(
                "typed",
                metadata,
                sa.Column("i", sa.Integer),
                sa.Column("f", sa.Float),
                sa.Column("n", sa.Numeric(10, 2)),
                sa.Column("b", sa.Boolean),
                sa.Column("d", sa.Date),
                sa.Column("ts", sa.DateTime),
                sa.Column("raw", sa.LargeBinary),
            )

        def map(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
            return [
                {
                    "i": True,
                    "f": 2,
                    "n": Decimal("1.25"),
                    "b": 1,
                    "d": dt.date(2020, 5, 6),
                    "ts": dt.datetime(2020, 5, 6, 7, 8, 9),
                    "raw": bytearray(b"\x00\xff"),
                }
            ]

    ds = make(views={"t": Typed()})
    ds.put("k", {})
    (row,) = ds.query("t")
    assert row["i"] == 1 and type(row["i"]) is int
    assert row["f"] == 2.0 and type(row["f"]) is float
    assert row["n"] == Decimal("1.25") and row["b"] is True
    assert row["d"] == dt.date(2020, 5, 6) and row["ts"] == dt.datetime(2020, 5, 6, 7, 8, 9)
    assert row["raw"] == b"\x00\xff"
    assert len(ds.query("t", i=1, b=True, d=dt.date(2020, 5, 6), f=2)) == 1


def test_bad_queries(make: Callable[..., Datastore]) -> None:
    ds = make(views={"book": BookView()})
    ds.put("k", {"title": "T", "authors": ["A"], "year": 2000})
    with pytest.raises(TypeError, match="year"):
        ds.query("book", year="2000")
    with pytest.raises(TypeError):
        ds.query("book", title={"$gt": "A"})
    with pytest.raises(TypeError):
        ds.query("book", limit="1")
    with pytest.raises(ValueError):
        ds.query("book", offset=-1)
    with pytest.raises(TypeError):
        ds.query("book", order_by=3)
    with pytest.raises(ValueError):
        ds.query("book", title=["T", None])
    assert [r["_key"] for r in ds.query("book", year=2000, title=None)] == []
    assert [r["_key"] for r in ds.query("book", _key="k", _id=1)] == ["k"]


def test_bad_views(make: Callable[..., Datastore]) -> None:
    ds = make()

    class NoTable(View):
        pass

    class Reserved(View):
        def get_table(self, metadata: Any) -> Any:
            return sa.Table("reserved", metadata, sa.Column("_key", sa.Unicode))

    class Clash(View):
        def get_table(self, metadata: Any) -> Any:
            return sa.Table("store", metadata, sa.Column("x", sa.Unicode))

    with pytest.raises(TypeError, match="get_table"):
        ds.add_view("v", NoTable())
    with pytest.raises(ValueError, match="reserved"):
        ds.add_view("v", Reserved())
    with pytest.raises(TypeError):
        ds.add_view("v", object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ds.add_view("", TagView())
    assert ds.views == {}
    with pytest.raises(Exception, match="store"):
        ds.add_view("v", Clash())
    assert "v" not in ds.views
    ds.add_view("v", TagView())
    with pytest.raises(Exception, match="tag_view"):
        ds.add_view("w", TagView())
    ds.put("k", {"tags": ["a"]})
    assert [r["tag"] for r in ds.query("v")] == ["a"]


def test_closed_datastore(make: Callable[..., Datastore]) -> None:
    ds = make(LnameStore)
    ds.put("foo", {"name": "Foo"})
    ds.close()
    assert ds.closed
    for call in (
        lambda: ds.get("foo"),
        lambda: ds.put("x", {"name": "X"}),
        lambda: ds.put_many({"x": {"name": "X"}}),
        lambda: ds.get_many(["foo"]),
        lambda: ds.delete("foo"),
        lambda: ds.query("lname", lname="foo"),
    ):
        with pytest.raises(shoal.ClosedError):
            call()
    ds.close()  # twice is fine


def test_rebuild_view(make: Callable[..., Datastore]) -> None:
    ds = make(views={"tags": TagView()})
    ds.put_many({"a": {"tags": ["x"]}, "b": {"tags": ["y"]}})
    ds.views["tags"].map = lambda doc: [{"tag": t.upper()} for t in doc["tags"]]  # type: ignore[method-assign]
    assert sorted(r["tag"] for r in ds.query("tags")) == ["x", "y"]
    ds.rebuild_view("tags")
    assert sorted(r["tag"] for r in ds.query("tags")) == ["X", "Y"]
    with pytest.raises(KeyError):
        ds.rebuild_view("nope")


def test_view_object_shortcuts(make: Callable[..., Datastore]) -> None:
    ds = make(LnameStore)
    ds.put("foo", {"name": "Foo"})
    view = ds.views["lname"]
    assert view.store is ds and view.name == "lname"
    assert [c.name for c in view.table.columns] == ["lname", "_id", "_key"]
    assert "lname" in view.c.keys()
    assert view.select() is not None
    assert [r["_key"] for r in view.query(lname="foo")] == ["foo"]
    assert list(view.map_docs([{"name": "X", "_id": 7, "_key": "x"}])) == [
        {"lname": "x", "_id": 7, "_key": "x"}
    ]
    with pytest.raises(AttributeError):
        LnameView().query()


def test_mapping_protocol(ds: Datastore) -> None:
    ds.put_many({"b": {}, "a": {}, "c": {}})
    assert sorted(ds) == ["a", "b", "c"] and len(ds) == 3 and "a" in ds and "z" not in ds


def test_sql_tables_stay_queryable_with_sqlalchemy(tmp_path: Path) -> None:
    with LnameStore(f"sqlite:///{tmp_path / 'x.db'}") as ds:
        ds.put("foo", {"name": "Foo"})
        view = ds.views["lname"]
        with ds.engine.connect() as conn:
            rows = conn.execute(view.select().where(view.c.lname == "foo")).all()
            assert [r._mapping["_key"] for r in rows] == ["foo"]
            assert conn.execute(sa.select(ds.table.c.key)).scalars().all() == ["foo"]
        with ds.Session() as session:
            assert session.execute(sa.select(sa.func.count()).select_from(ds.table)).scalar() == 1


# -- native specifics ----------------------------------------------------------------


def test_native_queries_use_indexes(tmp_path: Path) -> None:
    with Datastore(f"shoal://{tmp_path / 'n'}", views={"book": BookView()}) as ds:
        ds.put_many({f"k{i}": {"title": f"t{i % 10}", "authors": ["a", "b"]} for i in range(200)})
        assert ds.store is not None
        coll = ds.store.collection("book_view")
        plan = coll.explain({"title": "t3", "author": "a"})
        assert plan["access"] == "index" and plan["returned"] == 20
        assert plan["docs_examined"] <= 40  # the title rows, not the 400 of the view
        plan = coll.explain({"author": {"$in": ["a", "b"]}}, sort=[("title", 1)], limit=5)
        assert plan["access"] == "index"
        assert len(ds.query("book", title="t3", author="a")) == 20
        plan = coll.explain({}, sort=[("title", -1)], limit=3)  # order_by="-title", limit=3
        assert plan["access"] == "index" and plan["docs_examined"] == 3
        assert [r["title"] for r in ds.query("book", order_by="-title", limit=3)] == ["t9"] * 3
        # Rows come back in insertion order without order_by.
        keys = [r["_key"] for r in ds.query("book", title=["t3", "t4"], author="a")]
        assert keys == [f"k{i}" for i in range(200) if i % 10 in (3, 4)]


def test_native_urls_and_stores(tmp_path: Path) -> None:
    with Datastore("shoal://") as ds:  # temporary
        ds.put("k", {})
        path = ds.store.path  # type: ignore[union-attr]
        assert ds.store.temporary  # type: ignore[union-attr]
    assert not Path(path).exists()
    with Datastore(str(tmp_path / "plain")) as ds:
        ds.put("k", {"v": 1})
    with Datastore(tmp_path / "plain") as ds:  # PathLike
        assert ds.get("k")["v"] == 1  # type: ignore[index]
        assert ds.backend == "shoal" and ds.engine is None
    with Datastore(f"shoal://{tmp_path / 'opt'}?durability=sync&cache_size=1048576") as ds:
        assert ds.store.durability == "sync"  # type: ignore[union-attr]
    store = shoal.open(tmp_path / "shared")
    with Datastore(store, views={"tags": TagView()}) as ds:
        ds.put("k", {"tags": ["x"]})
    assert not store.closed  # a store passed in stays open
    store.kv("mine")["x"] = 1
    store.close()
    with pytest.raises(ValueError):
        Datastore("shoal://x?bogus=1")
    with pytest.raises(ValueError):
        Datastore("shoal:relative")
    with pytest.raises(TypeError):
        Datastore(42)
    with pytest.raises(ValueError):
        Datastore("")
    with pytest.raises(shoal.InvalidArgumentError):
        Datastore("shoal://", tablename="bad/name")
    with pytest.raises(TypeError):
        Datastore("shoal://", tablename=3)  # type: ignore[arg-type]


def test_native_lock_is_released_on_a_failed_open(tmp_path: Path) -> None:
    url = f"shoal://{tmp_path / 'l'}"
    with pytest.raises(TypeError):
        Datastore(url, views={"v": object()})  # type: ignore[dict-item]
    with Datastore(url) as ds:
        ds.put("k", {})


# -- views described without SQLAlchemy ------------------------------------------------


class LiteView(View):
    def get_table(self, metadata: Any) -> Any:
        return datastore.Table(
            "lite_view",
            None,
            datastore.Column("email", datastore.Unicode, unique=True),
            datastore.Column("city", datastore.String(40), index=True),
            datastore.Column("age", datastore.Integer),
            datastore.Column("score", datastore.Float, nullable=False),
            datastore.Index("ix_city_age", "city", "age"),
            datastore.UniqueConstraint("city", "age"),
        )

    def map(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: doc.get(k) for k in ("email", "city", "age", "score")}]


def test_lightweight_view_tables(make: Callable[..., Datastore]) -> None:
    ds = make(views={"lite": LiteView()})
    ds.put("a", {"email": "a@x", "city": "Oslo", "age": 30, "score": 1})
    ds.put("b", {"email": "b@x", "city": "Oslo", "age": 31, "score": 2.5})
    assert [r["_key"] for r in ds.query("lite", city="Oslo", order_by="-age")] == ["b", "a"]
    assert ds.query("lite", email="a@x")[0]["score"] == 1.0
    with pytest.raises(IntegrityError):
        ds.put("c", {"email": "a@x", "city": "Rome", "age": 1, "score": 0})
    with pytest.raises(IntegrityError):
        ds.put("c", {"email": "c@x", "city": "Oslo", "age": 30, "score": 0})
    with pytest.raises(IntegrityError):
        ds.put("c", {"email": "c@x", "city": "Rome", "age": 30})
    assert ds.get("c") is None
    if ds.backend == "shoal":
        names = {
            tuple(f for f, _ in i["fields"]) for i in ds.store.collection("lite_view").indexes()
        }  # type: ignore[union-attr]
        assert {("email",), ("city",), ("city", "age"), ("_id",)} <= names


def test_lightweight_schema_errors() -> None:
    with pytest.raises(ValueError):
        datastore.Column("")
    with pytest.raises(ValueError):
        datastore.Table("", None)
    with pytest.raises(TypeError):
        datastore.Table("t", None, "not a column")
    t = datastore.Table("t", datastore.MetaData(), datastore.Column("a", datastore.Integer))
    with pytest.raises(ValueError):
        t.append_column(datastore.Column("a"))
    assert list(t.c) == ["a"]

    class BadIndex(View):
        def get_table(self, metadata: Any) -> Any:
            return datastore.Table("bi", None, datastore.Column("a"), datastore.Index("i", "zz"))

    with Datastore("shoal://") as ds:
        with pytest.raises(ValueError, match="zz"):
            ds.add_view("bi", BadIndex())


def test_a_view_column_may_be_called_name(make: Callable[..., Datastore]) -> None:
    class Names(View):
        def get_table(self, metadata: Any) -> Any:
            return sa.Table("names", metadata, sa.Column("name", sa.Unicode, index=True))

        def map(self, doc: dict[str, Any]) -> list[dict[str, Any]]:
            return [{"name": doc["name"]}]

    ds = make(views={"names": Names()})
    ds.put("k", {"name": "ann"})
    assert [r["_key"] for r in ds.query("names", name="ann")] == ["k"]
    assert [r["_key"] for r in ds.views["names"].query(name="ann")] == ["k"]


def test_native_backend_without_sqlalchemy(tmp_path: Path) -> None:
    """With SQLAlchemy absent: the engine works with look-alike tables; SQL is a clear error."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["sqlalchemy"] = None  # as if not installed
        from shoal import datastore as ds

        class V(ds.View):
            def get_table(self, metadata):
                assert isinstance(metadata, ds.MetaData)
                return ds.Table("v", metadata, ds.Column("email", ds.Unicode, unique=True))

            def map(self, doc):
                return [{{"email": doc["email"]}}]

        with ds.Datastore({str(tmp_path / "n")!r}, views={{"v": V()}}) as store:
            store.put("a", {{"email": "x"}})
            assert [r["_key"] for r in store.query("v", email="x")] == ["a"]
            try:
                store.put("b", {{"email": "x"}})
            except ds.IntegrityError:
                pass
            else:
                raise AssertionError("no IntegrityError")
            assert isinstance(store.table, ds.Table)
            view = store.views["v"]
            assert "email" in view.c
            try:
                view.select()
            except ImportError:
                pass
            else:
                raise AssertionError("select() without SQLAlchemy")
        for call in (lambda: ds.Datastore("sqlite://"), lambda: ds.JsonDataType()):
            try:
                call()
            except ImportError as e:
                assert "shoal[datastore]" in str(e), e
            else:
                raise AssertionError("no ImportError")
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_native_view_never_overwrites_a_foreign_collection(tmp_path: Path) -> None:
    with shoal.open(tmp_path / "s") as store:
        store.collection("tag_view").insert({"_id": 1, "mine": True})
        with Datastore(store) as ds:
            with pytest.raises(ValueError, match="tag_view"):
                ds.add_view("tags", TagView())
            assert "tags" not in ds.views
        assert store.collection("tag_view").get(1) == {"_id": 1, "mine": True}
