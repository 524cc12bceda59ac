"""JSON file format (the default): UTF-8 JSON text of the whole database."""

from __future__ import annotations

import json
from typing import Any

from . import FileSerializer

NAME = "json"


def encode(obj: Any) -> bytes:
    """The file contents for ``obj`` (raises ``TypeError``/``ValueError`` if not JSON)."""
    return json.dumps(obj).encode("utf-8")


def decode(data: bytes) -> Any:
    """The mapping held in file contents ``data``."""
    return json.loads(data.decode("utf-8"))


class Serializer(FileSerializer):
    """Reads and writes one JSON database file."""

    encode = staticmethod(encode)
    decode = staticmethod(decode)
