"""Turn a pytest-benchmark JSON file into a markdown table of ops/s.

Usage::

    python benches/report.py bench.json [--stat min|median|mean] [--items]

Rows are operations (one row per shoal API variant), columns are stores,
cells are operations per second (``ops`` from each benchmark's ``extra_info``
divided by the chosen time statistic: by default the fastest round,
since other load on the machine only ever slows a round down). The last column is
shoal divided by the best peer on that row (peers: every store but shoal and
``dict``, which is only the in-process floor).

Document benchmarks (``extra_info["suite"] == "documents"``, from
``test_documents.py``) get a second table, after the key/value one when the
file holds both, with two ratio columns: shoal / sqlite3 and shoal / the best
in-memory peer (TinyDB, mongita).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

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

DOC_OP_ORDER = [
    ("doc_insert", "insert one by one"),
    ("doc_insert_batch", "insert all (one batch)"),
    ("doc_get", "get by id (random)"),
    ("doc_find_eq", "find `{city: c}` (~2% of docs)"),
    ("doc_find_range", "find `{age: {$gte: a, $lt: a+2}}` (~2%)"),
    ("doc_count", "count `{city: c}`"),
    ("doc_update", "update one by id (`$set`)"),
    ("doc_delete", "delete one by id"),
]
DOC_STORE_ORDER = ["shoal", "sqlite3", "tinydb", "mongita"]
# Ratio columns of the document table: (header, the peers it divides by).
DOC_RATIOS: List[Tuple[str, Optional[Set[str]]]] = [
    ("shoal / sqlite3", {"sqlite3"}),
    ("shoal / best in-memory", {"tinydb", "mongita"}),
]


def fmt_rate(x: Optional[float]) -> str:
    """Format ops/s as ``1.23M`` / ``456k`` / ``789``."""
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k" if x >= 1e5 else f"{x / 1e3:.1f}k"
    return f"{x:.0f}"


def fmt_ratio(x: float) -> str:
    """Format a ratio: two decimals, none from 100, two significant digits below 0.1."""
    if x >= 100:
        return f"{x:,.0f}×"
    if x >= 0.1 or x <= 0:
        return f"{x:.2f}×"
    return f"{x:.{1 - math.floor(math.log10(x))}f}×"


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
                "suite": info.get("suite", "kv"),
                "op": info["op"],
                "store": info["store"],
                "variant": info.get("variant", ""),
                "primary": info.get("primary", True),
                "rate": count / b["stats"][stat],
                "ops": info["ops"],
                "prefilled": info.get("prefilled", 0),
            }
        )
    return rows


def table(
    rows: List[Dict[str, Any]],
    op_order: Optional[List[Tuple[str, str]]] = None,
    store_order: Optional[List[str]] = None,
    ratios: Optional[List[Tuple[str, Optional[Set[str]]]]] = None,
    ratio_fmt: Callable[[float], str] = lambda x: f"{x:.2f}×",
) -> str:
    """The markdown table; defaults are the key/value suite's.

    ``ratios`` lists the ratio columns as ``(header, peers)``: shoal divided by
    the best of ``peers`` on the row (``None``: every store but NOT_PEERS).
    """
    op_order = OP_ORDER if op_order is None else op_order
    store_order = STORE_ORDER if store_order is None else store_order
    ratios = [("shoal / best peer", None)] if ratios is None else ratios
    stores = [s for s in store_order if any(r["store"] == s for r in rows)]
    stores += sorted({r["store"] for r in rows} - set(stores))
    ops = [op for op, _ in op_order if any(r["op"] == op for r in rows)]
    ops += sorted({r["op"] for r in rows} - set(ops))
    titles = dict(op_order)

    head = ["operation", *stores, *(h for h, _ in ratios)]
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
                if r.get("prefilled"):
                    notes.setdefault(op, []).append(
                        f"{r['store']}: `{r['variant']}` ({r['ops']:,} timed after "
                        f"{r['prefilled']:,} prefilled)"
                    )
                    continue
                notes.setdefault(op, []).append(f"{r['store']}: `{r['variant']}`")
        bests = []
        for _, group in ratios:
            peers = [
                rate
                for s, (rate, _) in primary.items()
                if (s not in NOT_PEERS if group is None else s in group)
            ]
            bests.append(max(peers) if peers else None)
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
            for best in bests:
                if sr is not None and best:
                    cells.append(ratio_fmt(sr["rate"] / best))
                else:
                    cells.append("–")
            out.append("| " + " | ".join(cells) + " |")
    lines = ["\n".join(out), "", "Peer APIs used:", ""]
    for op in ops:
        if op in notes:
            lines.append(f"- {titles.get(op, op)}: " + "; ".join(notes[op]))
    return "\n".join(lines)


def doc_table(rows: List[Dict[str, Any]]) -> str:
    """The document suite's table."""
    return table(rows, DOC_OP_ORDER, DOC_STORE_ORDER, DOC_RATIOS, fmt_ratio)


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
    kv_rows = [r for r in rows if r["suite"] != "documents"]
    doc_rows = [r for r in rows if r["suite"] == "documents"]
    with open(args.json) as f:
        print(context(json.load(f)))
    if kv_rows:
        print(f"{unit}, {args.stat} of rounds; range: one op = one 100-key range\n")
        print(table(kv_rows))
    if doc_rows:
        if kv_rows:
            print()
        per = "one call; find: one returned document" if args.items else "one call"
        print(f"Documents: {unit}, {args.stat} of rounds; one op = {per}\n")
        print(doc_table(doc_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
