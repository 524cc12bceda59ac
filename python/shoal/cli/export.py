"""``shoal export KIND PATH DEST``: move data to a server's import format.

``mongo`` (MongoDB Extended JSON lines for ``mongoimport``), ``dynamodb``
(DynamoDB JSON for DynamoDB's import from S3) and ``sql`` (a datastore store
into an SQLAlchemy URL); the work is done by :mod:`shoal.migrate`.
"""

from __future__ import annotations

import argparse

from ._common import Progress, say


def run(args: argparse.Namespace) -> int:
    """Export ``args.path`` as ``args.kind`` to ``args.dest``; print the counts."""
    from shoal import migrate

    with Progress(f"exporting {args.kind}") as bar:
        if args.kind == "mongo":
            report = migrate.export_mongo(
                args.path, args.dest, collections=args.collections or None,
                allow_pickle=args.allow_pickle, overwrite=args.overwrite, advance=bar.advance,
            )
        elif args.kind == "dynamodb":
            report = migrate.export_dynamodb(
                args.path, args.dest, overwrite=args.overwrite, advance=bar.advance
            )
        else:
            report = migrate.export_sql(
                args.path, args.dest, tablename=args.tablename, advance=bar.advance
            )
    for line in report.lines():
        say(line)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``export`` and its three targets."""
    p = sub.add_parser(
        "export", help="export to MongoDB, DynamoDB or an SQL database",
        description="Write shoal data in the import format of a database server.",
    )
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    m = kinds.add_parser(
        "mongo", help="collections -> MongoDB Extended JSON lines (mongoimport)",
        description="Write each collection to DEST/<name>.json as canonical MongoDB Extended "
                    "JSON (v2), one document per line: mongoimport --collection NAME --file "
                    "NAME.json. Integers beyond 64 bits become $numberDecimal (34 digits at "
                    "most); datetimes are truncated to milliseconds.",
    )
    m.add_argument("path", metavar="PATH", help="a shoal store directory or a sofart file")
    m.add_argument("dest", metavar="DEST", help="output directory")
    m.add_argument("--collection", action="append", dest="collections", metavar="NAME",
                   help="export only this collection (repeatable)")
    m.add_argument("--allow-pickle", action="store_true", help="read a sofart pickle file")
    d = kinds.add_parser(
        "dynamodb", help="dynafile tables -> DynamoDB JSON (DynamoDB import from S3)",
        description="Write each dynafile table to DEST/<table>.json as DynamoDB JSON lines "
                    '({"Item": {...}}), the format of DynamoDB\'s import from S3.',
    )
    d.add_argument("path", metavar="PATH", help="a dynafile table or a directory of tables")
    d.add_argument("dest", metavar="DEST", help="output directory")
    for q in (m, d):
        q.add_argument("--overwrite", action="store_true", help="replace existing output files")
    s = kinds.add_parser(
        "sql", help="a datastore store -> an SQL database (SQLAlchemy URL)",
        description="Copy a shoal.datastore store's documents (ids, revisions, timestamps "
                    "kept) into an empty table of an SQL database, as "
                    "Datastore(DEST, tablename=...) opens it. Views are re-created by your "
                    "program's add_view(), which back-fills them.",
    )
    s.add_argument("path", metavar="PATH", help="the datastore store (directory or shoal:///dir)")
    s.add_argument("dest", metavar="DEST", help="SQLAlchemy URL, e.g. sqlite:///app.db")
    s.add_argument("--tablename", default="store", help="document table (default: store)")
    for q in (m, d, s):
        q.set_defaults(func=run)
