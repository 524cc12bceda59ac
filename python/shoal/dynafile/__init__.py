"""``shoal.dynafile``: a drop-in for the ``dynafile`` package on shoal's document engine.

Change ``from dynafile import *`` to ``from shoal.dynafile import *``::

    from shoal.dynafile import *

    db = Dynafile(path="db", pk_attribute="PK", sk_attribute="SK", ttl_attribute="ttl")
    db.put_item(item={"PK": "user#1", "SK": "user#1", "name": "Bob"})
    db.get_item(key={"PK": "user#1", "SK": "user#1"})
    list(db.query(pk="user#1", starts_with="role#", _filter="TYPE == 'sender'"))
    list(db.scan(_filter=lambda item: "name" in item))
    with db.batch_writer() as writer:                 # atomic, in order
        writer.put_item(item={"PK": "user#3", "SK": "user#3"})
    db.add_stream_listener(print)                     # Event(action, new, old)

Everything of ``dynafile`` 0.1.3 is here (``Dynafile``, ``Event``,
``EventListener``, ``Action``, ``ActionType``, ``BatchWriter``, ``Filter``, the
``dispatcher`` module) with the GSI branch's ``meta.json``/``create_gsi``/
``query(index=)``, and the roadmap of the README as the spec designs it:
conditional ``put_item``/``delete_item`` (``condition=``), ``update_item``,
``batch_get``, ``transaction()``/``transact_write``, ``create_gsi``/
``delete_gsi``/``list_gsis``, ``create_lsi``, parallel ``scan(segment=,
total_segments=)``, ``query(begins_with=)``, thread safety, crash safety.

The same methods also take boto3's ``Table`` keywords and answer its
response dicts: ``put_item(Item=, ConditionExpression=, ReturnValues=)``,
``get_item(Key=, ProjectionExpression=)``, ``delete_item(Key=, ...)``,
``update_item(Key=, UpdateExpression=, ...)``, ``query(KeyConditionExpression=,
FilterExpression=, IndexName=, ScanIndexForward=, Limit=, ExclusiveStartKey=)``,
``scan(FilterExpression=, Segment=, TotalSegments=, Limit=,
ExclusiveStartKey=)``, ``batch_writer(overwrite_by_pkeys=)``,
``batch_get_item``, ``transact_write_items``; expressions are strings with
``#name``/``:value`` placeholders or :class:`Key`/:class:`Attr` condition
objects (boto3's own are accepted too), compiled to engine filters.

Items live in one shoal collection keyed by ``(pk, sk)`` under
``<path>/_shoal/`` (partition reads use an index on the key; GSIs and LSIs are
sparse engine indexes written in the same commit as the item). Filter strings
use ``filtration``'s language (no dependency on it): they are parsed here
and compiled to the engine's MongoDB filters, run in Rust.

Deliberate differences from the original (its defects, spec section 6):

1. batches keep every action (no ``groupby`` loss) and apply atomically;
2. a batch whose ``with`` block raised applies nothing;
3. deleting a missing item is a no-op (no ``KeyError``, no partial batch);
4. events are emitted after the commit; a raising listener cannot undo the
   write (its exception goes to ``sys.unraisablehook``) nor stop the others;
5. ``query`` without ``starts_with`` has no bound (backward queries return the
   whole partition descending; integer sort keys work);
6. partition keys may be str, int, float, bytes or Decimal; others raise
   ``TypeError``; a missing one raises :class:`ValidationError`;
7. point reads and writes are O(log n), partitions are read through an
   ordered index, scans filter in the engine;
8. a filter string that does not parse completely raises
   :class:`FilterSyntaxError` with the position;
9. no ``filtration``/``ipcalc``/``six`` needed;
10. GSIs keep duplicates, drop stale entries and are updated atomically;
11. a non-numeric TTL value means "no expiry";
12. every call is atomic and thread-safe; a second process is refused.

Other differences: sort keys of different types may share a partition
(ordered ``None < numbers < str < bytes < bool``); comparisons in filter
strings between different kinds of values (a bool and a number, ``None`` and
a number) are false instead of raising; an item without a sort key is stored
with the sort-key attribute set to ``None``; listeners see the changes of
every ``Dynafile`` object of the path; a ``ttl_attribute`` is recorded with
the table; returned items and events carry fresh copies.
"""

from __future__ import annotations

from . import conditions, dispatcher, errors
from ._batch import BatchWriter
from ._filters import Filter
from ._table import Action, ActionType, Dynafile, TableClosedError
from ._transaction import Transaction
from .conditions import Attr, Key
from .dispatcher import Event, EventListener
from .errors import (
    ConditionalCheckFailed,
    DynafileError,
    ExpressionError,
    FilterSyntaxError,
    IndexNotFound,
    TransactionCanceled,
    ValidationError,
)

__all__ = [
    "Action",
    "ActionType",
    "Attr",
    "BatchWriter",
    "ConditionalCheckFailed",
    "Dynafile",
    "DynafileError",
    "Event",
    "EventListener",
    "ExpressionError",
    "Filter",
    "FilterSyntaxError",
    "IndexNotFound",
    "Key",
    "TableClosedError",
    "Transaction",
    "TransactionCanceled",
    "ValidationError",
    "conditions",
    "dispatcher",
    "errors",
]
