"""Change events: ``Event``, ``EventListener`` and ``Dispatcher`` (as ``dynafile.dispatcher``)."""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, List, NamedTuple, Optional


class Event(NamedTuple):
    """One committed change: ``action`` is ``"PUT"`` or ``"DELETE"``.

    ``new`` is the item after the change (``None`` for a delete), ``old`` the
    item before it (``None`` when there was none). A NamedTuple, so it compares
    equal to a plain tuple ``(action, new, old)``.
    """

    action: str
    """``"PUT"`` or ``"DELETE"``."""
    new: Optional[dict]
    """The item after the change, or ``None``."""
    old: Optional[dict]
    """The item before the change, or ``None``."""


EventListener = Callable[[Event], Any]
"""A callable receiving one :class:`Event`."""


class Dispatcher:
    """Listeners called synchronously, in registration order.

    A listener that raises does not stop the others: its exception goes to
    ``sys.unraisablehook`` (the write it reports has already committed).
    """

    def __init__(self) -> None:
        self._listeners: List[EventListener] = []
        self._lock = threading.Lock()

    def connect(self, listener: EventListener) -> None:
        """Register ``listener`` for every later event."""
        if not callable(listener):
            raise TypeError(f"a listener must be callable, not {type(listener).__name__}")
        with self._lock:
            self._listeners = [*self._listeners, listener]

    def remove(self, listener: EventListener) -> None:
        """Unregister ``listener`` (``ValueError`` if it was not registered)."""
        with self._lock:
            listeners = list(self._listeners)
            listeners.remove(listener)
            self._listeners = listeners

    def __len__(self) -> int:
        return len(self._listeners)

    def emit(self, event: Event) -> None:
        """Call every listener with ``event``."""
        for listener in self._listeners:
            try:
                listener(event)
            except Exception as exc:  # noqa: BLE001 - reported, never undoes the write
                hook = getattr(sys, "unraisablehook", None)
                if hook is None:  # pragma: no cover - always present on 3.8+
                    raise
                hook(_Unraisable(exc, listener))


class _Unraisable:
    """The argument ``sys.unraisablehook`` expects."""

    def __init__(self, exc: BaseException, listener: Any) -> None:
        self.exc_type = type(exc)
        self.exc_value = exc
        self.exc_traceback = exc.__traceback__
        self.err_msg = "Exception ignored in dynafile stream listener"
        self.object = listener


__all__ = ["Dispatcher", "Event", "EventListener"]
