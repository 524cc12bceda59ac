"""Concurrency: writers, snapshot readers, iterators and listeners on one store.

For a fixed time (CI 4 s; ``SHOAL_RELIABILITY_FULL=1``: 60 s) these threads
share one store:

- 8 **writers**, each owning a key range of the KV space ``data`` and its own
  documents of the collection ``wdocs`` (indexes on ``owner``, ``bucket`` and a
  unique one on ``tok``). Each commit is one transaction: generation ``g`` of
  the writer's 6 KV records (each with a checksum, plus a checksum record),
  its main document (``put``), a new log document, the delete of the log
  document that left its window, and every other time an increment of a
  shared counter in the KV space ``meta`` and of a shared counter document.
  Every 3rd round also increments a third counter document outside any
  transaction. ``ConflictError`` is retried;
- 8 **snapshot readers**: every writer's range must show one generation with
  valid checksums, and reading the snapshot again later must give the same
  data; half of them also read through a transaction (one point in time across
  the KV space, the collection and its ``owner`` index) and check that the
  writer's documents and records belong to one generation;
- 4 **iterating threads**: forward and reverse cursors over ``data`` (strict
  key order, no torn generation: a cursor reads one point in time), iteration
  of the collection in primary-key order, cursors fetched in batches;
- **change listeners** on the collection and the counter document.

Pass: 0 torn transactions, 0 snapshots that changed, 0 out-of-order items,
counters equal to the number of committed increments (no lost update), every
committed change delivered to the listener exactly once and in commit order
per key, indexes agreeing with the documents at the end, and no deadlock: a
watchdog fails the test (dumping every thread's stack) if a thread is still
running 60 s after the stop, and ``faulthandler`` ends the process if even
the watchdog cannot run.
"""

from __future__ import annotations

import faulthandler
import sys
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shoal
from _rel import figure, index_disagreements, sized
from _util import model_key

WRITERS, READERS, ITERATORS = 8, 8, 4
RECORDS = 6  # KV records per writer
WINDOW = 3  # log documents kept per writer
BUCKETS = 5
DURATION = sized(4, 60)
WATCHDOG = 60  # seconds after the stop: hang detection only


def crc(*parts: Any) -> int:
    return zlib.crc32(repr(parts).encode())


def record(w: int, g: int, i: int) -> list[Any]:
    return [g, w, i, crc(w, g, i)]


