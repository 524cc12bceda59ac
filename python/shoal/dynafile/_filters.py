"""Turn a ``Filter`` (``None``, a callable or a filter string) into what a read needs."""

from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional, Union

from . import _feval, _fmongo, _fparse

Filter = Union[Callable[[Dict[str, Any]], Any], str]
"""A filter: a callable (truthiness of its result decides) or a filter string."""


class Compiled(NamedTuple):
    """A filter split into the part the engine runs and the part Python runs."""

    mongo: Optional[Dict[str, Any]]
    """MongoDB filter evaluated in Rust (``None``: nothing)."""
    python: Optional[Callable[[Dict[str, Any]], Any]]
    """Predicate applied to the returned items (``None``: nothing)."""


_NOTHING = Compiled(None, None)


def compile_filter(flt: Optional[Filter]) -> Compiled:
    """Split ``flt`` into the engine's part and Python's part.

    A string compiles to an engine filter (or a Python predicate when the
    engine has no equivalent); a callable runs in Python.

    Raises :class:`~shoal.dynafile.errors.FilterSyntaxError` for a string that
    does not parse, ``TypeError`` for anything else that is not a filter.
    """
    if flt is None:
        return _NOTHING
    if isinstance(flt, str):
        tree = _fparse.parse(flt)
        try:
            return Compiled(_fmongo.compile_filter(tree), None)
        except _fmongo.Unsupported:
            return Compiled(None, _feval.predicate(tree))
    if callable(flt):
        return Compiled(None, flt)
    raise TypeError(f"a filter must be a callable or a str, not {type(flt).__name__}")


def python_only(flt: Filter) -> Callable[[Dict[str, Any]], Any]:
    """``flt`` as a Python predicate over one item (used when the engine refuses a filter)."""
    if isinstance(flt, str):
        return _feval.predicate(_fparse.parse(flt))
    return flt


def condition(cond: Optional[Filter]) -> Optional[Callable[[Dict[str, Any]], Any]]:
    """A ``condition=`` argument as a predicate over the current item (or ``{}``)."""
    if cond is None:
        return None
    if isinstance(cond, str):
        return _feval.predicate(_fparse.parse(cond))
    if callable(cond):
        return cond
    raise TypeError(f"a condition must be a callable or a str, not {type(cond).__name__}")
