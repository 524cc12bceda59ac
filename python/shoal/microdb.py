r"""``shoal.microdb``: a drop-in replacement for the ``microdb`` package.

Change ``import microdb`` to ``from shoal import microdb`` and a script keeps
working::

    from shoal import microdb

    mdb = microdb.MicroDB("tasks.json", partition_keys=["job", "name"])
    mdb.upsert({"job": "clean", "name": "Alice", "status": "undone"})
    mdb.get({"job": "clean", "name": "Alice"})      # the stored dict itself
    with mdb.lock():                                 # re-entrant critical section
        ...
    mdb.save()                                       # Python-literal text, atomically

What stays as in ``microdb`` 0.1.3 (see ``spec/microdb.md``):

- the table lives in memory as a ``dict`` from the partition-key tuple to the
  record, in first-insertion order; ``get()`` and ``mdb[key]`` hand out the
  stored dict itself (scripts mutate it in place);
- ``save()`` writes ``repr(list_of_records) + "\n"`` and ``save_as_grid()``
  the ``[[fields], [values], ...]`` form, byte for byte what the original writes,
  and any file the original wrote loads unchanged.

What is fixed (the original's defects):

- files are written to a temporary file, fsynced and renamed over the target,
  so a crash never leaves a half-written database;
- a value whose ``repr`` cannot be read back (``datetime``, ``Decimal``,
  ``nan``, custom objects...) is refused at ``save()`` with
  :class:`UnsavableValueError`; the file is left untouched;
- the grid header is in first-seen field order (deterministic);
- ``for record in mdb`` iterates the records; ``partition_keys="id"`` means the
  one field ``id``; ``get()`` and ``in`` also accept a key tuple;
- every operation is atomic under threads: writes take the instance's lock,
  and ``all()``, ``str()``, iteration and ``save()`` work on a snapshot;
- a corrupted or non-literal file raises :class:`FileFormatError` (also a
  ``ValueError``) naming the file, which is never modified by loading.

Durability beyond the original: ``MicroDB(path, keys, durable=True)`` also
keeps every change in a shoal store, the directory ``<path>.shoal`` next to the
file, so a crash between two ``save()`` calls loses nothing. That store holds a
journal of the changes made since the file was last saved (each ``upsert``,
``del`` and ``erase_all`` is one committed write, ``durability="flush"``; pass
``durable="sync"`` to fsync each one). Loading replays the journal on top of
the file; ``save()`` to the file empties it. If the file was changed by
someone else while unsaved changes wait in the journal, opening raises
:class:`FileChangedError` rather than guessing which side wins. A durable table
takes the store's directory lock, so a second durable instance of the same
file (in any process) gets :class:`shoal.LockedError`. In durable mode only
values that can be saved are accepted (checked at ``upsert``), and in-place
changes to a stored record reach the journal when the record is upserted again
or the table is saved.

Beyond the original, TinyDB-style queries: ``search(cond)``, ``count(cond)``,
``remove(cond)`` and ``update(fields, cond)`` with :class:`Query` /
:func:`where` conditions (``where("age") >= 18``, ``.exists()``,
``.matches()``, ``.search()``, ``.test()``, ``.any()``, ``.all()``,
``.one_of()``, nested fields, ``&``, ``|``, ``~``) or any callable taking a
record. They run over the live records in memory (the table is a Python
``dict``, so the records are Python objects already).

Reading a file takes a fast path: text that is JSON apart from Python's quotes
and ``True``/``False``/``None`` (the common case for ``repr`` output) is
rewritten to JSON and parsed by the C JSON decoder; anything else (tuples,
sets, bytes, non-string dict keys, escapes Python and JSON disagree on...) goes
through :func:`ast.literal_eval`, exactly like the original.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import itertools
import json
import marshal
import math
import operator
import os
import pprint
import re
import reprlib
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, Callable, NoReturn, Union

import shoal

from . import _regex

__all__ = [
    "FileChangedError",
    "FileFormatError",
    "MicroDB",
    "MissingFieldsError",
    "Query",
    "UnsavableValueError",
    "where",
]

Record = dict  # a record is a plain dict of fields
Key = tuple  # the partition-key tuple of a record


class UnsavableValueError(shoal.Error, ValueError):
    """A record holds a value the Python-literal file format cannot round-trip.

    Raised by ``save()``/``save_as_grid()`` (the file is left untouched) and,
    in durable mode, by ``upsert()`` (nothing is stored). Allowed values:
    ``None``, ``bool``, ``int``, finite ``float`` and ``complex``, ``str``,
    ``bytes``, and ``list``/``tuple``/``set``/``dict`` of these.
    """


class FileFormatError(shoal.CorruptionError, ValueError):
    """The file is not a microdb table (bad syntax, not a list of records, ...)."""


class FileChangedError(shoal.Error):
    """The file changed behind the durable journal's back (durable mode only).

    The journal next to the file holds changes made after the file was last
    saved by this module, and the file has since been replaced by someone
    else. Nothing was modified: keep the file by removing the ``.shoal``
    directory, or restore the file to keep the journal's changes.
    """


class MissingFieldsError(shoal.InvalidArgumentError):
    """``save_as_grid()``: a record lacks fields that other records have.

    The message is the original's: ``Dict <record> dosen't have these keys:[...]``.
    """


# --------------------------------------------------------------------------- values

_SCALARS = frozenset({str, int, bool, type(None), bytes})
_NUMBERS = frozenset({float, complex})
_CONTAINERS = frozenset({list, tuple, set, dict})
_FLAT = _SCALARS | {float}


def _reads_back(value: float | complex) -> bool:
    """Whether ``repr(value)`` reads back as ``value`` (finite; complex with no sign lost)."""
    if type(value) is float:
        return math.isfinite(value)
    text = repr(value)  # a complex: "-1j" reads back as -(1j), whose real part is -0.0
    try:
        return repr(ast.literal_eval(text)) == text
    except ValueError:  # nan, inf
        return False


_MAX_NESTING = 100
"""Deepest value saved: Python's parser refuses literals nested 200 levels deep."""


