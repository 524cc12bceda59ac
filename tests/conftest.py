from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import shoal
from _util import LETTERS
from hypothesis import HealthCheck, settings

# A CI-sized default profile; SHOAL_HYPOTHESIS_PROFILE=thorough for long runs.
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("SHOAL_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a store directory (not created yet)."""
    return tmp_path / "db"


@pytest.fixture
def store(db_path: Path) -> Iterator[shoal.Store]:
    """An open store in a fresh directory, closed after the test."""
    s = shoal.open(db_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def kv(store: shoal.Store) -> shoal.KV:
    """A fresh space with the default codecs ("any" keys, msgpack values)."""
    return store.kv("t")


@pytest.fixture
def letters(kv: shoal.KV) -> shoal.KV:
    """A space holding ``"a"..."j"`` mapped to ``0..9``."""
    kv.update(LETTERS)
    return kv


# Tests that cannot run here say so on the very last line of the session, so
# a CI log cannot hide them (the datastore face's PostgreSQL suite skips
# with "PostgreSQL tests NOT RUN: <reason>" when no server can start).
_NOT_RUN: set[str] = set()
_NOT_RUN_MARK = "tests NOT RUN"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if _NOT_RUN_MARK in reason:
            _NOT_RUN.add(reason.removeprefix("Skipped: "))


def pytest_unconfigure(config: pytest.Config) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for reason in sorted(_NOT_RUN):
            reporter.write_line(reason)
