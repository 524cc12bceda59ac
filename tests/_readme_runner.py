"""Run one python block of README.md in this (fresh) interpreter, checking
its ``# -> EXPECTED`` comments (helper for tests/test_readme.py).

Usage: ``python _readme_runner.py BLOCK_FILE FIRST_LINE``. The block is
compiled as ``README.md`` with its real line numbers, so a traceback points
at the README line. Every ``# ->`` comment must end an expression statement;
that statement's value is compared with the comment (``repr``, doctest's
ELLIPSIS and whitespace normalisation), and a mismatch raises AssertionError.
"""

from __future__ import annotations

import ast
import doctest
import io
import os
import sys
import tokenize
from typing import Any

_ARROW = "# ->"
_CHECK = "__readme_check__"
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def expectations(source: str) -> dict[int, str]:
    """``{line: expected}`` for every ``# -> expected`` comment."""
    found = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and tok.string.startswith(_ARROW):
            found[tok.start[0]] = tok.string[len(_ARROW):].strip()
    return found


def check(value: Any, expected: str, line: int) -> None:
    """Raise AssertionError unless ``repr(value)`` matches ``expected``."""
    got = repr(value)
    if not doctest.OutputChecker().check_output(expected + "\n", got + "\n", _FLAGS):
        raise AssertionError(f"README.md:{line}: expected {expected}\n{' ' * 21}got {got}")


class _Checks(ast.NodeTransformer):
    """Turn each expression statement that ends on a ``# ->`` line into a
    call of :func:`check`."""

    def __init__(self, expected: dict[int, str]) -> None:
        self.expected = expected
        self.used: set[int] = set()

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        line = node.end_lineno
        if line not in self.expected or line in self.used:
            return node
        self.used.add(line)
        call = ast.Call(
            func=ast.Name(_CHECK, ast.Load()),
            args=[node.value, ast.Constant(self.expected[line]), ast.Constant(line)],
            keywords=[],
        )
        return ast.copy_location(ast.Expr(call), node)


def compile_block(source: str) -> Any:
    """The block's code object, with its ``# ->`` checks inserted."""
    expected = expectations(source)
    tree = ast.parse(source, "README.md")
    checks = _Checks(expected)
    tree = ast.fix_missing_locations(checks.visit(tree))
    unused = sorted(set(expected) - checks.used)
    if unused:
        raise SyntaxError(f"README.md:{unused[0]}: a '# ->' comment must end an "
                          "expression statement")
    return compile(tree, "README.md", "exec")


def main(argv: list[str]) -> None:
    """Run the block file ``argv[1]`` whose first line is README line ``argv[2]``."""
    with open(argv[1], encoding="utf-8") as f:
        body = f.read()
    source = "\n" * (int(argv[2]) - 1) + body  # keep the README's line numbers
    code = compile_block(source)
    # Run as a script in the working directory would: that directory, not
    # tests/, first on sys.path.
    sys.path[0] = os.getcwd()
    sys.argv = ["README.md"]
    exec(code, {"__name__": "__main__", _CHECK: check})


if __name__ == "__main__":
    main(sys.argv)
