"""Store adapters shared by the pytest benchmarks and ``memory.py``.

One class per store. Each operation is a method that runs the *whole* loop
itself, with the store's bound methods hoisted into locals, so the timed
region holds the calls a user would write and nothing else (no adapter call
per key). Every method returns something cheap that the caller checks after
timing (the last value or key seen), so a broken adapter cannot post a
flattering number. (Hence the ``# noqa: B007``: the loop variable is used
after the loop, on purpose.)

``OPS`` maps an operation to ``{label: method name}``; the first entry is the
store's primary way of doing it, further entries are labelled variants (shoal
has several: ``del kv[k]`` vs ``kv.discard(k)``, ``kv.items()`` vs ``kv[:]``...).

Nothing here imports a store's library at import time: a missing peer only
fails when its adapter is opened (the benchmarks skip it first).
"""

from __future__ import annotations

import bisect
import os
import random
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, ClassVar, Dict, List, Sequence, Tuple

RANGE_LEN = 100

# Knobs (environment variables; see conftest.py and README.md).
N = int(os.environ.get("SHOAL_BENCH_N", "100000"))
ROUNDS = int(os.environ.get("SHOAL_BENCH_ROUNDS", "5"))
RANGES = int(os.environ.get("SHOAL_BENCH_RANGES", "2000"))

Pairs = Sequence[Tuple[bytes, bytes]]


# --------------------------------------------------------------------------- data


@dataclass
class Data:
    """The workload: N random 16-byte keys with random 100-byte values."""

    n: int
    pairs_sorted: List[Tuple[bytes, bytes]]
    pairs_shuffled: List[Tuple[bytes, bytes]]
    keys_sorted: List[bytes]
    keys_shuffled: List[bytes]
    missing: List[bytes]
    range_starts: List[bytes]
    range_last: List[bytes]  # expected last key of each range
    value_of: Dict[bytes, bytes] = field(repr=False, default_factory=dict)


def make_data(
    n: int,
    *,
    key_size: int = 16,
    value_size: int = 100,
    ranges: int = 2000,
    seed: int = 20240601,
) -> Data:
    """Build the deterministic workload (random, incompressible bytes)."""
    rng = random.Random(seed)
    keys: set[bytes] = set()
    while len(keys) < n:
        keys.add(rng.randbytes(key_size))
    keys_sorted = sorted(keys)
    values = [rng.randbytes(value_size) for _ in range(n)]
    pairs_sorted = list(zip(keys_sorted, values))
    pairs_shuffled = pairs_sorted[:]
    rng.shuffle(pairs_shuffled)
    keys_shuffled = [k for k, _ in pairs_shuffled]
    missing: list[bytes] = []
    seen = set(keys)
    while len(missing) < n:
        k = rng.randbytes(key_size)
        if k not in seen:
            seen.add(k)
            missing.append(k)
    hi = max(1, n - RANGE_LEN + 1)
    starts = [rng.randrange(hi) for _ in range(ranges)]
    return Data(
        n=n,
        pairs_sorted=pairs_sorted,
        pairs_shuffled=pairs_shuffled,
        keys_sorted=keys_sorted,
        keys_shuffled=keys_shuffled,
        missing=missing,
        range_starts=[keys_sorted[i] for i in starts],
        range_last=[keys_sorted[min(i + RANGE_LEN, n) - 1] for i in starts],
        value_of=dict(pairs_sorted),
    )


# --------------------------------------------------------------------------- adapters


class Adapter:
    """Base class: a store opened in a directory, with one method per operation."""

    name: ClassVar[str]
    module: ClassVar[str]  # the import name of the store's library
    OPS: ClassVar[Dict[str, Dict[str, str]]]

    def __init__(self, path: str) -> None:
        self.path = path

    def close(self) -> None:
        raise NotImplementedError

    def fill(self, pairs: Pairs) -> None:
        """Populate quickly (untimed): the store's batch write."""
        getattr(self, next(iter(self.OPS["put_batch"].values())))(pairs)

    def scan(self) -> Any:
        raise NotImplementedError

    def count(self) -> int:
        """Number of items, by a full forward scan (for checks, untimed)."""
        n = 0
        for _ in self._iter_items():
            n += 1
        return n

    def first_last(self) -> Tuple[Any, Any]:
        """First and last key by forward scan (for checks, untimed)."""
        first = last = None
        for k, _ in self._iter_items():
            if first is None:
                first = k
            last = k
        return first, last

    def _iter_items(self) -> Any:
        raise NotImplementedError

    def get_value(self, key: bytes) -> Any:
        raise NotImplementedError