class Violations:
    """Counts problems seen by the threads, keeping the first few messages."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: list[str] = []
        self.lock = threading.Lock()

    def add(self, kind: str, message: str) -> None:
        with self.lock:
            self.counts[kind] += 1
            if len(self.examples) < 10:
                self.examples.append(f"{kind}: {message}")


def torn_ranges(items: dict[Any, Any]) -> list[str]:
    """Writers whose records in ``items`` mix generations or fail their checksum."""
    problems = []
    for w in range(WRITERS):
        gens = set()
        for i in range(RECORDS):
            v = items.get((w, i))
            if v is None:
                gens.add(0)
            elif v != record(w, v[0], i):
                problems.append(f"writer {w} record {i} damaged: {v}")
            else:
                gens.add(v[0])
        total = items.get((w, "sum"))
        gens.add(0 if total is None else total[0])
        if total is not None and total != [total[0], crc(w, total[0])]:
            problems.append(f"writer {w} checksum record damaged: {total}")
        if len(gens) != 1:
            problems.append(f"writer {w} torn: generations {sorted(gens)}")
    return problems


class Scenario:
    """The shared store, the threads' bodies and what they committed."""

    def __init__(self, path: Path) -> None:
        self.store = shoal.open(path)
        self.data = self.store.kv("data")
        self.meta = self.store.kv("meta")
        self.wdocs = self.store.collection("wdocs")
        for fields, unique in (("owner", False), ("bucket", False), ("tok", True)):
            self.wdocs.create_index(fields, unique=unique)
        self.ctr = self.store.collection("ctr")
        self.ctr.insert_many([{"_id": "tx", "n": 0}, {"_id": "auto", "n": 0}])
        self.stop = threading.Event()
        self.bad = Violations()
        self.committed_gen = [0] * WRITERS
        self.expected_events: list[list[tuple[str, str, int | None]]] = [[] for _ in range(WRITERS)]
        self.increments = [0] * WRITERS
        self.auto_increments = [0] * WRITERS
        self.conflicts = [0] * WRITERS
        self.events: list[Any] = []
        self.counter_events: list[Any] = []
        self.reads = Counter[str]()
        self.wdocs.watch(self.events.append)
        self.ctr.watch(self.counter_events.append)

    # --- writers ---

    def writer(self, w: int) -> None:
        g = 0
        while not self.stop.is_set():
            g += 1
            bump = g % 2 == 0
            while True:
                try:
                    with self.store.transaction() as tx:
                        d = tx[self.data]
                        for i in range(RECORDS):
                            d[(w, i)] = record(w, g, i)
                        d[(w, "sum")] = [g, crc(w, g)]
                        c = tx[self.wdocs]
                        c.put(
                            {
                                "_id": f"w{w}",
                                "owner": w,
                                "gen": g,
                                "bucket": g % BUCKETS,
                                "tok": f"{w}.{g}",
                            }
                        )
                        c.insert(
                            {
                                "_id": f"l{w}.{g}",
                                "owner": w,
                                "gen": g,
                                "bucket": g % BUCKETS,
                                "tok": f"l{w}.{g}",
                            }
                        )
                        if g > WINDOW:
                            assert c.delete(f"l{w}.{g - WINDOW}") is True
                        if bump:
                            m = tx[self.meta]
                            m["counter"] = m.get("counter", 0) + 1
                            tx[self.ctr].update({"_id": "tx"}, {"$inc": {"n": 1}})
                except shoal.ConflictError:
                    self.conflicts[w] += 1
                    continue
                break
            self.committed_gen[w] = g
            ev = self.expected_events[w]
            ev.append(("insert" if g == 1 else "replace", f"w{w}", g))
            ev.append(("insert", f"l{w}.{g}", g))
            if g > WINDOW:
                ev.append(("delete", f"l{w}.{g - WINDOW}", None))
            self.increments[w] += bump
            if g % 3 == 0:
                while True:
                    try:
                        self.ctr.update({"_id": "auto"}, {"$inc": {"n": 1}})
                    except shoal.ConflictError:
                        self.conflicts[w] += 1
                        continue
                    break
                self.auto_increments[w] += 1

    # --- readers ---

    def snapshot_reader(self, r: int) -> None:
        while not self.stop.is_set():
            with self.store.snapshot() as snap:
                view = snap[self.data]
                first = dict(view.items())
                for p in torn_ranges(first):
                    self.bad.add("torn snapshot", p)
                time.sleep(0.002 * (r % 3))  # let the writers move on
                again = dict(view.items())
                if again != first:
                    self.bad.add("snapshot changed", f"{len(first)} -> {len(again)} items")
                for w in range(WRITERS):
                    if snap.get(self.data, (w, 0)) != first.get((w, 0)):
                        self.bad.add("snapshot changed", f"point read of writer {w}")
            self.reads["snapshots"] += 1
            if r % 2 == 0:
                self.transaction_reader()

    def transaction_reader(self) -> None:
        tx = self.store.transaction()
        try:
            c, d = tx[self.wdocs], tx[self.data]
            for w in range(WRITERS):
                docs = c.find({"owner": w})
                main = [x for x in docs if x["_id"] == f"w{w}"]
                logs = sorted(x["gen"] for x in docs if x["_id"] != f"w{w}")
                rec = d.get((w, 0))
                g = main[0]["gen"] if main else 0
                want_logs = list(range(max(1, g - WINDOW + 1), g + 1))
                if logs != want_logs or (rec[0] if rec else 0) != g:
                    self.bad.add(
                        "torn transaction read",
                        f"writer {w}: document gen {g}, log gens {logs}, record {rec}",
                    )
        finally:
            tx.rollback()
        self.reads["transactions"] += 1

    def iterator(self, n: int) -> None:
        while not self.stop.is_set():
            reverse = n % 2 == 1
            with self.data.cursor(reverse=reverse) as cur:
                items: dict[Any, Any] = {}
                prev = None
                while batch := cur.fetch(7):
                    for k, v in batch:
                        mk = model_key(k)
                        if prev is not None and (mk <= prev if not reverse else mk >= prev):
                            self.bad.add(
                                "out of order", f"{k!r} after {prev!r} (reverse={reverse})"
                            )
                        prev = mk
                        items[k] = v
                    if n >= 2:
                        time.sleep(0.0005)
            for p in torn_ranges(items):
                self.bad.add("torn iteration", p)
            ids = [model_key(doc["_id"]) for doc in self.wdocs]
            if any(a >= b for a, b in zip(ids, ids[1:])):
                self.bad.add("out of order", "collection iteration")
            self.reads["iterations"] += 1


