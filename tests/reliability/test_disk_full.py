"""Disk full, emulated with a file-size limit (``RLIMIT_FSIZE``) in a child process.

A write that would grow a file beyond the limit fails with ``EFBIG`` (the
child ignores ``SIGXFSZ``, which would otherwise kill it), exactly where a
full disk fails with ``ENOSPC``. Each scenario runs in a subprocess with a
time limit (a hang is a failure, a crash is a return code), then the parent
reopens the store without any limit and checks it.

What is proven:

- the write that hits the limit raises ``shoal.StorageError`` naming the cause;
  later writes raise ``shoal.Error`` too (the store refuses writes until it is
  reopened), reads keep working;
- nothing acknowledged before is lost or changed, indexes agree with their
  documents, and after the limit is lifted the store opens and accepts writes;
- a limit hit while a store is created makes ``open`` raise, and the directory
  opens afterwards;
- a compaction that hits the limit leaves the data intact.

Documented failure (``xfail(strict=True)``, see the test): a write that
raised ``StorageError`` is committed after all when space returns before the
store is closed. (A compaction that hits the limit used to raise
``CorruptionError``; it raises ``StorageError`` now.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shoal
from _rel import figure, index_disagreements, run_python

TIMEOUT = 180

# Fills the store until the size limit is hit; prints one JSON line.
FILL = """
import json, os, resource, signal, sys
import shoal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
path, limit, durability, lift = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "lift"
store = shoal.open(path, durability=durability)
coll = store.collection("c")
coll.create_index("g")
coll.create_index("u", unique=True)
kv = store.kv("k", key="int")
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
acked, error, i = [], None, 0
while i < 200_000:
    try:
        if i % 3 == 0:
            coll.insert({"_id": i, "g": i % 7, "u": f"u{i}", "pad": "p" * 700})
        elif i % 3 == 1:
            with store.transaction() as tx:
                tx[coll].insert({"_id": i, "g": i % 7, "u": f"u{i}", "pad": "t" * 700})
                tx[kv][i] = ["tx", i]
        else:
            kv[i] = ["kv", i, "k" * 700]
    except BaseException as e:
        error = [type(e).__module__ + "." + type(e).__name__, str(e)]
        break
    acked.append(i)
    i += 1
after = {}
for name, call in [
    ("write", lambda: kv.__setitem__(-1, "after")),
    ("insert", lambda: coll.insert({"_id": -1, "g": 0, "u": "after"})),
    ("read", lambda: (len(coll), kv.get(acked[-1] if acked else 0) is not None)),
    ("find", lambda: len(coll.find({"g": 1}))),
]:
    try:
        after[name] = ["ok", repr(call())]
    except BaseException as e:
        after[name] = [type(e).__module__ + "." + type(e).__name__, str(e)]
if lift:
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    try:
        store.close()
        after["close"] = ["ok", ""]
    except BaseException as e:
        after["close"] = [type(e).__name__, str(e)]
