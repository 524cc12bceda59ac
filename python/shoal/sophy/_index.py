"""Index classes (key and value part types) and :class:`Schema` (sophy 0.7).

An index converts between a Python value and the *native* value that shoal
stores for it (``str``, ``bytes`` or ``int``): :meth:`BaseIndex.convert` on the
way in (validating, so bad input fails before anything is written) and
:meth:`BaseIndex.restore` on the way out (``None`` when the native value is
returned as is). Orders follow Sophia's: strings and bytes bytewise (UTF-8 byte
order equals code point order), unsigned integers numerically, the ``Rev``
integer indexes descending (stored as ``2**bits - 1 - n``), serialized values by
their serialized bytes.
"""

from __future__ import annotations

import json
import pickle
import uuid
from typing import Any, Callable, Iterable, Sequence, Union

from ._errors import SophiaError

SCHEMA_STRING = "string"
SCHEMA_U64 = "u64"
SCHEMA_U32 = "u32"
SCHEMA_U16 = "u16"
SCHEMA_U8 = "u8"
SCHEMA_U64_REV = "u64_rev"
SCHEMA_U32_REV = "u32_rev"
SCHEMA_U16_REV = "u16_rev"
SCHEMA_U8_REV = "u8_rev"

_BYTES_LIKE = (bytes, bytearray, memoryview)


class BaseIndex:
    """One part of a key or value: a name and a data type."""

    data_type = SCHEMA_STRING
    native = "bytes"
    """The type shoal stores: ``"str"``, ``"bytes"`` or ``"int"``."""
    by_reference = False
    """Sophia detail (whether the field is passed by reference); informational."""

    def __init__(self, name: str) -> None:
        self.name = name

    def convert(self, value: Any) -> Any:
        """Python value -> native stored value; raises on bad input."""
        raise NotImplementedError

    def restore(self, native: Any) -> Any:
        """Native stored value -> Python value."""
        return native

    @property
    def identity(self) -> bool:
        """Whether stored values come back unchanged (no :meth:`restore` needed)."""
        return type(self).restore is BaseIndex.restore

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class StringIndex(BaseIndex):
    """Text: ``str`` (``bytes`` must be UTF-8; other types via ``str()``); returns ``str``."""

    native = "str"

    def convert(self, value: Any) -> str:
        """Return ``value`` as ``str``; ``None`` raises ``TypeError``."""
        if type(value) is str:
            return value
        if value is None:
            raise TypeError(f"{type(self).__name__} {self.name!r} does not accept None")
        if isinstance(value, _BYTES_LIKE):
            return bytes(value).decode("utf-8")
        return str(value)


class BytesIndex(BaseIndex):
    """Binary: ``bytes`` (``str`` encoded UTF-8; other types via ``str()``); returns ``bytes``."""

    def convert(self, value: Any) -> bytes:
        """Return ``value`` as ``bytes``; ``None`` raises ``TypeError``."""
        if type(value) is bytes:
            return value
        if value is None:
            raise TypeError(f"{type(self).__name__} {self.name!r} does not accept None")
        if isinstance(value, _BYTES_LIKE):
            return bytes(value)
        return str(value).encode("utf-8")


class _UnsignedIndex(BaseIndex):
    """An unsigned integer of ``bits`` bits, ascending (or descending when ``rev``)."""

    native = "int"
    bits = 64
    rev = False

    def convert(self, value: Any) -> int:
        """Validate ``value`` (``TypeError``: not an integer; ``OverflowError``: out of range)."""
        if type(value) is not int:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, int):
                value = int(value)
            else:
                raise TypeError(
                    f"{type(self).__name__} {self.name!r} needs an integer, "
                    f"not {type(value).__name__}"
                )
        top = (1 << self.bits) - 1
        if value < 0 or value > top:
            raise OverflowError(f"{value} is out of range for {type(self).__name__} (0 to {top})")
        result: int = top - value if self.rev else value
        return result


class _RevIndex(_UnsignedIndex):
    rev = True

    def restore(self, native: Any) -> int:
        """Undo the descending transform."""
        return ((1 << self.bits) - 1) - native  # type: ignore[no-any-return]


class U64Index(_UnsignedIndex):
    """Unsigned 64-bit integer, ascending."""

    data_type = SCHEMA_U64
    bits = 64


class U32Index(_UnsignedIndex):
    """Unsigned 32-bit integer, ascending."""

    data_type = SCHEMA_U32
    bits = 32


class U16Index(_UnsignedIndex):
    """Unsigned 16-bit integer, ascending."""

    data_type = SCHEMA_U16
    bits = 16


class U8Index(_UnsignedIndex):
    """Unsigned 8-bit integer, ascending."""

    data_type = SCHEMA_U8
    bits = 8


class U64RevIndex(_RevIndex):
    """Unsigned 64-bit integer, descending."""

    data_type = SCHEMA_U64_REV
    bits = 64


class U32RevIndex(_RevIndex):
    """Unsigned 32-bit integer, descending."""

    data_type = SCHEMA_U32_REV
    bits = 32


class U16RevIndex(_RevIndex):
    """Unsigned 16-bit integer, descending."""

    data_type = SCHEMA_U16_REV
    bits = 16


class U8RevIndex(_RevIndex):
    """Unsigned 8-bit integer, descending."""

    data_type = SCHEMA_U8_REV
    bits = 8


