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
