"""``shoal load PATH [FILE]``: read a ``shoal dump`` into a store."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import shoal

from . import _dumpformat as fmt
from ._common import Progress, say

_DESCRIPTION = """\
Read a dump written by `shoal dump` (JSON Lines, from FILE or standard input)
into the store at PATH, created if needed: each key/value space with its codecs,
each collection with its key fields, TTL field and indexes (built after its
documents). A space or collection that already exists in the store is refused,
before anything of it is written, unless --replace (which drops it first).
Records are written in atomic batches; a load stopped half way leaves the
sections before the failing one complete and that one partly written: run it
again with --replace. A dump without its end line (truncated) is loaded as far
as it goes and then reported as an error (exit 1); a salvaged dump loads and its
damaged sections are named on stderr.
"""

BATCH = 2000


def _lines(src: IO[bytes], progress: Progress) -> Iterator[tuple[int, Any]]:
    """``(line number, JSON data)`` for every non-blank line."""
    for number, raw in enumerate(src, 1):
        progress.advance(len(raw))
        if raw.strip():
            yield number, fmt.parse(raw, number)


class _Loader:
    """Writes the sections of a dump into a store, a batch at a time."""

    def __init__(self, store: shoal.Store, replace: bool, allow_pickle: bool) -> None:
        self.store = store
        self.replace = replace
        self.allow_pickle = allow_pickle
        self.target: shoal.KV | shoal.Collection | None = None
        self.indexes: list[dict[str, Any]] = []
        self.ttl: str | None = None
        self.pending: list[Any] = []
        self.sections = self.records = 0

    def _free(self, kind: str, name: str) -> None:
        """Refuse an existing space or collection, or drop it with --replace."""
        exists = name in (self.store.spaces() if kind == "kv" else self.store.collections())
        if not exists:
            return
        if not self.replace:
            raise FileExistsError(f"the store already has a {kind} {name!r}; "
                                  f"load into a new store, or pass --replace to overwrite it")
        if kind == "kv":
            self.store.drop_kv(name)
        else:
            self.store.drop_collection(name)

    def begin(self, section: dict[str, Any]) -> None:
        """Start a section: create its space or collection."""
        self.finish()
        self.sections += 1
        if "kv" in section:
            name = section["kv"]
            self._free("kv", name)
            self.target = self.store.kv(name, key=section["key_codec"],
                                        value=section["value_codec"])
        else:
            name = section["collection"]
            self._free("collection", name)
            self.target = self.store.collection(name, key=tuple(section["key"]))
            self.indexes = section.get("indexes", [])
            self.ttl = section.get("ttl")

    def add(self, record: list[Any]) -> None:
        """Queue one record of the current section."""
        if isinstance(self.target, shoal.KV):
            key, value = record
            self.pending.append((fmt.decode(key), fmt.decode(value, self.allow_pickle)))
        elif isinstance(self.target, shoal.Collection):
            (doc,) = record
            doc = fmt.decode(doc)
            for field in self.target.key:
                # A tuple in a key is stored as a list in the document; the key
                # needs it back as a tuple.
                if isinstance(doc.get(field), list):
                    doc[field] = _as_tuple(doc[field])
            self.pending.append(doc)
        else:
            raise ValueError("a record before any section line")
        self.records += 1
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the queued records in one atomic batch."""
        if isinstance(self.target, shoal.KV):
            self.target.update(self.pending)
        elif isinstance(self.target, shoal.Collection) and self.pending:
            self.target.insert_many(self.pending)
        self.pending = []

    def finish(self) -> None:
        """End the current section: its last batch, then its indexes and TTL field."""
        self.flush()
        if isinstance(self.target, shoal.Collection):
            for ix in self.indexes:
                self.target.create_index([(f, d) for f, d in ix["fields"]], name=ix["name"],
                                         unique=ix["unique"], sparse=ix["sparse"])
            # The TTL field last: a collection's first create_index() forgets a
            # TTL field set before it (engine defect, see test_cli_dump.py).
            if self.ttl is not None:
                self.target.set_ttl(self.ttl)
        self.target, self.indexes, self.ttl = None, [], None


def _as_tuple(value: list[Any]) -> tuple[Any, ...]:
    return tuple(_as_tuple(v) if isinstance(v, list) else v for v in value)


