"""Child process of test_crash.py: writes acknowledged records until killed.

Usage: python _crash_child.py DB_PATH SEED FIRST_ID [DURABILITY]

Protocol on stdout, one line per event, flushed at once:

- ``opening`` before ``shoal.open``, ``open`` after it returned;
- ``P key`` after ``kv[key] = make_value(key)`` returned;
- ``T n`` after a transaction writing ``t{n}.0``, ``t{n}.1``, ``t{n}.2`` committed;
- ``d key`` before and ``D key`` after ``del kv[key]`` (of an earlier ``P`` key).

Every value is ``make_value(key)``, so any record read back can be checked.
"""

from __future__ import annotations

import random
import sys
import zlib

TXN_SIZE = 3


def make_value(key: str) -> list:
    """The one correct value of ``key`` (self-checking, variable length)."""
    crc = zlib.crc32(key.encode())
    return [key, crc, "x" * (crc % 64)]


def txn_keys(n: int) -> list[str]:
    return [f"t{n}.{j}" for j in range(TXN_SIZE)]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    path, seed, first_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    durability = sys.argv[4] if len(sys.argv) > 4 else "sync"
    rng = random.Random(seed)
    say("opening")
    import shoal

    store = shoal.open(path, durability=durability)
    kv = store.kv("crash", key="str")
    say("open")
    deletable = list(kv.cursor(prefix="p", values=False).fetch(200))
    n = first_id
    while True:
        n += 1
        r = rng.random()
        if r < 0.55 or (r >= 0.85 and not deletable):
            key = f"p{n}"
            kv[key] = make_value(key)
            deletable.append(key)
            say(f"P {key}")
        elif r < 0.85:
            with kv.transaction() as tx:
                for key in txn_keys(n):
                    tx[key] = make_value(key)
            say(f"T {n}")
        else:
            key = deletable.pop(rng.randrange(len(deletable)))
            say(f"d {key}")
            del kv[key]
            say(f"D {key}")


if __name__ == "__main__":
    main()
