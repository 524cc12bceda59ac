"""``shoal stats``, ``compact``, ``backup`` and what every subcommand shares:
``--help``, and a one-line error with a non-zero status for a missing, locked
or damaged store. All end to end, through ``python -m shoal`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import shoal
from _util import damage_largest_table

TIMEOUT = 120
COMMANDS = ["demo", "run", "stats", "verify", "compact", "backup", "dump", "load"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shoal", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def one_error_line(out: subprocess.CompletedProcess[str], command: str) -> str:
    assert out.returncode == 1, (out.stdout, out.stderr)
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"shoal {command}: error: "), lines
    return lines[0]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "db"
    with shoal.open(path) as s:
        s.kv("users").update({f"u{i:04d}": {"n": i} for i in range(1000)})
        s.kv("blobs", key="bytes", value="bytes")[b"k"] = b"v"
        c = s.collection("events", key=("day", "seq"))
        c.insert_many({"day": d, "seq": i, "kind": "ab"[i % 2]} for d in range(3)
                      for i in range(100))
        c.create_index("kind")
        c.create_index([("seq", -1), ("day", 1)], unique=True, sparse=True, name="by_seq")
        # Not on "events": with an index too, an engine defect bites (test_cli_dump.py).
        s.collection("sessions", ttl="expires").insert({"_id": "s1", "expires": 2**40})
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command: str) -> None:
    out = cli(command, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: shoal {command}")
    description = out.stdout.split("\n\n")[1]
    assert len(description.split()) >= 5, description


@pytest.mark.parametrize("command", ["stats", "verify", "compact", "backup", "dump"])
def test_a_missing_store_is_an_error_and_is_not_created(command: str, tmp_path: Path) -> None:
    args = [command, str(tmp_path / "nope")] + ([str(tmp_path / "copy")]
                                                if command == "backup" else [])
    line = one_error_line(cli(*args), command)
    assert f"no store at {tmp_path / 'nope'}" in line
    assert not (tmp_path / "nope").exists() and not (tmp_path / "copy").exists()
    (tmp_path / "plain").mkdir()
    line = one_error_line(cli(command, str(tmp_path / "plain"), *args[2:]), command)
    assert "not a shoal store" in line and os.listdir(tmp_path / "plain") == []


@pytest.mark.parametrize("command", ["stats", "verify", "compact", "backup", "dump", "load"])
def test_a_locked_store_is_an_error(command: str, store_path: Path, tmp_path: Path) -> None:
    extra = {"backup": [str(tmp_path / "copy")], "load": [os.devnull]}.get(command, [])
    with shoal.open(store_path):  # this process holds the lock
        line = one_error_line(cli(command, str(store_path), *extra), command)
    assert "locked" in line.lower(), line


def test_stats_table_and_json(store_path: Path) -> None:
    out = cli("stats", str(store_path))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "key/value spaces: 2" in text and "collections: 2" in text
    assert [ln.split() for ln in text.splitlines() if ln.startswith("  users")] == [
        ["users", "1,000", "any", "msgpack", *ln.split()[4:]]
        for ln in text.splitlines() if ln.startswith("  users")]
    assert "events: 300 documents, key (day, seq); tables" in text
    assert "sessions: 1 documents, key (_id), expiry field 'expires'; tables" in text
    assert "    index kind_1 (kind asc)" in text
    assert "    index by_seq (seq desc, day asc) unique sparse" in text

    info = json.loads(cli("stats", str(store_path), "--json").stdout)
    assert {kv["name"]: (kv["items"], kv["key_codec"], kv["value_codec"])
            for kv in info["kv"]} == {"users": (1000, "any", "msgpack"),
                                      "blobs": (1, "bytes", "bytes")}
    events, sessions = info["collections"]
    assert (events["documents"], events["key"], events["ttl"]) == (300, ["day", "seq"], None)
    assert [(ix["name"], ix["fields"], ix["unique"], ix["sparse"])
            for ix in events["indexes"]] == [("kind_1", [["kind", 1]], False, False),
                                             ("by_seq", [["seq", -1], ["day", 1]], True, True)]
    assert (sessions["name"], sessions["ttl"], sessions["indexes"]) == ("sessions", "expires",
                                                                        [])
    assert info["disk"]["files"] > 0 and info["disk"]["allocated_bytes"] > 0
    assert set(info["memory"]) == {"cache_bytes", "write_buffer_bytes"}


def test_compact_reports_sizes_and_keeps_the_data(store_path: Path) -> None:
    with shoal.open(store_path) as s:
        del s.kv("users")["u0000":"u0900"]
    out = cli("compact", str(store_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"compacted {store_path}: ") and " -> " in out.stdout
    with shoal.open(store_path) as s:
        assert len(s.kv("users")) == 100 and s.verify()["problems"] == []


def test_backup_copies_and_checks_and_refuses_a_non_empty_destination(
        store_path: Path, tmp_path: Path) -> None:
    out = cli("backup", str(store_path), str(tmp_path / "copy"))
    assert out.returncode == 0, out.stderr
    assert "2 key/value space(s), 2 collection(s)" in out.stdout
    assert out.stdout.rstrip().endswith("the copy opened and verified: ok")
    with shoal.open(tmp_path / "copy") as copy:
        assert copy.kv("users")["u0999"] == {"n": 999}
        events = copy.collection("events")
        assert len(events) == 300 and copy.collection("sessions").ttl == "expires"
        assert [ix["name"] for ix in events.indexes()] == ["kind_1", "by_seq"]
    line = one_error_line(cli("backup", str(store_path), str(tmp_path / "copy")), "backup")
    assert "is not an empty directory" in line
    (tmp_path / "empty").mkdir()
    assert cli("backup", str(store_path), str(tmp_path / "empty"), "--no-verify"
               ).returncode == 0


def test_backup_of_a_damaged_store_fails_and_leaves_no_copy(store_path: Path,
                                                            tmp_path: Path) -> None:
    with shoal.open(store_path) as s:
        s.compact()
    damage_largest_table(store_path)
    line = one_error_line(cli("backup", str(store_path), str(tmp_path / "copy")), "backup")
    assert "corrupted" in line and "dump --salvage" in line
    assert not (tmp_path / "copy").exists()
    assert cli("verify", str(store_path)).returncode == 1