def _precheck(src: IO[bytes], store: shoal.Store, replace: bool, allow_pickle: bool) -> None:
    """Refuse a conflicting section or a pickled value before writing anything.

    Only for a file (standard input cannot be read twice): section lines are
    parsed, records (lines starting with ``[``) only searched for ``$pickle``,
    which in this format cannot occur inside a string (its quotes would be
    escaped there).
    """
    spaces, colls = set(store.spaces()), set(store.collections())
    for number, raw in enumerate(src, 1):
        if raw.startswith(b"["):
            if not allow_pickle and b'{"$pickle":' in raw:
                fmt.decode({"$pickle": ""})  # raises the --allow-pickle error
            continue
        obj = fmt.parse(raw, number) if raw.strip() else None
        if replace or not isinstance(obj, dict):
            continue
        if obj.get("kv") in spaces or obj.get("collection") in colls:
            kind = "kv" if "kv" in obj else "collection"
            raise FileExistsError(f"the store already has a {kind} {obj[kind]!r}; load into "
                                  f"a new store, or pass --replace to overwrite it")
    src.seek(0)


def _load_from(src: IO[bytes], store: shoal.Store, replace: bool, allow_pickle: bool,
               total: int | None) -> dict[str, Any] | None:
    """Load every line of ``src``; returns the end line's summary (None: truncated)."""
    if src.seekable():
        _precheck(src, store, replace, allow_pickle)
    loader = _Loader(store, replace, allow_pickle)
    end = None
    with Progress("load: bytes", total) as progress:
        lines = _lines(src, progress)
        first = next(lines, None)
        fmt.check_header(first[1] if first else None)
        for number, obj in lines:
            if end is not None:
                raise ValueError(f"line {number}: data after the end line")
            try:
                if isinstance(obj, list):
                    loader.add(obj)
                elif isinstance(obj, dict) and "end" in obj:
                    end = obj["end"]
                elif isinstance(obj, dict) and ("kv" in obj or "collection" in obj):
                    loader.begin(obj)
                else:
                    raise ValueError("neither a record, a section nor the end line")
            except (TypeError, ValueError, KeyError) as exc:
                raise ValueError(f"line {number}: {exc}") from None
        loader.finish()
    if end is not None and end.get("records") != loader.records:
        raise ValueError(f"the dump's end line counts {end.get('records')} records, "
                         f"it holds {loader.records}")
    return end


def load(path: str, source: str = "-", replace: bool = False, allow_pickle: bool = False) -> int:
    """Load the dump ``source`` (``-``: stdin) into the store at ``path``."""
    if source == "-":
        src, total = sys.stdin.buffer, None
    else:
        src = open(source, "rb")  # noqa: SIM115 - closed below
        total = os.fstat(src.fileno()).st_size
    if os.path.isdir(path) and os.listdir(path) and \
            not os.path.exists(os.path.join(path, "version")):
        raise FileExistsError(f"{path} is a directory holding other files, not a shoal store")
    try:
        store = shoal.open(path)
        with store:
            end = _load_from(src, store, replace, allow_pickle, total)
    finally:
        if src is not sys.stdin.buffer:
            src.close()
    if end is None:
        raise ValueError(f"the dump {source!r} is truncated (no end line): what it held "
                         f"was loaded into {path}, the rest is missing")
    for error in end.get("errors", []):
        print(f"shoal load: the dump was salvaged: {error['kind']} {error['section']!r} "
              f"holds only the {error['records']} records that could be read "
              f"({error['error']})", file=sys.stderr)
    say(f"loaded {end['records']} records in {end['sections']} sections into {path}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``load``."""
    p = sub.add_parser("load", help="read a shoal dump into a store",
                       description=_DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", help="store directory (created if needed)")
    p.add_argument("file", nargs="?", default="-",
                   help="dump to read (default '-': standard input)")
    p.add_argument("--replace", action="store_true",
                   help="drop existing spaces and collections the dump holds, then load them")
    p.add_argument("--allow-pickle", action="store_true",
                   help="accept pickled values (a dump of pickle spaces; unpickling runs code)")
    p.set_defaults(func=lambda args: load(args.path, args.file, args.replace,
                                          args.allow_pickle))
