"""``Collection``: the seed's methods plus the pymongo names, on one engine collection.

Every handle works on live data: handles are names resolved through the
database at each call, so two handles on one collection (even taken before
it existed) see the same documents. Queries are compiled by
:mod:`shoal.sofart._translate` and run by the engine; only conditions it
cannot express exactly are re-checked in Python on the engine's candidates.
"""

from __future__ import annotations

import collections.abc
import datetime
import os
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import shoal

from ._backend import public
from ._translate import HIDDEN, SEQ, TUP, Query, compile_query
from ._values import check, tuple_paths
from .exceptions import CollectionException, DuplicateKeyError
from .results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Collection", "Cursor"]

_ID_TYPES = (str, int, float, bytes, Decimal, uuid.UUID, datetime.datetime)
_ONE = ("$in", [1, True])


def new_id() -> str:
    """A random UUID4 as a string (what ``str(uuid.uuid4())`` returns, faster)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _check_id(value: Any) -> None:
    if value is not None and not isinstance(value, _ID_TYPES):
        raise TypeError(
            "an _id must be a str, int, float, bytes, Decimal, UUID or datetime, "
            f"not {type(value).__name__}"
        )


def _is_one(value: Any) -> bool:
    """Whether ``value`` equals ``1``/``True`` (Python equality crosses bool and int)."""
    try:
        return type(value) in (bool, int, float, Decimal) and bool(value == 1)
    except ArithmeticError:
        return False


class Cursor(collections.abc.Generator):  # type: ignore[type-arg]
    """The lazy result of ``find()``: a generator with pymongo's chaining.

    Nothing runs until the first ``next()``: the query is then evaluated once
    (a snapshot: later writes do not change what this iteration yields), and
    errors in the query surface there. Before that, :meth:`sort`,
    :meth:`skip` and :meth:`limit` refine it.
    """

    def __init__(
        self,
        collection: Collection,
        spec: Any,
        *,
        limit: int = 0,
        projection: Any = None,
        sort: Any = None,
        skip: int = 0,
    ) -> None:
        self._collection = collection
        self._spec = spec
        self._limit = limit
        self._projection = projection
        self._sort = sort
        self._skip = skip
        self._gen: Iterator[dict[str, Any]] | None = None

    def _check_fresh(self) -> None:
        if self._gen is not None:
            raise CollectionException("cannot change a cursor after iteration started")

    def sort(self, key_or_list: Any, direction: int | None = None) -> Cursor:
        """Order the results: ``sort("f")``, ``sort("f", -1)`` or ``sort([("a", 1), ...])``."""
        self._check_fresh()
        if isinstance(key_or_list, str):
            self._sort = [(key_or_list, 1 if direction is None else direction)]
        else:
            self._sort = list(key_or_list)
        return self

    def skip(self, n: int) -> Cursor:
        """Skip the first ``n`` results."""
        self._check_fresh()
        if not isinstance(n, int) or n < 0:
            raise ValueError("skip must be a non-negative int")
        self._skip = n
        return self

    def limit(self, n: int) -> Cursor:
        """Return at most ``n`` results (pymongo: ``0`` is no limit, ``-n`` is ``n``)."""
        self._check_fresh()
        if not isinstance(n, int):
            raise TypeError("limit must be an int")
        self._limit = abs(n)
        return self

    def send(self, value: Any) -> dict[str, Any]:
        """Advance the generator (the value is ignored, as for ``next()``)."""
        if self._gen is None:
            self._gen = self._collection._run(
                self._spec, self._limit, self._projection, self._sort, self._skip
            )
        return next(self._gen)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:  # type: ignore[override]
        """Raise an exception at the generator's position (generator protocol)."""
        self._gen = iter(())  # like a generator, finished by an exception thrown in
        if val is None:
            val = typ() if isinstance(typ, type) else typ
        if tb is not None:
            val = val.with_traceback(tb)
        raise val

    def __repr__(self) -> str:
        return f"<sofart Cursor on {self._collection.name!r} spec={self._spec!r}>"


