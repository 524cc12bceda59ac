"""Print the microdb face benchmarks (``benches/test_microdb.py``) as a markdown table.

Usage::

    python benches/microdb_report.py bench.json [--stat min|median|mean]

Rows are operations, columns implementations (ops/s; ``all``, ``save`` and
``load`` count one call as one op, so their cells are calls/s, and the time
per call is shown too), then shoal / microdb and shoal-durable / microdb.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, Optional, Sequence, Tuple

OPS = ["upsert", "get", "contains", "all", "save", "load"]
IMPLS = ["microdb", "shoal", "shoal-durable"]


def load(path: str, stat: str) -> Dict[Tuple[str, str], Tuple[float, float]]:
    """``(op, impl) -> (ops/s, seconds per round)``."""
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for b in doc["benchmarks"]:
        info = b.get("extra_info") or {}
        if info.get("suite") != "microdb":
            continue
        seconds = b["stats"][stat]
        out[info["mdb_op"], info["impl"]] = (info["mdb_ops"] / seconds, seconds)
    return out


def cell(value: Optional[Tuple[float, float]], per_call: bool) -> str:
    if value is None:
        return "—"
    rate, seconds = value
    if per_call:
        return f"{seconds * 1000:,.1f} ms"
    return f"{rate:,.0f}/s"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the table; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("json")
    ap.add_argument("--stat", default="min", choices=["min", "median", "mean"])
    args = ap.parse_args(argv)
    rows = load(args.json, args.stat)
    if not rows:
        print(f"{args.json}: no microdb benchmarks", file=sys.stderr)
        return 1
    print(f"microdb face, {args.stat} of rounds\n")
    print("| op | " + " | ".join(IMPLS) + " | shoal / microdb | durable / microdb |")
    print("|---" * (len(IMPLS) + 3) + "|")
    for op in OPS:
        per_call = op in ("all", "save", "load")
        cells = [cell(rows.get((op, impl)), per_call) for impl in IMPLS]
        ratios = []
        base = rows.get((op, "microdb"))
        for impl in ("shoal", "shoal-durable"):
            mine = rows.get((op, impl))
            ratios.append("—" if base is None or mine is None else f"{mine[0] / base[0]:.2f}×")
        print(f"| {op} | " + " | ".join(cells + ratios) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
