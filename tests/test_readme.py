"""Every code block of README.md is executed here, so the README cannot go
stale (issue 10). The conventions are in tests/_readme_blocks.py: python
blocks run as programs with their ``# ->`` results checked, sh and console
blocks run as commands (console output compared), ``<!-- file: -->`` blocks
are written for later blocks to use, and the few ``<!-- not-run(ID) -->``
blocks (installing software, minutes-long benchmarks) are checked by the
function registered under ID in NOT_RUN_CHECKS.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from _readme_blocks import README, RUNNABLE, Block, parse

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
RUNNER = TESTS / "_readme_runner.py"
TIMEOUT = 300  # a hang limit for one block
BLOCKS = parse()


def _sections() -> dict[str, list[Block]]:
    """The blocks of each ``##`` section, in README order."""
    sections: dict[str, list[Block]] = {}
    for block in BLOCKS:
        sections.setdefault(block.section, []).append(block)
    return sections


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _env() -> dict[str, str]:
    """Subprocess environment: fixed terminal width (argparse help wraps to
    it) and UTF-8 output on every platform."""
    return {**os.environ, "COLUMNS": "80", "PYTHONIOENCODING": "utf-8"}


def _fail(block: Block, what: str, proc: subprocess.CompletedProcess[str]) -> None:
    pytest.fail(f"{block.where} ({block.section}): {what} exited {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}")


def _run_python(block: Block, cwd: Path) -> None:
    source = cwd / f"block_{block.line}.py.txt"
    source.write_text(block.text, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(RUNNER), str(source), str(block.line)],
                          cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT)
    source.unlink()
    if proc.returncode != 0:
        _fail(block, "the python block", proc)


def _argv(words: list[str]) -> list[str]:
    """A README command as run here: ``python``/``python3`` is this interpreter."""
    head, rest = words[0], words[1:]
    if head in ("python", "python3"):
        return [sys.executable, *rest]
    if head == "shoal":
        return [sys.executable, "-m", "shoal", *rest]
    return words


def _run_command(block: Block, line: str, cwd: Path) -> str:
    """Run one README command line (``&&`` chains, ``> FILE``); its stdout."""
    output = []
    words = shlex.split(line, comments=True)
    chain: list[list[str]] = [[]]
    for word in words:
        if word == "&&":
            chain.append([])
        else:
            chain[-1].append(word)
    for cmd in chain:
        target = None
        if ">" in cmd:
            at = cmd.index(">")
            assert at == len(cmd) - 2, f"{block.where}: '>' must come last, before a file name"
            cmd, target = cmd[:at], cmd[at + 1]
        proc = subprocess.run(_argv(cmd), cwd=cwd, env=_env(), capture_output=True, text=True,
                              timeout=TIMEOUT)
        if proc.returncode != 0:
            _fail(block, shlex.join(cmd), proc)
        if target is None:
            output.append(proc.stdout)
        else:
            (cwd / target).write_text(proc.stdout, encoding="utf-8")
    return "".join(output)


def _commands(block: Block) -> list[str]:
    """The command lines of a sh block (comments and blank lines dropped)."""
    return [line for line in block.text.splitlines() if shlex.split(line, comments=True)]


def _run_console(block: Block, cwd: Path) -> None:
    """Run each ``$ command`` and compare its output with the lines after it."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"{block.where}: a console block starts with a '$ ' command"
            steps[-1][1].append(line)
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for command, expected_lines in steps:
        got = _run_command(block, command, cwd)
        expected = "".join(f"{x}\n" for x in expected_lines)
        if not checker.check_output(expected, got, flags):
            pytest.fail(f"{block.where}: output of `{command}` differs:\n"
                        + checker.output_difference(doctest.Example(command, expected), got,
                                                    flags))


def _run_block(block: Block, cwd: Path) -> None:
    if block.file is not None:
        (cwd / block.file).write_text(block.text, encoding="utf-8")
    elif block.lang == "python":
        _run_python(block, cwd)
    elif block.lang == "sh":
        for line in _commands(block):
            _run_command(block, line, cwd)
    elif block.lang == "console":
        _run_console(block, cwd)
    else:
        pytest.fail(f"{block.where}: a ```{block.lang} block can be neither run nor checked")


# -- blocks that cannot run here, and how each is checked instead -----------


def _check_setup(block: Block) -> None:
    """The two set-up commands: the test command is exactly what .ci/run runs;
    the other installs this directory and runs the demo, which runs here."""
    commands = _commands(block)
    assert len(commands) == 2, f"{block.where}: expected the two set-up commands"
    install_demo, test_command = commands
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci, f".ci/run does not run the README's test command {test_command!r}"
    install, demo = install_demo.split(" && ")
    assert re.fullmatch(r"python3 -m pip install \.", install), install
    assert demo == "python3 -m shoal demo", demo
    out = _run_command(block, demo, Path.cwd())
    assert out.rstrip().endswith("done."), out[-2000:]


def _check_bench(block: Block) -> None:
    """The benchmark commands (minutes each): every file they name exists and
    every extra they install is defined."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    for line in _commands(block):
        for word in shlex.split(line, comments=True):
            extra = re.fullmatch(r"\.\[(\w+)\]", word)
            if extra:
                assert re.search(rf"^{extra[1]} = \[", pyproject, re.M), f"no extra {extra[1]}"
            elif word.startswith("benches/"):
                assert (REPO / word).exists(), f"{block.where}: {word} does not exist"


