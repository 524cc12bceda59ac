"""``Transaction``: all-or-nothing writes with condition checks (spec section 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Set

from . import _filters, _keys
from ._filters import Filter
from .errors import DynafileError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from ._table import Dynafile, _Op


class Transaction:
    """Writes collected in ``with db.transaction() as tx:`` and applied at its end, all or nothing.

    ``tx.put_item``, ``tx.update_item``, ``tx.delete_item`` and
    ``tx.condition_check`` take the table methods' arguments. At the end of
    the block every condition is evaluated against the committed state and,
    if all hold, every write commits at once (across partitions and indexes);
    otherwise :class:`~shoal.dynafile.errors.TransactionCanceled` is raised
    with one reason per action and nothing is applied. An exception inside
    the block applies nothing. Events follow the commit, in action order. One
    item may appear only once per transaction (``ValidationError``).
    """

    def __init__(self, db: Dynafile) -> None:
        self._db = db
        self._ops: List[_Op] = []
        self._seen: Set[Any] = set()
        self._done = False
        self.results: List[Any] = []
        """After the commit: one entry per action (the new item of updates and puts)."""

    def _add(self, op: _Op) -> None:
        if self._done:
            raise DynafileError("the transaction is finished")
        ident = tuple((type(v) is bool, v) for v in op.key)
        if ident in self._seen:
            raise ValidationError(f"the item {op.key!r} appears twice in one transaction")
        self._seen.add(ident)
        self._ops.append(op)

    def put_item(self, *, item: Mapping[str, Any], condition: Optional[Filter] = None) -> None:
        """Put ``item`` (if ``condition`` holds for the current item)."""
        from ._table import _Op

        doc, key = self._db._prepare_item(item)
        self._add(_Op("put", key, doc, _filters.condition(condition)))

    def update_item(
        self,
        *,
        key: Mapping[str, Any],
        set_attributes: Optional[Mapping[str, Any]] = None,
        remove_attributes: Optional[Iterable[str]] = None,
        transform: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
        condition: Optional[Filter] = None,
    ) -> None:
        """Update the item with ``key`` as :meth:`Dynafile.update_item` does."""
        from ._table import _Op

        spec = self._db._update_spec(set_attributes, remove_attributes, transform)
        self._add(_Op("update", self._db._key(key), spec, _filters.condition(condition)))

    def delete_item(self, *, key: Mapping[str, Any], condition: Optional[Filter] = None) -> None:
        """Delete the item with ``key`` (if ``condition`` holds)."""
        from ._table import _Op

        self._add(_Op("delete", self._db._key(key), None, _filters.condition(condition)))

    def condition_check(self, *, key: Mapping[str, Any], condition: Filter) -> None:
        """Require ``condition`` to hold for the item with ``key`` (or ``{}``); writes nothing."""
        from ._table import _Op

        if condition is None:
            raise TypeError("condition_check needs a condition")
        self._add(_Op("check", self._db._key(key), None, _filters.condition(condition)))

    def add(self, action: Any) -> None:
        """Add an action given as data.

        An :class:`~shoal.dynafile.Action` (PUT/DELETE), or a one-entry dict
        ``{"put_item" | "update_item" | "delete_item" | "condition_check": {keyword
        arguments}}``.
        """
        from ._table import Action, ActionType

        if isinstance(action, Action) or (isinstance(action, tuple) and len(action) == 2):
            op, data = action
            if op == ActionType.PUT:
                self.put_item(item=data)
            elif op == ActionType.DELETE:
                self.delete_item(key=data)
            else:
                raise ValidationError(f"unknown action {op!r}")
            return
        _keys.mapping(action, "a transaction action")
        if len(action) != 1:
            raise ValidationError(f"a transaction action has exactly one entry, not {action!r}")
        ((name, kwargs),) = action.items()
        methods: Dict[str, Callable[..., None]] = {
            "put_item": self.put_item,
            "update_item": self.update_item,
            "delete_item": self.delete_item,
            "condition_check": self.condition_check,
        }
        method = methods.get(name)
        if method is None:
            raise ValidationError(f"unknown transaction action {name!r}")
        method(**_keys.mapping(kwargs, f"the arguments of {name}"))

    def commit(self) -> List[Any]:
        """Apply the actions (see the class docstring); returns :attr:`results`."""
        if self._done:
            raise DynafileError("the transaction is finished")
        self._done = True
        if self._ops:
            self.results = [new for _old, new in self._db._atomic(self._ops)]
        return self.results

    def rollback(self) -> None:
        """Discard the actions."""
        self._done = True
        self._ops = []

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.rollback()
        elif not self._done:
            self.commit()
