"""Helpers shared by the test modules (not a test module itself)."""

from __future__ import annotations

import math
import os
from typing import Any, Callable

# Rank of each key type in the "any" codec order:
# None < numbers < str < tuple < bytes < False < True.
_NONE, _NUMBER, _STR, _TUPLE, _BYTES, _BOOL = range(6)


def model_key(key: Any) -> tuple:
    """Sort key reproducing the order of the "any" key codec.

    Two keys are the same store key exactly when their model keys are equal
    (so ``1`` and ``1.0`` collide, ``True`` and ``1`` do not, and every NaN
    is one key); the model key is hashable and usable as a dict key.
    """
    if key is None:
        return (_NONE,)
    if isinstance(key, bool):
        return (_BOOL, key)
    if isinstance(key, (int, float)):
        if isinstance(key, float) and math.isnan(key):
            return (_NUMBER, 0)
        return (_NUMBER, 1, key)
    if isinstance(key, str):
        return (_STR, key)
    if isinstance(key, tuple):
        return (_TUPLE, tuple(model_key(k) for k in key))
    if isinstance(key, bytes):
        return (_BYTES, key)
    raise TypeError(f"not a key: {key!r}")


def same_key(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same store key."""
    return model_key(a) == model_key(b)


def dir_listing(path: os.PathLike[str] | str) -> list[str]:
    """Every path below ``path`` (relative), sorted: to detect stray files."""
    out = []
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            out.append(os.path.relpath(os.path.join(root, name), path))
    return sorted(out)


LETTERS = {c: i for i, c in enumerate("abcdefghij")}


DURABILITIES = ["sync", "flush", "memory"]


def assert_all_raise(exc: type[BaseException], calls: dict[str, Callable[[], object]]) -> None:
    """Asserts that every call raises ``exc``; lists the ones that do not."""
    failures = []
    for name, call in calls.items():
        try:
            result = call()
        except exc:
            continue
        except Exception as e:  # the wrong error
            failures.append(f"{name}: raised {type(e).__name__}: {e}")
        else:
            failures.append(f"{name}: returned {result!r:.80}")
    assert not failures, f"expected {exc.__name__} from every call:\n" + "\n".join(failures)


def damage_largest_table(store_path: os.PathLike[str] | str) -> None:
    """Flips 16 bytes in the middle of a closed store's largest table file.

    Reading the space that owns it then raises ``CorruptionError`` part way.
    """
    from pathlib import Path

    tables = [p for p in Path(store_path).glob("keyspaces/*/tables/*") if p.is_file()]
    largest = max(tables, key=lambda p: p.stat().st_size)
    with open(largest, "r+b") as f:
        f.seek(largest.stat().st_size // 2)
        f.write(b"\xff" * 16)


def shoal_cli(*args: Any, timeout: float = 120) -> Any:
    """Runs ``python -m shoal ARGS`` in a subprocess (text output captured)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "shoal", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def cli_ok(*args: Any) -> str:
    """Runs the ``shoal`` command, asserts it succeeded; its stdout."""
    r = shoal_cli(*args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def cli_fails(*args: Any, says: str) -> None:
    """Runs the ``shoal`` command, asserts one error line (exit 1) that says ``says``."""
    r = shoal_cli(*args)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(f"shoal {args[0]}: error: "), r.stderr
    assert says in r.stderr, r.stderr
