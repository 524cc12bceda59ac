"""Legacy ``View``: a named, read-only, point-in-time snapshot of one database."""

from __future__ import annotations

from typing import Any

import shoal

from ._errors import VIEW_READ_ONLY, SophiaError, engine_error
from ._reader import Reader


class View(Reader):
    """A read-only snapshot of a database as of its creation (``db.view(name)``).

    Reads (``v[k]``, ``in``, iteration, slices, ``keys()``/``values()``/
    ``items()``, ``len()``, ``cursor()``) see the data as it was; writes raise
    ``ValueError('Views are read-only.')``. ``close()`` releases the snapshot.
    Several views may share a name.
    """

    def __init__(self, db: Any, name: str) -> None:
        store = db._env._store
        if store is None:
            raise SophiaError("Sophia environment is closed.")
        self.name = name
        self.db = db
        self._legacy = db._legacy
        self._set_layout(db._layout)
        try:
            self._snapshot = store.snapshot()
            self._src = shoal.SnapshotKV(self._snapshot, db._src)
        except shoal.Error as exc:
            raise engine_error(exc) from None

    def __setitem__(self, key: Any, value: Any) -> None:
        raise ValueError(VIEW_READ_ONLY)

    def __delitem__(self, key: Any) -> None:
        raise ValueError(VIEW_READ_ONLY)

    def close(self) -> bool:
        """Release the snapshot."""
        self._snapshot.close()
        return True

    def __enter__(self) -> View:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<sophy View {self.name!r} of {self.db.name!r}>"