def run_threads(
    scenario: Scenario, targets: list[Callable[[], None]], duration: float
) -> list[BaseException]:
    """Runs the targets for ``duration`` seconds; fails on a hang (watchdog)."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as e:
                errors.append(e)
                scenario.stop.set()

        return run

    # Last resort if a deadlock keeps even this thread from running.
    faulthandler.dump_traceback_later(duration + WATCHDOG + 60, exit=True)
    try:
        threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
        for t in threads:
            t.start()
        scenario.stop.wait(duration)
        scenario.stop.set()
        deadline = time.monotonic() + WATCHDOG
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        hung = [t.name for t in threads if t.is_alive()]
        if hung:
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            raise AssertionError(f"deadlock: {hung} still running {WATCHDOG}s after the stop")
    finally:
        faulthandler.cancel_dump_traceback_later()
    return errors


def test_writers_readers_iterators_and_listeners(tmp_path: Path) -> None:
    sc = Scenario(tmp_path / "db")
    try:
        targets: list[Callable[[], None]] = [lambda w=w: sc.writer(w) for w in range(WRITERS)]
        targets += [lambda r=r: sc.snapshot_reader(r) for r in range(READERS)]
        targets += [lambda n=n: sc.iterator(n) for n in range(ITERATORS)]
        errors = run_threads(sc, targets, DURATION)
        assert not errors, f"{len(errors)} thread(s) raised, first: {errors[0]!r}"
        assert not sc.bad.counts, f"{dict(sc.bad.counts)}\n" + "\n".join(sc.bad.examples)

        # Final state: each writer's last committed generation, everywhere.
        items = dict(sc.data.items())
        assert not torn_ranges(items), torn_ranges(items)
        for w in range(WRITERS):
            g = sc.committed_gen[w]
            assert items[(w, 0)][0] == g
            assert sc.wdocs.get(f"w{w}")["gen"] == g
            logs = sorted(d["gen"] for d in sc.wdocs.find({"owner": w}) if d["_id"] != f"w{w}")
            assert logs == list(range(max(1, g - WINDOW + 1), g + 1))

        # No lost update: counters equal the committed increments.
        assert sc.meta["counter"] == sum(sc.increments) > 0
        assert sc.ctr.get("tx")["n"] == sum(sc.increments)
        assert sc.ctr.get("auto")["n"] == sum(sc.auto_increments) > 0

        docs = list(sc.wdocs)
        probes: list[tuple[dict[str, Any], Any]] = [
            ({"owner": w}, lambda d, w=w: d["owner"] == w) for w in range(WRITERS)
        ]
        probes += [({"bucket": b}, lambda d, b=b: d["bucket"] == b) for b in range(BUCKETS)]
        probes += [({"tok": {"$gte": ""}}, lambda d: True)]
        problems = index_disagreements(sc.wdocs, docs, probes)
        assert not problems, problems
        assert sc.store.verify()["problems"] == []

        # Every committed change exactly once, in commit order per key.
        sc.wdocs.insert({"_id": "zz-final", "owner": -1, "bucket": -1, "tok": "final"})
        sc.ctr.insert({"_id": "zz-final"})  # both deliver anything still queued
        got: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
        for e in sc.events:
            if e.key != "zz-final":
                got[e.key].append((e.action, e.new["gen"] if e.new else None))
        want: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
        for per_writer in sc.expected_events:
            for action, key, g in per_writer:
                want[key].append((action, g))
        assert got == want, next(
            f"{k}: got {got[k]} want {want[k]}"
            for k in want.keys() | got.keys()
            if got[k] != want[k]
        )
        tx_counts = [e.new["n"] for e in sc.counter_events if e.key == "tx"]
        auto_counts = [e.new["n"] for e in sc.counter_events if e.key == "auto"]
        assert tx_counts == list(range(1, sum(sc.increments) + 1))
        assert auto_counts == list(range(1, sum(sc.auto_increments) + 1))

        figure(
            "concurrency",
            f"{DURATION}s: {sum(sc.committed_gen)} transactions committed by {WRITERS} writers "
            f"({sum(sc.conflicts)} ConflictErrors retried), {sum(sc.increments)} + "
            f"{sum(sc.auto_increments)} counter increments all counted, "
            f"{sc.reads['snapshots']} snapshots and {sc.reads['transactions']} transaction reads "
            f"by {READERS} readers, {sc.reads['iterations']} full iterations by {ITERATORS} "
            f"threads, {len(sc.events)} change events; torn/changed/out-of-order: 0",
        )
    finally:
        sc.store.close()
