"""Export dynafile tables as DynamoDB JSON, what DynamoDB's import from S3 reads.

One file ``<table>.json`` per table, one line per item:
``{"Item": {"PK": {"S": "user#1"}, "n": {"N": "3"}, ...}}``. Upload the files
to S3 and create the table with ``ImportFormat="DYNAMODB_JSON"`` (key
schema: the table's ``pk_attribute`` as HASH, ``sk_attribute`` as RANGE).

Types: ``str`` -> ``S``; ``int``, ``float``, ``Decimal`` -> ``N`` (a number
string; NaN, infinities and numbers beyond DynamoDB's 38 significant digits
are errors naming the item); ``bytes`` -> ``B`` (base64); ``bool`` ->
``BOOL``; ``None`` -> ``NULL``; ``dict`` -> ``M``; ``list``/``tuple`` -> ``L``;
``set``s of str/numbers/bytes -> ``SS``/``NS``/``BS``; ``datetime``,
``date`` and ``UUID`` -> ``S`` (ISO 8601 / canonical text: DynamoDB has no
such types).

``path`` is a table directory (``shoal.dynafile.Dynafile(path)``) or a
directory whose sub-directories are tables; items are read through the face
in key order, so expired items (with a TTL attribute) are not exported.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import os
import uuid
from pathlib import Path
from typing import Any, Callable

from shoal import dynafile

from ._common import Advance, MigrationError, Report, no_progress, translated, write_lines

_MAX_DIGITS = 38


def _number(value: Any) -> dict[str, str]:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise MigrationError(f"{value} is not a DynamoDB number")
        text = repr(value)
    else:
        text = str(value)
    number = decimal.Decimal(text)
    if not number.is_finite():
        raise MigrationError(f"{value} is not a DynamoDB number")
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > _MAX_DIGITS:  # (leading and trailing zeros are not significant)
        raise MigrationError(f"{value} has more than {_MAX_DIGITS} significant digits")
    return {"N": text}


def encode(value: Any) -> dict[str, Any]:
    """``value`` as a DynamoDB attribute value (``{"S": ...}``, ``{"N": ...}``...)."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, (int, float, decimal.Decimal)):
        return _number(value)
    if isinstance(value, (bytes, bytearray)):
        return {"B": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {"M": {str(k): encode(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return _set(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return {"S": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"S": str(value)}
    raise MigrationError(f"a {type(value).__name__} has no DynamoDB form")


def _set(value: Any) -> dict[str, Any]:
    items = sorted(value, key=repr)
    if items and all(isinstance(v, str) for v in items):
        return {"SS": items}
    if items and all(isinstance(v, (bytes, bytearray)) for v in items):
        return {"BS": [base64.b64encode(v).decode() for v in items]}
    if items and all(
        isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool) for v in items
    ):
        return {"NS": [_number(v)["N"] for v in items]}
    raise MigrationError("a set must be non-empty and hold only strings, numbers or bytes")


def dumps(item: dict[str, Any]) -> str:
    """One item as a DynamoDB JSON line (no newline)."""
    return json.dumps(
        {"Item": {str(k): encode(v) for k, v in item.items()}},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _checked(keys: tuple[str, str]) -> Callable[[dict[str, Any]], str]:
    """:func:`dumps`, refusing items whose key attributes DynamoDB cannot hold."""

    def dumps_item(item: dict[str, Any]) -> str:
        for attr in keys:
            value = item.get(attr)
            if isinstance(value, bool) or not isinstance(
                value, (str, bytes, int, float, decimal.Decimal)
            ):
                raise MigrationError(
                    f"key attribute {attr!r} is {value!r}: DynamoDB keys are strings, "
                    "numbers or bytes"
                )
        return dumps(item)

    return dumps_item


def tables(path: Path) -> list[Path]:
    """The dynafile table directories at ``path`` (itself, or its sub-directories)."""
    if (path / "meta.json").is_file():
        return [path]
    found = []
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if (p / "meta.json").is_file())
    if not found:
        raise MigrationError(
            f"{os.fspath(path)!r} is not a dynafile table (no meta.json) nor a directory of tables"
        )
    return found


def export_dynamodb(
    path: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    advance: Advance = no_progress,
) -> Report:
    """Write each dynafile table at ``path`` to ``dest/<table>.json`` (DynamoDB JSON)."""
    out_dir = Path(dest)
    found = tables(Path(path))
    out_dir.mkdir(parents=True, exist_ok=True)
    report = Report(os.fspath(out_dir))
    for table_dir in found:
        with translated(dynafile.DynafileError), dynafile.Dynafile(table_dir) as table:
            keys = (table.pk_attribute, table.sk_attribute)
            n = write_lines(
                out_dir / f"{table_dir.name}.json",
                table.scan(),
                _checked(keys),
                lambda item, keys=keys: "item " + ", ".join(f"{a}={item.get(a)!r}" for a in keys),
                overwrite=overwrite,
                advance=advance,
            )
        report.add(table_dir.name, n)
        report.notes.append(f"{table_dir.name}: key schema {keys[0]} (HASH), {keys[1]} (RANGE)")
    return report
