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
from typing import IO, Callable

__all__ = ["atomic_write"]


def atomic_write(path: str, write: Callable[[IO[bytes]], None]) -> None:
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
