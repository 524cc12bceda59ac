"""Print the dynafile face benchmarks (``benches/test_dynafile.py``) as a markdown table.

Usage::

    python benches/dynafile_report.py bench.json [--stat min|median|mean]

Rows are operations, columns implementations (ops/s; ``scan`` counts scanned
items, ``batch`` written items), then shoal / dynafile, shoal / sorteddict and
shoal / rocksdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, Optional, Sequence, Tuple

OPS = ["put", "get", "query", "prefix", "scan", "batch", "delete"]
IMPLS = ["dynafile", "shoal", "sorteddict", "rocksdict"]


def load(path: str, stat: str) -> Dict[Tuple[str, str], float]:
    """``(op, impl) -> ops/s``."""
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for b in doc["benchmarks"]:
        info = b.get("extra_info") or {}
        if info.get("suite") != "dynafile":
            continue
        out[info["dyn_op"], info["impl"]] = info["dyn_ops"] / b["stats"][stat]
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the table; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("json")
    ap.add_argument("--stat", default="min", choices=["min", "median", "mean"])
    args = ap.parse_args(argv)
    rows = load(args.json, args.stat)
    if not rows:
        print(f"{args.json}: no dynafile benchmarks", file=sys.stderr)
        return 1
    peers = [p for p in IMPLS if p != "shoal"]
    print(f"dynafile face, ops/s, {args.stat} of rounds\n")
    print("| op | " + " | ".join(IMPLS) + " | " + " | ".join(f"shoal / {p}" for p in peers) + " |")
    print("|---" * (len(IMPLS) + len(peers) + 1) + "|")
    for op in OPS:
        cells = [f"{rows[op, i]:,.0f}" if (op, i) in rows else "—" for i in IMPLS]
        mine = rows.get((op, "shoal"))
        ratios = [f"{mine / rows[op, p]:,.2f}×" if mine and (op, p) in rows else "—" for p in peers]
        print(f"| {op} | " + " | ".join(cells + ratios) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