NOT_RUN_CHECKS: dict[str, Callable[[Block], None]] = {
    "setup": _check_setup,
    "bench": _check_bench,
}


def test_every_block_is_run_or_checked() -> None:
    assert BLOCKS, f"no code block found in {README}"
    for block in BLOCKS:
        if block.not_run is not None:
            assert block.not_run in NOT_RUN_CHECKS, (
                f"{block.where}: not-run({block.not_run}) has no check in test_readme.py")
        elif block.file is None:
            assert block.lang in RUNNABLE, f"{block.where}: unknown block kind {block.lang!r}"
    used = {b.not_run for b in BLOCKS if b.not_run}
    unused = set(NOT_RUN_CHECKS) - used
    assert not unused, f"checks without a README block: {unused}"
    for section, blocks in _sections().items():
        for i, block in enumerate(blocks):
            if block.file is not None:
                later = [b.text for b in blocks[i + 1:] if b.file is None and b.not_run is None]
                assert any(block.file in text for text in later), (
                    f"{block.where}: file {block.file} is used by no later block of {section!r}")


@pytest.mark.parametrize(
    "section", [s for s, blocks in _sections().items()
                if any(b.not_run is None for b in blocks)], ids=_slug)
def test_section_blocks_run(section: str, tmp_path: Path) -> None:
    for block in _sections()[section]:
        if block.not_run is None:
            _run_block(block, tmp_path)


@pytest.mark.parametrize("check", sorted(NOT_RUN_CHECKS))
def test_not_run_block_is_checked(check: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                  ) -> None:
    monkeypatch.chdir(tmp_path)
    for block in BLOCKS:
        if block.not_run == check:
            NOT_RUN_CHECKS[check](block)


# -- the conventions themselves: each check can fail ------------------------


def _run_source(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    block = tmp_path / "block.txt"
    block.write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, str(RUNNER), str(block), "10"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=TIMEOUT)


def test_a_wrong_result_fails_with_the_readme_line(tmp_path: Path) -> None:
    ok = _run_source(tmp_path, "x = [1, 2]\nx  # -> [1, ...]\n(x, {'a': 1})  # -> ([1, 2], {...})")
    assert ok.returncode == 0, ok.stderr
    bad = _run_source(tmp_path, "x = 2\nif x:\n    x + 1  # -> 4\n")
    assert bad.returncode != 0
    assert "README.md:12: expected 4" in bad.stderr and "got 3" in bad.stderr, bad.stderr


def test_an_arrow_that_checks_nothing_is_an_error(tmp_path: Path) -> None:
    bad = _run_source(tmp_path, "x = 1  # -> 1\n")
    assert bad.returncode != 0 and "README.md:10: a '# ->' comment must end" in bad.stderr


@pytest.mark.parametrize("text, error", [
    ("<!-- not-run(x): why -->\n\n```sh\nls\n```\n", "just before its block"),
    ("<!-- not-run: why -->\n```sh\nls\n```\n", "malformed directive"),
    ("<!-- file: a.py -->\n", "no block after it"),
    ("```python\nx = 1\n", "unclosed code fence"),
])
def test_malformed_conventions_are_refused(tmp_path: Path, text: str, error: str) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# t\n\n## s\n\n{text}", encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        parse(readme)


def test_blocks_carry_section_line_and_directive(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("## one\n<!-- file: a.py -->\n```python\nprint(1)\n```\n## two\n"
                      "```console\n$ python a.py\n1\n```\n", encoding="utf-8")
    first, second = parse(readme)
    assert (first.section, first.lang, first.line, first.file) == ("one", "python", 4, "a.py")
    assert (second.section, second.lang, second.text) == ("two", "console", "$ python a.py\n1\n")


def test_readme_names_the_oldest_supported_python() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    oldest = re.search(r'^requires-python = ">=(3\.\d+)"', pyproject, re.M)
    assert oldest, "requires-python not found in pyproject.toml"
    assert f"CPython ≥ {oldest[1]}" in README.read_text(encoding="utf-8")
