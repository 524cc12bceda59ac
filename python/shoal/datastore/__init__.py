"""``shoal.datastore``: a drop-in for Anand Chitipothu's ``datastore``.

A key -> JSON document store with *views*: secondary tables filled by a
view's ``map(doc)`` in the same transaction as the document, queried with
keyword filters. Change ``from datastore import ...`` to
``from shoal.datastore import ...``::

    import sqlalchemy as sa                       # or shoal.datastore's Table/Column
    from shoal.datastore import Datastore, View

    class UsersIndex(View):
        def get_table(self, metadata):
            return sa.Table("users_index", metadata,
                            sa.Column("email", sa.Unicode, unique=True))

        def map(self, doc):
            yield {"email": doc["email"].lower()}

    store = Datastore("shoal:///var/lib/app/users", tablename="users")  # embedded engine
    # store = Datastore("postgresql://host/app", tablename="users")      # or any SQL database
    store.add_view("index", UsersIndex())
    store.put("joe", {"username": "joe", "email": "Joe@example.com"})
    store.query("index", email="joe@example.com")   # [{'email': ..., '_id': 1, '_key': 'joe'}]

Modules: :mod:`.store` (the API and URL dispatch), :mod:`.view` (``View``),
:mod:`.schema` (reading view tables; the look-alike ``Table``/``Column``
types for use without SQLAlchemy), :mod:`._query` (filter checking),
:mod:`._native` (documents and views as shoal collections and indexes),
:mod:`._sql` (SQLAlchemy tables), :mod:`.jsontype` (``JsonDataType``),
:mod:`.errors`.

Defects of the original that are fixed here (spec section 4):

1. ``delete(key)`` removes the document and its view rows atomically
   (missing key: no-op).
2. ``add_view()`` on a populated store creates the view's storage and
   back-fills it from every document, atomically; so does a view passed to
   the constructor whose table does not exist yet.
3. Python 3.9+ and SQLAlchemy 2; the embedded backend needs no SQLAlchemy
   at all (views are then described with :class:`Table`/:class:`Column`).
4. ``_rev`` is a revision counter (``"0"`` for the first version, as the
   original always said, then ``"1"``, ``"2"``...), ``put`` returns it, and
   a ``put`` of a document whose ``_rev`` is stale raises
   :class:`RevisionConflict`; ``_updated`` is the time of the last put
   (naive UTC), or the ``updated`` argument.
5. A view row lacking a column stores ``None`` (NULL).
6. Unknown views raise ``KeyError`` and unknown filter/order columns
   ``ValueError``, naming them and what exists.
7. Concurrent writers of one key are serialised by the engine's
   transactions (retried on conflict; ``FOR UPDATE``/retry on SQL).
8. ``JsonDataType(compress=False)`` does not compress (and reads both).

Beyond the original: ``close()`` and ``with Datastore(...)``, ``len()``,
``in``, iteration over keys, ``rebuild_view(name)``, view rows checked
against their column types, constraint violations raised as
:class:`IntegrityError` on every backend.
"""

from __future__ import annotations

from .errors import IntegrityError, RevisionConflict, UniqueViolation
from .jsontype import JsonDataType
from .schema import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    Unicode,
    UnicodeText,
    UniqueConstraint,
)
from .store import Datastore
from .view import View

__all__ = [
    "JSON",
    "BigInteger",
    "Boolean",
    "Column",
    "Datastore",
    "Date",
    "DateTime",
    "Float",
    "Index",
    "IntegrityError",
    "Integer",
    "JsonDataType",
    "LargeBinary",
    "MetaData",
    "Numeric",
    "RevisionConflict",
    "SmallInteger",
    "String",
    "Table",
    "Text",
    "Time",
    "Unicode",
    "UnicodeText",
    "UniqueConstraint",
    "UniqueViolation",
    "View",
]
