"""Import a ``sophy`` 0.7 environment (Sophia 2.2 files) into ``shoal.sophy``.

Sophia's data files (``<env>/log/*.log``, ``<env>/<db>/*.db``) are the C
library's own format, so they are read through the installed ``sophy``
package (the original); without it the import stops with an error saying
so. Each database's ``<env>/<db>/scheme`` file records its fields: names,
Sophia types (``string``, ``u8``..``u64``, ``*_rev``) and key positions. It
does not record what sophy put in a ``string`` field (text, bytes, JSON,
msgpack, a pickle), so those fields are read as raw bytes and converted as
told by ``fields`` (``{field: "str" | "bytes" | "json" | "msgpack" |
"pickle"}``, default ``"str"``: UTF-8 text; ``"pickle"`` needs
``allow_pickle=True``). Sophia numbers databases in the order a program
declares them and its log refers to them by that number: ``databases``
gives that order; by default it is the order the scheme files were
must be given when there are several (the files do not record it; a wrong
order fails to open or mixes data up, so it is never guessed).

The source is copied to a temporary directory first (opening a Sophia
environment writes to it), so it is never changed. The target ``path`` is
the environment a script opens with ``shoal.sophy.Sophia(path)``; each
database is declared there with the equivalent schema and filled in
batches. A non-empty target database is refused unless ``append`` (then a
key that exists is replaced).
"""

from __future__ import annotations

import importlib
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from shoal import sophy as face

from ._common import (
    Advance,
    MigrationError,
    Report,
    batched,
    no_progress,
    refuse_existing,
    refuse_pickle,
    translated,
    undone_on_error,
)

_FIELDS_RECORD = 4  # id of the scheme record listing the fields
_INTEGERS = ("u8", "u16", "u32", "u64")
STRING_TYPES = ("str", "bytes", "json", "msgpack", "pickle")


@dataclass(frozen=True)
class Field:
    """One field of a Sophia database scheme."""

    name: str
    type: str
    """Sophia's type: ``string``, ``u8``..``u64`` or ``u8_rev``..``u64_rev``."""
    key: int | None
    """Position in the key, or ``None`` for a value field."""


def read_scheme(path: str) -> list[Field]:
    """The fields of the Sophia scheme file ``path`` (keys by position, then values)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        (count,) = struct.unpack_from("<I", data, 8)
        off = 12
        for _ in range(count):
            _kind, rec_id, size = struct.unpack_from("<BBI", data, off)
            off += 6
            if rec_id == _FIELDS_RECORD:
                return _fields(data[off : off + size])
            off += size
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise MigrationError(f"{path} is not a Sophia scheme file: {exc}") from None
    raise MigrationError(f"{path} lists no fields (not a Sophia 2.2 scheme file)")


def _fields(blob: bytes) -> list[Field]:
    def text(off: int) -> tuple[str, int]:
        (n,) = struct.unpack_from("<I", blob, off)
        return blob[off + 4 : off + 4 + n].rstrip(b"\0").decode("utf-8"), off + 4 + n

    (count,) = struct.unpack_from("<I", blob, 0)
    off, out = 4, []
    for _ in range(count):
        name, off = text(off)
        spec, off = text(off)
        kind, *options = spec.split(",")
        key = None
        for option in options:
            if option.startswith("key(") and option.endswith(")"):
                key = int(option[4:-1])
        if kind != "string" and kind.split("_")[0] not in _INTEGERS:
            raise ValueError(f"unknown field type {spec!r}")
        out.append(Field(name, kind, key))
    keys = sorted((f for f in out if f.key is not None), key=lambda f: f.key or 0)
    return keys + [f for f in out if f.key is None]


def database_names(env: str, order: Sequence[str] | None) -> list[str]:
    """The databases of the environment ``env`` in declaration order (given if several)."""
    found = [
        d for d in os.listdir(env) if os.path.isfile(os.path.join(env, d, "scheme"))
    ]
    if not found:
        raise MigrationError(f"{env!r} holds no Sophia database (no <db>/scheme file)")
    if order:
        if sorted(order) != sorted(found):
            raise MigrationError(
                f"--databases must name every database of {env!r} once: "
                f"{', '.join(sorted(found))}"
            )
        return list(order)
    if len(found) > 1:
        raise MigrationError(
            f"{env!r} holds {len(found)} databases ({', '.join(sorted(found))}); Sophia "
            "numbers them in the order your program declares them: give that order "
            "(--databases a,b,...)"
        )
    return found


def _original() -> Any:
    try:
        module = importlib.import_module("sophy")
    except ImportError:
        raise MigrationError(
            "Sophia's files can only be read by the C library: install the original "
            "package (pip install sophy) to import them"
        ) from None
    if getattr(module, "__name__", "").startswith("shoal"):
        raise MigrationError("'sophy' is aliased to shoal's face here; run the import without it")
    return module


def _index(module: Any, f: Field, raw: bool, kind: str) -> Any:
    """A sophy index for ``f``: raw bytes (reading) or the face's type (writing)."""
    if f.type != "string":
        cls = f.type.upper().replace("_REV", "Rev") + "Index"
        return getattr(module, cls)(f.name)
    if raw or kind == "bytes":
        return module.BytesIndex(f.name)
    names = {"str": "StringIndex", "json": "JsonIndex", "msgpack": "MsgPackIndex"}
    return getattr(module, names.get(kind, "PickleIndex"))(f.name)


