"""The legacy file formats: one mapping ``{"_infos": {...}, name: [doc, ...]}``.

``sofart.serializers._json``, ``._pickle`` and ``._msgpack`` each define
``Serializer(path)`` with ``init(schema)``, ``dump(obj)`` and ``load()``, as
in the original (its test-suite reads raw files with them). Unlike the
original, ``dump`` is atomic: it serialises to a temporary file in the same
directory, flushes it to disk and renames it over the target, so a value the
format cannot hold raises and leaves the previous file intact.
"""

from __future__ import annotations

import os
import tempfile
from typing import IO, Any, Callable

__all__ = ["FileSerializer", "atomic_write"]


def atomic_write(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Replace ``path`` with what ``write`` writes, atomically (temp file + rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".sofart-", suffix=".tmp", dir=directory)
    try:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class FileSerializer:
    """``Serializer(path)`` of the original: ``init``, ``dump`` and ``load`` of one file.

    Subclasses give ``encode(obj) -> bytes`` and ``decode(bytes) -> obj``.
    """

    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]

    def __init__(self, path: str) -> None:
        self.path = path

    def init(self, schema: Any) -> None:
        """Write the initial structure."""
        self.dump(schema)

    def dump(self, dump: Any) -> None:
        """Write ``dump`` atomically (encoded fully before the file is replaced)."""
        data = type(self).encode(dump)
        atomic_write(self.path, lambda f: f.write(data))

    def load(self) -> Any:
        """Read the file."""
        with open(self.path, "rb") as f:
            return type(self).decode(f.read())
