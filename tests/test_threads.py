"""Concurrency from Python threads: no deadlock, no lost writes, clean close."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import shoal

JOIN_TIMEOUT = 60


def run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    """Runs each target in a thread; returns the exceptions they raised."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as e:  # reported to the test
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    hung = [t for t in threads if t.is_alive()]
    assert not hung, f"{len(hung)} thread(s) still running after {JOIN_TIMEOUT}s: deadlock?"
    return errors


def test_two_writers_one_store(store: shoal.Store) -> None:
    kv = store.kv("t")
    other = store.kv("other", key="int")
    n = 2000

    def writer_a() -> None:
        for i in range(n):
            kv[("a", i)] = i
            assert kv[("a", i)] == i
            if i % 100 == 0:
                assert len(list(kv[("a",) : ("a", i + 1)])) == i + 1

    def writer_b() -> None:
        for i in range(0, n, 10):
            with store.batch() as b:
                for j in range(i, i + 10):
                    b.put(kv, ("b", j), -j)
                    b.put(other, j, str(j))
            with kv.transaction() as tx:
                assert tx[("b", i)] == -i

    errors = run_threads([writer_a, writer_b])
    assert not errors, errors
    assert len(kv) == 2 * n
    assert dict(kv[("a",) : ("b",)]) == {("a", i): i for i in range(n)}
    assert dict(kv[("b",) :]) == {("b", i): -i for i in range(n)}
    assert len(other) == n


def test_concurrent_increments_with_retry(store: shoal.Store) -> None:
    kv = store.kv("t")
    kv["counter"] = 0
    per_thread = 200
    conflicts = [0]

    def incrementer() -> None:
        for _ in range(per_thread):
            while True:
                try:
                    with kv.transaction() as tx:
                        tx["counter"] = tx["counter"] + 1
                except shoal.ConflictError:
                    conflicts[0] += 1
                    continue
                break

    errors = run_threads([incrementer, incrementer, incrementer])
    assert not errors, errors
    print(f"conflicts retried: {conflicts[0]}")
    assert kv["counter"] == 3 * per_thread


def test_readers_see_consistent_snapshots(store: shoal.Store) -> None:
    # A writer moves amounts between accounts in transactions; the total is
    # invariant, so every cursor (one point in time) must see the same total.
    kv = store.kv("accounts", key="int")
    accounts = 20
    kv.update((i, 100) for i in range(accounts))
    writer_done = threading.Event()
    moves = 2000

    def writer() -> None:
        try:
            for i in range(moves):
                a, b = i % accounts, (i * 7 + 3) % accounts
                if a == b:
                    continue
                with store.batch() as batch:
                    batch.put(kv, a, kv[a] - 1)
                    batch.put(kv, b, kv[b] + 1)
        finally:
            writer_done.set()

    def reader() -> None:
        rounds = 0
        while not writer_done.is_set() or rounds < 20:
            rounds += 1
            assert sum(kv.values()) == 100 * accounts
            with kv.snapshot() as snap:
                assert sum(snap.values()) == 100 * accounts

    # Single writer: its read-modify-write via batch cannot race with itself.
    errors = run_threads([writer, reader, reader])
    assert not errors, errors
    assert sum(kv.values()) == 100 * accounts


def test_close_while_another_thread_iterates(db_path: Path) -> None:
    store = shoal.open(db_path)
    kv = store.kv("t", key="int")
    kv.update((i, "x" * 100) for i in range(50_000))
    started = threading.Event()
    outcome: list[str] = []

    def iterate() -> None:
        seen = 0
        try:
            for _ in kv.items():
                seen += 1
                if seen == 10:
                    started.set()
                if seen % 1000 == 0:
                    time.sleep(0.001)
            outcome.append(f"finished:{seen}")
        except shoal.ClosedError:
            outcome.append(f"closed:{seen}")
        finally:
            started.set()

    t = threading.Thread(target=iterate, daemon=True)
    t.start()
    assert started.wait(JOIN_TIMEOUT)
    store.close()
    t.join(JOIN_TIMEOUT)
    assert not t.is_alive(), "iterating thread hung after store.close()"
    print(f"iterator outcome: {outcome}")
    assert len(outcome) == 1
    assert outcome[0].startswith("closed:") or outcome[0] == "finished:50000"
    with shoal.open(db_path) as again:
        assert len(again.kv("t")) == 50_000


def test_close_while_other_threads_write(db_path: Path) -> None:
    store = shoal.open(db_path)
    kv = store.kv("t", key="int")
    written: list[list[int]] = [[], []]
    running = threading.Barrier(3)

    def writer(slot: int) -> Callable[[], None]:
        def run() -> None:
            running.wait()
            i = slot
            try:
                while True:
                    kv[i] = i
                    written[slot].append(i)
                    i += 2
            except shoal.ClosedError:
                pass

        return run

    threads = [threading.Thread(target=writer(s), daemon=True) for s in (0, 1)]
    for t in threads:
        t.start()
    running.wait()
    time.sleep(0.2)
    store.close()
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive(), "writer hung after store.close()"
    acknowledged = written[0] + written[1]
    assert acknowledged, "writers never ran"
    with shoal.open(db_path) as again:
        stored = set(again.kv("t"))
    missing = [i for i in acknowledged if i not in stored]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"
    # At most the one in-flight write per thread may have landed unacknowledged.
    assert len(stored - set(acknowledged)) <= 2


