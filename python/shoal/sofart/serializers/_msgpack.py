"""MessagePack file format, with the modern rules: text stays text, bytes stay bytes.

The original needed ``msgpack`` < 1.0; this module carries its own small
codec for the types a sofart file holds (None, bool, 64-bit ints, floats,
str, bytes, lists/tuples and maps), so no dependency is needed. Tuples are
written as arrays and read back as lists.
"""

from __future__ import annotations

import struct
from typing import Any

from . import FileSerializer

NAME = "msgpack"

_MAX_DEPTH = 512


def _pack(obj: Any, out: bytearray, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("msgpack: nesting too deep")
    t = type(obj)
    if obj is None:
        out.append(0xC0)
    elif t is bool:
        out.append(0xC3 if obj else 0xC2)
    elif t is int:
        if 0 <= obj < 0x80:
            out.append(obj)
        elif -32 <= obj < 0:
            out.append(obj & 0xFF)
        elif 0 <= obj <= 0xFFFFFFFFFFFFFFFF:
            out += b"\xcf" + obj.to_bytes(8, "big")
        elif -(1 << 63) <= obj < 0:
            out += b"\xd3" + obj.to_bytes(8, "big", signed=True)
        else:
            raise OverflowError(f"msgpack: integer {obj} does not fit in 64 bits")
    elif t is float:
        out += b"\xcb" + struct.pack(">d", obj)
    elif t is str:
        data = obj.encode("utf-8")
        _header(out, len(data), 0xA0, 31, 0xD9, 0xDA, 0xDB)
        out += data
    elif t is bytes or t is bytearray:
        _header(out, len(obj), None, 0, 0xC4, 0xC5, 0xC6)
        out += obj
    elif t is list or t is tuple:
        _header(out, len(obj), 0x90, 15, None, 0xDC, 0xDD)
        for item in obj:
            _pack(item, out, depth + 1)
    elif t is dict:
        _header(out, len(obj), 0x80, 15, None, 0xDE, 0xDF)
        for k, v in obj.items():
            _pack(k, out, depth + 1)
            _pack(v, out, depth + 1)
    else:
        raise TypeError(f"msgpack: cannot serialize a value of type {t.__name__}")


def _header(
    out: bytearray, n: int, fix: int | None, fixmax: int, b8: int | None, b16: int, b32: int
) -> None:
    if fix is not None and n <= fixmax:
        out.append(fix | n)
    elif b8 is not None and n <= 0xFF:
        out += bytes((b8, n))
    elif n <= 0xFFFF:
        out.append(b16)
        out += n.to_bytes(2, "big")
    elif n <= 0xFFFFFFFF:
        out.append(b32)
        out += n.to_bytes(4, "big")
    else:
        raise ValueError("msgpack: object too large")


def encode(obj: Any) -> bytes:
    """The file contents for ``obj`` (raises ``TypeError`` for unsupported values)."""
    out = bytearray()
    _pack(obj, out, 0)
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise ValueError("msgpack: truncated data")
        chunk = bytes(self.data[self.pos : end])
        self.pos = end
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def read(self, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError("msgpack: nesting too deep")
        b = self.uint(1)
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0xA0 <= b <= 0xBF:
            return self.take(b & 31).decode("utf-8")
        if 0x90 <= b <= 0x9F:
            return [self.read(depth + 1) for _ in range(b & 15)]
        if 0x80 <= b <= 0x8F:
            return self.map(b & 15, depth)
        simple = {0xC0: None, 0xC2: False, 0xC3: True}
        if b in simple:
            return simple[b]
        sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
        if b in sizes:
            return self.uint(sizes[b])
        ssizes = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
        if b in ssizes:
            return int.from_bytes(self.take(ssizes[b]), "big", signed=True)
        if b == 0xCA:
            return struct.unpack(">f", self.take(4))[0]
        if b == 0xCB:
            return struct.unpack(">d", self.take(8))[0]
        strs = {0xD9: 1, 0xDA: 2, 0xDB: 4}
        if b in strs:
            return self.take(self.uint(strs[b])).decode("utf-8")
        bins = {0xC4: 1, 0xC5: 2, 0xC6: 4}
        if b in bins:
            return self.take(self.uint(bins[b]))
        if b in (0xDC, 0xDD):
            n = self.uint(2 if b == 0xDC else 4)
            return [self.read(depth + 1) for _ in range(n)]
        if b in (0xDE, 0xDF):
            return self.map(self.uint(2 if b == 0xDE else 4), depth)
        raise ValueError(f"msgpack: unsupported type byte 0x{b:02x}")

    def map(self, n: int, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for _ in range(n):
            k = self.read(depth + 1)
            out[k] = self.read(depth + 1)
        return out


def decode(data: bytes) -> Any:
    """The object held in file contents ``data`` (exactly one msgpack object)."""
    reader = _Reader(data)
    obj = reader.read()
    if reader.pos != len(data):
        raise ValueError("msgpack: trailing data")
    return obj


class Serializer(FileSerializer):
    """Reads and writes one msgpack database file."""

    encode = staticmethod(encode)
    decode = staticmethod(decode)
