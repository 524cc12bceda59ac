"""Damaged files: reopening must give back correct data or CorruptionError, never garbage.

A pristine store is written and closed; then, for every non-empty file in it
and every kind of damage (truncate to half, flip bytes, append garbage,
delete), a copy is damaged and opened in a subprocess
(``_corruption_check.py``), so that a crash is seen as a crash and not as the
end of the test run. Allowed outcomes: it opens and every record it returns
is exactly right (records may be missing), or it raises ``CorruptionError``.
Not allowed: a wrong or extra record, any other exception (``LockedError``,
``StorageError``...), a crash, a hang. A record read back with one of its
*older* values, or a deleted record back (the store silently reverting to an
earlier state) is reported as "stale": that is a wrong value too, with one
exception. After a crash the journal is the only copy of the latest commits,
and recovery keeps its intact prefix (a torn tail is what a crash leaves):
a damaged journal of a killed store is indistinguishable from a crash that
came earlier, so reverting to an earlier committed state is allowed there
("reverted"), and counted. After a clean close the journal holds nothing that
matters (memtables are flushed to checksummed tables), so no exception applies.
"""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import shoal

CHECKER = Path(__file__).with_name("_corruption_check.py")
DAMAGES = ["truncate", "flip", "zero-block", "garbage", "delete"]
CHECK_TIMEOUT = 30


def build_pristine(path: Path, killed: bool = False) -> dict:
    """Writes the store; returns its final data and every older value of each key.

    ``killed``: instead of closing, sync and SIGKILL this process (run it in a
    child), leaving the latest writes in the journal only, as after a crash;
    the expected data is written to ``path.with_suffix(".json")`` first.
    """
    rng = random.Random(7)
    data: dict[str, dict[str, str]] = {"main": {}, "side": {}}
    history: dict[str, dict[str, list[str]]] = {"main": {}, "side": {}}

    def put(kv: shoal.KV, k: str, v: str) -> None:
        kv[k] = v
        if k in data[kv.name]:
            history[kv.name].setdefault(k, []).append(data[kv.name][k])
        data[kv.name][k] = v

    store = shoal.open(path)
    try:
        main = store.kv("main", key="str", value="str")
        side = store.kv("side", key="str", value="str")
        # Enough data for on-disk tables, then compaction, then more writes
        # that live in the journal only.
        for i in range(1500):
            put(main, f"k{i:05d}", f"v{i}-" + "x" * rng.randrange(200))
        store.compact()
        for i in range(0, 1500, 7):
            put(main, f"k{i:05d}", f"updated{i}")
        for i in range(200):
            put(side, f"s{i}", "side" * (i % 5))
        for i in range(3, 1500, 50):
            k = f"k{i:05d}"
            del main[k]
            history["main"].setdefault(k, []).append(data["main"].pop(k))
        store.sync()
        if killed:
            path.with_suffix(".json").write_text(json.dumps({"data": data, "history": history}))
            os.kill(os.getpid(), signal.SIGKILL)
    finally:
        store.close()
    return {"data": data, "history": history}


