"""Regular expressions for the faces: linear time wherever possible.

Python's ``re`` backtracks: ``^(a+)+$`` against ``"a" * 32 + "!"`` runs for
minutes. :func:`compile` gives a matcher that uses the engine's linear-time
``_core.Regex`` whenever it keeps the pattern's meaning, and Python's ``re``
only for what that cannot express (backreferences, lookaround, bytes
patterns, ``re.VERBOSE``, ...). Its methods answer ``True``/``False``.
"""

from __future__ import annotations

import re
from typing import Any

from ._core import Regex


class Matcher:
    """``search``/``match``/``fullmatch`` answering as Python's ``re`` would."""

    def __init__(self, pattern: str | bytes | re.Pattern[Any], flags: int = 0) -> None:
        self.python = re.compile(pattern, flags)
        """The ``re`` pattern (the fallback, and for callers that need groups)."""
        self.linear: Regex | None = None
        """The linear-time pattern, or ``None`` when ``re`` must be used."""
        if isinstance(self.python.pattern, str):
            try:
                self.linear = Regex(self.python.pattern, self.python.flags)
            except ValueError:
                self.linear = None

    def _answer(self, how: str, text: Any) -> bool:
        if self.linear is not None and type(text) is str:
            try:
                return bool(getattr(self.linear, how)(text))
            except UnicodeEncodeError:  # lone surrogates: only re reads them
                pass
        return getattr(self.python, how)(text) is not None

    def search(self, text: Any) -> bool:
        """Whether the pattern matches anywhere in ``text``."""
        return self._answer("search", text)

    def match(self, text: Any) -> bool:
        """Whether the pattern matches at the start of ``text``."""
        return self._answer("match", text)

    def fullmatch(self, text: Any) -> bool:
        """Whether the pattern matches all of ``text``."""
        return self._answer("fullmatch", text)


def compile(pattern: str | bytes | re.Pattern[Any], flags: int = 0) -> Matcher:  # noqa: A001
    """A :class:`Matcher` for ``pattern`` (as ``re.compile(pattern, flags)``)."""
    return Matcher(pattern, flags)