print(json.dumps({"acked": acked, "failed": i, "error": error, "after": after}), flush=True)
os._exit(0)  # no clean-up at exit: the limit (if kept) is still in force
"""


def fill(db: Path, limit: int, durability: str, lift: bool) -> dict[str, Any]:
    res = run_python(
        FILL, str(db), str(limit), durability, "lift" if lift else "keep", timeout=TIMEOUT
    )
    assert not res.timed_out, f"the child hung with a full disk:\n{res.describe()}"
    assert res.returncode == 0, f"the child crashed with a full disk:\n{res.describe()}"
    return json.loads(res.stdout.strip().splitlines()[-1])


def expected_records(acked: list[int]) -> tuple[dict[int, dict[str, Any]], dict[int, Any]]:
    docs, kv = {}, {}
    for i in acked:
        if i % 3 == 0:
            docs[i] = {"_id": i, "g": i % 7, "u": f"u{i}", "pad": "p" * 700}
        elif i % 3 == 1:
            docs[i] = {"_id": i, "g": i % 7, "u": f"u{i}", "pad": "t" * 700}
            kv[i] = ["tx", i]
        else:
            kv[i] = ["kv", i, "k" * 700]
    return docs, kv


def check_reopened(db: Path, acked: list[int], failed: int) -> dict[str, Any]:
    """Reopens without a limit: every acknowledged record, indexes, new writes."""
    docs, kv = expected_records(acked)
    with shoal.open(db) as store:
        coll, space = store.collection("c"), store.kv("k", key="int")
        got_docs = {d["_id"]: d for d in coll}
        got_kv = dict(space.items())
        lost = [i for i in docs if got_docs.get(i) != docs[i]]
        lost += [i for i in kv if got_kv.get(i) != kv[i]]
        assert not lost, f"{len(lost)} acknowledged records lost or changed, e.g. {lost[:5]}"
        extra = (set(got_docs) - set(docs)) | (set(got_kv) - set(kv))
        assert extra <= {failed}, f"records nobody wrote: {sorted(extra)[:5]}"
        problems = index_disagreements(
            coll,
            list(got_docs.values()),
            [({"g": g}, lambda d, g=g: d["g"] == g) for g in range(7)]
            + [({"u": {"$gte": ""}}, lambda d: True)],
        )
        assert not problems, problems
        assert store.verify()["problems"] == []
        coll.insert({"_id": "new", "g": 1, "u": "new"})
        space[10**9] = "new"
    with shoal.open(db) as store:
        assert store.collection("c").get("new") == {"_id": "new", "g": 1, "u": "new"}
        assert store.kv("k")[10**9] == "new"
    return {"failed_write_committed": failed in got_docs or failed in got_kv}


@pytest.mark.parametrize(
    ("durability", "limit"), [("sync", 1 << 20), ("flush", 1 << 20), ("flush", 6 << 20)]
)
def test_write_on_a_full_disk_raises_and_loses_nothing(
    tmp_path: Path, durability: str, limit: int
) -> None:
    db = tmp_path / "db"
    out = fill(db, limit, durability, lift=False)
    acked, error = out["acked"], out["error"]
    assert error is not None, f"no error after {len(acked)} writes under a {limit}-byte limit"
    assert error[0] == "shoal._core.StorageError", error
    assert "File too large" in error[1], error
    for name in ("write", "insert"):
        kind = out["after"][name][0]
        assert kind.startswith("shoal."), f"{name} after the error: {out['after'][name]}"
    assert out["after"]["read"][0] == "ok", out["after"]
    assert out["after"]["find"][0] == "ok", out["after"]
    result = check_reopened(db, acked, out["failed"])
    figure(
        f"disk-full/{durability}/{limit >> 20}MiB",
        f"{len(acked)} writes acknowledged, then {error[0]}: {error[1]}; later writes: "
        f"{out['after']['write'][1]}; reopened with all of them, failed write committed: "
        f"{result['failed_write_committed']}",
    )


def test_creating_a_store_on_a_full_disk(tmp_path: Path) -> None:
    db = tmp_path / "db"
    code = """
    import resource, signal, sys
    import shoal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    try:
        shoal.open(sys.argv[1])
    except shoal.StorageError as e:
        print("StorageError", e)
    """
    res = run_python(code, str(db), timeout=TIMEOUT)
    assert res.returncode == 0 and res.stdout.startswith("StorageError"), res.describe()
    with shoal.open(db) as store:
        store.kv("k")["a"] = 1
    with shoal.open(db) as store:
        assert dict(store.kv("k").items()) == {"a": 1}


COMPACT = """
import json, os, resource, signal, sys
import shoal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
store = shoal.open(sys.argv[1])
kv = store.kv("k", key="int", value="bytes")
rnd = __import__("random").Random(3)
for i in range(30_000):
    kv[i] = rnd.randbytes(400)
    if i == 15_000:
        store.compact()  # one table now, another below: compact() must merge them
store.sync()
resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    store.compact()
    out = ["ok", ""]
except BaseException as e:
    out = [type(e).__module__ + "." + type(e).__name__, str(e)]
print(json.dumps(out), flush=True)
os._exit(0)
"""


def compact_on_full_disk(db: Path) -> list[str]:
    res = run_python(COMPACT, str(db), timeout=TIMEOUT)
    assert res.returncode == 0 and not res.timed_out, res.describe()
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_compaction_on_a_full_disk_keeps_the_data(tmp_path: Path) -> None:
    import random

    db = tmp_path / "db"
    outcome = compact_on_full_disk(db)
    assert outcome[0] != "ok", "compaction of ~12 MiB fitted under a 2 MiB file-size limit?"
    assert outcome[0].startswith("shoal."), outcome
    rnd = random.Random(3)
    expected = {i: rnd.randbytes(400) for i in range(30_000)}
    with shoal.open(db) as store:
        kv = store.kv("k", key="int", value="bytes")
        assert dict(kv.items()) == expected
        kv[-1] = b"after"
        store.compact()
    with shoal.open(db) as store:
        assert store.kv("k")[-1] == b"after"
    figure("disk-full/compaction", f"compact() raised {outcome[0]}: {outcome[1][:160]}")


def test_compaction_on_a_full_disk_raises_storage_error(tmp_path: Path) -> None:
    outcome = compact_on_full_disk(tmp_path / "db")
    assert outcome[0] == "shoal._core.StorageError", outcome


@pytest.mark.xfail(
    strict=True,
    reason="engine bug: a write that raised StorageError('File too large') is committed after "
    "all when space returns before the store is closed (the journal's buffered record is "
    "written at close), so the caller was told it failed but it is there after reopening",
)
def test_a_write_that_failed_on_a_full_disk_stays_failed(tmp_path: Path) -> None:
    db = tmp_path / "db"
    out = fill(db, 1 << 20, "sync", lift=True)
    assert out["error"] is not None and out["error"][0] == "shoal._core.StorageError"
    result = check_reopened(db, out["acked"], out["failed"])
    assert not result["failed_write_committed"], f"write {out['failed']} raised but was committed"
