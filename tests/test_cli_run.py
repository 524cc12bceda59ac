"""``python -m shoal run SCRIPT`` and ``shoal.install_aliases()``: unchanged scripts
written for the original packages run on shoal's faces.

The scripts in ``tests/scripts/`` are the originals' README examples, imports
untouched. Each runs in a subprocess under ``python -v``, whose import log names the
loader that served each import (the real sophy, microdb and dynafile are
installed in the benchmark environment: the alias must win over them).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).with_name("scripts")
TIMEOUT = 120


def shoal_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-v", "-m", "shoal", "run", *args],
        capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT,
    )


def aliased(stderr: str) -> set[str]:
    """Modules that ``python -v`` says shoal's alias loader served."""
    return {line.split("'")[1] for line in stderr.splitlines()
            if line.startswith("import '") and "shoal._aliases._AliasLoader" in line}


EXPECTED = {
    "sofart": ["['test_collection']", "I love my jambon", "None", "[3, 4]", "None", "Bieber"],
    "sophy": [
        "v1-e",
        "[('k2', 'v2'), ('k3', 'v3'), ('k4', 'v4')]",
        "[('k3', 'v3'), ('k2', 'v2'), ('k1', 'v1-e')]",
        "[('k1', 'v1-e'), ('k2', 'v2'), ('k3', 'v3')]",
        "[('k3', 'v3'), ('k2', 'v2'), ('k1', 'v1-e')]",
        "[('k3', 'v3'), ('k4', 'v4'), ('k5', 'v5')]",
    ],
    "microdb": [
        "[{'job': 'clean', 'name': 'Alice', 'status': 'finished'},",
        " {'job': 'study', 'name': 'Alice', 'status': 'undone'},",
        " {'job': 'clean', 'name': 'Bob', 'status': 'undone'},",
        " {'job': 'study', 'name': 'Bob', 'status': 'undone'},",
        " {'job': 'clean', 'name': 'Eve', 'status': 'undone'}]",
        "('clean', 'Bob')",
        "True",
        "{'job': 'study', 'name': 'Alice', 'status': 'undone'}",
        "when_not_exist",
        "[{'job': 'clean', 'name': 'Alice', 'status': 'finished'}, "
        "{'job': 'study', 'name': 'Alice', 'status': 'undone'}, "
        "{'job': 'clean', 'name': 'Bob', 'status': 'undone'}, "
        "{'job': 'study', 'name': 'Bob', 'status': 'undone'}, "
        "{'job': 'clean', 'name': 'Eve', 'status': 'undone'}]",
    ],
    "dynafile": [
        "PUT None {'PK': 'user#1', 'SK': 'user#1', 'name': 'Bob'}",
        "PUT None {'PK': 'user#1', 'SK': 'role#1', 'TYPE': 'sender'}",
        "PUT None {'PK': 'user#2', 'SK': 'user#2', 'name': 'Alice'}",
        "PUT None {'PK': 'user#3', 'SK': 'user#3', 'name': 'Steve'}",
        "DELETE {'PK': 'user#3', 'SK': 'user#3', 'name': 'Steve'} None",
        "{'PK': 'user#1', 'SK': 'user#1', 'name': 'Bob'}",
        "[{'PK': 'user#1', 'SK': 'role#1', 'TYPE': 'sender'}, "
        "{'PK': 'user#1', 'SK': 'user#1', 'name': 'Bob'}]",
        "3",
        "[{'PK': 'user#2', 'SK': 'user#2', 'name': 'Alice'}]",
    ],
    "datastore": ["Joe@example.com", "['joe']", "['jane', 'joe']"],
}


