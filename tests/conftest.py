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