# Shared operation names (see OPS tables):
#   put_seq / put_random  one call per key (sorted / shuffled order)
#   put_batch             all pairs in one atomic write
#   get / get_missing     one call per key, random order
#   scan / scan_reverse   iterate every (key, value)
#   range                 one op = read RANGE_LEN items from a random start
#   delete                one call per key, random order


class Shoal(Adapter):
    name = "shoal"
    module = "shoal"
    OPS = {
        "put_seq": {"kv[k] = v": "put"},
        "put_random": {"kv[k] = v": "put"},
        "put_batch": {"kv.update(pairs)": "update", "store.batch() put/commit": "batch_obj"},
        "get": {
            "kv.get(k)": "get",
            "kv[k]": "getitem",
            "kv.get_many(keys) (one bulk call)": "get_many",
        },
        "get_missing": {"kv.get(k)": "get", "k in kv": "contains"},
        "scan": {"kv.items()": "scan_items", "kv[:]": "scan_slice"},
        "scan_reverse": {"reversed(kv.items())": "rscan_items", "kv[::-1]": "rscan_slice"},
        "range": {
            "kv.cursor(s).fetch(100)": "range_fetch",
            "islice(kv[s:], 100)": "range_islice",
        },
        "delete": {"del kv[k]": "delitem", "kv.discard(k)": "discard"},
    }

    def __init__(self, path: str, durability: str = "flush") -> None:
        super().__init__(path)
        import shoal

        self.store = shoal.open(path, durability=durability)
        self.kv = self.store.kv("bench", key="bytes", value="bytes")

    def close(self) -> None:
        self.store.close()

    def _iter_items(self) -> Any:
        return self.kv.cursor()

    def get_value(self, key: bytes) -> Any:
        return self.kv.get(key)

    def put(self, pairs: Pairs) -> None:
        kv = self.kv
        for k, v in pairs:
            kv[k] = v

    def update(self, pairs: Pairs) -> None:
        self.kv.update(pairs)

    def batch_obj(self, pairs: Pairs) -> None:
        kv = self.kv
        b = self.store.batch()
        put = b.put
        for k, v in pairs:
            put(kv, k, v)
        b.commit()

    def get(self, keys: Sequence[bytes]) -> Any:
        get = self.kv.get
        v = None
        for k in keys:
            v = get(k)
        return v

    def getitem(self, keys: Sequence[bytes]) -> Any:
        kv = self.kv
        v = None
        for k in keys:
            v = kv[k]
        return v

    def get_many(self, keys: Sequence[bytes]) -> Any:
        return self.kv.get_many(keys)[-1]

    def contains(self, keys: Sequence[bytes]) -> Any:
        kv = self.kv
        found = None
        for k in keys:
            if k in kv:
                found = k
        return found

    def scan_items(self) -> Any:
        k = None
        for k, _v in self.kv.items():  # noqa: B007
            pass
        return k

    def scan_slice(self) -> Any:
        k = None
        for k, _v in self.kv[:]:  # noqa: B007
            pass
        return k

    def rscan_items(self) -> Any:
        k = None
        for k, _v in reversed(self.kv.items()):  # noqa: B007
            pass
        return k

    def rscan_slice(self) -> Any:
        k = None
        for k, _v in self.kv[::-1]:  # noqa: B007
            pass
        return k

    def range_fetch(self, starts: Sequence[bytes]) -> Any:
        cursor = self.kv.cursor
        k = None
        for s in starts:
            for k, _v in cursor(s).fetch(RANGE_LEN):  # noqa: B007
                pass
        return k

    def range_islice(self, starts: Sequence[bytes]) -> Any:
        kv = self.kv
        k = None
        for s in starts:
            for k, _v in islice(kv[s:], RANGE_LEN):  # noqa: B007
                pass
        return k

    def delitem(self, keys: Sequence[bytes]) -> None:
        kv = self.kv
        for k in keys:
            del kv[k]

    def discard(self, keys: Sequence[bytes]) -> None:
        discard = self.kv.discard
        for k in keys:
            discard(k)


