"""The portable dump format of ``shoal dump`` / ``shoal load``: JSON Lines.

One JSON value per line, UTF-8, in this order:

1. a header: ``{"format": "shoal-dump", "version": 1, "shoal": "0.1.0", "created": "..."}``;
2. for each key/value space a section line
   ``{"kv": NAME, "key_codec": "any", "value_codec": "msgpack"}`` followed by one
   ``[KEY, VALUE]`` array per item, in key order;
3. for each collection a section line ``{"collection": NAME, "key": [FIELDS...],
   "ttl": FIELD-or-null, "indexes": [{"name": ..., "fields": [[FIELD, 1 or -1], ...],
   "unique": bool, "sparse": bool}, ...]}`` followed by one ``[DOCUMENT]`` array per
   document, in primary-key order;
4. a last line ``{"end": {"sections": N, "records": N, "errors": [...]}}``; a dump
   without it is truncated. ``errors`` lists the sections ``dump --salvage`` could
   not read to the end (``{"section": NAME, "kind": "kv" or "collection",
   "error": MESSAGE, "records": N}``).

Values are plain JSON where JSON is exact, tagged objects (one key starting with
``$``) where it is not, so every value round-trips with its exact type:

================  ==========================================================
Python            JSON
================  ==========================================================
None, bool, str   ``null``, ``true``/``false``, a string
int               a number if ``|n| <= 2**53`` (exact in every JSON reader),
                  else ``{"$int": "DIGITS"}``
float             a number always written with a ``.`` or an exponent
                  (``1.0``, ``-0.0``, ``1e+16``); NaN and infinities as
                  ``{"$float": "nan" | "inf" | "-inf"}``
bytes             ``{"$bytes": BASE64}``
list              an array
tuple             ``{"$tuple": [...]}`` (keys; values of pickle spaces)
dict              an object when every key is a str not starting with ``$``,
                  else ``{"$dict": [[KEY, VALUE], ...]}`` (order kept)
datetime          ``{"$datetime": ISO-8601}`` (an offset iff aware)
UUID              ``{"$uuid": "8-4-4-4-12"}``
Decimal           ``{"$decimal": "TEXT"}`` (``NaN``, ``-0`` and exponents kept)
anything else     in a space whose value codec is ``pickle`` only:
                  ``{"$pickle": BASE64}`` (loading it needs ``--allow-pickle``)
================  ==========================================================
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import pickle
import uuid
from typing import Any

FORMAT = "shoal-dump"
VERSION = 1
_SAFE_INT = 2**53
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data (see the module docs); TypeError if unsupported."""
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value if -_SAFE_INT <= value <= _SAFE_INT else {"$int": str(value)}
    if t is float:
        if math.isfinite(value):
            return value
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if t is bytes:
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if t is list:
        return [encode(v) for v in value]
    if t is tuple:
        return {"$tuple": [encode(v) for v in value]}
    if t is dict:
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if t is datetime.datetime:
        return {"$datetime": value.isoformat()}
    if t is uuid.UUID:
        return {"$uuid": str(value)}
    if t is decimal.Decimal:
        return {"$decimal": str(value)}
    raise TypeError(f"a value of type {t.__name__} has no portable form")


def encode_pickled(value: Any) -> Any:
    """Like :func:`encode`, falling back to ``$pickle`` (for pickle spaces' values)."""
    try:
        return encode(value)
    except TypeError:
        return {"$pickle": base64.b64encode(pickle.dumps(value, protocol=4)).decode("ascii")}


def _tagged(tag: str, body: Any, allow_pickle: bool) -> Any:
    if tag == "$int" and type(body) is str:
        return int(body)
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$bytes" and type(body) is str:
        return base64.b64decode(body, validate=True)
    if tag == "$tuple" and type(body) is list:
        return tuple(decode(v, allow_pickle) for v in body)
    if tag == "$dict" and type(body) is list:
        return {decode(k, allow_pickle): decode(v, allow_pickle) for k, v in body}
    if tag == "$datetime" and type(body) is str:
        return datetime.datetime.fromisoformat(body)
    if tag == "$uuid" and type(body) is str:
        return uuid.UUID(body)
    if tag == "$decimal" and type(body) is str:
        return decimal.Decimal(body)
    if tag == "$pickle" and type(body) is str:
        if not allow_pickle:
            raise ValueError("the dump holds pickled values; loading them runs code: "
                             "pass --allow-pickle if the dump is trusted")
        return pickle.loads(base64.b64decode(body, validate=True))  # noqa: S301 - asked for
    raise ValueError(f"unknown or malformed tagged value {tag!r}")


def decode(data: Any, allow_pickle: bool = False) -> Any:
    """The value :func:`encode` (or :func:`encode_pickled`) turned into ``data``."""
    t = type(data)
    if t is dict:
        if len(data) == 1:
            ((tag, body),) = data.items()
            if tag.startswith("$"):
                return _tagged(tag, body, allow_pickle)
        return {k: decode(v, allow_pickle) for k, v in data.items()}
    if t is list:
        return [decode(v, allow_pickle) for v in data]
    return data


def line(obj: Any) -> bytes:
    """One line of the dump: ``obj`` (already encoded) as compact JSON in UTF-8, newline."""
    return (_JSON.encode(obj) + "\n").encode("utf-8")


def parse(raw: bytes, number: int) -> Any:
    """One line of a dump as JSON data; ValueError naming the line if it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"line {number}: not JSON ({exc})") from None


def header(shoal_version: str) -> dict[str, Any]:
    """The first line of a dump."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return {"format": FORMAT, "version": VERSION, "shoal": shoal_version, "created": now}


def check_header(obj: Any) -> None:
    """ValueError unless ``obj`` is a header this version reads."""
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError(f"not a shoal dump (its first line is not a {FORMAT!r} header)")
    if obj.get("version") != VERSION:
        raise ValueError(f"dump format version {obj.get('version')!r}: this shoal reads "
                         f"version {VERSION} (load it with the shoal that wrote it)")
