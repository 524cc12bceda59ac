"""``shoal.sophy``: a drop-in for the ``sophy`` package (Sophia bindings) on shoal.

Change ``import sophy`` to ``from shoal import sophy`` (or
``from shoal.sophy import ...``). Both API generations live in this one
module, as ``spec/sophy.md`` part C lays out:

* the legacy 0.1.x API the seed documents: ``connect(dir, name)``,
  ``Sophia(dir, [(name, index_type)])``, ``SimpleDatabase``, per-database
  ``transaction()`` and ``view()``, text values;
* the 0.7 API: ``Sophia(dir)``, ``add_database(name, Schema(...))``, explicit
  ``open()``, index classes, environment transactions, ``SophiaError``.

Each database is a shoal KV space (``sophy.<name>``) in the store at the
environment's directory; the engine does the ordering, ranges, snapshots and
transactions. Deliberate differences from the originals (their defects, see
the spec's list E): falsy bounds are honoured, ``u32rev``/``u64rev`` sort
descending, mixed multi-part keys iterate, legacy transactions iterate,
stale handles raise ``SophiaError`` instead of crashing, ``len()`` is counted
by the engine, ``multi_delete()`` is atomic, a prefix cursor returns exactly
the matching keys in either direction (Sophia's descending one stops at the
first key without the prefix, so it often returns nothing), ``'>'``/``'<'``
cursors without a key start at the first/last key (sophy 0.7.1 skips a key
equal to an integer type's extreme value), and string keys/values given as
bytes must be UTF-8 (checked on write instead of failing on read).
"""

from __future__ import annotations

from ._cursor import Cursor
from ._database import Database
from ._env import Sophia
from ._errors import CannotCloseException, SophiaError
from ._index import (
    SCHEMA_STRING,
    SCHEMA_U8,
    SCHEMA_U8_REV,
    SCHEMA_U16,
    SCHEMA_U16_REV,
    SCHEMA_U32,
    SCHEMA_U32_REV,
    SCHEMA_U64,
    SCHEMA_U64_REV,
    BaseIndex,
    BytesIndex,
    Document,
    JsonIndex,
    MsgPackIndex,
    PickleIndex,
    Schema,
    SerializedIndex,
    StringIndex,
    U8Index,
    U8RevIndex,
    U16Index,
    U16RevIndex,
    U32Index,
    U32RevIndex,
    U64Index,
    U64RevIndex,
    UUIDIndex,
)
from ._legacy import SimpleDatabase, connect
from ._settings import Configuration
from ._transaction import DatabaseTransaction, Transaction
from ._view import View

__all__ = [
    "SCHEMA_STRING",
    "SCHEMA_U8",
    "SCHEMA_U8_REV",
    "SCHEMA_U16",
    "SCHEMA_U16_REV",
    "SCHEMA_U32",
    "SCHEMA_U32_REV",
    "SCHEMA_U64",
    "SCHEMA_U64_REV",
    "BaseIndex",
    "BytesIndex",
    "CannotCloseException",
    "Configuration",
    "Cursor",
    "Database",
    "DatabaseTransaction",
    "Document",
    "JsonIndex",
    "MsgPackIndex",
    "PickleIndex",
    "Schema",
    "SerializedIndex",
    "SimpleDatabase",
    "Sophia",
    "SophiaError",
    "StringIndex",
    "Transaction",
    "U8Index",
    "U8RevIndex",
    "U16Index",
    "U16RevIndex",
    "U32Index",
    "U32RevIndex",
    "U64Index",
    "U64RevIndex",
    "UUIDIndex",
    "View",
    "connect",
]
