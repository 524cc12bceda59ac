"""Child process of test_hostile_input.py: runs hostile cases, one fresh store each.

Reads a JSON list of ``[name, body, directory]`` on stdin; ``body`` is the
indented body of a function ``case()`` that sees ``store``, ``kv`` (default
codecs), ``raw`` (bytes keys and values), ``coll`` (a collection with an index
on ``f``), the helpers below, ``math``, ``os``, ``re`` and ``shoal``. Prints one
JSON line per case as soon as it is done: the outcome (``ok`` or the
exception's class name), whether the store was still readable after the case
and after reopening, and the files beside the store.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from typing import Any

import shoal


def nest_list(n: int) -> Any:
    v: Any = 1
    for _ in range(n):
        v = [v]
    return v


def nest_dict(n: int) -> Any:
    v: Any = 1
    for _ in range(n):
        v = {"a": v}
    return v


def nest_tuple(n: int) -> Any:
    v: Any = 1
    for _ in range(n):
        v = (v,)
    return v


def nest_and(n: int) -> dict[str, Any]:
    f: dict[str, Any] = {"f": "seed"}
    for _ in range(n):
        f = {"$and": [f]}
    return f


def roundtrip(space: Any, key: Any, value: Any) -> bool:
    space[key] = value
    back = space[key]
    assert back == value or (value != value and back != back), (back, value)
    return True


def run(body: str, root: str) -> dict[str, Any]:
    path = os.path.join(root, "db")
    store = shoal.open(path)
    kv = store.kv("k")
    coll = store.collection("c")
    coll.create_index("f")
    kv["seed"] = "seed"
    coll.insert({"_id": "seed", "f": "seed", "a": "a" * 32 + "!"})
    ns: dict[str, Any] = dict(globals())
    ns.update(store=store, kv=kv, coll=coll, raw=store.kv("raw", key="bytes", value="bytes"))
    t0 = time.perf_counter()
    try:
        exec("def case():\n" + body, ns)
        r = ns["case"]()
        out: dict[str, Any] = {"outcome": "ok", "result": repr(r)[:300]}
    except BaseException as e:  # a panic (PanicException) is a BaseException
        out = {"outcome": type(e).__name__, "module": type(e).__module__, "message": str(e)[:300]}
    out["seconds"] = time.perf_counter() - t0
    out["readable"] = (
        kv["seed"] == "seed"
        and coll.get("seed")["f"] == "seed"
        and [d["_id"] for d in coll.find({"f": "seed"})] == ["seed"]
    )
    store.close()
    with shoal.open(path) as again:
        out["reopened"] = again.kv("k")["seed"] == "seed" and [
            d["_id"] for d in again.collection("c").find({"f": "seed"})
        ] == ["seed"]
    out["files"] = sorted(os.listdir(root))
    return out


def main() -> None:
    for name, body, root in json.loads(sys.stdin.read()):
        print(json.dumps({"name": name, **run(body, root)}), flush=True)


if __name__ == "__main__":
    _ = (math, re)  # for the cases
    main()
