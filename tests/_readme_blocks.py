"""Split README.md into its fenced code blocks, each with its section and the
directive written just before it (helper for tests/test_readme.py).

The conventions (README.md's own contributors need them, so they are also
summarised in an HTML comment at the top of README.md):

- ```` ```python ````: a complete program, run in a fresh interpreter in the
  section's working directory. An expression statement ending in a comment
  ``# -> EXPECTED`` is checked: ``repr()`` of its value must match EXPECTED,
  where ``...`` stands for any text (doctest's ELLIPSIS).
- ```` ```sh ````: one command per line (``#`` comments and blank lines
  aside), run in that directory; each must exit 0. ``python``/``python3``
  mean the interpreter running the tests; ``> FILE`` redirects the output.
- ```` ```console ````: ``$ COMMAND`` lines, each followed by the output
  expected from it (``...`` matches any text, runs of whitespace compare
  equal).
- ``<!-- file: NAME -->`` before a block: the block is written to NAME in
  the section's directory instead of being run (any fence language); a
  later block of the same section must use it.
- ``<!-- not-run(ID): REASON -->`` before a block: the block cannot run in a
  test (it installs software, or takes minutes); test_readme.py checks it
  another way, with the check registered under ID.

Blocks of one ``##`` section run in order, in one fresh directory shared by
that section only; any other fence language is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
RUNNABLE = ("python", "sh", "console")
_FENCE = re.compile(r"^```(\S*)\s*$")
_SECTION = re.compile(r"^## (.+?)\s*$")
_FILE = re.compile(r"^<!-- file: (\S+) -->$")
_NOT_RUN = re.compile(r"^<!-- not-run\((\w+)\): (.+?) -->$")
_DIRECTIVE = re.compile(r"^<!-- (file|not-run)\b")


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    section: str  #: the ``##`` heading above it
    lang: str  #: the fence's language tag ("" when none)
    line: int  #: 1-based line number of its first content line
    text: str  #: its content, ending with a newline
    file: str | None = None  #: set by ``<!-- file: NAME -->``
    not_run: str | None = None  #: the check ID of ``<!-- not-run(ID): ... -->``

    @property
    def where(self) -> str:
        """Where the block is, for messages: ``README.md:LINE``."""
        return f"README.md:{self.line}"


def parse(path: Path = README) -> list[Block]:
    """Every fenced block of ``path``, in order.

    Raises ValueError for a malformed directive, an unclosed fence, or a
    directive that is not directly followed by a block.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    section = ""
    pending: tuple[int, str] | None = None  # (line number, directive line)
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _SECTION.match(line)
        fence = _FENCE.match(line)
        if heading:
            section = heading[1]
        elif _DIRECTIVE.match(line):
            if not (_FILE.match(line) or _NOT_RUN.match(line)):
                raise ValueError(f"README.md:{i + 1}: malformed directive {line!r}")
            pending = (i + 1, line)
        elif fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
            if end is None:
                raise ValueError(f"README.md:{i + 1}: unclosed code fence")
            file = not_run = None
            if pending is not None:
                if pending[0] != i:
                    raise ValueError(f"README.md:{pending[0]}: a directive must be "
                                     "on the line just before its block")
                file_match, not_run_match = _FILE.match(pending[1]), _NOT_RUN.match(pending[1])
                file = file_match[1] if file_match else None
                not_run = not_run_match[1] if not_run_match else None
                pending = None
            text = "".join(f"{body}\n" for body in lines[i + 1 : end])
            blocks.append(Block(section, fence[1], i + 2, text, file, not_run))
            i = end
        elif pending is not None and line.strip():
            raise ValueError(f"README.md:{pending[0]}: a directive must be "
                             "on the line just before its block")
        i += 1
    if pending is not None:
        raise ValueError(f"README.md:{pending[0]}: a directive with no block after it")
    return blocks