class Lmdb(Adapter):
    """LMDB: one write transaction per put/delete (autocommit), sync=False.

    Reads run inside one read transaction (the usual way to read LMDB).
    """

    name = "lmdb"
    module = "lmdb"
    OPS = {
        "put_seq": {"txn per put": "put"},
        "put_random": {"txn per put": "put"},
        "put_batch": {"one txn, cursor.putmulti": "put_batch"},
        "get": {"txn.get(k)": "get"},
        "get_missing": {"txn.get(k)": "get"},
        "scan": {"cursor()": "scan"},
        "scan_reverse": {"cursor().iterprev()": "scan_reverse"},
        "range": {"cursor.set_range + islice": "range"},
        "delete": {"txn per delete": "delete"},
    }

    def __init__(self, path: str) -> None:
        super().__init__(path)
        import lmdb

        self.env = lmdb.open(
            path,
            map_size=1 << 32,
            sync=False,
            metasync=False,
            writemap=False,
            max_dbs=0,
        )

    def close(self) -> None:
        self.env.close()

    def _iter_items(self) -> Any:
        with self.env.begin() as txn:
            yield from txn.cursor()

    def get_value(self, key: bytes) -> Any:
        with self.env.begin() as txn:
            return txn.get(key)

    def put(self, pairs: Pairs) -> None:
        begin = self.env.begin
        for k, v in pairs:
            with begin(write=True) as txn:
                txn.put(k, v)

    def put_batch(self, pairs: Pairs) -> None:
        with self.env.begin(write=True) as txn:
            txn.cursor().putmulti(pairs)

    def get(self, keys: Sequence[bytes]) -> Any:
        v = None
        with self.env.begin() as txn:
            get = txn.get
            for k in keys:
                v = get(k)
        return v

    def scan(self) -> Any:
        k = None
        with self.env.begin() as txn:
            for k, _v in txn.cursor():  # noqa: B007
                pass
        return k

    def scan_reverse(self) -> Any:
        k = None
        with self.env.begin() as txn:
            for k, _v in txn.cursor().iterprev():  # noqa: B007
                pass
        return k

    def range(self, starts: Sequence[bytes]) -> Any:
        k = None
        with self.env.begin() as txn:
            cur = txn.cursor()
            set_range, iternext = cur.set_range, cur.iternext
            for s in starts:
                set_range(s)
                for k, _v in islice(iternext(), RANGE_LEN):  # noqa: B007
                    pass
        return k

    def delete(self, keys: Sequence[bytes]) -> None:
        begin = self.env.begin
        for k in keys:
            with begin(write=True) as txn:
                txn.delete(k)


class Plyvel(Adapter):
    """LevelDB via plyvel, default options (sync=False writes)."""

    name = "plyvel"
    module = "plyvel"
    OPS = {
        "put_seq": {"db.put": "put"},
        "put_random": {"db.put": "put"},
        "put_batch": {"write_batch(transaction=True)": "put_batch"},
        "get": {"db.get": "get"},
        "get_missing": {"db.get": "get"},
        "scan": {"db.iterator()": "scan"},
        "scan_reverse": {"db.iterator(reverse=True)": "scan_reverse"},
        "range": {"islice(db.iterator(start=s), 100)": "range"},
        "delete": {"db.delete": "delete"},
    }

    def __init__(self, path: str) -> None:
        super().__init__(path)
        import plyvel

        self.db = plyvel.DB(path, create_if_missing=True)

    def close(self) -> None:
        self.db.close()

    def _iter_items(self) -> Any:
        return self.db.iterator()

    def get_value(self, key: bytes) -> Any:
        return self.db.get(key)

    def put(self, pairs: Pairs) -> None:
        put = self.db.put
        for k, v in pairs:
            put(k, v)

    def put_batch(self, pairs: Pairs) -> None:
        with self.db.write_batch(transaction=True) as wb:
            put = wb.put
            for k, v in pairs:
                put(k, v)

    def get(self, keys: Sequence[bytes]) -> Any:
        get = self.db.get
        v = None
        for k in keys:
            v = get(k)
        return v

    def scan(self) -> Any:
        k = None
        for k, _v in self.db.iterator():  # noqa: B007
            pass
        return k

    def scan_reverse(self) -> Any:
        k = None
        for k, _v in self.db.iterator(reverse=True):  # noqa: B007
            pass
        return k

    def range(self, starts: Sequence[bytes]) -> Any:
        iterator = self.db.iterator
        k = None
        for s in starts:
            for k, _v in islice(iterator(start=s), RANGE_LEN):  # noqa: B007
                pass
        return k

    def delete(self, keys: Sequence[bytes]) -> None:
        delete = self.db.delete
        for k in keys:
            delete(k)


