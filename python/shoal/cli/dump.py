"""``shoal dump PATH [-o FILE]``: every space and collection of a store as portable JSON Lines."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

import shoal

from . import _dumpformat as fmt
from ._common import Progress, open_kv, open_store

_DESCRIPTION = """\
Write every key/value space (with its codecs) and every collection (with its key
fields, index definitions and TTL field) of a store as JSON Lines that
`shoal load` reads back exactly: every value keeps its type (1, 1.0 and True stay
distinct; big ints, NaN, -0.0, bytes, tuples in keys, datetimes, UUIDs and
Decimals included). The format is described in shoal.cli._dumpformat. Reading
pickle spaces unpickles their values: they are refused without --allow-pickle.

Salvage (--salvage): when a space cannot be read to the end because its files are
damaged (CorruptionError), the dump keeps what was read, says so on stderr,
carries on with the next space and exits with status 2; the end line of the dump
records each damaged section. For a key/value space the items after the damaged
part (the documents, for a collection) are read backwards from the end, so only
the damaged part is lost. `shoal load` then rebuilds a healthy
store (indexes included) from what was saved.
"""


class _Damaged(Exception):
    """A section stopped at a CorruptionError (salvage mode)."""

    def __init__(self, error: shoal.CorruptionError, records: int, note: str = "") -> None:
        super().__init__(str(error))
        self.records = records
        self.note = note


def _kv_records(kv: shoal.KV, salvage: bool) -> Iterator[list[Any]]:
    """``[key, value]`` records of a space; in salvage mode, around a damaged part."""
    enc: Callable[[Any], Any] = (fmt.encode_pickled if kv.value_codec == "pickle"
                                 else fmt.encode)
    last: Any = None
    count = 0
    try:
        for key, value in kv.items():
            yield [fmt.encode(key), enc(value)]
            last, count = key, count + 1
    except shoal.CorruptionError as exc:
        if not salvage:
            raise
        # Read from the other end down to the last good key: only the damaged
        # part in between is lost.
        tail: list[list[Any]] = []
        cursor = kv.cursor(start=last, include_start=False, reverse=True) if count else \
            kv.cursor(reverse=True)
        try:
            for key, value in cursor:
                tail.append([fmt.encode(key), enc(value)])
        except shoal.CorruptionError:
            pass
        yield from reversed(tail)
        raise _Damaged(exc, count + len(tail),
                       f"{count} items read before the damaged part, {len(tail)} after it; "
                       f"the items in between are lost") from None


def _key_value(v: Any) -> Any:
    """A key field's value as the key holds it: documents store tuples as lists."""
    return tuple(_key_value(x) for x in v) if isinstance(v, list) else v


def _doc_key(coll: shoal.Collection, doc: dict[str, Any]) -> bytes:
    """The encoded primary key of ``doc``: byte order is the collection's key order."""
    fields = coll.key
    return shoal.encode_key(_key_value(doc[fields[0]]) if len(fields) == 1
                            else tuple(_key_value(doc[f]) for f in fields))


def _doc_records(coll: shoal.Collection, salvage: bool) -> Iterator[list[Any]]:
    """``[document]`` records of a collection; in salvage mode, around a damaged part."""
    count = 0
    last: bytes | None = None
    try:
        for doc in coll:
            yield [fmt.encode(doc)]
            count += 1
            if salvage:  # where a damaged part starts, if one comes
                last = _doc_key(coll, doc)
    except shoal.CorruptionError as exc:
        if not salvage:
            raise
        # Read from the other end (descending primary key, a reversed key
        # scan) down to the last good document: only the damaged part is lost.
        tail: list[list[Any]] = []
        try:
            for doc in coll.cursor(sort=[(f, -1) for f in coll.key]):
                if last is not None and _doc_key(coll, doc) <= last:
                    break
                tail.append([fmt.encode(doc)])
        except shoal.CorruptionError:
            pass
        yield from reversed(tail)
        raise _Damaged(exc, count + len(tail),
                       f"{count} documents read before the damaged part, {len(tail)} after "
                       f"it; the documents in between are lost") from None


