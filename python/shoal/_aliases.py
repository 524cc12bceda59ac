"""Serve ``import sofart`` (and the other original packages) from shoal's faces.

:func:`install_aliases` puts one finder at the front of ``sys.meta_path``.
It answers for the original top-level names and every submodule under them
(``sofart.database``, ``dynafile.dispatcher``, ``datastore.store``...) by
importing the face's module (``shoal.sofart.database``...) and handing back
that very module object, so ``sys.modules["sofart"] is shoal.sofart`` and
classes compare identical whichever name imported them. Nothing is done
until it is called: the real packages, if installed, stay importable in a
process that does not call it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

#: Original top-level package name -> the shoal face serving it.
ALIASES: dict[str, str] = {
    "sofart": "shoal.sofart",
    "sophy": "shoal.sophy",
    "microdb": "shoal.microdb",
    "dynafile": "shoal.dynafile",
    "datastore": "shoal.datastore",
}


def _target(fullname: str) -> str | None:
    """The shoal module name an aliased import stands for, else None."""
    top, dot, rest = fullname.partition(".")
    face = ALIASES.get(top)
    if face is None:
        return None
    return face + dot + rest


class _AliasLoader(importlib.abc.Loader):
    """Hands back the face's already-imported module instead of creating one."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        # The import system set __spec__ to the alias's spec; the module keeps
        # its own (reload(), pickling and tools look at it).
        module.__spec__ = self.spec


class AliasFinder(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` finder mapping the original names to shoal's faces."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for ``fullname`` if it is an aliased name whose face module exists."""
        name = _target(fullname)
        if name is None:
            return None
        top = fullname.partition(".")[0]
        if top != fullname and sys.modules.get(top) is not sys.modules.get(ALIASES[top]):
            return None  # the real package was imported first: its submodules stay real
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise  # the face itself failed to import something: show that
            return None  # no such submodule in the face: a normal ImportError follows
        is_package = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(module), is_package=is_package
        )


def install_aliases() -> list[str]:
    """Make ``import sofart``, ``sophy``, ``microdb``, ``dynafile`` and ``datastore`` use shoal.

    After this call those imports (and their submodules, e.g.
    ``from sofart.database import Database`` or ``from datastore.store import
    Datastore``) give shoal's faces, even where the original packages are
    installed, so an unchanged script written for one of them runs on shoal.
    ``python -m shoal run script.py`` does this before running a script.

    Idempotent. A name already imported from the real package before the
    call is left alone (a :class:`RuntimeWarning` says so), since modules
    holding it could not be switched over. Returns the aliased names.
    """
    if not any(isinstance(f, AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
    aliased = []
    for name, face in ALIASES.items():
        loaded = sys.modules.get(name)
        if loaded is None or loaded is sys.modules.get(face):
            aliased.append(name)
        else:
            warnings.warn(
                f"shoal.install_aliases(): {name!r} was already imported from "
                f"{getattr(loaded, '__file__', None) or 'elsewhere'}; it keeps using that "
                f"module (call install_aliases() before importing it)",
                RuntimeWarning,
                stacklevel=2,
            )
    return aliased