class RocksDict(Adapter):
    """RocksDB via rocksdict, default options in raw mode (bytes, no pickling)."""

    name = "rocksdict"
    module = "rocksdict"
    OPS = {
        "put_seq": {"db.put": "put"},
        "put_random": {"db.put": "put"},
        "put_batch": {"WriteBatch + db.write": "put_batch"},
        "get": {"db.get": "get"},
        "get_missing": {"db.get": "get"},
        "scan": {"db.items()": "scan"},
        "scan_reverse": {"db.items(backwards=True)": "scan_reverse"},
        "range": {"islice(db.items(from_key=s), 100)": "range"},
        "delete": {"db.delete": "delete"},
    }

    def __init__(self, path: str) -> None:
        super().__init__(path)
        import rocksdict

        self._rocksdict = rocksdict
        self.db = rocksdict.Rdict(path, rocksdict.Options(raw_mode=True))

    def close(self) -> None:
        self.db.close()

    def _iter_items(self) -> Any:
        return self.db.items()

    def get_value(self, key: bytes) -> Any:
        return self.db.get(key)

    def put(self, pairs: Pairs) -> None:
        put = self.db.put
        for k, v in pairs:
            put(k, v)

    def put_batch(self, pairs: Pairs) -> None:
        wb = self._rocksdict.WriteBatch(raw_mode=True)
        put = wb.put
        for k, v in pairs:
            put(k, v)
        self.db.write(wb)

    def get(self, keys: Sequence[bytes]) -> Any:
        get = self.db.get
        v = None
        for k in keys:
            v = get(k)
        return v

    def scan(self) -> Any:
        k = None
        for k, _v in self.db.items():  # noqa: B007
            pass
        return k

    def scan_reverse(self) -> Any:
        k = None
        for k, _v in self.db.items(backwards=True):  # noqa: B007
            pass
        return k

    def range(self, starts: Sequence[bytes]) -> Any:
        items = self.db.items
        k = None
        for s in starts:
            for k, _v in islice(items(from_key=s), RANGE_LEN):  # noqa: B007
                pass
        return k

    def delete(self, keys: Sequence[bytes]) -> None:
        delete = self.db.delete
        for k in keys:
            delete(k)


class Sophy(Adapter):
    """Sophia via sophy 0.7: one database with a bytes key and a bytes value."""

    name = "sophy"
    module = "sophy"
    OPS = {
        "put_seq": {"db.set": "put"},
        "put_random": {"db.set": "put"},
        "put_batch": {"env.transaction()": "put_batch"},
        "get": {"db.get": "get"},
        "get_missing": {"db.get": "get"},
        "scan": {"db.items()": "scan"},
        "scan_reverse": {"db.cursor(order='<=')": "scan_reverse"},
        "range": {"islice(db.cursor(order='>=', key=s), 100)": "range"},
        "delete": {"db.delete": "delete"},
    }

    def __init__(self, path: str) -> None:
        super().__init__(path)
        from sophy import BytesIndex, Schema, Sophia

        self.env = Sophia(path)
        schema = Schema(key_parts=[BytesIndex("key")], value_parts=[BytesIndex("value")])
        self.db = self.env.add_database("bench", schema)
        self.env.open()

    def close(self) -> None:
        self.env.close()

    def _iter_items(self) -> Any:
        return self.db.items()

    def get_value(self, key: bytes) -> Any:
        return self.db.get(key)

    def put(self, pairs: Pairs) -> None:
        put = self.db.set
        for k, v in pairs:
            put(k, v)

    def put_batch(self, pairs: Pairs) -> None:
        with self.env.transaction() as txn:
            tdb = txn[self.db]
            for k, v in pairs:
                tdb[k] = v

    def get(self, keys: Sequence[bytes]) -> Any:
        get = self.db.get
        v = None
        for k in keys:
            v = get(k)
        return v

    def scan(self) -> Any:
        k = None
        for k, _v in self.db.items():  # noqa: B007
            pass
        return k

    def scan_reverse(self) -> Any:
        k = None
        for k, _v in self.db.cursor(order="<="):  # noqa: B007
            pass
        return k

    def range(self, starts: Sequence[bytes]) -> Any:
        cursor = self.db.cursor
        k = None
        for s in starts:
            for k, _v in islice(cursor(order=">=", key=s), RANGE_LEN):  # noqa: B007
                pass
        return k

    def delete(self, keys: Sequence[bytes]) -> None:
        delete = self.db.delete
        for k in keys:
            delete(k)


