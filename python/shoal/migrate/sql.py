"""Export a datastore-face store to an SQL database, through the face's SQL backend.

The source is a ``shoal.datastore`` store on the embedded engine (a
directory or ``shoal:///dir`` URL); the destination any SQLAlchemy URL
(``sqlite:///file.db``, ``postgresql+psycopg://...``). The document table is
created by :class:`shoal.datastore.Datastore` itself, exactly as the program
will open it (``Datastore(url, tablename=...)``), and every document is
copied with its ``_id``, ``_rev``, ``_updated`` and key unchanged, in batches
(one transaction each; on PostgreSQL the id sequence is moved past the
copied ids). The destination table must be empty.

Views are not copied: their rows come from the program's ``View.map()``
code, which only the program has. When it opens the SQL store and calls
``add_view()`` (or passes its views), the face creates each view table and
back-fills it from the documents. The report names the views found.
"""

from __future__ import annotations

import os
from typing import Any

from ._common import Advance, MigrationError, Report, batched, no_progress, translated


def _native_path(path: str) -> str:
    local = path[len("shoal://") :] if path.startswith("shoal://") else path
    if "://" in local or not local or not os.path.isdir(local) or not os.listdir(local):
        raise MigrationError(f"{path!r} is not an existing datastore store on the shoal engine")
    return local


def view_tables(src: Any) -> list[str]:
    """The view tables recorded in the native store of ``src`` (a native ``Datastore``)."""
    seq = src.store.kv(f"{src.tablename}.seq")
    return sorted(k[1] for k in seq.keys() if isinstance(k, (list, tuple)) and k[0] == "view")


def export_sql(
    path: str | os.PathLike[str],
    url: str,
    *,
    tablename: str = "store",
    advance: Advance = no_progress,
) -> Report:
    """Copy the documents of the native datastore ``path`` into the SQL database ``url``."""
    from shoal.datastore import Datastore, IntegrityError

    local = _native_path(os.fspath(path))
    if "://" not in url or url.startswith("shoal:"):
        raise MigrationError(f"{url!r} is not an SQLAlchemy URL (e.g. sqlite:///file.db)")
    try:
        import sqlalchemy as sa
    except ImportError:
        raise MigrationError(
            "export to SQL needs SQLAlchemy: pip install 'shoal[datastore]'"
        ) from None
    report = Report(url)
    # Checked before Datastore() opens the source: opening creates the table.
    import shoal

    with shoal.open(local) as store:
        # A document table has a sequence space beside it; view tables do not.
        spaces = set(store.spaces())
        tables = sorted(n for n in store.collections() if f"{n}.seq" in spaces)
    if tablename not in tables:
        raise MigrationError(
            f"{os.fspath(path)!r} has no document table {tablename!r} "
            f"(tables: {', '.join(tables) or 'none'}; choose one with --tablename)"
        )
    with Datastore(local, tablename=tablename) as src, translated(sa.exc.SQLAlchemyError):
        with Datastore(url, tablename=tablename) as dst:
            if len(dst):
                raise MigrationError(
                    f"the table {tablename!r} at {url} already holds {len(dst):,} documents"
                )
            report.add(tablename, 0)
            top = 0
            for keys in batched(iter(src)):
                rows = [_row(doc) for doc in src.get_many(keys).values()]
                with dst.engine.begin() as conn:
                    try:
                        conn.execute(sa.insert(dst.table), rows)
                    except sa.exc.IntegrityError as exc:
                        raise IntegrityError(str(exc.orig)) from None
                top = max([top] + [r["id"] for r in rows])
                report.add(tablename, len(rows))
                advance(len(rows))
            if dst.engine.dialect.name == "postgresql" and top:
                with dst.engine.begin() as conn:
                    conn.execute(
                        sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n)"),
                        {"t": dst.table.fullname, "n": top},
                    )
        views = view_tables(src)
    if views:
        report.notes.append(
            f"view tables not copied ({', '.join(views)}): the program's add_view() "
            "creates and fills them from the documents"
        )
    return report


def _row(doc: dict[str, Any]) -> dict[str, Any]:
    meta = {k: doc.pop(k) for k in ("_id", "_key", "_rev", "_updated")}
    return {
        "id": meta["_id"],
        "key": meta["_key"],
        "rev": meta["_rev"],
        "updated": meta["_updated"],
        "data": doc,
    }
