"""``JsonDataType``: a SQLAlchemy column type holding JSON in a binary column.

Python value -> ``json.dumps`` -> UTF-8 bytes, zlib-compressed when
``compress=True`` (the original compressed always, even with
``compress=False``: fixed). Reading accepts both forms, so columns written by
the original ``datastore`` (always compressed) read back unchanged. ``None``
passes through as NULL.

Needs SQLAlchemy; without it the name exists but using it raises
``ImportError`` with the install hint.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

__all__ = ["JsonDataType", "decode_json", "encode_json"]

_ZLIB_FIRST = 0x78  # every zlib stream starts with 0x78 here; JSON text never does


def encode_json(value: Any, compress: bool) -> bytes:
    """``value`` as JSON bytes, zlib-compressed if ``compress``."""
    data = json.dumps(value).encode("utf-8")
    return zlib.compress(data) if compress else data


def decode_json(data: bytes | memoryview | str) -> Any:
    """The value of :func:`encode_json` bytes, compressed or not."""
    if isinstance(data, str):
        return json.loads(data)
    raw = bytes(data)
    if raw[:1] == bytes((_ZLIB_FIRST,)):
        raw = zlib.decompress(raw)
    return json.loads(raw)


try:
    import sqlalchemy as _sa
    from sqlalchemy.types import TypeDecorator as _TypeDecorator
except ImportError:  # pragma: no cover - exercised only without SQLAlchemy

    class JsonDataType:  # type: ignore[no-redef]
        """Placeholder: ``JsonDataType`` needs SQLAlchemy."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise ImportError(
                "JsonDataType is a SQLAlchemy column type: pip install 'shoal[datastore]'"
            )

else:

    class JsonDataType(_TypeDecorator):  # type: ignore[no-redef]
        """A binary column holding a JSON-encoded value (zlib-compressed if ``compress``)."""

        impl = _sa.LargeBinary
        cache_ok = True

        def __init__(self, compress: bool = False, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.compress = bool(compress)

        def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
            """Encode a Python value for the database."""
            if value is None:
                return None
            return encode_json(value, self.compress)

        def process_result_value(self, value: Any, dialect: Any) -> Any:
            """Decode a database value."""
            if value is None:
                return None
            return decode_json(value)

        def copy(self, **kw: Any) -> JsonDataType:
            """A copy with the same ``compress`` setting."""
            return JsonDataType(self.compress)
