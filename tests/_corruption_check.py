"""Child process of test_corruption.py: opens damaged copies of a store.

Usage: python _corruption_check.py EXPECTED_JSON CASE_DIR...

For each case directory prints ``start I`` and then exactly one of

- ``ok I READ LOST``: opened; READ records read back correctly, LOST missing;
- ``corrupt I WHERE``: shoal.CorruptionError raised at WHERE (open/read);
- ``stale I DETAIL``: a record read back with one of its older values, or a
  deleted record back (as if the latest writes had not been made);
- ``wrong I DETAIL``: a record read back with a value it never had, or an
  extra one;
- ``error I TYPE MESSAGE``: any other exception.

A crash (signal) shows up as a ``start`` without a result line.
"""

from __future__ import annotations

import json
import sys

import shoal


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def mismatch(name: str, key: str, got: object, expected: dict) -> str:
    older = expected["history"].get(name, {}).get(key, [])
    want = expected["data"][name].get(key, "<deleted>")
    kind = "stale" if got in older else "wrong"
    return f"{kind} {name}[{key!r}] = {got!r:.40}, expected {want!r:.40}"


def check(path: str, expected: dict) -> str:
    where = "open"
    try:
        store = shoal.open(path)
        try:
            where = "read"
            read = lost = 0
            names = store.spaces()
            extra = sorted(set(names) - set(expected["data"]))
            if extra:
                return f"wrong unexpected spaces {extra}"
            for name, data in expected["data"].items():
                if name not in names:
                    lost += len(data)
                    continue
                kv = store.kv(name)
                seen = {}
                for k, v in kv.items():
                    if data.get(k) != v:
                        return mismatch(name, k, v, expected)
                    seen[k] = v
                for k, v in data.items():
                    got = kv.get(k)
                    if got is None:
                        if k in seen:
                            return f"wrong {name}[{k!r}] seen in scan but not by get"
                        lost += 1
                    elif got != v:
                        return mismatch(name, k, got, expected)
                    else:
                        read += 1
            return f"ok {read} {lost}"
        finally:
            store.close()
    except shoal.CorruptionError:
        return f"corrupt {where}"
    except Exception as e:  # reported to the parent, which fails the test
        msg = str(e).replace("\n", " ")[:200]
        return f"error {type(e).__name__} {msg}"


def main() -> None:
    with open(sys.argv[1]) as f:
        expected = json.load(f)
    for i, path in enumerate(sys.argv[2:]):
        say(f"start {i}")
        result = check(path, expected)
        kind, _, rest = result.partition(" ")
        say(f"{kind} {i} {rest}")


if __name__ == "__main__":
    main()