class PyDict(Adapter):
    """A plain ``dict``: the in-process floor, nothing persisted.

    A dict has no order by key, so its "range" op bisects a sorted key list
    built at fill time (untimed) and looks each key up: what a pure-Python
    ordered map would do. Its scans walk insertion order (= key order here).
    """

    name = "dict"
    module = "builtins"
    OPS = {
        "put_seq": {"d[k] = v": "put"},
        "put_random": {"d[k] = v": "put"},
        "put_batch": {"d.update(pairs)": "put_batch"},
        "get": {"d.get(k)": "get"},
        "get_missing": {"d.get(k)": "get"},
        "scan": {"d.items()": "scan"},
        "scan_reverse": {"reversed(d.items())": "scan_reverse"},
        "range": {"bisect sorted keys + d[k]": "range"},
        "delete": {"del d[k]": "delete"},
    }

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.d: dict[bytes, bytes] = {}
        self.sorted_keys: list[bytes] = []

    def close(self) -> None:
        self.d = {}

    def fill(self, pairs: Pairs) -> None:
        self.put_batch(pairs)
        self.sorted_keys = sorted(self.d)

    def _iter_items(self) -> Any:
        return self.d.items()

    def first_last(self) -> Tuple[Any, Any]:
        return (min(self.d), max(self.d)) if self.d else (None, None)

    def get_value(self, key: bytes) -> Any:
        return self.d.get(key)

    def put(self, pairs: Pairs) -> None:
        d = self.d
        for k, v in pairs:
            d[k] = v

    def put_batch(self, pairs: Pairs) -> None:
        self.d.update(pairs)

    def get(self, keys: Sequence[bytes]) -> Any:
        get = self.d.get
        v = None
        for k in keys:
            v = get(k)
        return v

    def scan(self) -> Any:
        k = None
        for k, _v in self.d.items():  # noqa: B007
            pass
        return k

    def scan_reverse(self) -> Any:
        k = None
        for k, _v in reversed(self.d.items()):  # noqa: B007
            pass
        return k

    def range(self, starts: Sequence[bytes]) -> Any:
        d, sk, bisect_left = self.d, self.sorted_keys, bisect.bisect_left
        k = None
        for s in starts:
            i = bisect_left(sk, s)
            for k in sk[i : i + RANGE_LEN]:
                _v = d[k]
        return k

    def delete(self, keys: Sequence[bytes]) -> None:
        d = self.d
        for k in keys:
            del d[k]


ADAPTERS: Dict[str, type[Adapter]] = {
    cls.name: cls for cls in (Shoal, Lmdb, Plyvel, RocksDict, Sophy, PyDict)
}
PEERS = [name for name in ADAPTERS if name not in ("shoal", "dict")]


def selected_adapters() -> List[type[Adapter]]:
    """Adapters to run: all, or the comma list in ``SHOAL_BENCH_STORES``."""
    only = os.environ.get("SHOAL_BENCH_STORES")
    if not only:
        return list(ADAPTERS.values())
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in ADAPTERS]
    if unknown:
        raise ValueError(f"unknown store(s) in SHOAL_BENCH_STORES: {unknown}")
    return [ADAPTERS[n] for n in names]