def _collection_section(coll: shoal.Collection) -> dict[str, Any]:
    indexes = [{"name": ix["name"], "fields": [[f, d] for f, d in ix["fields"]],
                "unique": ix["unique"], "sparse": ix["sparse"]} for ix in coll.indexes()]
    return {"collection": coll.name, "key": list(coll.key), "ttl": coll.ttl, "indexes": indexes}


def _write_dump(store: shoal.Store, out: IO[bytes], salvage: bool, allow_pickle: bool) -> list:
    """Write the whole dump of ``store`` to ``out``; returns the salvage errors."""
    sections: list[tuple[str, dict[str, Any], Callable[[], Iterator[list[Any]]]]] = []
    for name in store.spaces():  # every space opened first: a refused pickle space writes nothing
        kv = open_kv(store, name, allow_pickle=allow_pickle)
        sections.append(("kv", {"kv": name, "key_codec": kv.key_codec,
                                "value_codec": kv.value_codec},
                         functools.partial(_kv_records, kv, salvage)))
    for name in store.collections():
        coll = store.collection(name)
        sections.append(("collection", _collection_section(coll),
                         functools.partial(_doc_records, coll, salvage)))
    out.write(fmt.line(fmt.header(shoal.__version__)))
    errors = []
    records = 0
    # The engine's estimate (every space is open now): enough for a progress bar.
    estimate = sum(s["approximate_items"] for s in store.stats()["spaces"]
                   if s["kind"] in ("kv", "doc"))
    with Progress("dump: records", estimate or None) as progress:
        for kind, section, read in sections:
            out.write(fmt.line(section))
            try:
                for record in read():
                    out.write(fmt.line(record))
                    records += 1
                    progress.advance()
            except _Damaged as damaged:
                name = section[kind]
                print(f"shoal dump: {kind} {name!r} is damaged: {damaged}; {damaged.note}",
                      file=sys.stderr, flush=True)
                errors.append({"section": name, "kind": kind, "error": str(damaged),
                               "records": damaged.records})
    out.write(fmt.line({"end": {"sections": len(sections), "records": records,
                                "errors": errors}}))
    return errors


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump(path: str, output: str = "-", salvage: bool = False, allow_pickle: bool = False) -> int:
    """Dump the store at ``path`` to ``output`` (``-``: stdout); exit status 2 if salvaged."""
    store = open_store(path)
    with store:
        if output == "-":
            errors = _write_dump(store, sys.stdout.buffer, salvage, allow_pickle)
            sys.stdout.buffer.flush()
        else:
            # Into a temporary file renamed at the end: a failed dump leaves no file.
            target = os.path.abspath(output)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".shoal-dump-")
            try:
                os.chmod(tmp, 0o666 & ~_umask())  # as open() would create it (mkstemp: 0600)
                with os.fdopen(fd, "wb") as out:
                    errors = _write_dump(store, out, salvage, allow_pickle)
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
    if errors:
        print(f"shoal dump: salvaged: {len(errors)} damaged section(s), "
              f"their readable records dumped", file=sys.stderr)
        return 2
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``dump``."""
    p = sub.add_parser("dump", help="write a store as portable JSON Lines (shoal load reads it)",
                       description=_DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", help="store directory")
    p.add_argument("-o", "--output", default="-", metavar="FILE",
                   help="file to write (default '-': standard output)")
    p.add_argument("--salvage", action="store_true",
                   help="keep going past damaged spaces, dumping what is readable (exit 2)")
    p.add_argument("--allow-pickle", action="store_true",
                   help="also dump spaces of pickled values (unpickling runs code)")
    p.set_defaults(func=lambda args: dump(args.path, args.output, args.salvage,
                                          args.allow_pickle))
