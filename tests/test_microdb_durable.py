"""shoal.microdb durable mode: the journal in ``<file>.shoal``, crashes, conflicts, threads."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import shoal
from shoal import microdb
from shoal.microdb import MicroDB


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "mdb.json"


def test_journal_survives_close_without_save(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    assert m.durable
    m.upsert({"k": 1, "v": (1, 2), "s": {3}, "b": b"x", "n": None, "c": 1 + 2j, "f": -0.0})
    m.upsert({"k": 2, "v": "two"})
    m.upsert({"k": 1, "v": "one"})  # keeps its position
    m.upsert({"k": 3})
    del m[(3,)]
    m.close()
    assert not path.exists()
    assert (path.parent / "mdb.json.shoal").is_dir()
    again = MicroDB(path, ["k"], durable=True)
    assert list(again) == [{"k": 1, "v": "one"}, {"k": 2, "v": "two"}]
    again.close()


def test_save_empties_the_journal_and_file_wins_after(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1})
    m.save()
    assert m._journal is not None and m._journal.seq == 0
    m.upsert({"k": 2})
    m.close()
    again = MicroDB(path, ["k"], durable=True)
    assert list(again) == [{"k": 1}, {"k": 2}]
    again.save_as_grid()
    again.close()
    # a non-durable reader sees the saved file only
    assert list(MicroDB(path, ["k"])) == [{"k": 1}, {"k": 2}]


def test_in_place_changes_reach_the_file_at_save(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    rec = {"k": 1, "v": 0}
    m.upsert(rec)
    rec["v"] = 5  # not journaled...
    m.save()  # ...but saved, and the journal is empty
    m.close()
    again = MicroDB(path, ["k"], durable=True)
    assert again[(1,)] == {"k": 1, "v": 5}
    again.close()


def test_erase_all_durable(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1})
    m.erase_all()
    m.upsert({"k": 2})
    m.close()
    assert path.read_text() == "[]\n"
    again = MicroDB(path, ["k"], durable=True)
    assert list(again) == [{"k": 2}]
    again.close()


def test_unsavable_values_refused_at_upsert(path: Path) -> None:
    from decimal import Decimal

    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1, "v": 1})
    for bad in (Decimal(1), float("nan"), [object()], frozenset(), bytearray(b"x")):
        with pytest.raises(microdb.UnsavableValueError):
            m.upsert({"k": 1, "v": bad})
    with pytest.raises(TypeError):
        m.upsert({"k": [1]})
    m.close()
    again = MicroDB(path, ["k"], durable=True)
    assert list(again) == [{"k": 1, "v": 1}]
    again.close()


def test_second_durable_instance_is_locked(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    with pytest.raises(shoal.LockedError):
        MicroDB(path, ["k"], durable=True)
    m.close()
    MicroDB(path, ["k"], durable=True).close()


def test_file_changed_by_someone_else(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1})
    m.save()
    m.upsert({"k": 2})  # unsaved, in the journal
    m.close()
    other = MicroDB(path, ["k"])  # e.g. the original microdb
    other.upsert({"k": 9})
    other.save()
    before = path.read_bytes()
    with pytest.raises(microdb.FileChangedError, match="mdb.json"):
        MicroDB(path, ["k"], durable=True)
    assert path.read_bytes() == before
    # with nothing unsaved, a changed file is simply taken
    import shutil

    shutil.rmtree(str(path) + ".shoal")
    taken = MicroDB(path, ["k"], durable=True)
    assert list(taken) == [{"k": 1}, {"k": 9}]
    taken.close()
    other.upsert({"k": 10})
    other.save()
    taken = MicroDB(path, ["k"], durable=True)
    assert len(taken) == 3
    taken.close()


def test_crash_between_file_rename_and_journal_reset(path: Path, monkeypatch) -> None:
    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1})
    m.upsert({"k": 2})
    assert m._journal is not None

    def stop(fingerprint: object) -> None:
        raise KeyboardInterrupt("crash")

    monkeypatch.setattr(m._journal, "end_save", stop)
    with pytest.raises(KeyboardInterrupt):
        m.save()
    m.close()
    # the file holds both records and the journal still holds the two upserts:
    # the pending fingerprint tells the journal is already in the file
    again = MicroDB(path, ["k"], durable=True)
    assert list(again) == [{"k": 1}, {"k": 2}]
    assert again._journal is not None and again._journal.seq == 0
    again.close()


def test_failed_save_keeps_the_journal(path: Path, monkeypatch) -> None:
    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1})

    def boom(*args: object) -> None:
        raise OSError("no space")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        m.save()
    monkeypatch.undo()
    m.upsert({"k": 2})
    m.close()
    again = MicroDB(path, ["k"], durable=True)
    assert list(again) == [{"k": 1}, {"k": 2}]
    again.close()


def test_corrupted_journal_entry(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1})
    m.close()
    with shoal.open(str(path) + ".shoal") as store:
        store.kv("journal", key="int", value="bytes")[5] = b"\xffnot marshal"
    with pytest.raises(shoal.CorruptionError, match="journal"):
        MicroDB(path, ["k"], durable=True)
    MicroDB(path, ["k"]).close()  # the plain file (absent) still opens


def test_unknown_journal_format(path: Path) -> None:
    MicroDB(path, ["k"], durable=True).close()
    with shoal.open(str(path) + ".shoal") as store:
        store.kv("meta", key="str")["state"] = {"format": 99}
    with pytest.raises(shoal.CorruptionError, match="format"):
        MicroDB(path, ["k"], durable=True)


def test_bad_file_in_durable_mode_releases_the_store(path: Path) -> None:
    path.write_text("[{'k': oops}]")
    with pytest.raises(microdb.FileFormatError):
        MicroDB(path, ["k"], durable=True)
    path.write_text("[]")
    MicroDB(path, ["k"], durable=True).close()  # not locked by the failed attempt


def test_closed_durable(path: Path) -> None:
    m = MicroDB(path, ["k"], durable="sync")
    m.upsert({"k": 1})
    m.close()
    with pytest.raises(shoal.ClosedError):
        m.upsert({"k": 2})
    with pytest.raises(shoal.ClosedError):
        del m[(1,)]
    with pytest.raises(shoal.ClosedError):
        m.save()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_process_loses_nothing(path: Path) -> None:
    script = (
        "import os, signal, sys\n"
        "from shoal.microdb import MicroDB\n"
        f"m = MicroDB({str(path)!r}, ['k'], durable=True)\n"
        "for i in range(3000):\n"
        "    m.upsert({'k': i % 1000, 'i': i})\n"
        "    if i == 1500: m.save()\n"
        "    if i % 7 == 0 and (i % 1000,) in m: del m[(i % 1000,)]\n"
        "print('done', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout == b"done\n"
    expected: dict = {}
    for i in range(3000):
        expected[(i % 1000,)] = {"k": i % 1000, "i": i}
        if i % 7 == 0:
            expected.pop((i % 1000,), None)
    m = MicroDB(path, ["k"], durable=True)
    assert list(m) == list(expected.values())
    m.close()


@pytest.mark.parametrize("durable", [False, True])
def test_eight_threads_against_a_model(path: Path, durable: bool) -> None:
    """8 threads of upserts, gets, deletes and saves; each owns some keys, all share one table."""
    m = MicroDB(path, ["t", "k"], durable=durable)
    models: list[dict] = [{} for _ in range(8)]
    errors: list[BaseException] = []
    steps = 300 if durable else 1500

    def work(t: int) -> None:
        rng = random.Random(t)
        model = models[t]
        try:
            for i in range(steps):
                k = rng.randrange(40)
                op = rng.random()
                if op < 0.55:
                    rec = {"t": t, "k": k, "i": i}
                    m.upsert(rec)
                    model[(t, k)] = rec
                elif op < 0.8:
                    assert m.get({"t": t, "k": k}) is model.get((t, k))
                    assert ((t, k) in m) == ((t, k) in model)
                elif op < 0.95:
                    if (t, k) in model:
                        del m[(t, k)]
                        del model[(t, k)]
                    else:
                        with pytest.raises(KeyError):
                            del m[(t, k)]
                else:
                    m.save()
                    with m.lock():  # a read-modify-write critical section
                        cur = m.get((t, k))
                        rec = {"t": t, "k": k, "i": (cur or {"i": 0})["i"] + 1}
                        m.upsert(rec)
                        model[(t, k)] = rec
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    merged = {key: rec for model in models for key, rec in model.items()}
    assert len(m) == len(merged)
    assert all(m[key] is rec for key, rec in merged.items())
    m.save()
    m.close()
    again = MicroDB(path, ["t", "k"], durable=durable)
    assert {(r["t"], r["k"]): r for r in again} == merged
    again.close()


def test_saving_elsewhere_keeps_the_journal(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1})
    m.save(path.parent / "copy.json")
    m.save_as_grid(str(path.parent / "grid.json"))
    assert m._journal is not None and m._journal.seq == 1
    m.close()
    assert not path.exists()
    again = MicroDB(path, ["k"], durable=True)
    assert list(again) == [{"k": 1}]
    again.close()


def test_file_deleted_with_unsaved_changes(path: Path) -> None:
    m = MicroDB(path, ["k"], durable=True)
    m.upsert({"k": 1})
    m.save()
    m.upsert({"k": 2})
    m.close()
    path.unlink()
    with pytest.raises(microdb.FileChangedError):
        MicroDB(path, ["k"], durable=True)


def test_durable_queries(path: Path) -> None:
    from decimal import Decimal

    m = MicroDB(path, ["k"], durable=True)
    for k in range(5):
        m.upsert({"k": k, "even": k % 2 == 0})
    q = microdb.where("even") == True  # noqa: E712 - a query, not a comparison
    assert m.update({"tag": "x"}, q) == [(0,), (2,), (4,)]
    with pytest.raises(microdb.UnsavableValueError):
        m.update({"tag": Decimal(1)}, q)
    assert m[(0,)]["tag"] == "x"  # nothing changed
    assert m.remove(~q) == [(1,), (3,)]
    m.close()
    again = MicroDB(path, ["k"], durable=True)
    assert list(again) == [{"k": k, "even": True, "tag": "x"} for k in (0, 2, 4)]
    assert again.count(microdb.where("tag").exists()) == 3
    again.close()
