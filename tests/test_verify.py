"""``Store.verify()`` and ``python -m shoal verify``: every block read (its
checksum checked), every index compared with its documents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import shoal


def build(path: Path) -> None:
    with shoal.open(path) as s:
        kv = s.kv("kv")
        kv.update((f"k{i:05d}", "x" * 200) for i in range(5000))
        c = s.collection("people")
        c.create_index("city")
        c.create_index("tags")
        c.insert_many(
            {"_id": i, "city": "abc"[i % 3], "tags": [i % 5, "t"], "pad": "y" * 200}
            for i in range(3000)
        )
        c.delete_many({"city": "b"})


def test_a_healthy_store_verifies(tmp_path: Path) -> None:
    build(tmp_path / "db")
    with shoal.open(tmp_path / "db") as s:
        report = s.verify()
    spaces = {(kind, name): n for kind, name, n in report["spaces"]}
    assert spaces[("kv", "kv")] == 5000
    assert spaces[("doc", "people")] == 2000
    assert ("idx", "people") in spaces and ("", "_meta") in spaces
    assert report["problems"] == []
    out = subprocess.run(
        [sys.executable, "-m", "shoal", "verify", str(tmp_path / "db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_damaged_tables_are_reported(tmp_path: Any) -> None:
    build(tmp_path / "db")
    tables = sorted(
        (p for p in (tmp_path / "db").rglob("tables/*") if p.is_file() and p.stat().st_size > 8192),
        key=lambda p: p.stat().st_size,
    )
    assert tables, "expected table files"
    victim = tables[-1]
    data = bytearray(victim.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0xFF
    victim.write_bytes(bytes(data))
    # In a child: damage must surface as CorruptionError, never a crash.
    code = (
        "import shoal, sys\n"
        "try:\n"
        f"    s = shoal.open({str(tmp_path / 'db')!r})\n"
        "    s.verify()\n"
        "except shoal.CorruptionError as e:\n"
        "    print('corruption', e); sys.exit(3)\n"
        "print('no error')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, (out.stdout, out.stderr)


def test_verify_on_a_closed_store_raises(tmp_path: Path) -> None:
    s = shoal.open(tmp_path / "db")
    s.close()
    with pytest.raises(shoal.ClosedError):
        s.verify()