def _check_value(value: Any, where: Callable[[], str], depth: int = 0) -> None:
    """Raise :class:`UnsavableValueError` unless ``repr(value)`` reads back as ``value``."""
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind in _NUMBERS:
        if not _reads_back(value):
            raise UnsavableValueError(
                f"{where()}: {value!r} cannot be written as a Python literal and read "
                "back (nan, infinities, and complex numbers whose zero parts would change sign)"
            )
        return
    if kind in _CONTAINERS and depth >= _MAX_NESTING:
        raise UnsavableValueError(
            f"{where()}: nested more than {_MAX_NESTING} levels; Python's literal parser "
            "could not read it back"
        )
    if kind is dict:
        for k, v in value.items():
            _check_value(k, where, depth + 1)
            _check_value(v, where, depth + 1)
        return
    if kind in _CONTAINERS:
        for v in value:
            _check_value(v, where, depth + 1)
        return
    raise UnsavableValueError(
        f"{where()}: {kind.__name__} value {value!r} cannot be written as a Python "
        "literal and read back; convert it (str, int, float, ...) before saving"
    )


def _check_record(record: Mapping[Any, Any]) -> None:
    """Check one record (its field names and values), naming the first bad field."""
    if type(record) is dict:
        kinds = set(map(type, record.values()))
        kinds.update(map(type, record))
        if kinds <= _SCALARS:
            return
        if kinds <= _FLAT and math.isfinite(
            sum([v for v in record.values() if type(v) is float])
            + sum([k for k in record if type(k) is float])
        ):
            return  # (a finite sum means every float is finite)
    else:
        raise UnsavableValueError(
            f"record {record!r} is a {type(record).__name__}, not a dict: its repr "
            "cannot be read back"
        )
    for field, value in record.items():
        _check_value(field, lambda: f"record {reprlib.repr(record)}")
        _check_value(value, _field_of(field, record))


def _field_of(field: Any, record: Any) -> Callable[[], str]:
    # reprlib: a record nested too deeply for repr() is still named
    return lambda: f"field {field!r} of record {reprlib.repr(record)}"


def _check_records(records: list[Any], text: str) -> None:
    """Check that ``text`` (the repr of ``records``) reads back as ``records``.

    Fast path in C for the usual flat records of scalars; records holding
    containers, and floats when ``text`` mentions ``nan``/``inf``, are walked.
    """
    if not records:
        return
    kinds = set(map(type, records))
    fields = set(map(type, set(itertools.chain.from_iterable(records))))
    values = set(map(type, itertools.chain.from_iterable(map(dict.values, records))))
    if kinds == {dict} and fields | values <= _FLAT:
        if float not in fields | values or ("nan" not in text and "inf" not in text):
            return
    for record in records:
        _check_record(record)


# --------------------------------------------------------------------------- files

