"""Exceptions of the datastore face (the same classes on every backend).

- :class:`IntegrityError`: a view row broke a constraint of its table
  (``unique``, a unique index, ``nullable=False``). Nothing of the call was
  written. A unique violation is also a :class:`shoal.DuplicateKeyError`
  (so ``except KeyError`` catches it too); on the SQL backend the
  SQLAlchemy error is the ``__cause__``.
- :class:`RevisionConflict`: ``put`` of a document whose ``_rev`` is not the
  stored revision (someone changed or deleted it since it was read). It is a
  :class:`shoal.ConflictError`; re-read the document and apply the change
  again.
"""

from __future__ import annotations

import shoal

__all__ = ["IntegrityError", "RevisionConflict", "UniqueViolation"]


class IntegrityError(shoal.Error, ValueError):
    """A view row broke a constraint of its table; nothing was written."""


class UniqueViolation(IntegrityError, shoal.DuplicateKeyError):
    """A view row repeated a value of a unique column or index."""

    def __str__(self) -> str:
        # KeyError would quote the message; show it as written.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class RevisionConflict(shoal.ConflictError):
    """``put`` with a stale ``_rev``: the stored document changed since it was read."""