_KILLED_BUILDER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from test_corruption import build_pristine
build_pristine(Path(sys.argv[2]), killed=True)
"""


def build_killed(path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_BUILDER, str(Path(__file__).parent), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return json.loads(path.with_suffix(".json").read_text())


def used_size(path: Path) -> int:
    """Size up to the last non-zero byte: journals are preallocated with zeros."""
    data = path.read_bytes()
    return len(data.rstrip(b"\0"))


def damage(path: Path, kind: str, rng: random.Random) -> None:
    """Damages the used part of ``path`` (not the zero padding after it)."""
    used = max(used_size(path), 1)
    if kind == "truncate":
        os.truncate(path, used // 2)
    elif kind == "flip":
        with open(path, "r+b") as f:
            for _ in range(8):
                pos = rng.randrange(used)
                f.seek(pos)
                b = f.read(1)
                f.seek(pos)
                f.write(bytes([b[0] ^ 0xFF]))
    elif kind == "zero-block":
        start = rng.randrange(used)
        with open(path, "r+b") as f:
            f.seek(start)
            f.write(bytes(min(512, used - start)))
    elif kind == "garbage":
        # Right after the used part: past the end of a plain file, or over
        # the zero padding of a preallocated one.
        with open(path, "r+b") as f:
            f.seek(used)
            f.write(bytes(rng.randrange(1, 256) for _ in range(333)))
    elif kind == "delete":
        path.unlink()
    else:
        raise ValueError(kind)


def sparse_copy(src: str, dst: str) -> None:
    """Copies a file leaving holes for zero blocks (preallocated journals are
    tens of MiB of zeros; dozens of full copies would be slow and big)."""
    block = 1 << 20
    zero = bytes(block)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(block):
            if chunk == zero[: len(chunk)]:
                fout.seek(len(chunk), os.SEEK_CUR)
            else:
                fout.write(chunk)
        fout.truncate()
    shutil.copymode(src, dst)


def run_checker(expected_file: Path, cases: list[Path]) -> dict[int, str]:
    """Runs the checker over ``cases``; restarts it after a crash."""
    results: dict[int, str] = {}
    todo = list(range(len(cases)))
    while todo:
        try:
            proc = subprocess.run(
                [sys.executable, str(CHECKER), str(expected_file)] + [str(cases[i]) for i in todo],
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT,
            )
            out, rc, stderr = proc.stdout, proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            rc, stderr = None, "timeout"
        started = None
        done = set()
        for line in out.splitlines():
            kind, _, rest = line.partition(" ")
            idx_s, _, detail = rest.partition(" ")
            idx = todo[int(idx_s)]
            if kind == "start":
                started = idx
            else:
                results[idx] = f"{kind} {detail}".strip()
                done.add(idx)
                started = None
        if started is None and not (rc is None or rc != 0):
            assert not set(todo) - done, "checker finished without checking every case"
            break
        if started is None:
            # Died before its first case (e.g. could not import): a real error.
            raise AssertionError(f"checker failed (rc={rc}): {stderr[-2000:]}")
        results[started] = f"crash rc={rc} {stderr[-300:]!r}" if rc else f"hang {stderr}"
        done.add(started)
        todo = [i for i in todo if i not in done]
    return results


@pytest.mark.parametrize("state", ["closed", "killed"])
def test_damaged_files(tmp_path: Path, state: str) -> None:
    # "closed": cleanly closed; "killed": synced, then the writer was killed,
    # so recent writes are in the journal only and recovery replays it.
    pristine = tmp_path / "pristine"
    expected = build_pristine(pristine) if state == "closed" else build_killed(pristine)
    expected_file = tmp_path / "expected.json"
    expected_file.write_text(json.dumps(expected))

    files = sorted(
        p.relative_to(pristine) for p in pristine.rglob("*") if p.is_file() and p.stat().st_size > 0
    )
    assert files, "the store wrote no files"
    rng = random.Random(42)
    cases: list[Path] = []
    labels: list[tuple[str, str]] = []
    for rel in files:
        for kind in DAMAGES:
            case = tmp_path / f"case{len(cases)}"
            shutil.copytree(pristine, case, copy_function=sparse_copy)
            damage(case / rel, kind, rng)
            cases.append(case)
            labels.append((str(rel), kind))

    # The pristine copy itself must read back completely.
    baseline = run_checker(expected_file, [pristine])
    total = sum(len(d) for d in expected["data"].values())
    assert baseline[0] == f"ok {total} 0", baseline

    results = run_checker(expected_file, cases)
    tally: collections.Counter[tuple[str, str]] = collections.Counter()
    bad = []
    for i, (rel, kind) in enumerate(labels):
        outcome = results[i]
        verdict = outcome.split(" ")[0]
        if verdict == "ok" and not outcome.endswith(" 0"):
            verdict = "ok-with-loss"
        if verdict == "stale" and state == "killed" and rel.endswith(".jnl"):
            verdict = "reverted"
        tally[(kind, verdict)] += 1
        # "stale": an older value of the key (or a deleted key back), as if
        # later writes were never made; "wrong": a value never written.
        if verdict not in ("ok", "ok-with-loss", "corrupt", "reverted"):
            bad.append(f"{kind} {rel}: {outcome}")
    print(
        f"\ncorruption test ({state}): {len(files)} files x {len(DAMAGES)} damages"
        f" = {len(cases)} cases"
    )
    for kind in DAMAGES:
        row = {v: n for (k, v), n in sorted(tally.items()) if k == kind}
        print(f"  {kind:10s} {row}")
    for i, (rel, kind) in enumerate(labels):
        if not results[i].startswith("ok"):
            print(f"  {kind:10s} {rel}: {results[i]}")
    for i, (rel, kind) in enumerate(labels):
        if results[i].startswith("ok") and not results[i].endswith(" 0"):
            print(f"  note: {kind} {rel} -> {results[i]} (records lost without an error)")
    assert not bad, "damaged stores gave forbidden outcomes:\n" + "\n".join(bad)