_STRING_TOKEN = re.compile(r"""('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""", re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_ONLY_WORDS = ("true", "false", "null", "NaN", "Infinity")
_PYTHON_WORDS = {"True": "true", "False": "false", "None": "null"}
# Between strings, after True/False/None became true/false/null: JSON punctuation,
# numbers and those words' letters only (prefixes, tuples, comments, ... fail here).
_JSON_OUTSIDE = re.compile(r"[\x00 \t\r\n\[\]{},:0-9.eE+\-truefalsn]*")


class _NotJson(Exception):
    """The text needs the full Python literal parser."""


def _reject_constant(name: str) -> NoReturn:
    raise _NotJson(name)


def _string_token_to_json(token: str) -> str:
    if "\\" not in token:
        if token[0] == "'":
            return '"' + token[1:-1].replace('"', '\\"') + '"'
        return token
    value = ast.literal_eval(token)  # one string literal: Python decides its escapes
    if _SURROGATE.search(value):  # JSON would pair up surrogate escapes
        raise _NotJson("surrogates")
    return json.dumps(value, ensure_ascii=False)


def _loads_as_json(text: str) -> Any:
    """Parse Python-literal ``text`` through the JSON decoder, or raise :class:`_NotJson`.

    Strings are found exactly (quotes, escapes); outside them the only
    rewrite is ``True``/``False``/``None``. Whatever the JSON grammar rejects
    (tuples, sets, bytes, ``b''``/``r''`` prefixes, non-string keys,
    comments, triple quotes...) makes the caller use ``ast.literal_eval``;
    JSON-only spellings (``true``, ``NaN``...) are refused here so that only
    text Python reads the same way is accepted.
    """
    if "\x00" in text or "'''" in text or '"""' in text:
        raise _NotJson("special")
    if '"' not in text and "\\" not in text:
        return _loads_plain(text)
    parts = _STRING_TOKEN.split(text)
    outside = "\x00".join(parts[0::2])
    if any(word in outside for word in _JSON_ONLY_WORDS):
        raise _NotJson("JSON-only words")
    outside = outside.replace("True", "true").replace("False", "false").replace("None", "null")
    if not _JSON_OUTSIDE.fullmatch(outside):
        raise _NotJson("not JSON structure")
    parts[0::2] = outside.split("\x00")
    parts[1::2] = [_string_token_to_json(token)[1:-1] for token in parts[1::2]]
    return _json_loads('"'.join(parts))


def _loads_plain(text: str) -> Any:
    """:func:`_loads_as_json` for text whose strings are all ``'...'`` without escapes.

    Every quote then delimits a string, so a word is outside the strings
    exactly when an even number of quotes precedes it. Each word is handled
    with ``str`` methods running in C (split, count, join).
    """
    text = text.replace("'", '"')
    if text.count('"') % 2:
        raise _NotJson("unbalanced quotes")
    for word in _JSON_ONLY_WORDS:
        if word in text and not all(_inside_strings(text.split(word))):
            raise _NotJson("JSON-only words")
    for word, spelled in _PYTHON_WORDS.items():
        pieces = text.split(word)
        if len(pieces) == 1:
            continue
        inside = _inside_strings(pieces)
        if not any(inside):
            text = spelled.join(pieces)
        else:
            out = [pieces[0]]
            for quoted, piece in zip(inside, pieces[1:]):
                out.append(word if quoted else spelled)
                out.append(piece)
            text = "".join(out)
    return _json_loads(text)


def _inside_strings(pieces: list[str]) -> list[int]:
    """For each boundary between ``pieces``: 1 if it falls inside a string, else 0."""
    odd = map(operator.and_, map(str.count, pieces[:-1], itertools.repeat('"')),
              itertools.repeat(1))
    return list(itertools.accumulate(odd, operator.xor))


def _json_loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _NotJson(str(exc)) from None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many containers (no cycles are made)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(text: str, path: str) -> Any:
    """Parse the text of a microdb file (any ``ast.literal_eval``-able text)."""
    with _gc_paused():
        try:
            return _loads_as_json(text)
        except _NotJson:
            pass
        try:
            return ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            raise FileFormatError(
                f"{path!r} is not a microdb file (a Python literal list of records): "
                f"{type(exc).__name__}: {exc}"
            ) from exc


def _fingerprint(data: bytes | None) -> list[Any] | None:
    """Identify a file's content (size and BLAKE2b digest); ``None`` for no file."""
    if data is None:
        return None
    return [len(data), hashlib.blake2b(data, digest_size=16).hexdigest()]


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_NEW_FILE_MODE = _new_file_mode()


def _write_atomically(path: str, data: bytes) -> None:
    """Replace the file ``path`` with ``data``: temporary file, fsync, rename, fsync dir."""
    path = os.path.realpath(path)  # write through symlinks, as open() would
    directory = os.path.dirname(path)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = _NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# --------------------------------------------------------------------------- keys


def _normalize_keys(partition_keys: Any) -> tuple[Any, ...]:
    if isinstance(partition_keys, (str, bytes)):
        return (partition_keys,)
    try:
        keys = tuple(partition_keys)
    except TypeError:
        raise TypeError(
            f"partition_keys must be a field name or an iterable of field names, "
            f"not {type(partition_keys).__name__}"
        ) from None
    for k in keys:
        try:
            hash(k)
        except TypeError:
            raise TypeError(f"partition key field names must be hashable: {k!r}") from None
    return keys


def _key_function(keys: tuple[Any, ...]) -> Callable[[Mapping[Any, Any]], Key]:
    """``lambda d: (d.get(k0), d.get(k1), ...)`` compiled for these keys."""
    if len(keys) > 32:
        return lambda d: tuple(map(d.get, keys))
    names = [f"k{i}" for i in range(len(keys))]
    body = "".join(f"d.get({n}), " for n in names)
    defaults = "".join(f", {n}={n}" for n in names)
    namespace: dict[str, Any] = dict(zip(names, keys))
    exec(f"def key(d{defaults}):\n    return ({body})\n", namespace)  # noqa: S102
    return namespace["key"]  # type: ignore[no-any-return]


class _Closed(dict):  # type: ignore[type-arg]
    """Stands in for the table of a closed :class:`MicroDB`: every use raises."""

    __slots__ = ()

    def _closed(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise shoal.ClosedError("this MicroDB is closed")

    __getitem__ = __setitem__ = __delitem__ = __contains__ = __len__ = __iter__ = _closed
    get = pop = values = keys = items = clear = copy = _closed


_CLOSED = _Closed()


def _generate(records: list[Record]) -> Iterator[Record]:
    yield from records


def _records_of(values: Any, path: str, key: Callable[[Mapping[Any, Any]], Key]) -> dict:
    """Build the table from a parsed file (row form or grid form)."""
    if not isinstance(values, (list, tuple)):
        raise FileFormatError(
            f"{path!r} is not a microdb file: it holds a {type(values).__name__}, not a list"
        )
    table: dict[Key, Record] = {}
    if not values:
        return table
    records: Iterable[Any]
    if isinstance(values[0], list):
        header = values[0]
        for row in values[1:]:
            if not isinstance(row, (list, tuple)) or len(row) != len(header):
                raise FileFormatError(
                    f"{path!r}: grid row {row!r} does not match the header {header!r}"
                )
        try:
            records = [dict(zip(header, row)) for row in values[1:]]
        except TypeError as exc:
            raise FileFormatError(f"{path!r}: bad grid header {header!r}: {exc}") from None
    else:
        records = values
        if set(map(type, values)) != {dict}:
            bad = next(v for v in values if not isinstance(v, dict))
            raise FileFormatError(f"{path!r}: {bad!r} is not a record (a dict)")
    try:
        for record in records:
            table[key(record)] = record
    except TypeError as exc:
        raise FileFormatError(f"{path!r}: record {record!r} has an unhashable key: {exc}") from None
    return table


# --------------------------------------------------------------------------- journal

_JOURNAL_FORMAT = 1
_UPSERT, _DELETE = "u", "d"


class _Journal:
    """The durable side of a table: changes since the last save, in a shoal store."""

    def __init__(self, directory: str, durability: str) -> None:
        self.store = shoal.open(directory, durability=durability)
        try:
            self.meta = self.store.kv("meta", key="str")
            self.log = self.store.kv("journal", key="int", value="bytes")
            state = self.meta.get("state") or {}
            if state and state.get("format") != _JOURNAL_FORMAT:
                raise shoal.CorruptionError(
                    f"{directory!r}: unknown microdb journal format {state.get('format')!r}"
                )
            self.base = state.get("base")
            self.pending = state.get("pending")
            last = self.log.last()
            self.seq = 0 if last is None else last[0] + 1
        except BaseException:
            self.store.close()
            raise

    def _set_state(self, base: Any, pending: Any) -> None:
        self.meta["state"] = {"format": _JOURNAL_FORMAT, "base": base, "pending": pending}
        self.base, self.pending = base, pending

    def recover(self, fingerprint: Any, path: str) -> bool:
        """Reconcile with the file's content; return whether the journal is to be replayed."""
        if self.pending is not None and fingerprint == self.pending:
            # A save wrote the file but stopped before emptying the journal.
            self.end_save(fingerprint)
            return False
        if self.seq and fingerprint != self.base:
            raise FileChangedError(
                f"{path!r} was changed by someone else while {self.store.path!r} holds "
                "unsaved changes to it; nothing was modified. Remove that directory to "
                "keep the file as it is, or restore the file to keep the changes."
            )
        if fingerprint != self.base or self.pending is not None:
            self._set_state(fingerprint, None)
        return bool(self.seq)

    def replay(self, table: dict, key: Callable[[Mapping[Any, Any]], Key]) -> None:
        """Apply the journal's changes to ``table`` in order."""
        for blob in self.log.values():
            try:
                op, payload = marshal.loads(blob)
            except (ValueError, EOFError, TypeError) as exc:
                raise shoal.CorruptionError(
                    f"{self.store.path!r}: unreadable journal entry: {exc}"
                ) from None
            if op == _UPSERT:
                table[key(payload)] = payload
            elif op == _DELETE:
                table.pop(payload, None)
            else:
                raise shoal.CorruptionError(f"{self.store.path!r}: unknown journal entry {op!r}")

    def append(self, op: str, payload: Any) -> None:
        """Commit one change."""
        self.log[self.seq] = marshal.dumps((op, payload))
        self.seq += 1

    def begin_save(self, fingerprint: Any) -> None:
        """Record the content about to replace the file (survives a crash mid-save)."""
        self._set_state(self.base, fingerprint)
        self.store.sync()

    def abort_save(self) -> None:
        """The file was not replaced: forget the pending content."""
        self._set_state(self.base, None)

    def end_save(self, fingerprint: Any) -> None:
        """The file now holds every change: empty the journal."""
        del self.log[:]
        self.seq = 0
        self._set_state(fingerprint, None)

    def close(self) -> None:
        self.store.close()


# --------------------------------------------------------------------------- the table


class MicroDB:
    """An in-memory table of dict records keyed by their partition-key fields.

    ``filename`` is the backing file (created by the first ``save()``; loaded
    now if it exists, in either the row or the grid form). ``partition_keys``
    names the fields whose values, as a tuple, identify a record; a single
    string is one field name. With ``durable=True`` (or ``"sync"``) every
    change is also committed to the shoal store ``<filename>.shoal`` (see the
    module documentation).
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        partition_keys: Iterable[Any] | str,
        *,
        durable: Union[bool, str] = False,
    ) -> None:
        if durable not in (False, True, "flush", "sync"):
            raise shoal.InvalidArgumentError(
                f"durable must be False, True, 'flush' or 'sync', not {durable!r}"
            )
        self._rlock = threading.RLock()
        self.filename = filename
        self.partition_keys = partition_keys
        self._keys = _normalize_keys(partition_keys)
        self._key = _key_function(self._keys)
        self._path = os.path.abspath(os.fspath(filename))
        self._journal: _Journal | None = None
        self._table: dict[Key, Record] = _CLOSED
        with self._rlock:
            data = _read(self._path)
            if durable:
                durability = "sync" if durable == "sync" else "flush"
                journal = _Journal(self._path + ".shoal", durability)
                try:
                    replay = journal.recover(_fingerprint(data), self._path)
                    table = self._load(data)
                    if replay:
                        with _gc_paused():
                            journal.replay(table, self._key)
                except BaseException:
                    journal.close()
                    raise
                self._journal = journal
                self._finalizer = weakref.finalize(self, journal.close)
            else:
                table = self._load(data)
            self._table = table

    def _load(self, data: bytes | None) -> dict:
        if data is None:
            return {}
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileFormatError(f"{self._path!r} is not UTF-8 text: {exc}") from None
        return _records_of(_parse(text, self._path), self._path, self._key)

    # ------------------------------------------------------------------ keys

    def gen_key(self, dictionary: Mapping[Any, Any]) -> Key:
        """The key of a record: the tuple of its partition-key fields (missing -> None)."""
        if not isinstance(dictionary, Mapping):
            raise TypeError(f"a record is a dict, not {type(dictionary).__name__}")
        return self._key(dictionary)

    def _key_of(self, d: Any) -> Key:
        """A key from a record (dict) or an already built key tuple."""
        if isinstance(d, Mapping):
            return self._key(d)
        if isinstance(d, tuple):
            return d
        raise TypeError(
            f"expected a record (dict) or a key tuple, not {type(d).__name__}"
        )

    # ------------------------------------------------------------------ writes

    def upsert(self, dictionary: Record) -> None:
        """Store the record ``dictionary`` (the object itself), replacing any with its key.

        A replaced record keeps its position in :meth:`all`. Unhashable key
        values raise ``TypeError`` and store nothing.
        """
        d = dictionary
        if type(d) is not dict and not isinstance(d, dict):
            raise TypeError(f"a record is a dict, not {type(d).__name__}")
        key = self._key(d)
        with self._rlock:
            if self._journal is None:
                self._table[key] = d
                return
            hash(key)
            _check_record(d)
            self._journal.append(_UPSERT, d)  # ClosedError once closed
            self._table[key] = d

    def __delitem__(self, key: Key) -> None:
        """Delete the record with key tuple ``key``; ``KeyError`` if there is none."""
        with self._rlock:
            if self._journal is not None and key in self._table:
                self._journal.append(_DELETE, key)
            del self._table[key]

    def erase_all(self) -> None:
        """Remove every record and save the empty table (the file becomes ``[]``)."""
        with self._rlock:
            self._table.get(())  # raises ClosedError on a closed table
            self._write(None, b"[]\n")
            self._table.clear()

    # ------------------------------------------------------------------ reads

    def get(self, key: Any, d: Any = None) -> Any:
        """The stored record with the key of record ``key`` (or key tuple ``key``), else ``d``.

        (The original's parameter names: ``key`` is a record, ``d`` the default.)
        """
        if type(key) is dict:
            return self._table.get(self._key(key), d)
        return self._table.get(self._key_of(key), d)

    def __contains__(self, key: Any) -> bool:
        """Whether a record with the key of record ``key`` (or key tuple ``key``) is stored."""
        if type(key) is dict:
            return self._key(key) in self._table
        return self._key_of(key) in self._table

    def __getitem__(self, key: Key) -> Record:
        """The stored record with key tuple ``key``; ``KeyError(key)`` if there is none."""
        return self._table[key]

    def __len__(self) -> int:
        """The number of records."""
        return len(self._table)

    def _snapshot(self) -> list[Record]:
        with self._rlock:
            return list(self._table.values())

    def all(self) -> Iterator[Record]:
        """The records in insertion order of their keys (a snapshot taken now), a generator."""
        return _generate(self._snapshot())

    def __iter__(self) -> Iterator[Record]:
        """Iterate over the records, like :meth:`all`."""
        return iter(self._snapshot())

    def __str__(self) -> str:
        return str(self._snapshot())

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} records"
        mode = ", durable" if self._journal is not None else ""
        return (f"<shoal.microdb.MicroDB {os.fspath(self.filename)!r} "
                f"keys={self._keys!r}{mode} ({state})>")

    def pprint_all(self) -> None:
        """Print the records with :func:`pprint.pprint`."""
        pprint.pprint(self._snapshot())

    def pprint_all_as_grid(self) -> None:
        """Print the grid form (see :meth:`save_as_grid`) with :func:`pprint.pprint`."""
        pprint.pprint(self._grid(self._snapshot()))

    # ------------------------------------------------------------------ files

    @staticmethod
    def _grid(records: list[Record]) -> list[list[Any]]:
        header = list(dict.fromkeys(itertools.chain.from_iterable(records)))
        width = len(header)
        if set(map(len, records)) - {width}:
            for record in records:
                if len(record) != width:
                    lacking = [field for field in header if field not in record]
                    raise MissingFieldsError(f"Dict {record} dosen't have these keys:{lacking}")
        if width == 1:
            field = header[0]
            return [header, *([record[field]] for record in records)]
        if width == 0:
            return [header, *([] for _ in records)]
        getter = itemgetter(*header)
        return [header, *map(list, map(getter, records))]

    def _encode(self, records: list[Record], data: Any) -> bytes:
        try:
            text = repr(data)
        except (ValueError, RecursionError) as exc:  # an int beyond sys.get_int_max_str_digits()
            raise UnsavableValueError(f"cannot write the table: {exc}") from None
        _check_records(records, text)
        try:
            return (text + "\n").encode("utf-8")
        except UnicodeEncodeError as exc:
            raise UnsavableValueError(
                f"cannot write the table as UTF-8 (a string holds a lone surrogate): {exc}"
            ) from None

    def _write(self, target: str | os.PathLike[str] | None, data: bytes) -> None:
        path = os.path.abspath(os.fspath(target if target else self.filename))
        journal = self._journal if path == self._path else None
        if journal is None:
            _write_atomically(path, data)
            return
        fingerprint = _fingerprint(data)
        journal.begin_save(fingerprint)
        try:
            _write_atomically(path, data)
        except BaseException:
            journal.abort_save()
            raise
        journal.end_save(fingerprint)

    def save(self, filename: str | os.PathLike[str] | None = None) -> None:
        r"""Write every record to ``filename`` (default: :attr:`filename`) as a Python literal.

        The file is exactly ``repr(list(self.all())) + "\n"`` (UTF-8),
        replaced atomically. Values that could not be read back raise
        :class:`UnsavableValueError` and leave the file untouched.
        """
        with self._rlock:
            records = list(self._table.values())
            self._write(filename, self._encode(records, records))

    def save_as_grid(self, filename: str | os.PathLike[str] | None = None) -> None:
        """Write the table as ``[[fields...], [values...], ...]`` (fields in first-seen order).

        Every record must have every field (else :class:`MissingFieldsError`,
        nothing written). Reloading gives records with fields in header order.
        """
        with self._rlock:
            records = list(self._table.values())
            self._write(filename, self._encode(records, self._grid(records)))

    # ------------------------------------------------------------------ lock & life

    def lock(self) -> threading.RLock:  # type: ignore[valid-type]
        """The instance's re-entrant lock (the same object each call): ``with mdb.lock(): ...``."""
        return self._rlock

    @property
    def durable(self) -> bool:
        """Whether changes are journaled in ``<filename>.shoal`` between saves."""
        return self._journal is not None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._table is _CLOSED

    def close(self) -> None:
        """Release the table (and the durable store's lock). Does not save; idempotent."""
        with self._rlock:
            self._table = _CLOSED
            if self._journal is not None:
                self._journal.close()

    def __enter__(self) -> MicroDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ queries

    def _condition(self, cond: Any) -> Callable[[Record], bool]:
        if callable(cond):
            return cond  # type: ignore[no-any-return]
        raise TypeError(f"a condition is a Query (or a callable on a record), not {cond!r}")

    def search(self, cond: Callable[[Record], bool]) -> list[Record]:
        """The stored records matching ``cond`` (a :class:`Query` or a callable), in order."""
        test = self._condition(cond)
        return [record for record in self._snapshot() if test(record)]

    def count(self, cond: Callable[[Record], bool]) -> int:
        """The number of records matching ``cond``."""
        return len(self.search(cond))

    def remove(self, cond: Callable[[Record], bool]) -> list[Key]:
        """Delete the records matching ``cond`` (atomic w.r.t. other threads); return their keys."""
        test = self._condition(cond)
        with self._rlock:
            keys = [key for key, record in list(self._table.items()) if test(record)]
            for key in keys:
                del self[key]
            return keys

    def update(
        self, fields: Mapping[Any, Any] | Callable[[Record], None], cond: Any = None
    ) -> list[Key]:
        """Update the records matching ``cond`` (every record if ``None``); return their keys.

        ``fields`` is a mapping merged into each record, or a callable that
        changes a record in place. The records are changed in place (the
        objects :meth:`get` returned see the change) and upserted again;
        changing a partition-key field moves the record to its new key,
        replacing any record there.
        """
        test = (lambda record: True) if cond is None else self._condition(cond)
        if not callable(fields) and not isinstance(fields, Mapping):
            raise TypeError("fields must be a mapping or a callable")
        if self._journal is not None and isinstance(fields, Mapping):
            _check_record(dict(fields))  # refuse before any record changes
        with self._rlock:
            keys = [key for key, record in list(self._table.items()) if test(record)]
            for key in keys:
                record = self._table[key]
                if isinstance(fields, Mapping):
                    record.update(fields)
                else:
                    fields(record)
                if self._key(record) != key:
                    del self[key]
                self.upsert(record)
            return keys


# --------------------------------------------------------------------------- queries


_MISSING = object()


class Query:
    """A TinyDB-style condition on a record: ``Query().age >= 18``, ``where("a.b") == 1``.

    Build a path with attributes or items (``Query().address.city``,
    ``Query()["first name"]``), then compare it (``== != < <= > >=``) or use
    :meth:`exists`, :meth:`matches`, :meth:`search`, :meth:`test`,
    :meth:`any`, :meth:`all`, :meth:`one_of`. Combine conditions with ``&``,
    ``|`` and ``~``. A condition is a callable: ``cond(record) -> bool``. A
    missing field (or a comparison between incompatible types) never matches.
    ``Query()`` itself (an empty path) tests the value it is given, which is
    how :meth:`any`/:meth:`all` test list elements: ``Q.tags.any(Q.matches("a.*"))``.
    """

    __slots__ = ("_path", "_test", "_text")

    def __init__(self) -> None:
        self._path: tuple[Any, ...] = ()
        self._test: Callable[[Record], bool] | None = None
        self._text = "Query()"

    @classmethod
    def _condition(cls, test: Callable[[Record], bool], text: str) -> Query:
        q = cls.__new__(cls)
        q._path, q._test, q._text = (), test, text
        return q

    def _child(self, name: Any) -> Query:
        if self._test is not None:
            raise TypeError("a condition has no fields; build paths before comparing")
        q = type(self).__new__(type(self))
        q._path, q._test = (*self._path, name), None
        q._text = f"{self._text}[{name!r}]"
        return q

    def __getattr__(self, name: str) -> Query:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._child(name)

    def __getitem__(self, name: Any) -> Query:
        return self._child(name)

    def _resolve(self, record: Any) -> Any:
        value = record
        for name in self._path:
            if not isinstance(value, Mapping):
                return _MISSING
            value = value.get(name, _MISSING)
            if value is _MISSING:
                return _MISSING
        return value

    def _on_value(self, test: Callable[[Any], bool], text: str) -> Query:
        resolve = self._resolve

        def check(record: Record) -> bool:
            value = resolve(record)
            if value is _MISSING:
                return False
            try:
                return bool(test(value))
            except TypeError:
                return False

        return Query._condition(check, f"{self._text}.{text}")

    def __call__(self, record: Record) -> bool:
        """Whether ``record`` satisfies this condition."""
        if self._test is None:
            raise TypeError(f"{self._text} is a path, not a condition: compare it first")
        return self._test(record)

    def __repr__(self) -> str:
        return self._text

    def __eq__(self, other: Any) -> Query:  # type: ignore[override]
        return self._on_value(lambda v: v == other, f"__eq__({other!r})")

    def __ne__(self, other: Any) -> Query:  # type: ignore[override]
        return self._on_value(lambda v: v != other, f"__ne__({other!r})")

    def __lt__(self, other: Any) -> Query:
        return self._on_value(lambda v: v < other, f"__lt__({other!r})")

    def __le__(self, other: Any) -> Query:
        return self._on_value(lambda v: v <= other, f"__le__({other!r})")

    def __gt__(self, other: Any) -> Query:
        return self._on_value(lambda v: v > other, f"__gt__({other!r})")

    def __ge__(self, other: Any) -> Query:
        return self._on_value(lambda v: v >= other, f"__ge__({other!r})")

    __hash__ = None  # type: ignore[assignment]

    def exists(self) -> Query:
        """The field is present (even if its value is ``None``)."""
        resolve = self._resolve
        return Query._condition(lambda r: resolve(r) is not _MISSING, f"{self._text}.exists()")

    def matches(self, pattern: str | re.Pattern[str], flags: int = 0) -> Query:
        """The field is a string matching the regular expression from its start to its end."""
        rx = _regex.compile(pattern, flags)  # linear time where it can be
        return self._on_value(lambda v: isinstance(v, str) and rx.fullmatch(v),
                              f"matches({pattern!r})")

    def search(self, pattern: str | re.Pattern[str], flags: int = 0) -> Query:
        """The field is a string containing a match of the regular expression."""
        rx = _regex.compile(pattern, flags)
        return self._on_value(lambda v: isinstance(v, str) and rx.search(v),
                              f"search({pattern!r})")

    def test(self, func: Callable[..., bool], *args: Any) -> Query:
        """``func(value, *args)`` is true for the field's value."""
        return self._on_value(lambda v: func(v, *args), f"test({func!r})")

    def any(self, cond: Query | Iterable[Any]) -> Query:
        """The field is a list with an element matching ``cond`` (a condition, or values)."""
        if isinstance(cond, Query):
            return self._on_value(lambda v: _is_list(v) and any(cond(e) for e in v),
                                  f"any({cond!r})")
        values = list(cond)
        return self._on_value(lambda v: _is_list(v) and any(e in values for e in v),
                              f"any({values!r})")

    def all(self, cond: Query | Iterable[Any]) -> Query:
        """The field is a list whose elements all match ``cond`` (or which holds every value)."""
        if isinstance(cond, Query):
            return self._on_value(lambda v: _is_list(v) and all(cond(e) for e in v),
                                  f"all({cond!r})")
        values = list(cond)
        return self._on_value(lambda v: _is_list(v) and all(e in v for e in values),
                              f"all({values!r})")

    def one_of(self, values: Iterable[Any]) -> Query:
        """The field's value is one of ``values``."""
        options = list(values)
        return self._on_value(lambda v: v in options, f"one_of({options!r})")

    def __and__(self, other: Query) -> Query:
        a, b = self, other
        return Query._condition(lambda r: a(r) and b(r), f"({a!r} & {b!r})")

    def __or__(self, other: Query) -> Query:
        a, b = self, other
        return Query._condition(lambda r: a(r) or b(r), f"({a!r} | {b!r})")

    def __invert__(self) -> Query:
        a = self
        return Query._condition(lambda r: not a(r), f"~{a!r}")


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def where(field: str) -> Query:
    """``where("a.b")`` is ``Query().a.b``: a path into records (dots separate levels)."""
    q = Query()
    for name in field.split("."):
        q = q[name]
    return q
