"""Import a directory written by the original dynafile (``_partitions/*/data.pickle``).

Each partition file is a pickled ``sortedcontainers.SortedDict`` (sort key ->
item). Unpickling runs code named by the file, so the import happens only
with ``allow_pickle=True``; it then loads the files with an unpickler that
resolves ``SortedDict`` without needing ``sortedcontainers`` and refuses every
class that is not a plain container, and writes all items in one atomic
transaction. The original files are left in place; ``meta.json`` records
that they were imported.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

from .errors import DynafileError

_ALLOWED = {
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
    ("uuid", "UUID"),
    ("collections", "OrderedDict"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
}


class _SortedDict(dict):  # type: ignore[type-arg]
    """Stands in for ``sortedcontainers.SortedDict`` while unpickling."""

    def __init__(self, *args: Any) -> None:
        # SortedDict reduces to (type, (key_function, items)).
        items = args[-1] if args else ()
        super().__init__(items)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("sortedcontainers") and name == "SortedDict":
            return _SortedDict
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dynafile partition")


def original_files(path: Path) -> List[Path]:
    """The original's partition files under ``path`` (empty if there are none)."""
    return sorted((path / "_partitions").glob("*/data.pickle"))


def items(path: Path) -> Iterator[Tuple[Path, Dict[str, Any]]]:
    """Every item of the original's files, with the file it came from."""
    for file in original_files(path):
        try:
            with open(file, "rb") as f:
                tree = _Unpickler(f).load()
        except Exception as exc:
            raise DynafileError(f"cannot import {file}: {exc}") from exc
        if not isinstance(tree, dict):
            raise DynafileError(f"cannot import {file}: not a partition (a {type(tree).__name__})")
        for item in tree.values():
            if not isinstance(item, dict):
                raise DynafileError(f"cannot import {file}: an item is a {type(item).__name__}")
            yield file, item
