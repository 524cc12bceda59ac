"""Helpers shared by the subcommands: output and progress."""

from __future__ import annotations


def say(text: str) -> None:
    """Print one line of a command's output, flushed at once."""
    print(text, flush=True)