class _Entries(collections.abc.Sequence):  # type: ignore[type-arg]
    """``Collection.entries``: a live, sized, iterable view of the documents."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    def __len__(self) -> int:
        return self._collection.count()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._collection.find())

    def __getitem__(self, index: Any) -> Any:
        return list(self._collection.find())[index]

    def __repr__(self) -> str:
        return repr(list(self))


class Collection:
    """A named list of documents in a :class:`~shoal.sofart.Database`.

    Obtained as ``db.name`` or ``db["name"]``; created by its first ``save()``
    (or ``db.create_collection``). Documents keep their insertion order;
    ``_id`` lookups use the engine's unique index.
    """

    def __init__(self, name: str, path: str | None, db: Database) -> None:
        self.name = name
        self.path = path
        self.db = db

    def __repr__(self) -> str:
        return f"{self.name}({self.db!r})"

    # -- plumbing ------------------------------------------------------------
    def _engine(self) -> shoal.Collection | None:
        return self.db._backend().collection(self.name)

    def _create(self) -> shoal.Collection:
        backend = self.db._backend()
        engine = backend.collection(self.name)
        if engine is None:
            self.db._check_name(self.name)
            engine = backend.create(self.name)
        return engine

    def _prepare(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``doc`` checked for the file format, tuples recorded."""
        if SEQ in doc or TUP in doc:
            raise CollectionException(f"the field names {HIDDEN!r} are reserved")
        serializer = self.db.serializer_name
        check(doc, serializer)
        rec = dict(doc)
        if serializer == "pickle":
            paths = tuple_paths(rec)
            if paths:
                rec[TUP] = paths
        return rec

    def _insert(self, engine: shoal.Collection, recs: list[dict[str, Any]]) -> None:
        backend = self.db._backend()
        for rec in recs:
            if _is_one(rec.get("_id")):
                taken = sum(1 for r in recs if _is_one(r.get("_id"))) > 1
                if taken or engine.count({"_id": {_ONE[0]: _ONE[1]}}):
                    raise DuplicateKeyError("Id already taken")
        first = backend.seqs(engine, len(recs))
        for i, rec in enumerate(recs):
            rec[SEQ] = first + i
        try:
            if len(recs) == 1:
                engine.insert(recs[0])
            else:
                engine.insert_many(recs)
        except shoal.DuplicateKeyError as exc:
            if '"_id_"' in str(exc):
                raise DuplicateKeyError("Id already taken") from None
            raise DuplicateKeyError(str(exc)) from None
        self.db._touch()

    def _query(self, spec: Any) -> tuple[shoal.Collection | None, Query]:
        """The engine collection (``None`` if absent) and ``spec`` compiled for it."""
        engine = self._engine()
        if engine is None:
            return None, compile_query(spec)
        return engine, compile_query(spec, self.db._backend().flat(engine))

    def _matching(self, q: Query, limit: int | None = None) -> list[dict[str, Any]]:
        """Raw documents matching a query that has a residual part, in order."""
        engine = self._engine()
        if engine is None or q.never:
            return []
        out = []
        for doc in engine.find(q.filter):
            if q.check(doc):
                out.append(doc)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def _fetch(
        self, spec: Any, limit: int, projection: Any, sort: Any, skip: int
    ) -> list[dict[str, Any]]:
        """Run a query: the matching documents as users see them."""
        engine, q = self._query(spec)
        if engine is None or q.never or limit < 0:
            return []
        projection = _projection(projection)
        lim = limit or None
        if not q.residual:
            docs = engine.find(q.filter, projection=projection, sort=sort, skip=skip, limit=lim)
        else:
            docs = [d for d in engine.find(q.filter, sort=sort) if q.check(d)]
            docs = docs[skip:] if lim is None else docs[skip : skip + lim]
            if projection is not None and docs:
                seqs = [d[SEQ] for d in docs]
                docs = engine.find({SEQ: {"$in": seqs}}, projection=projection, sort=sort)
        for doc in docs:
            public(doc)
        return docs

    def _run(
        self, spec: Any, limit: int, projection: Any, sort: Any, skip: int
    ) -> Iterator[dict[str, Any]]:
        yield from self._fetch(spec, limit, projection, sort, skip)

    # -- the seed's methods ----------------------------------------------------
    @property
    def entries(self) -> _Entries:
        """The documents, as a live sized and iterable view."""
        return _Entries(self)

    @property
    def empty(self) -> bool:
        """Whether the collection does not exist (yet)."""
        return self._engine() is None

    def count(self) -> int:
        """Number of documents."""
        engine = self._engine()
        return len(engine) if engine is not None else 0

    def save(self, record: Any) -> Any:
        """Store a copy of ``record``; return its ``_id``.

        A missing or falsy ``_id`` is replaced by a new UUID4 string (the
        caller's dict is not modified). An ``_id`` equal to a stored one raises
        :class:`DuplicateKeyError` (a :class:`CollectionException`,
        ``'Id already taken'``) and writes nothing.
        """
        if not isinstance(record, dict):
            raise CollectionException("Save is not valid")
        rec = self._prepare(record)
        if not rec.get("_id", False):
            rec["_id"] = new_id()
        else:
            _check_id(rec["_id"])
        engine = self._create()
        self._insert(engine, [rec])
        return rec["_id"]

    def remove(self, _id: Any) -> None:
        """Delete the document(s) whose ``_id`` equals ``_id``; unknown ids are ignored.

        Pure equality, as in the original: an operator dict or a pattern is an
        id value (that no document has), not a query.
        """
        if _id is None or isinstance(_id, _ID_TYPES):
            self.delete_many({"_id": _id})

    def find(
        self,
        spec_or_id: Any = None,
        limit: Any = 0,
        projection: Any = None,
        *,
        filter: Any = None,  # noqa: A002 - pymongo's name
        sort: Any = None,
        skip: int = 0,
    ) -> Cursor:
        """Matching documents (copies) in insertion order, lazily.

        ``spec_or_id`` is a query dict, ``None`` (everything) or an ``_id``.
        ``limit``: ``0`` all, ``n > 0`` at most ``n``, ``n < 0`` none. pymongo's
        ``find(filter, projection)`` works too (a dict or list as second
        argument is a projection), as do ``sort=``, ``skip=`` and chaining
        ``.sort()``, ``.skip()``, ``.limit()`` before iterating.
        """
        if filter is not None:
            spec_or_id = filter
        if isinstance(limit, (dict, list, tuple)):
            projection, limit = limit, 0
        if not isinstance(limit, int):
            raise TypeError("limit must be an int")
        if isinstance(sort, str):
            sort = [(sort, 1)]
        return Cursor(self, spec_or_id, limit=limit, projection=projection, sort=sort, skip=skip)

    def find_one(
        self,
        spec_or_id: Any = None,
        projection: Any = None,
        *,
        filter: Any = None,  # noqa: A002 - pymongo's name
        sort: Any = None,
        skip: int = 0,
    ) -> dict[str, Any] | None:
        """The first matching document, or ``None``."""
        if filter is not None:
            spec_or_id = filter
        if isinstance(sort, str):
            sort = [(sort, 1)]
        found = self._fetch(spec_or_id, 1, projection, sort, skip)
        return found[0] if found else None

    def drop(self) -> None:
        """Remove the collection and its documents."""
        self.db.drop_collection(self.name)

    def rename(self, new_name: str) -> None:
        """Rename the collection (``CollectionException`` if ``new_name`` is taken)."""
        if new_name in self.db.collection_names():
            raise CollectionException("Collection name already taken")
        if self._engine() is None:
            raise CollectionException("Collection not exist")
        self.db.rename(self.name, new_name)
        self.name = new_name

    def sync(self) -> None:
        """Write the database file (:meth:`Database.sync`)."""
        self.db.sync()

    # -- pymongo ---------------------------------------------------------------
    def insert_one(self, document: dict[str, Any]) -> InsertOneResult:
        """Insert one document (pymongo): a missing ``_id`` is generated and set on it."""
        if not isinstance(document, dict):
            raise TypeError("document must be a dict")
        rec = self._prepare(document)
        if "_id" not in rec:
            rec["_id"] = document["_id"] = new_id()
        _check_id(rec["_id"])
        self._insert(self._create(), [rec])
        return InsertOneResult(rec["_id"])

    def insert_many(
        self, documents: Iterable[dict[str, Any]], ordered: bool = True
    ) -> InsertManyResult:
        """Insert documents atomically: all of them or, on any error, none."""
        del ordered  # one atomic batch either way
        docs = list(documents)
        if not docs:
            raise TypeError("documents must be a non-empty list")
        recs = []
        for document in docs:
            if not isinstance(document, dict):
                raise TypeError("documents must be dicts")
            rec = self._prepare(document)
            if "_id" not in rec:
                rec["_id"] = new_id()
            _check_id(rec["_id"])
            recs.append(rec)
        self._insert(self._create(), recs)
        for document, rec in zip(docs, recs):
            document.setdefault("_id", rec["_id"])
        return InsertManyResult([rec["_id"] for rec in recs])

    def _check_update(self, update: Any) -> None:
        if not isinstance(update, dict) or not update:
            raise ValueError("update must be a non-empty dict of $operators")
        for op, fields in update.items():
            if not isinstance(op, str) or not op.startswith("$"):
                raise ValueError("update only works with $ operators (use replace_one)")
            if op == "$currentDate" and self.db.serializer_name != "pickle":
                raise TypeError(f"the {self.db.serializer_name} serializer cannot store dates")
            if not isinstance(fields, dict):
                raise ValueError(f"{op} needs a dict")
            targets = list(fields)
            if op == "$rename":
                targets += list(fields.values())
            for path in targets:
                root = str(path).split(".")[0]
                if root == "_id" or root in HIDDEN:
                    raise CollectionException(f"{op} cannot change {root!r}")
            check(fields, self.db.serializer_name)

    def _update(self, flt: Any, update: dict[str, Any], multi: bool, upsert: bool) -> UpdateResult:
        engine, q = self._query(flt or {})
        matched = modified = 0
        if engine is not None and not q.never:
            if q.residual:
                docs = self._matching(q, None if multi else 1)
                if docs:
                    seqs = [d[SEQ] for d in docs]
                    r = engine.update({SEQ: {"$in": seqs}}, update, multi=True)
                    matched, modified = r.matched, r.modified
            else:
                r = engine.update(q.filter, update, multi=multi)
                matched, modified = r.matched, r.modified
        if matched:
            self.db._touch()
            return UpdateResult(matched, modified)
        if not upsert:
            return UpdateResult(0, 0)
        seed = _seed(q)
        seed.setdefault("_id", new_id())
        _check_id(seed["_id"])
        check(seed, self.db.serializer_name)
        engine = self._create()
        if _is_one(seed["_id"]) and engine.count({"_id": {_ONE[0]: _ONE[1]}}):
            raise DuplicateKeyError("Id already taken")
        seed[SEQ] = self.db._backend().seqs(engine, 1)
        try:
            engine.update(seed, update, upsert=True)
        except shoal.DuplicateKeyError as exc:
            raise DuplicateKeyError(str(exc)) from None
        self.db._touch()
        return UpdateResult(0, 0, seed["_id"])

    def update_one(self, filter: Any, update: dict[str, Any], upsert: bool = False) -> UpdateResult:  # noqa: A002
        """Apply update operators to the first matching document (atomic)."""
        self._check_update(update)
        return self._update(filter, update, False, upsert)

    def update_many(
        self, filter: Any, update: dict[str, Any], upsert: bool = False
    ) -> UpdateResult:  # noqa: A002
        """Apply update operators to every matching document (atomic)."""
        self._check_update(update)
        return self._update(filter, update, True, upsert)

    def replace_one(
        self, filter: Any, replacement: dict[str, Any], upsert: bool = False
    ) -> UpdateResult:  # noqa: A002
        """Replace the first matching document (its ``_id`` is kept)."""
        if not isinstance(replacement, dict) or any(
            isinstance(k, str) and k.startswith("$") for k in replacement
        ):
            raise ValueError("replacement must be a dict without $operators")
        engine, q = self._query(filter or {})
        found = self._matching(q, 1) if engine is not None else []
        if not found:
            if not upsert:
                return UpdateResult(0, 0)
            rec = {**_seed(q), **replacement}
            return UpdateResult(0, 0, self.insert_one(rec).inserted_id)
        old = found[0]
        if "_id" in replacement and replacement["_id"] != old.get("_id"):
            raise CollectionException("replace_one cannot change '_id'")
        rec = self._prepare(replacement)
        if "_id" in old:
            rec["_id"] = old["_id"]
        engine = self._engine()
        assert engine is not None
        r = engine.update({SEQ: old[SEQ]}, rec)
        self.db._touch()
        return UpdateResult(r.matched, r.modified)

    def _delete(self, flt: Any, multi: bool) -> int:
        engine, q = self._query(flt or {})
        if engine is None or q.never:
            return 0
        if q.residual:
            docs = self._matching(q, None if multi else 1)
            if not docs:
                return 0
            n = engine.delete_many({SEQ: {"$in": [d[SEQ] for d in docs]}})
        elif multi:
            n = engine.delete_many(q.filter)
        else:
            n = int(engine.delete_one(q.filter))
        if n:
            self.db._touch()
        return n

    def delete_one(self, filter: Any) -> DeleteResult:  # noqa: A002
        """Delete the first matching document."""
        return DeleteResult(self._delete(filter, False))

    def delete_many(self, filter: Any) -> DeleteResult:  # noqa: A002
        """Delete every matching document (atomic)."""
        return DeleteResult(self._delete(filter, True))

    def count_documents(self, filter: Any = None, skip: int = 0, limit: int = 0) -> int:  # noqa: A002
        """Number of matching documents (after ``skip``, at most ``limit`` if not 0)."""
        engine, q = self._query(filter or {})
        if engine is None or q.never:
            n = 0
        elif q.residual:
            n = len(self._matching(q))
        else:
            n = engine.count(q.filter)
        n = max(0, n - skip)
        return min(n, limit) if limit else n

    def estimated_document_count(self) -> int:
        """Number of documents."""
        return self.count()

    def distinct(self, key: str, filter: Any = None) -> list[Any]:  # noqa: A002
        """Distinct values of ``key`` (list elements unwound) in the matching documents."""
        engine, q = self._query(filter or {})
        if engine is None or q.never:
            return []
        if q.residual:
            seqs = [d[SEQ] for d in self._matching(q)]
            return engine.distinct(key, {SEQ: {"$in": seqs}})
        return engine.distinct(key, q.filter)

    def create_index(
        self,
        keys: Any,
        unique: bool = False,
        sparse: bool = False,
        name: str | None = None,
        **_: Any,
    ) -> str:
        """Create a secondary index (pymongo keys: ``"f"`` or ``[("a", 1), ("b", -1)]``).

        Queries on the indexed fields read the index instead of every document.
        """
        engine = self._create()
        result = engine.create_index(keys, unique=unique, sparse=sparse, name=name)
        self.db._touch()
        return result

    def drop_index(self, name: str) -> None:
        """Drop the index ``name``."""
        if name == "_id_":
            raise CollectionException("cannot drop the _id index")
        engine = self._engine()
        if engine is None:
            raise CollectionException(f"index not found: {name}")
        engine.drop_index(name)
        self.db._touch()

    def index_information(self) -> dict[str, dict[str, Any]]:
        """The indexes by name (pymongo shape: ``{"key": [(field, 1)], "unique": ...}``)."""
        engine = self._engine()
        out: dict[str, dict[str, Any]] = {}
        for ix in engine.indexes() if engine is not None else []:
            out[ix["name"]] = {
                "key": list(ix["fields"]),
                "unique": ix["unique"],
                "sparse": ix["sparse"],
            }
        return out

    def explain(self, filter: Any = None) -> dict[str, Any]:  # noqa: A002
        """How the engine runs a query: its plan, plus the conditions checked in Python."""
        engine, q = self._query(filter or {})
        plan: dict[str, Any] = {} if engine is None else engine.explain(q.filter)
        plan["engine_filter"] = q.filter
        plan["python_checks"] = [f for f, _, _ in q.residual]
        return plan


def _projection(projection: Any) -> Any:
    """The engine projection for a pymongo one.

    The engine reads ``{"_id": 1}`` alone as "no exclusions" (whole
    documents); asking for the hidden sequence field too keeps only ``_id``.
    """
    if isinstance(projection, dict) and list(projection) == ["_id"] and projection["_id"]:
        return {"_id": 1, SEQ: 1}
    if isinstance(projection, (list, tuple)) and list(projection) == ["_id"]:
        return ["_id", SEQ]
    return projection


def _seed(q: Query) -> dict[str, Any]:
    """The fields an upsert copies from its filter: plain top-level equalities."""
    seed: dict[str, Any] = {}
    for field, cond in q.spec.items():
        if (
            isinstance(field, str)
            and field
            and "." not in field
            and not field.startswith("$")
            and field not in HIDDEN
            and not hasattr(cond, "match")
            and not (isinstance(cond, dict) and any(str(k).startswith("$") for k in cond))
        ):
            seed[field] = cond
    return seed
