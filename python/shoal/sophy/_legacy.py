"""Legacy (0.1.x) entry points: :func:`connect` and :class:`SimpleDatabase`."""

from __future__ import annotations

import os
from typing import Any, Iterator, Optional

from ._cursor import Cursor
from ._database import Database
from ._env import Sophia
from ._transaction import LegacyTransaction
from ._view import View


def connect(data_dir: str, db_name: str, index_type: Any = None) -> Database:
    """Open the environment at ``data_dir`` with one database ``db_name`` and return it.

    The environment is ``db.sophia``. Several ``connect()`` calls may name
    different databases of one directory.
    """
    env = Sophia(data_dir, [(db_name, "string" if index_type is None else index_type)])
    return env[db_name]


class SimpleDatabase(Sophia):
    """An environment holding one database named after a file name.

    ``SimpleDatabase('dir/mydb.sdb')`` uses directory ``dir`` and database
    ``mydb`` (the base name up to the first dot, ``'default'`` if empty), and
    proxies the dict protocol, ``cursor()``, ``update()``, ``transaction()``
    and ``view()`` to it.
    """

    def __init__(self, filename: str, index_type: Any = None, auto_open: bool = True) -> None:
        filename = os.fspath(filename)
        directory = os.path.dirname(filename) or "."
        self.db_name = os.path.basename(filename).split(".", 1)[0] or "default"
        super().__init__(
            directory,
            [(self.db_name, "string" if index_type is None else index_type)],
            auto_open=auto_open,
        )

    @property
    def db(self) -> Database:
        """The database."""
        return self._dbs[self.db_name]

    def __getitem__(self, key: Any) -> Any:
        return self.db[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.db[key] = value

    def __delitem__(self, key: Any) -> None:
        del self.db[key]

    def __contains__(self, key: Any) -> bool:
        return key in self.db

    def __iter__(self) -> Iterator[Any]:
        return iter(self.db)

    def __len__(self) -> int:
        return len(self.db)

    def keys(self) -> Any:
        """The keys, ascending."""
        return self.db.keys()

    def values(self) -> Any:
        """The values, in key order."""
        return self.db.values()

    def items(self) -> Any:
        """``(key, value)`` pairs, ascending."""
        return self.db.items()

    def get_range(self, start: Any = None, stop: Any = None, reverse: bool = False) -> Any:
        """See :meth:`Database.get_range`."""
        return self.db.get_range(start, stop, reverse)

    def cursor(
        self,
        order: str = ">=",
        key: Any = None,
        prefix: Any = None,
        keys: bool = True,
        values: bool = True,
    ) -> Cursor:
        """See :meth:`Database.cursor`."""
        return self.db.cursor(order, key, prefix, keys, values)

    def update(self, _data: Optional[dict[Any, Any]] = None, **kwargs: Any) -> None:
        """Atomic batch write (see :meth:`Database.update`)."""
        self.db.update(_data, **kwargs)

    def transaction(self) -> LegacyTransaction:
        """A transaction on the database."""
        return self.db.transaction()

    def view(self, name: str) -> View:
        """A read-only snapshot of the database."""
        return self.db.view(name)