@pytest.mark.parametrize("n_threads", [4])
def test_many_threads_open_spaces_and_snapshots(store: shoal.Store, n_threads: int) -> None:
    def work(idx: int) -> Callable[[], None]:
        def run() -> None:
            kv = store.kv(f"space{idx}")
            for i in range(300):
                kv[i] = idx
                with kv.snapshot() as s:
                    assert s[i] == idx
                cur = kv.cursor(values=False)
                assert cur.fetch(1) == [0]
                cur.close()
            assert len(kv) == 300

        return run

    errors = run_threads([work(i) for i in range(n_threads)])
    assert not errors, errors
    assert store.spaces() == sorted(f"space{i}" for i in range(n_threads))


def test_concurrent_popitem_hands_out_each_item_once(store: shoal.Store) -> None:
    kv = store.kv("queue", key="int")
    n = 2000
    kv.update((i, i) for i in range(n))
    popped: list[list[tuple[int, int]]] = [[] for _ in range(4)]

    def consumer(slot: int) -> Callable[[], None]:
        def run() -> None:
            while True:
                try:
                    popped[slot].append(kv.popitem())
                except KeyError:
                    return

        return run

    errors = run_threads([consumer(i) for i in range(4)])
    assert not errors, errors
    everything = [item for part in popped for item in part]
    duplicates = len(everything) - len(set(everything))
    assert duplicates == 0, f"{duplicates} items were popped twice"
    assert sorted(everything) == [(i, i) for i in range(n)]
    for part in popped:
        assert part == sorted(part)  # each consumer sees the queue in order
    assert len(kv) == 0


def test_concurrent_pop_of_one_key(store: shoal.Store) -> None:
    kv = store.kv("t", key="int")
    rounds = 300
    kv.update((i, f"v{i}") for i in range(rounds))
    winners: list[list[int]] = [[] for _ in range(3)]

    def popper(slot: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(rounds):
                if kv.pop(i, None) is not None:
                    winners[slot].append(i)

        return run

    errors = run_threads([popper(i) for i in range(3)])
    assert not errors, errors
    won = sorted(w for part in winners for w in part)
    assert won == list(range(rounds)), "a key was popped by two threads, or by none"


def test_concurrent_setdefault_agrees(store: shoal.Store) -> None:
    kv = store.kv("t", key="int")
    rounds = 300
    seen: list[list[object]] = [[] for _ in range(3)]

    def setter(slot: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(rounds):
                seen[slot].append(kv.setdefault(i, f"thread{slot}"))

        return run

    errors = run_threads([setter(i) for i in range(3)])
    assert not errors, errors
    stored = [kv[i] for i in range(rounds)]
    for part in seen:
        assert part == stored, "setdefault returned a value that is not the stored one"


def test_concurrent_transfers_keep_the_invariant(store: shoal.Store) -> None:
    # Several threads move money between accounts in retried transactions
    # that never let a balance go negative; readers check the total.
    kv = store.kv("bank", key="int")
    accounts, start = 8, 50
    kv.update((i, start) for i in range(accounts))
    done = threading.Event()
    retries = [0]

    def teller(seed: int) -> Callable[[], None]:
        def run() -> None:
            for n in range(300):
                a, b = (seed + n) % accounts, (seed * 3 + n * 5 + 1) % accounts
                if a == b:
                    continue
                while True:
                    try:
                        with kv.transaction() as tx:
                            amount = 1 + (n % 7)
                            if tx[a] >= amount:
                                tx[a] = tx[a] - amount
                                tx[b] = tx[b] + amount
                    except shoal.ConflictError:
                        retries[0] += 1
                        continue
                    break

        return run

    def auditor() -> None:
        while not done.is_set():
            with kv.transaction() as tx:
                balances = [tx[i] for i in range(accounts)]
            assert sum(balances) == accounts * start, balances
            assert min(balances) >= 0, balances

    tellers = [teller(s) for s in range(3)]
    audit_errors: list[BaseException] = []

    def audit() -> None:
        try:
            auditor()
        except BaseException as e:
            audit_errors.append(e)

    audit_thread = threading.Thread(target=audit, daemon=True)
    audit_thread.start()
    errors = run_threads(tellers)
    done.set()
    audit_thread.join(JOIN_TIMEOUT)
    assert not audit_thread.is_alive()
    assert not errors, errors
    assert not audit_errors, audit_errors
    print(f"transfer retries after conflicts: {retries[0]}")
    final = [kv[i] for i in range(accounts)]
    assert sum(final) == accounts * start
    assert min(final) >= 0
