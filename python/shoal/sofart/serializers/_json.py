"""JSON file format (the default): UTF-8 JSON text of the whole database."""

from __future__ import annotations

import json
from typing import Any

from . import atomic_write

NAME = "json"


def encode(obj: Any) -> bytes:
    """The file contents for ``obj`` (raises ``TypeError``/``ValueError`` if not JSON)."""
    return json.dumps(obj).encode("utf-8")


def decode(data: bytes) -> Any:
    """The mapping held in file contents ``data``."""
    return json.loads(data.decode("utf-8"))


class Serializer:
    """Reads and writes one JSON database file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def init(self, schema: Any) -> None:
        """Write the initial structure."""
        self.dump(schema)

    def dump(self, dump: Any) -> None:
        """Write ``dump`` atomically (encoded fully before the file is replaced)."""
        data = encode(dump)
        atomic_write(self.path, lambda f: f.write(data))

    def load(self) -> Any:
        """Read the file."""
        with open(self.path, "rb") as f:
            return decode(f.read())
