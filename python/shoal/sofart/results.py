"""pymongo-style result objects returned by the ``insert_*``/``update_*``/``delete_*`` methods."""

from __future__ import annotations

from typing import Any


class InsertOneResult:
    """The outcome of ``insert_one``."""

    __slots__ = ("inserted_id",)
    acknowledged = True

    def __init__(self, inserted_id: Any) -> None:
        self.inserted_id = inserted_id

    def __repr__(self) -> str:
        return f"InsertOneResult({self.inserted_id!r})"


class InsertManyResult:
    """The outcome of ``insert_many``."""

    __slots__ = ("inserted_ids",)
    acknowledged = True

    def __init__(self, inserted_ids: list[Any]) -> None:
        self.inserted_ids = inserted_ids

    def __repr__(self) -> str:
        return f"InsertManyResult({self.inserted_ids!r})"


class UpdateResult:
    """The outcome of ``update_one``, ``update_many`` and ``replace_one``."""

    __slots__ = ("matched_count", "modified_count", "upserted_id")
    acknowledged = True

    def __init__(self, matched_count: int, modified_count: int, upserted_id: Any = None) -> None:
        self.matched_count = matched_count
        self.modified_count = modified_count
        self.upserted_id = upserted_id

    def __repr__(self) -> str:
        return (
            f"UpdateResult(matched_count={self.matched_count}, "
            f"modified_count={self.modified_count}, upserted_id={self.upserted_id!r})"
        )


class DeleteResult:
    """The outcome of ``delete_one`` and ``delete_many``."""

    __slots__ = ("deleted_count",)
    acknowledged = True

    def __init__(self, deleted_count: int) -> None:
        self.deleted_count = deleted_count

    def __repr__(self) -> str:
        return f"DeleteResult(deleted_count={self.deleted_count})"
