"""How one database's keys and values map onto a shoal space.

A :class:`Layout` is compiled from the key and value parts once per bound
database. It picks the shoal codecs (a single string key uses the ``"str"``
codec, a single integer key ``"int"``, several parts the ordered ``"any"``
codec with tuples; a single string value ``"str"``, a single binary value
``"bytes"``, anything else ``"msgpack"``) and builds the converters, with
fast paths for the common exact types. Decoders are ``None`` when native
values come back unchanged, which lets cursors hand out shoal's native
iterators directly.

Invariant: for layouts without a ``Rev`` part, Python's order of native keys
equals the storage order, so range bounds can be pushed into the engine.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from ._errors import SophiaError
from ._index import BaseIndex, BytesIndex, LegacyValue, StringIndex

Conv = Callable[[Any], Any]

# convert() implementations that return a value of this exact type unchanged
_EXACT: dict[Any, type] = {
    StringIndex.convert: str,
    BytesIndex.convert: bytes,
    LegacyValue.convert: str,
}


def _field_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return len(value)
    return 0


def _check_field(value: Any, limit: int) -> None:
    size = _field_size(value)
    if size > limit:
        preview = value[:32]
        if isinstance(preview, bytes):
            preview = preview.decode("utf-8", "replace")
        raise SophiaError(f"field '{preview}...' is too big: {size} bytes, limit_field is {limit}")


def _single(part: BaseIndex, what: str) -> Conv:
    conv = part.convert
    exact = {"str": str, "bytes": bytes, "int": int}.get(part.native)
    msg = f"{what} must be a 1-tuple"

    def slow(v: Any) -> Any:
        if type(v) is tuple:
            if len(v) != 1:
                raise ValueError(msg)
            v = v[0]
        return conv(v)

    if exact is str or exact is bytes:

        def fast(v: Any) -> Any:
            if type(v) is exact:
                return v
            return slow(v)

        return fast
    return slow


def _multi(parts: Sequence[BaseIndex], what: str, partial: bool = False) -> Conv:
    convs = tuple(p.convert for p in parts)
    n = len(convs)
    msg = f"{what} must be a {n}-tuple"

    def enc(v: Any) -> tuple[Any, ...]:
        if type(v) is not tuple:
            v = tuple(v) if isinstance(v, list) else (v,)
        if len(v) != n and not (partial and 0 < len(v) < n):
            raise ValueError(msg)
        return tuple([c(x) for c, x in zip(convs, v)])

    return enc


def _decoder(parts: Sequence[BaseIndex], as_tuple: bool, native_tuple: bool) -> Optional[Conv]:
    """``None`` when native values need no change, else a converter."""
    if len(parts) == 1 and not as_tuple:
        return None if parts[0].identity else parts[0].restore
    if all(p.identity for p in parts):
        return None if native_tuple else tuple
    restores = tuple(None if p.identity else p.restore for p in parts)

    def dec(v: Any) -> tuple[Any, ...]:
        return tuple([x if r is None else r(x) for r, x in zip(restores, v)])

    return dec


class _Never:
    """A type no value has: the ``key_exact``/``value_exact`` of layouts without a fast path."""


class Layout:
    """Converters and codecs for one database (see the module docstring).

    ``key_exact``/``value_exact`` name the one Python type that is stored
    unchanged (single ``str``/``bytes`` parts), so callers may skip the
    converter for it: a key of that type is used as is, a value too when
    ``len(value) <= value_guard`` (the field size limit cannot be exceeded).
    """

    def __init__(
        self,
        key_parts: Sequence[BaseIndex],
        value_parts: Sequence[BaseIndex],
        limit_field: int,
    ) -> None:
        if not key_parts:
            raise SophiaError("a schema needs at least one key part")
        if not value_parts:
            raise SophiaError("a schema needs at least one value part")
        self.key_parts = tuple(key_parts)
        self.value_parts = tuple(value_parts)
        self.multi_key = len(key_parts) > 1
        first = key_parts[0]
        self.rev = any(getattr(p, "rev", False) for p in key_parts)
        self.prefix_native = {"str": str, "bytes": bytes}.get(first.native)
        self.key_exact: type = _Never
        if not self.multi_key and type(first).convert in _EXACT:
            self.key_exact = _EXACT[type(first).convert]
        if self.multi_key:
            self.key_codec = "any"
            self.encode_key: Conv = _multi(key_parts, "key")
            self.encode_bound: Conv = _multi(key_parts, "key", partial=True)
            # the "any" codec returns tuples of the native parts
            self.decode_key = _decoder(key_parts, as_tuple=True, native_tuple=True)
        else:
            # "any", not "str"/"bytes": those codecs refuse the empty key, which
            # Sophia allows; "any" orders str by code point (= UTF-8 bytes) and
            # bytes bytewise, like Sophia.
            self.key_codec = "int" if first.native == "int" else "any"
            self.encode_key = self.encode_bound = _single(first, "key")
            self.decode_key = _decoder(key_parts, as_tuple=False, native_tuple=False)
        self.value_codec, self.encode_value, self.decode_value = self._values(
            value_parts, limit_field
        )
        self.value_exact: type = _Never
        self.value_guard = -1
        if len(value_parts) == 1 and type(value_parts[0]).convert in _EXACT:
            self.value_exact = _EXACT[type(value_parts[0]).convert]
            self.value_guard = limit_field // 4 if self.value_exact is str else limit_field

    @staticmethod
    def _values(parts: Sequence[BaseIndex], limit: int) -> tuple[str, Conv, Optional[Conv]]:
        if len(parts) > 1:
            enc = _multi(parts, "value")

            def enc_multi(v: Any) -> list[Any]:
                out = enc(v)
                for x in out:
                    _check_field(x, limit)
                return list(out)

            return "msgpack", enc_multi, _decoder(parts, as_tuple=True, native_tuple=False)
        part = parts[0]
        conv = _single(part, "value")
        codec = {"str": "str", "bytes": "bytes"}.get(part.native, "msgpack")
        guard = limit // 4 if part.native in ("str", "any") else limit

        def enc_one(v: Any) -> Any:
            v = conv(v)
            if type(v) is not int and len(v) > guard:
                _check_field(v, limit)
            return v

        return codec, enc_one, _decoder(parts, as_tuple=False, native_tuple=False)

    def compare_key(self, native: Any) -> Any:
        """The value range stops are compared on (the Python key for ``Rev`` layouts)."""
        dec = self.decode_key
        if not self.rev or dec is None:
            return native
        return dec(native)

    def prefix_bounds(self, prefix: Any) -> tuple[Any, Any]:
        """``(native prefix, None)`` for one-part keys, or a ``(lo, hi)`` range for tuples.

        ``hi`` is exclusive (``None`` when the prefix has no successor).
        """
        kind = self.prefix_native
        if kind is None:
            raise SophiaError(
                "prefix search is only supported when the first key part is a string."
            )
        p = self.key_parts[0].convert(prefix) if kind is str else _as_bytes(prefix)
        if not self.multi_key:
            return p, None
        nxt = _successor(p)
        return (p,), (None if nxt is None else (nxt,))


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def _successor(p: Any) -> Any:
    """The smallest value above every value starting with ``p`` (``None``: none)."""
    if isinstance(p, bytes):
        stripped = p.rstrip(b"\xff")
        if not stripped:
            return None
        return stripped[:-1] + bytes([stripped[-1] + 1])
    stripped = p.rstrip("\U0010ffff")
    if not stripped:
        return None
    code = ord(stripped[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:
        code = 0xE000
    return stripped[:-1] + chr(code)
