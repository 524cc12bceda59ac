"""Self-checking documents for the document crash test (child and parent).

Every document is a pure function of its primary key and version
(``make_doc``), so any document read back can be checked on its own; the
records of a transaction (a ledger document and a KV entry) describe the
transaction, so a half-visible one is seen without any model.
"""

from __future__ import annotations

import zlib
from typing import Any

GROUPS = 10
TAGS = "abcdef"
DOCS, LEDGER, KVS = "docs", "ledger", "kvs"
# Indexes the child creates at open (name -> create_index arguments).
OPEN_INDEXES: dict[str, tuple[Any, dict[str, bool]]] = {
    "grp_1": ("grp", {}),
    "uniq_1": ("uniq", {"unique": True, "sparse": True}),
    "grp_1_n_-1": ([("grp", 1), ("n", -1)], {}),
}
# Created later, on a populated store, so kills hit its back-fill too.
LATE_INDEX = ("tags_1", "tags")
LATE_INDEX_AT = 150  # documents in the store when it is created
LEDGER_INDEX = ("seq_1", "seq")  # unique, on the ledger collection


def crc(*parts: Any) -> int:
    """A stable 32-bit checksum of ``parts``."""
    return zlib.crc32(repr(parts).encode())


def make_doc(key: str, version: int) -> dict[str, Any]:
    """The one correct document ``key`` at ``version``."""
    h = crc(key, version)
    doc: dict[str, Any] = {
        "_id": key,
        "v": version,
        "grp": h % GROUPS,
        "n": (h >> 4) % 1000,
        "tags": [t for i, t in enumerate(TAGS) if (h >> (8 + i)) & 1],
        "meta": {"h": h, "f": h / 7, "pad": "x" * ((h >> 16) % 100)},
    }
    if version % 4 != 3:  # some versions leave the sparse unique index
        doc["uniq"] = f"u.{key}.{version}"
    return doc


def ledger_doc(n: int, ids: list[str], upd: list[Any] | None, dele: str | None) -> dict[str, Any]:
    """The ledger record of transaction ``n``."""
    return {"_id": n, "seq": n, "ids": ids, "upd": upd, "del": dele, "chk": crc(n, ids, upd, dele)}


def ledger_ok(doc: dict[str, Any]) -> bool:
    """Whether a ledger record read back is intact."""
    try:
        expected = ledger_doc(doc["_id"], doc["ids"], doc["upd"], doc["del"])
    except (KeyError, TypeError):
        return False
    return doc == expected


def kv_value(n: int) -> list[Any]:
    """The KV record of transaction ``n``."""
    return ["tx", n, crc("kv", n)]


def tx_ids(n: int) -> list[str]:
    """The documents transaction ``n`` inserts."""
    return [f"t{n}.{j}" for j in range(3)]
