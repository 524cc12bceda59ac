"""Helpers shared by the reliability tests (not a test module).

``FULL`` is true when ``SHOAL_RELIABILITY_FULL=1``: the tests then run their
full-size versions (see ``README.md`` beside this file). ``figure()`` records a
measured figure (rounds, recovery times, resource counts); the conftest prints
them all in the terminal summary, so the numbers of every run are visible
without ``-s``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FULL = os.environ.get("SHOAL_RELIABILITY_FULL", "") not in ("", "0")
FIGURES: list[str] = []
HERE = Path(__file__).parent
TESTS = HERE.parent


def sized(ci: int, full: int) -> int:
    """``full`` under ``SHOAL_RELIABILITY_FULL=1``, else ``ci``."""
    return full if FULL else ci


def figure(test: str, text: str) -> None:
    """Records one line of figures for the terminal summary (and prints it)."""
    line = f"{test}: {text}"
    FIGURES.append(line)
    print(line)


def millis(values: Iterable[float]) -> str:
    """``max/median/mean`` of durations in seconds, as milliseconds."""
    vals = sorted(values)
    if not vals:
        return "n/a"
    mean = sum(vals) / len(vals)
    median = vals[len(vals) // 2]
    return f"max {vals[-1] * 1e3:.1f} ms, median {median * 1e3:.1f} ms, mean {mean * 1e3:.1f} ms"


@dataclass
class ChildResult:
    """What a Python snippet run in a subprocess did."""

    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def describe(self) -> str:
        return (
            f"rc={self.returncode}\nstdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}"
        )


def run_python(code: str, *args: str, timeout: float = 60, cwd: Path | None = None) -> ChildResult:
    """Runs ``code`` in a fresh interpreter (``tests/`` on ``sys.path``).

    Used for anything that might crash or hang the interpreter: a crash is
    then a return code, a hang a ``timed_out`` result, never the end of the
    test run.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(TESTS)]))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout or ""
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr or ""
        return ChildResult(None, out, err)
    return ChildResult(proc.returncode, proc.stdout, proc.stderr)


# --- index agreement -------------------------------------------------------------

Predicate = Callable[[dict[str, Any]], bool]


def index_disagreements(
    coll: Any, docs: list[dict[str, Any]], probes: list[tuple[dict[str, Any], Predicate]]
) -> list[str]:
    """Compares what each index answers with a scan evaluated in Python.

    ``docs`` is every document of ``coll`` (read by a primary-key scan);
    ``probes`` pairs a filter that the planner must serve from an index with
    the same condition as a Python predicate. For each probe: ``explain()``
    must say ``access == "index"``; ``find()`` (candidates read through the
    index) must return exactly the documents the predicate selects (a
    document missing from the index is missing here); the index entries it
    examined must number exactly those documents (an entry without its
    document, or a stale entry, is counted here even though ``find`` re-checks
    and drops it); ``count()`` (answered from index counters, without reading
    documents) must agree too. Returns one line per disagreement.
    """
    problems = []
    key = coll.key
    for flt, pred in probes:
        expected = sorted(repr(tuple(d[k] for k in key)) for d in docs if pred(d))
        plan = coll.explain(flt)
        if plan.get("access") != "index":
            problems.append(f"{flt}: not served by an index: {plan}")
            continue
        got = sorted(repr(tuple(d[k] for k in key)) for d in coll.find(flt))
        if got != expected:
            missing = sorted(set(expected) - set(got))[:5]
            extra = sorted(set(got) - set(expected))[:5]
            problems.append(f"{flt}: find() via {plan['index']} missing {missing} extra {extra}")
        if plan.get("keys_examined") != len(expected):
            problems.append(
                f"{flt}: index {plan['index']} has {plan.get('keys_examined')} entries "
                f"for {len(expected)} documents"
            )
        counted = coll.count(flt)
        if counted != len(expected):
            problems.append(f"{flt}: count() = {counted}, documents = {len(expected)}")
    return problems


# --- hostile-input batches ---------------------------------------------------------


def run_batch(
    root: Path, cases: dict[str, str], runner: Path, time_limit: float
) -> dict[str, dict[str, Any]]:
    """Runs the cases one after the other in ``runner`` children, each on a fresh store.

    ``runner`` reads a JSON list of ``[name, body, directory]`` on stdin and
    prints one JSON object (with ``name``) per case as soon as it is done; if
    the child crashes or hangs (``time_limit`` for the whole batch: hang
    detection only), the case it was running is recorded as such and the
    rest run in a new child. The working directory is an empty one, checked
    after each child.
    """
    cwd = root / "cwd"
    cwd.mkdir()
    results: dict[str, dict[str, Any]] = {}
    todo = list(cases)
    while todo:
        batch = [(name, cases[name], str(root / name)) for name in todo]
        for _, _, d in batch:
            Path(d).mkdir(exist_ok=True)
        env = dict(os.environ, PYTHONPATH=str(HERE))
        try:
            proc = subprocess.run(
                [sys.executable, str(runner)],
                input=json.dumps(batch),
                capture_output=True,
                text=True,
                timeout=time_limit,
                cwd=cwd,
                env=env,
            )
            out, err, rc = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout or ""
            err, rc = "timed out (hang)", None
        for line in out.splitlines():
            rec = json.loads(line)
            results[rec["name"]] = rec
        todo = [name for name in todo if name not in results]
        if todo:  # the child died (or hung) in todo[0]
            results[todo[0]] = {"outcome": f"child died: rc={rc}", "stderr": err[-3000:]}
            todo = todo[1:]
    assert os.listdir(cwd) == [], f"files created in the working directory: {os.listdir(cwd)}"
    return results
