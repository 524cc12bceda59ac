"""``shoal import KIND SOURCE PATH``: bring the original libraries' files into shoal.

One sub-command per source kind (``shoal import KIND --help`` lists its
options); the work is done by :mod:`shoal.migrate`.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from ._common import Progress, say

_KINDS: dict[str, tuple[str, str, str]] = {
    # kind: (help, source, target)
    "sofart": (
        "a sofart JSON, msgpack or pickle file -> a shoal.sofart database",
        "the original's database file",
        "the database file your script opens with shoal.sofart.Database(PATH)",
    ),
    "microdb": (
        "a microdb Python-literal file -> a shoal.microdb file",
        "the original's file",
        "the file your script opens with shoal.microdb.MicroDB(PATH, keys)",
    ),
    "dynafile": (
        "a dynafile table directory (pickled partitions) -> a shoal.dynafile table",
        "the original's table directory",
        "the directory your script opens with shoal.dynafile.Dynafile(PATH)",
    ),
    "sophy": (
        "a sophy 0.7 environment (needs the sophy package) -> a shoal.sophy environment",
        "the original's environment directory",
        "the directory your script opens with shoal.sophy.Sophia(PATH)",
    ),
    "tinydb": (
        "a TinyDB JSON file -> a shoal store, one collection per table (_id = doc id)",
        "the TinyDB JSON file",
        "the shoal store directory",
    ),
    "sqlitedict": (
        "a sqlitedict file -> a shoal store, one KV space per table",
        "the sqlitedict (SQLite) file",
        "the shoal store directory",
    ),
}


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _field(text: str) -> tuple[str, str]:
    name, sep, kind = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=TYPE, got {text!r}")
    return name, kind


def _options(kind: str, p: argparse.ArgumentParser) -> None:
    """The options of one source kind."""
    if kind == "sofart":
        formats = ["json", "msgpack", "pickle"]
        p.add_argument("--source-serializer", choices=formats,
                       help="the source's format (default: recognised from its first bytes)")
        p.add_argument("--serializer", choices=formats,
                       help="the target file's format (default: the source's)")
    elif kind == "microdb":
        p.add_argument("--partition-keys", type=_csv, required=True, metavar="F1,F2",
                       help="the partition-key fields (the file does not record them)")
        p.add_argument("--grid", action="store_true", help="write the target in grid form")
    elif kind == "dynafile":
        p.add_argument("--pk-attribute", help="partition-key attribute (default PK)")
        p.add_argument("--sk-attribute", help="sort-key attribute (default SK)")
        p.add_argument("--ttl-attribute", help="expiry attribute to set on the target")
    elif kind == "sophy":
        p.add_argument("--field", type=_field, action="append", default=[],
                       metavar="NAME=TYPE", dest="fields",
                       help="what a string field holds: str (default), bytes, json, msgpack "
                            "or pickle; repeatable")
        p.add_argument("--databases", type=_csv, metavar="A,B",
                       help="the databases in the order your program declares them "
                            "(needed when there are several)")
    elif kind == "sqlitedict":
        p.add_argument("--value-codec", choices=["msgpack", "pickle"], default="msgpack",
                       help="how the spaces store values (default msgpack; pickle keeps "
                            "any object but reopening needs value='pickle')")


def _keywords(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """The importer's keyword arguments from the parsed options."""
    kw: dict[str, Any] = {"append": args.append}
    if kind != "microdb" and kind != "tinydb":
        kw["allow_pickle"] = args.allow_pickle
    if kind == "sofart":
        kw.update(source_serializer=args.source_serializer, serializer=args.serializer)
    elif kind == "microdb":
        kw.update(partition_keys=args.partition_keys, grid=args.grid)
    elif kind == "dynafile":
        kw.update(pk_attribute=args.pk_attribute, sk_attribute=args.sk_attribute,
                  ttl_attribute=args.ttl_attribute)
    elif kind == "sophy":
        kw.update(fields=dict(args.fields), databases=args.databases)
    elif kind == "sqlitedict":
        kw.update(value_codec=args.value_codec)
    return kw


def run(args: argparse.Namespace) -> int:
    """Import ``args.source`` of kind ``args.kind`` into ``args.path``; print the counts."""
    from shoal.migrate import IMPORTERS

    importer: Callable[..., Any] = IMPORTERS[args.kind]
    with Progress(f"importing {args.kind}") as bar:
        report = importer(args.source, args.path, advance=bar.advance,
                          **_keywords(args.kind, args))
    for line in report.lines():
        say(line)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``import`` and one sub-command per source kind."""
    p = sub.add_parser(
        "import", help="import the files of sofart, microdb, dynafile, sophy, TinyDB, sqlitedict",
        description="Import the original library's files into shoal, where the face that "
                    "replaces the library finds them. Refuses to write into a non-empty "
                    "target unless --append.",
    )
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, (text, source, target) in _KINDS.items():
        k = kinds.add_parser(kind, help=text, description=f"Import {text}.")
        k.add_argument("source", metavar="SOURCE", help=source)
        k.add_argument("path", metavar="PATH", help=target)
        k.add_argument("--append", action="store_true",
                       help="add to a non-empty target (records with existing keys are replaced)")
        if kind not in ("microdb", "tinydb"):
            k.add_argument("--allow-pickle", action="store_true",
                           help="read pickled data (unpickling runs code: trusted files only)")
        _options(kind, k)
        k.set_defaults(func=run)
