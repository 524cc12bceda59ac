"""Memory used by each store for the benchmark workload, one fresh process per store.

Usage::

    python benches/memory.py [--n 100000] [--stores shoal,lmdb,...] [--dir DIR]

Each child process imports the store's library, builds the data (two flat
``bytes`` blobs, so no per-key Python objects exist before the baseline),
then reads ``VmRSS`` from ``/proc/self/status``:

1. baseline, 2. after opening the store, 3. after inserting N keys (one put
per key, the store's primary put API), 4. after reading every key back.

The table shows MiB added over the baseline. ``peak`` is ``VmHWM`` minus the
baseline. ``anon``/``file`` split the final figure into anonymous memory
(heaps, caches, memtables) and file-backed pages (LMDB's memory map, mapped
SSTs, shared libraries loaded late): file pages are page cache that the
kernel can drop, so ``anon`` is the closer measure of what a store costs.
The ``dict`` row is the floor: a Python dict holding the same keys and values
as ``bytes`` objects. Linux only.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stores import ADAPTERS  # noqa: E402

KEY_SIZE = 16
VALUE_SIZE = 100
MIB = 1024 * 1024
FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")


def status() -> Dict[str, int]:
    """The memory fields of /proc/self/status, in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in FIELDS:
                out[name] = int(rest.split()[0]) * 1024
    return out


def child(name: str, n: int, parent_dir: str) -> Dict[str, object]:
    cls = ADAPTERS[name]
    try:
        importlib.import_module(cls.module)
    except ImportError as e:
        return {"store": name, "skip": str(e)}
    rng = random.Random(7)
    kb = rng.randbytes(n * KEY_SIZE)
    vb = rng.randbytes(n * VALUE_SIZE)

    def pairs():
        for i in range(n):
            yield kb[i * KEY_SIZE : (i + 1) * KEY_SIZE], vb[i * VALUE_SIZE : (i + 1) * VALUE_SIZE]

    def keys():
        for i in range(n):
            yield kb[i * KEY_SIZE : (i + 1) * KEY_SIZE]

    path = tempfile.mkdtemp(prefix=f"mem-{name}-", dir=parent_dir)
    try:
        gc.collect()
        base = status()
        store = cls(path)
        opened = status()
        getattr(store, next(iter(cls.OPS["put_seq"].values())))(pairs())
        gc.collect()
        inserted = status()
        getattr(store, next(iter(cls.OPS["get"].values())))(keys())
        gc.collect()
        read = status()
        count = store.count()
        store.close()
    finally:
        shutil.rmtree(path, ignore_errors=True)
    return {
        "store": name,
        "n": n,
        "count": count,
        "base": base,
        "open": opened,
        "insert": inserted,
        "read": read,
    }


def run_child(name: str, n: int, parent_dir: str) -> Dict[str, object]:
    cmd = [sys.executable, __file__, "--child", name, "--n", str(n), "--dir", parent_dir]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"store": name, "skip": f"child failed ({proc.returncode}): {proc.stderr[-500:]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def mib(x: float) -> str:
    return f"{x / MIB:.1f}"


def table(results: List[Dict[str, object]], n: int) -> str:
    lines = [
        f"MiB added over the baseline RSS, {n:,} keys of {KEY_SIZE} B + {VALUE_SIZE} B values "
        f"({n * (KEY_SIZE + VALUE_SIZE) / MIB:.1f} MiB of raw data)",
        "",
        "| store | after open | after insert | after read all | peak | anon (end) | file (end) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    skipped = []
    for r in results:
        if "skip" in r:
            skipped.append(f"- {r['store']}: skipped ({r['skip']})")
            continue
        base = r["base"]["VmRSS"]  # type: ignore[index]
        d = {stage: r[stage]["VmRSS"] - base for stage in ("open", "insert", "read")}  # type: ignore[index]
        peak = r["read"]["VmHWM"] - base  # type: ignore[index]
        anon = r["read"]["RssAnon"] - r["base"]["RssAnon"]  # type: ignore[index]
        file = r["read"]["RssFile"] - r["base"]["RssFile"]  # type: ignore[index]
        bad = "" if r["count"] == n else f" (count {r['count']}!)"
        lines.append(
            f"| {r['store']}{bad} | {mib(d['open'])} | {mib(d['insert'])} | {mib(d['read'])} "
            f"| {mib(peak)} | {mib(anon)} | {mib(file)} |"
        )
    if skipped:
        lines += ["", *skipped]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=int(os.environ.get("SHOAL_BENCH_N", "100000")))
    ap.add_argument("--stores", default=",".join(ADAPTERS), help="comma list")
    ap.add_argument("--dir", default=os.environ.get("SHOAL_BENCH_DIR"), help="scratch parent dir")
    ap.add_argument("--json", help="also write the raw measurements here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.dir or tempfile.gettempdir())))
        return 0
    names = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = [s for s in names if s not in ADAPTERS]
    if unknown:
        ap.error(f"unknown store(s): {unknown}; known: {list(ADAPTERS)}")
    scratch = tempfile.mkdtemp(prefix="shoal-mem-", dir=args.dir)
    try:
        results = [run_child(name, args.n, scratch) for name in names]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(table(results, args.n))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
