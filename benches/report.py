"""Turn a pytest-benchmark JSON file into a markdown table of ops/s.

Usage::

    python benches/report.py bench.json [--stat min|median|mean] [--items]

Rows are operations (one row per shoal API variant), columns are stores,
cells are operations per second (``ops`` from each benchmark's ``extra_info``
divided by the chosen time statistic: by default the fastest round,
since other load on the machine only ever slows a round down). The last column is
shoal divided by the best peer on that row (peers: every store but shoal and
``dict``, which is only the in-process floor).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Dict, List, Optional, Tuple

OP_ORDER = [
    ("put_seq", "sequential put"),
    ("put_random", "random put"),
    ("put_batch", "batch put (one atomic batch)"),
    ("get", "get (random order)"),
    ("get_missing", "missing get"),
    ("scan", "full scan"),
    ("scan_reverse", "reverse scan"),
    ("range", "100-key range scan"),
    ("delete", "delete (random order)"),
]
STORE_ORDER = ["shoal", "lmdb", "plyvel", "rocksdict", "sophy", "dict"]
NOT_PEERS = {"shoal", "dict"}


def fmt_rate(x: Optional[float]) -> str:
    """Format ops/s as ``1.23M`` / ``456k`` / ``789``."""
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k" if x >= 1e5 else f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


def context(doc: Dict[str, Any]) -> str:
    """One line on what was measured: commit, CPU, Python, date."""
    m = doc.get("machine_info") or {}
    c = doc.get("commit_info") or {}
    cpu = (m.get("cpu") or {}).get("brand_raw") or m.get("processor") or "?"
    cores = (m.get("cpu") or {}).get("count")
    commit = (c.get("id") or "?")[:10] + (" (dirty)" if c.get("dirty") else "")
    return (
        f"commit {commit}, {cpu}{f' x{cores}' if cores else ''}, "
        f"{m.get('python_implementation', 'Python')} {m.get('python_version', '?')}, "
        f"{doc.get('datetime', '?')[:19]}"
    )


def load(path: str, stat: str, items: bool) -> List[Dict[str, Any]]:
    with open(path) as f:
        doc = json.load(f)
    rows = []
    for b in doc["benchmarks"]:
        info = b.get("extra_info") or {}
        if "op" not in info or "ops" not in info:
            continue
        count = info.get("items", info["ops"]) if items else info["ops"]
        rows.append(
            {
                "op": info["op"],
                "store": info["store"],
                "variant": info.get("variant", ""),
                "primary": info.get("primary", True),
                "rate": count / b["stats"][stat],
            }
        )
    return rows


def table(rows: List[Dict[str, Any]]) -> str:
    stores = [s for s in STORE_ORDER if any(r["store"] == s for r in rows)]
    stores += sorted({r["store"] for r in rows} - set(stores))
    ops = [op for op, _ in OP_ORDER if any(r["op"] == op for r in rows)]
    ops += sorted({r["op"] for r in rows} - set(ops))
    titles = dict(OP_ORDER)

    head = ["operation", *stores, "shoal / best peer"]
    out = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|",
    ]
    notes: Dict[str, List[str]] = {}
    for op in ops:
        primary: Dict[str, Tuple[float, str]] = {}
        for r in rows:
            if r["op"] == op and r["primary"] and r["store"] != "shoal":
                primary[r["store"]] = (r["rate"], r["variant"])
        for s, (_, label) in primary.items():
            notes.setdefault(op, []).append(f"{s}: `{label}`")
        peers = [rate for s, (rate, _) in primary.items() if s not in NOT_PEERS]
        best = max(peers) if peers else None
        shoal_rows = [r for r in rows if r["op"] == op and r["store"] == "shoal"]
        shoal_rows.sort(key=lambda r: not r["primary"])
        for sr in shoal_rows or [None]:
            title = titles.get(op, op)
            if sr is not None and sr["variant"]:
                title += f" — `{sr['variant']}`"
            cells = [title]
            for s in stores:
                if s == "shoal":
                    cells.append(f"**{fmt_rate(sr['rate'])}**" if sr else "–")
                else:
                    cells.append(fmt_rate(primary.get(s, (None, ""))[0]))
            if sr is not None and best:
                cells.append(f"{sr['rate'] / best:.2f}×")
            else:
                cells.append("–")
            out.append("| " + " | ".join(cells) + " |")
    lines = ["\n".join(out), "", "Peer APIs used:", ""]
    for op in ops:
        if op in notes:
            lines.append(f"- {titles.get(op, op)}: " + "; ".join(notes[op]))
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", help="file written by pytest --benchmark-json")
    ap.add_argument("--stat", default="min", choices=["median", "min", "mean", "max"])
    ap.add_argument(
        "--items", action="store_true", help="count items, not ops (range: 100 items per op)"
    )
    args = ap.parse_args(argv)
    rows = load(args.json, args.stat, args.items)
    if not rows:
        print(f"{args.json}: no benchmarks with extra_info['ops']", file=sys.stderr)
        return 1
    unit = "items/s" if args.items else "ops/s"
    with open(args.json) as f:
        print(context(json.load(f)))
    print(f"{unit}, {args.stat} of rounds; range: one op = one 100-key range\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
