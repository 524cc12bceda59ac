"""What each file format can hold, checked when a document is saved.

The engine stores more types than JSON or msgpack files can hold (bytes,
datetimes, UUIDs, Decimals). A value the database's serializer cannot write
must fail at ``save()`` (nothing written), not later at ``sync()``.
"""

from __future__ import annotations

from typing import Any

_JSON = (str, int, float, bool, type(None))
_MSGPACK = (str, int, float, bool, type(None), bytes)
_INT64 = (-(1 << 63), (1 << 64) - 1)


def check(value: Any, serializer: str) -> None:
    """Raise ``TypeError`` if the ``serializer`` file format cannot hold ``value``."""
    if serializer == "pickle":
        return
    scalars = _JSON if serializer == "json" else _MSGPACK
    msgpack = serializer == "msgpack"
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            for item in v.values():  # keys: the engine accepts str only
                ti = type(item)
                if ti in scalars:
                    if msgpack and ti is int and not _INT64[0] <= item <= _INT64[1]:
                        _refuse(item, serializer)
                else:
                    stack.append(item)
        elif t is list or t is tuple:
            stack.extend(v)
        elif t not in scalars or (msgpack and t is int and not _INT64[0] <= v <= _INT64[1]):
            _refuse(v, serializer)


def _refuse(v: Any, serializer: str) -> None:
    if type(v) is int:
        raise TypeError(f"the {serializer} serializer cannot store the integer {v}")
    raise TypeError(
        f"the {serializer} serializer cannot store a value of type {type(v).__name__} "
        f"(use serializer='pickle')"
    )


def restore_tuples(doc: dict[str, Any], paths: list[list[Any]]) -> None:
    """Turn the lists at ``paths`` (outermost first) back into tuples, in place."""
    for path in sorted(paths, key=len, reverse=True):
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        parent[last] = tuple(parent[last])


def tuple_paths(value: Any) -> list[list[Any]]:
    """Paths (keys and indexes) of the tuples inside ``value``."""
    found: list[list[Any]] = []
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        v, path = stack.pop()
        t = type(v)
        if t is dict:
            stack.extend((item, [*path, k]) for k, item in v.items())
        elif t is list or t is tuple:
            if t is tuple and path:
                found.append(path)
            stack.extend((item, [*path, i]) for i, item in enumerate(v))
    return found