@pytest.mark.parametrize("face", sorted(EXPECTED))
def test_an_unchanged_example_script_runs_on_the_face(face: str, tmp_path: Path) -> None:
    if face == "datastore" and importlib.util.find_spec("sqlalchemy") is None:
        pytest.skip("the datastore example uses SQLAlchemy")
    out = shoal_run(str(SCRIPTS / f"{face}_example.py"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines() == EXPECTED[face]
    assert face in aliased(out.stderr)


def test_the_script_sees_its_argv_name_and_directory(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    (tmp_path / "main.py").write_text(
        "import sys, helper\nprint(sys.argv, __name__, helper.VALUE)\n"
    )
    out = shoal_run(str(tmp_path / "main.py"), "-x", "--help", "a b", cwd=Path.cwd())
    assert out.returncode == 0, out.stderr
    argv = [str(tmp_path / "main.py"), "-x", "--help", "a b"]
    assert out.stdout.strip() == f"{argv} __main__ 42"


def test_exit_status_and_traceback_are_the_interpreters(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text(
        "import sys\n"
        "def fail():\n"
        "    raise ValueError('boom')\n"
        "if sys.argv[1] == 'raise': fail()\n"
        "if sys.argv[1] == 'exit': sys.exit(7)\n"
        "if sys.argv[1] == 'message': sys.exit('goodbye')\n"
    )
    raised = shoal_run(str(script), "raise", cwd=tmp_path)
    assert raised.returncode == 1
    log = raised.stderr.splitlines()
    tb = log[log.index("Traceback (most recent call last):"):]
    assert tb[1].startswith(f'  File "{script}", line 4, in <module>')  # no runner frames
    assert "ValueError: boom" in tb
    assert shoal_run(str(script), "exit", cwd=tmp_path).returncode == 7
    message = shoal_run(str(script), "message", cwd=tmp_path)
    assert message.returncode == 1 and "goodbye" in message.stderr
    assert shoal_run(str(script), "nothing", cwd=tmp_path).returncode == 0


def test_a_missing_script_is_a_one_line_error(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "shoal", "run", "nope.py"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=TIMEOUT)
    assert out.returncode == 1
    assert out.stderr.splitlines() == ["shoal run: error: can't open file 'nope.py': no such file"]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=TIMEOUT)


@pytest.mark.parametrize("name", ["sophy", "microdb", "dynafile"])
def test_the_real_package_is_not_shadowed_without_aliases(name: str) -> None:
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"the real {name} is not installed (it is in the benchmark extra)")
    out = _python(f"import shoal, {name}; print({name}.__name__, {name}.__file__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == name and "shoal" not in out.stdout.split()[1]


def test_install_aliases_serves_every_face_and_submodule() -> None:
    out = _python(
        "import shoal, sys\n"
        "assert shoal.install_aliases() == shoal.install_aliases()\n"  # idempotent
        "import sofart, sophy, microdb, dynafile, datastore\n"
        "from sofart.database import Database\n"
        "from sofart.serializers._json import Serializer\n"
        "from dynafile.dispatcher import Dispatcher\n"
        "from datastore.store import Datastore\n"
        "import shoal.sofart.database as real\n"
        "assert Database is real.Database and sys.modules['sofart'] is shoal.sofart\n"
        "assert shoal.sofart.__spec__.name == 'shoal.sofart'\n"
        "print(sorted(m.__name__ for m in (sofart, sophy, microdb, dynafile, datastore)))\n"
        "try:\n"
        "    import sofart.no_such_module\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e.name)\n"
        "print(sum(type(f).__name__ == 'AliasFinder' for f in sys.meta_path))\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "['shoal.datastore', 'shoal.dynafile', 'shoal.microdb', 'shoal.sofart', 'shoal.sophy']",
        "sofart.no_such_module",
        "1",
    ]


def test_a_package_imported_before_install_aliases_is_left_alone() -> None:
    if importlib.util.find_spec("microdb") is None:
        pytest.skip("the real microdb is not installed (it is in the benchmark extra)")
    out = _python(
        "import warnings, microdb, shoal\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    names = shoal.install_aliases()\n"
        "import microdb as again\n"
        "print('microdb' in names, again.__name__, w[0].category.__name__)\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "microdb", "RuntimeWarning"]