def _decoder(f: Field, kind: str) -> Callable[[Any], Any]:
    """Raw bytes of the string field ``f`` -> the value the face's index stores for ``kind``."""
    if kind == "bytes":
        return lambda raw: raw
    if kind != "str":
        return _index(face, f, False, kind).restore  # type: ignore[no-any-return]

    def text(raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MigrationError(
                f"field {f.name!r} holds bytes that are not UTF-8 text: name its type "
                f"(--field {f.name}=bytes, json, msgpack or pickle)"
            ) from None

    return text


def import_sophy(
    source: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    append: bool = False,
    fields: dict[str, str] | None = None,
    databases: Sequence[str] | None = None,
    advance: Advance = no_progress,
) -> Report:
    """Copy every database of the sophy 0.7 environment ``source`` into ``path``."""
    env = os.fspath(source)
    if not os.path.isdir(env):
        raise MigrationError(f"{env!r} is not a directory")
    fields = dict(fields or {})
    bad = {t for t in fields.values() if t not in STRING_TYPES}
    if bad:
        raise MigrationError(f"field types are {', '.join(STRING_TYPES)}, not {sorted(bad)}")
    if "pickle" in fields.values() and not allow_pickle:
        raise refuse_pickle("a pickle field")
    names = database_names(env, databases)
    schemes = {n: read_scheme(os.path.join(env, n, "scheme")) for n in names}
    unknown = set(fields) - {f.name for fs in schemes.values() for f in fs}
    if unknown:
        raise MigrationError(f"no database has a field {sorted(unknown)[0]!r}")
    original = _original()
    report = Report(os.fspath(path))
    with tempfile.TemporaryDirectory(prefix="shoal-import-sophy-") as tmp:
        copy = os.path.join(tmp, "env")
        shutil.copytree(env, copy)
        src = original.Sophia(copy)
        src_dbs = {}
        for n in names:
            keys = [_index(original, f, True, "") for f in schemes[n] if f.key is not None]
            values = [_index(original, f, True, "") for f in schemes[n] if f.key is None]
            src_dbs[n] = src.add_database(n, original.Schema(keys, values))
        try:
            src.open()
        except original.SophiaError as exc:
            raise MigrationError(f"sophy cannot open {env!r}: {exc}") from None
        try:
            with undone_on_error(path), translated(face.SophiaError):
                _copy(src_dbs, schemes, fields, path, append, report, advance)
        finally:
            src.close()
    return report


def _copy(
    src_dbs: dict[str, Any],
    schemes: dict[str, list[Field]],
    fields: dict[str, str],
    path: str | os.PathLike[str],
    append: bool,
    report: Report,
    advance: Advance,
) -> None:
    dst = face.Sophia(os.fspath(path))
    dst_dbs = {}
    for n, scheme in schemes.items():
        kinds = {f.name: fields.get(f.name, "str") for f in scheme}
        keys = [_index(face, f, False, kinds[f.name]) for f in scheme if f.key is not None]
        values = [_index(face, f, False, kinds[f.name]) for f in scheme if f.key is None]
        dst_dbs[n] = dst.add_database(n, face.Schema(keys, values))
    dst.open()
    try:
        for n, db in dst_dbs.items():
            refuse_existing("database", n, sum(1 for _ in db.keys()), append)
        for n, scheme in schemes.items():
            convert = _converter(scheme, fields)
            report.add(n, 0)
            for chunk in batched(src_dbs[n].items()):
                dst_dbs[n].update(dict(convert(k, v) for k, v in chunk))
                report.add(n, len(chunk))
                advance(len(chunk))
    finally:
        dst.close()


def _converter(scheme: list[Field], fields: dict[str, str]) -> Callable[[Any, Any], Any]:
    """``(key, value) -> (key, value)`` from raw sophy parts to the face's types."""
    def part(fs: list[Field]) -> Callable[[Any], Any]:
        decoders = [
            _decoder(f, fields.get(f.name, "str")) if f.type == "string" else None
            for f in fs
        ]
        if len(fs) == 1:
            one = decoders[0]
            return (lambda v: one(v)) if one is not None else (lambda v: v)
        return lambda vs: tuple(d(v) if d is not None else v for d, v in zip(decoders, vs))

    key = part([f for f in scheme if f.key is not None])
    value = part([f for f in scheme if f.key is None])
    return lambda k, v: (key(k), value(v))
