"""sophy face benchmarks: ``shoal.sophy`` side by side with the real ``sophy`` (Sophia).

The same code runs on both modules (the 0.7 API, one database with a
``BytesIndex`` key and value, the key/value suite's workload: N random 16-byte
keys, 100-byte values). The real ``sophy`` is skipped when not installed.
Groups are prefixed ``sophy_``; ``extra_info`` uses ``face_*`` keys so that
``report.py`` (the key/value table) leaves these rows alone. Print the table
with ratios::

    pytest benches/test_sophy.py --benchmark-only --benchmark-json=sophy.json -p no:cacheprovider
    python benches/test_sophy.py sophy.json          # --stat median|mean (default min)
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from typing import Any, Callable, Dict, Iterator, Optional, Sequence

import pytest
from _stores import RANGE_LEN, ROUNDS, Adapter, Data, N, Sophy

MODULES = ["shoal.sophy", "sophy"]
LABEL = {"shoal.sophy": "shoal.sophy", "sophy": "sophy (Sophia)"}


class Face(Sophy):
    """One environment of ``module`` with one bytes -> bytes database.

    The operations the key/value suite times on the real sophy (``put``,
    ``put_batch`` through ``env.transaction()``, ``get``, ``scan``,
    ``scan_reverse``, ``range``, ``delete``) are inherited from its adapter, so
    both modules run exactly that code; the extra variants are below.
    """

    name = "sophy-face"

    def __init__(self, module: str, path: str) -> None:
        Adapter.__init__(self, path)
        self.m = importlib.import_module(module)
        self.open()

    def open(self) -> None:
        m = self.m
        self.env = m.Sophia(self.path)
        schema = m.Schema([m.BytesIndex("key")], [m.BytesIndex("value")])
        self.db = self.env.add_database("bench", schema)
        self.env.open()

    def put_setitem(self, pairs: Sequence[Any]) -> None:
        db = self.db
        for k, v in pairs:
            db[k] = v

    def multi_set(self, pairs: Dict[bytes, bytes]) -> None:
        self.db.multi_set(pairs)

    def multi_get(self, keys: Sequence[bytes]) -> Any:
        return self.db.multi_get(keys)[-1]

    def scan_slice(self) -> Any:
        k = None
        for k, _v in self.db[:]:  # noqa: B007
            pass
        return k

    def reopen(self, key: bytes) -> Any:
        self.open()
        return self.db.get(key)

    def count(self) -> int:
        return sum(1 for _ in self.db.keys())


def module_or_skip(module: str) -> None:
    if module == "sophy":
        pytest.importorskip("sophy")


def describe(benchmark: Any, op: str, module: str, variant: str, ops: int, items: int) -> None:
    benchmark.group = f"sophy_{op}"
    benchmark.extra_info.update(
        face_op=op, face_store=module, face_variant=variant, face_ops=ops, face_items=items, n=N
    )


@pytest.fixture(scope="module")
def filled(data: Data, fresh_path: Callable[[str], str]) -> Iterator[Callable[[str], Face]]:
    opened: Dict[str, Face] = {}

    def get(module: str) -> Face:
        if module not in opened:
            face = Face(module, fresh_path(module.replace(".", "-")))
            face.multi_set(dict(data.pairs_sorted))
            opened[module] = face
        return opened[module]

    yield get
    for face in opened.values():
        face.close()


def run_write(
    benchmark: Any,
    fresh_path: Callable[[str], str],
    module: str,
    fn: Callable[[Face], None],
    data: Data,
    *,
    prefill: bool = False,
    expect: int,
) -> None:
    module_or_skip(module)

    def setup() -> Any:
        face = Face(module, fresh_path(module.replace(".", "-")))
        if prefill:
            face.multi_set(dict(data.pairs_sorted))
        return (face,), {}

    def teardown(face: Face) -> None:
        try:
            assert face.count() == expect
        finally:
            face.close()
            shutil.rmtree(face.path, ignore_errors=True)

    benchmark.pedantic(fn, setup=setup, teardown=teardown, rounds=ROUNDS)


# (group, variant, Face method, workload attribute, prefilled store)
WRITES = [
    ("put_seq", "db.set(k, v)", "put", "pairs_sorted", False),
    ("put_random", "db.set(k, v)", "put", "pairs_shuffled", False),
    ("put_random", "db[k] = v", "put_setitem", "pairs_shuffled", False),
    ("put_batch", "db.multi_set(dict)", "multi_set", "batch", False),
    ("put_batch", "env.transaction()", "put_batch", "pairs_shuffled", False),
    ("delete", "db.delete(k)", "delete", "keys_shuffled", True),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("op,variant,method,arg,prefill", WRITES, ids=[w[1] for w in WRITES])
def test_write(benchmark, data, fresh_path, module, op, variant, method, arg, prefill):
    if not hasattr(data, "batch"):
        data.batch = dict(data.pairs_shuffled)  # type: ignore[attr-defined]
    describe(benchmark, op, module, variant, data.n, data.n)
    expect = 0 if op == "delete" else data.n
    workload = getattr(data, arg)

    def fn(face: Face) -> None:
        getattr(face, method)(workload)

    run_write(benchmark, fresh_path, module, fn, data, prefill=prefill, expect=expect)


def expected(data: Data, what: str) -> Any:
    if what == "last_value":
        return data.value_of[data.keys_shuffled[-1]]
    return {
        "none": None,
        "last_key": data.keys_sorted[-1],
        "first_key": data.keys_sorted[0],
        "range_last": data.range_last[-1],
    }[what]


# (group, variant, Face method, workload attribute or None, expected result)
READS = [
    ("get", "db.get(k)", "get", "keys_shuffled", "last_value"),
    ("get", "db.multi_get(keys)", "multi_get", "keys_shuffled", "last_value"),
    ("get_missing", "db.get(k)", "get", "missing", "none"),
    ("scan", "db.items()", "scan", None, "last_key"),
    ("scan", "db[:]", "scan_slice", None, "last_key"),
    ("scan_reverse", "db.cursor(order='<=')", "scan_reverse", None, "first_key"),
    ("range", "islice(db.cursor(key=s), 100)", "range", "range_starts", "range_last"),
]


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize(
    "op,variant,method,arg,expect", READS, ids=[f"{r[0]}-{r[2]}" for r in READS]
)
def test_read(benchmark, data, filled, module, op, variant, method, arg, expect):
    module_or_skip(module)
    ops = len(data.range_starts) if op == "range" else data.n
    items = ops * RANGE_LEN if op == "range" else ops
    describe(benchmark, op, module, variant, ops, items)
    fn = getattr(filled(module), method)
    args = () if arg is None else (getattr(data, arg),)
    result = benchmark.pedantic(fn, args=args, rounds=ROUNDS, warmup_rounds=1)
    assert result == expected(data, expect)


@pytest.mark.parametrize("module", MODULES)
def test_reopen(benchmark, data, fresh_path, module):
    """Open an environment holding N keys (new Sophia object, add_database, open, one get)."""
    module_or_skip(module)
    describe(benchmark, "reopen", module, "Sophia(path) ... open(); db.get(k)", 1, 1)
    face = Face(module, fresh_path(module.replace(".", "-")))
    face.multi_set(dict(data.pairs_sorted))
    face.close()
    key = data.keys_sorted[0]

    def teardown(value: Any = None) -> None:
        face.close()

    def target() -> Any:
        return face.reopen(key)

    try:
        benchmark.pedantic(target, setup=None, teardown=teardown, rounds=ROUNDS)
        face.open()
        assert face.db.get(key) == data.value_of[key]
    finally:
        face.close()


# --------------------------------------------------------------------------- report


def report(path: str, stat: str = "min") -> str:
    """Markdown table: ops/s per (operation, variant), shoal.sophy / sophy ratio."""
    with open(path) as f:
        doc = json.load(f)
    rates: Dict[tuple, Dict[str, float]] = {}
    for b in doc["benchmarks"]:
        info = b.get("extra_info") or {}
        if "face_op" not in info:
            continue
        key = (info["face_op"], info["face_variant"])
        rates.setdefault(key, {})[info["face_store"]] = info["face_items"] / b["stats"][stat]
    out = [
        "| operation | variant | shoal.sophy | sophy (Sophia) | shoal.sophy / sophy |",
        "|---|---|---:|---:|---:|",
    ]
    order = ["put_seq", "put_random", "put_batch", "get", "get_missing", "scan",
             "scan_reverse", "range", "delete", "reopen"]  # fmt: skip
    for (op, variant), r in sorted(rates.items(), key=lambda kv: order.index(kv[0][0])):
        ours, theirs = r.get("shoal.sophy"), r.get("sophy")
        ratio = f"{ours / theirs:.2f}×" if ours and theirs else "–"
        out.append(f"| {op} | `{variant}` | {fmt(ours, op)} | {fmt(theirs, op)} | {ratio} |")
    return "\n".join(out)


def fmt(rate: Optional[float], op: str) -> str:
    if rate is None:
        return "–"
    if op == "reopen":
        return f"{1000 / rate:.1f} ms"
    return f"{rate / 1e6:.2f}M/s" if rate >= 1e6 else f"{rate / 1e3:.0f}k/s"


if __name__ == "__main__":
    args = sys.argv[1:]
    stat = "min"
    if "--stat" in args:
        i = args.index("--stat")
        stat = args[i + 1]
        del args[i : i + 2]
    print(report(args[0], stat))
