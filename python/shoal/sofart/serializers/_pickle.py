"""Pickle file format: a pickle of the whole database mapping.

Unpickling runs code named by the file, so :class:`shoal.sofart.Database`
imports an existing pickle file only with ``allow_pickle=True``; this module's
``load()`` (a raw reader, as in the original) does what it is told.
"""

from __future__ import annotations

import pickle
from typing import Any

from . import FileSerializer

NAME = "pickle"


def encode(obj: Any) -> bytes:
    """The file contents for ``obj``."""
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> Any:
    """The mapping held in file contents ``data`` (runs the pickle: trusted files only)."""
    return pickle.loads(data)  # noqa: S301 - callers gate this on allow_pickle


class Serializer(FileSerializer):
    """Reads and writes one pickle database file (``load`` unpickles it)."""

    encode = staticmethod(encode)
    decode = staticmethod(decode)