class SerializedIndex(BaseIndex):
    """Any value, stored as ``serialize(value)`` bytes (so ordered by those bytes).

    ``serialize`` must return ``bytes`` (a ``str`` result is encoded UTF-8);
    ``deserialize`` turns the bytes back into the value. ``None`` is accepted.
    """

    def __init__(
        self,
        name: str,
        serialize: Callable[[Any], Union[bytes, str]],
        deserialize: Callable[[bytes], Any],
    ) -> None:
        super().__init__(name)
        self._serialize = serialize
        self._deserialize = deserialize

    def convert(self, value: Any) -> bytes:
        """Serialize ``value``."""
        data = self._serialize(value)
        if isinstance(data, str):
            return data.encode("utf-8")
        if not isinstance(data, _BYTES_LIKE):
            raise TypeError(
                f"{type(self).__name__} {self.name!r}: serializer returned "
                f"{type(data).__name__}, not bytes"
            )
        return bytes(data)

    def restore(self, native: Any) -> Any:
        """Deserialize the stored bytes."""
        return self._deserialize(native)


def _json_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class JsonIndex(SerializedIndex):
    """A JSON-able value (compact separators, UTF-8)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, _json_dumps, json.loads)


class PickleIndex(SerializedIndex):
    """A picklable value. Unpickling runs code: only read data you wrote."""

    def __init__(self, name: str) -> None:
        super().__init__(name, pickle.dumps, pickle.loads)


class MsgPackIndex(SerializedIndex):
    """A msgpack-able value (needs the ``msgpack`` package; binary stays ``bytes``)."""

    def __init__(self, name: str) -> None:
        try:
            import msgpack  # type: ignore[import-not-found, import-untyped, unused-ignore]
        except ImportError:
            raise SophiaError("msgpack-python library not installed!") from None
        super().__init__(
            name,
            lambda v: msgpack.packb(v, use_bin_type=True),
            lambda b: msgpack.unpackb(b, raw=False),
        )


class UUIDIndex(BaseIndex):
    """A :class:`uuid.UUID`, stored as its 16 raw bytes."""

    def convert(self, value: Any) -> bytes:
        """Return the UUID's bytes (``TypeError`` for anything but a UUID)."""
        if not isinstance(value, uuid.UUID):
            raise TypeError(
                f"UUIDIndex {self.name!r} needs a uuid.UUID, not {type(value).__name__}"
            )
        return value.bytes

    def restore(self, native: Any) -> uuid.UUID:
        """Rebuild the UUID."""
        return uuid.UUID(bytes=bytes(native))


IndexParts = Union[BaseIndex, Sequence[BaseIndex], None]


def _parts(parts: IndexParts) -> list[BaseIndex]:
    if parts is None:
        return []
    if isinstance(parts, BaseIndex):
        return [parts]
    out = list(parts)
    for p in out:
        if not isinstance(p, BaseIndex):
            raise TypeError(f"schema parts must be index objects, not {type(p).__name__}")
    return out


class Schema:
    """The key parts and value parts of a database (sophy 0.7)."""

    def __init__(self, key_parts: IndexParts = None, value_parts: IndexParts = None) -> None:
        self._key = _parts(key_parts)
        self._value = _parts(value_parts)

    def add_key(self, index: BaseIndex) -> None:
        """Append a key part."""
        self._key.extend(_parts(index))

    def add_value(self, index: BaseIndex) -> None:
        """Append a value part."""
        self._value.extend(_parts(index))

    @property
    def key_length(self) -> int:
        """Number of key parts."""
        return len(self._key)

    @property
    def value_length(self) -> int:
        """Number of value parts."""
        return len(self._value)

    @property
    def key_parts(self) -> tuple[BaseIndex, ...]:
        """The key parts, in order."""
        return tuple(self._key)

    @property
    def value_parts(self) -> tuple[BaseIndex, ...]:
        """The value parts, in order."""
        return tuple(self._value)

    @classmethod
    def key_value(cls) -> Schema:
        """``StringIndex('key')`` -> ``StringIndex('value')``."""
        return cls([StringIndex("key")], [StringIndex("value")])

    def __repr__(self) -> str:
        return f"Schema({self._key!r}, {self._value!r})"


class Document:
    """Placeholder kept for name compatibility with sophy 0.7 (it has no members there)."""


class LegacyValue(BaseIndex):
    """Legacy (0.1.x) value: text stored as given; non-UTF-8 bytes stay ``bytes``.

    ``str`` is stored as is, UTF-8 ``bytes`` come back as ``str``, other bytes
    as ``bytes``, anything else is stored as ``str(value)``; ``None`` raises
    ``TypeError``.
    """

    native = "any"

    def convert(self, value: Any) -> Any:
        """Normalise a legacy value."""
        if type(value) is str:
            return value
        if value is None:
            raise TypeError("values may not be None")
        if isinstance(value, _BYTES_LIKE):
            data = bytes(value)
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                return data
        return str(value)


_LEGACY_TYPES: dict[str, type[BaseIndex]] = {
    "string": StringIndex,
    "u32": U32Index,
    "u32rev": U32RevIndex,
    "u64": U64Index,
    "u64rev": U64RevIndex,
}


def legacy_key_parts(index_type: Any) -> list[BaseIndex]:
    """Key parts for a legacy ``index_type`` (a name, or a tuple/list of names)."""
    names: Iterable[Any]
    if index_type is None:
        names = ["string"]
    elif isinstance(index_type, (tuple, list)):
        names = index_type
    else:
        names = [index_type]
    parts: list[BaseIndex] = []
    for i, name in enumerate(names):
        cls = _LEGACY_TYPES.get(name) if isinstance(name, str) else None
        if cls is None:
            raise ValueError(
                "Unrecognized index type, must be one of: string, u32, u32rev, u64, u64rev"
            )
        parts.append(cls(f"key{i}"))
    if not parts:
        raise ValueError("a key needs at least one part")
    return parts
