"""``shoal.sofart``: a drop-in for the ``sofart`` package on shoal's document engine.

Change ``from sofart import Database`` to ``from shoal.sofart import Database``::

    from shoal.sofart import Database

    db = Database("/tmp/so.fart")            # mode="single", serializer="json"
    c = db.test_collection
    _id = c.save({"artist": "Jambon", "track": "I love my jambon"})
    c.find_one({"artist": "Jambon"})
    list(c.find({"value": {"$gte": 2}}, limit=10))
    db.sync()                                # writes /tmp/so.fart (atomically)

Everything of ``sofart`` 0.3.6 is here (``Database``, ``Collection``, the
exception classes, the ``operators`` helpers, the ``serializers._json``,
``._pickle`` and ``._msgpack`` modules), with the query semantics the spec
records, plus the pymongo names (``insert_one``, ``insert_many``,
``find(filter, projection).sort().skip().limit()``, ``update_one``,
``update_many``, ``replace_one``, ``delete_one``, ``delete_many``,
``count_documents``, ``distinct``, ``create_index``...). Storage lives in a
shoal store in ``<path>.shoal/`` beside the legacy file (see
:mod:`shoal.sofart.database`).

Deliberate differences from the original (its defects, spec section 4):

- imports on every Python 3.9+ (no ``isit``); msgpack with modern rules;
- ``Database.count()`` and ``Database.collections`` exist;
- all operators of a condition are ANDed (a passing ``$exists`` no longer
  skips the others); incomparable types (``'a' > 1``) do not match instead of
  raising; non-string keys in an operator dict are ignored;
- ``remove()`` of an unknown id changes nothing (``total_entries`` is counted);
- every handle sees live data; renaming a collection that does not exist
  raises :class:`CollectionException`;
- the name ``"_infos"`` is refused for collections;
- files are written atomically (temporary file and rename), and a value the
  serializer cannot write fails at ``save()`` with nothing written;
- multi-mode databases on one path share one store; ``mode="multi"`` without
  a path raises ``DatabaseError('Need path')``;
- dunder lookups raise ``AttributeError`` (``copy``, ``pickle``, ``hasattr``
  behave);
- stored and returned documents are deep copies of what was given;
- ``_id`` lookups, saves and removes use a unique index, ``find()`` runs in
  the engine, multi mode writes only what changed.

Other differences: ``find()`` returns a lazy :class:`Cursor` (a
``collections.abc.Generator`` with pymongo's chaining) rather than a bare
generator object; an ``_id`` must be a str, int, float, bytes, Decimal, UUID or
datetime (tuples and lists raise ``TypeError``); documents hold the values
shoal stores (no sets or arbitrary objects, even with pickle); tuples come
back as lists except with the pickle serializer; a tuple in a query equals a
list; reopening a pickle file that the face did not write itself needs
``allow_pickle=True``.
"""

from __future__ import annotations

from . import exceptions, operators, serializers
from .collection import Collection, Cursor
from .database import Database
from .exceptions import (
    CollectionError,
    CollectionException,
    DatabaseError,
    DatabaseException,
    DuplicateKeyError,
    QueryError,
    QueryException,
)
from .results import DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

__title__ = "sofart"
__version__ = "0.3.6"
__author__ = "toxinu"

__all__ = [
    "Collection",
    "CollectionError",
    "CollectionException",
    "Cursor",
    "Database",
    "DatabaseError",
    "DatabaseException",
    "DeleteResult",
    "DuplicateKeyError",
    "InsertManyResult",
    "InsertOneResult",
    "QueryError",
    "QueryException",
    "UpdateResult",
    "exceptions",
    "operators",
    "serializers",
]
