"""Pickle file format: a pickle of the whole database mapping.

Unpickling runs code named by the file, so :class:`shoal.sofart.Database`
imports an existing pickle file only with ``allow_pickle=True``; this module's
``load()`` (a raw reader, as in the original) does what it is told.
"""

from __future__ import annotations

import pickle
from typing import Any

from . import atomic_write

NAME = "pickle"


def encode(obj: Any) -> bytes:
    """The file contents for ``obj``."""
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> Any:
    """The mapping held in file contents ``data`` (runs the pickle: trusted files only)."""
    return pickle.loads(data)  # noqa: S301 - callers gate this on allow_pickle


class Serializer:
    """Reads and writes one pickle database file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def init(self, schema: Any) -> None:
        """Write the initial structure."""
        self.dump(schema)

    def dump(self, dump: Any) -> None:
        """Write ``dump`` atomically (pickled fully before the file is replaced)."""
        data = encode(dump)
        atomic_write(self.path, lambda f: f.write(data))

    def load(self) -> Any:
        """Read the file (unpickles it)."""
        with open(self.path, "rb") as f:
            return decode(f.read())
