"""Moving data into shoal from the libraries it replaces, and out to servers.

Importers (``shoal import KIND SOURCE PATH``) read the original library's
files and write them where the shoal face that replaces the library finds
them, so a script keeps working after its import line changes:

=============  ===========================================  =========================
kind           source                                       target ``PATH``
=============  ===========================================  =========================
``sofart``     a JSON, msgpack or pickle database file      ``shoal.sofart`` database
``microdb``    a Python-literal file (never ``eval``-ed)    ``shoal.microdb`` file
``dynafile``   a table directory (pickled partitions)       ``shoal.dynafile`` table
``sophy``      a sophy 0.7 environment directory            ``shoal.sophy`` environment
``tinydb``     a TinyDB JSON file                           a store: collection per table
``sqlitedict`` a sqlitedict SQLite file (pickled values)    a store: KV space per table
=============  ===========================================  =========================

Pickle sources are read only with ``allow_pickle=True`` (``--allow-pickle``).
Writing into a non-empty collection, space, table or file is refused unless
``append=True``; then records whose key exists are replaced.

Exporters (``shoal export KIND PATH DEST``): ``mongo`` (MongoDB Extended JSON
lines, one file per collection, for ``mongoimport``), ``dynamodb`` (DynamoDB
JSON lines per dynafile table, for DynamoDB's import from S3) and ``sql``
(a datastore store into any SQLAlchemy URL through the face's SQL backend).

Every function returns a :class:`Report` (records written per target) and
takes ``advance(n)``, called as records are written (a progress bar). Errors
are :class:`MigrationError` (a :class:`shoal.Error` and ``ValueError``) with
a one-line message, or the store's own errors.
"""

from __future__ import annotations

from ._common import MigrationError, Report
from .dynafile import import_dynafile
from .dynamodb import export_dynamodb
from .microdb import import_microdb
from .mongo import export_mongo
from .sofart import import_sofart
from .sophy import import_sophy
from .sql import export_sql
from .sqlitedict import import_sqlitedict
from .tinydb import import_tinydb

#: Importer per source kind, in the order ``shoal import --help`` lists them.
IMPORTERS = {
    "sofart": import_sofart,
    "microdb": import_microdb,
    "dynafile": import_dynafile,
    "sophy": import_sophy,
    "tinydb": import_tinydb,
    "sqlitedict": import_sqlitedict,
}

#: Exporter per target kind.
EXPORTERS = {"mongo": export_mongo, "dynamodb": export_dynamodb, "sql": export_sql}

__all__ = [
    "EXPORTERS",
    "IMPORTERS",
    "MigrationError",
    "Report",
    "export_dynamodb",
    "export_mongo",
    "export_sql",
    "import_dynafile",
    "import_microdb",
    "import_sofart",
    "import_sophy",
    "import_sqlitedict",
    "import_tinydb",
]
