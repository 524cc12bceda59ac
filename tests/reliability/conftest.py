"""Reliability tests: prints the figures they measured in the terminal summary."""

from __future__ import annotations

from typing import Any

from _rel import FIGURES, FULL


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    size = "full size" if FULL else "CI size (SHOAL_RELIABILITY_FULL=1 for full size)"
    terminalreporter.section(f"shoal reliability figures, {size}")
    for line in FIGURES:
        terminalreporter.write_line(line)
