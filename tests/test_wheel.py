"""Packaging check (issue 10): the release wheel is abi3, installs into a fresh
virtual environment with no Rust toolchain on PATH, and works there.

The wheel comes from ``$SHOAL_WHEEL`` when set (CI jobs that already built
one), else from ``maturin build --release`` of this checkout. That build uses
its own cargo target directory: ``$SHOAL_WHEEL_TARGET_DIR`` (``.ci/run`` points
it at the clean clone's ``target/``, where ``pip install .`` has just compiled
the same release build, so it takes seconds) or a cache directory under the
system temp dir (never the checkout's ``target/``: a developer's parallel cargo
runs hold its lock). The check is skipped only where no wheel can be built
(maturin or cargo missing), with a "tests NOT RUN" line at the end of the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parent.parent
# Hang limits only (a cold release build takes minutes on 2 cores).
BUILD_TIMEOUT = 3600
STEP_TIMEOUT = 600
NOT_RUN = "wheel packaging check tests NOT RUN"
RUST_TOOLS = ("cargo", "rustc", "rustup")


def _run(
    cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = STEP_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; on failure, fail the test with its output."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return proc


def _maturin() -> list[str] | None:
    """How to run maturin here, or None when it is not installed."""
    try:
        import maturin  # noqa: F401
    except ImportError:
        found = shutil.which("maturin")
        return [found] if found else None
    return [sys.executable, "-m", "maturin"]


def _build_wheel(out: Path) -> Path:
    """``maturin build --release`` of this checkout into ``out``."""
    maturin = _maturin()
    if maturin is None:
        pytest.skip(f"{NOT_RUN}: maturin is not installed (pip install '.[test]')")
    if shutil.which("cargo") is None:
        pytest.skip(f"{NOT_RUN}: no Rust toolchain (cargo) to build the wheel")
    target = os.environ.get("SHOAL_WHEEL_TARGET_DIR") or str(
        Path(tempfile.gettempdir()) / "shoal-wheel-check-target"
    )
    env = {**os.environ, "CARGO_TARGET_DIR": target}
    _run([*maturin, "build", "--release", "--out", str(out)], cwd=REPO, env=env,
         timeout=BUILD_TIMEOUT)
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, f"maturin built {[w.name for w in wheels]}"
    return wheels[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel under test: ``$SHOAL_WHEEL`` or a fresh release build."""
    given = os.environ.get("SHOAL_WHEEL")
    if given:
        path = Path(given)
        assert path.is_file(), f"SHOAL_WHEEL={given!r} is not a file"
        return path
    return _build_wheel(tmp_path_factory.mktemp("dist"))


def _without_rust_path() -> str:
    """``$PATH`` minus every directory holding a Rust tool."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    keep = [d for d in dirs if d and not any(shutil.which(t, path=d) for t in RUST_TOOLS)]
    return os.pathsep.join(keep)


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh virtual environment and the environment variables to use it
    with: its ``bin`` first on PATH, no Rust toolchain, nothing leaking in
    from the current interpreter (PYTHONPATH, an active venv, cargo settings)."""
    root = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=True, clear=True).create(root)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    env = {
        k: v for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_FIND_LINKS"}
        and not k.startswith(("CARGO", "RUSTUP", "RUSTC", "MATURIN"))
    }
    env["PATH"] = os.pathsep.join([str(bindir), _without_rust_path()])
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for tool in RUST_TOOLS:
        assert shutil.which(tool, path=env["PATH"]) is None, f"{tool} is still on PATH"
    return python, env


def _tags(wheel: Path) -> tuple[str, str, str]:
    """The (python, abi, platform) tag of a wheel's file name."""
    parts = wheel.name[: -len(".whl")].split("-")
    assert len(parts) == 5, f"unexpected wheel name {wheel.name}"
    return parts[2], parts[3], parts[4]


def _oldest_python() -> str:
    """The wheel's expected python tag (``cp39`` for 3.9), from pyproject's
    ``requires-python``, checked against the pyo3 ``abi3-pyXY`` feature."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    requires = re.search(r'^requires-python\s*=\s*">=\s*3\.(\d+)"', text, re.M)
    feature = re.search(r'"pyo3/abi3-py3(\d+)"', text)
    assert requires and feature, "pyproject.toml: requires-python or the abi3 feature not found"
    assert requires[1] == feature[1], "requires-python and the pyo3 abi3 feature disagree"
    return f"cp3{requires[1]}"


def test_wheel_is_abi3_for_the_oldest_supported_python(wheel: Path) -> None:
    assert wheel.name.startswith("shoal-")
    python_tag, abi_tag, platform_tag = _tags(wheel)
    assert (python_tag, abi_tag) == (_oldest_python(), "abi3"), wheel.name
    assert platform_tag != "any", "a wheel with a compiled core cannot be platform-independent"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        wheel_info = zf.read(meta).decode()
    assert f"Tag: {python_tag}-abi3-{platform_tag.split('.')[0]}" in wheel_info, wheel_info
    assert "Root-Is-Purelib: false" in wheel_info, wheel_info
    # Exactly one extension module, built for the stable ABI (no per-version
    # suffix such as .cpython-311-x86_64-linux-gnu.so).
    extensions = [n for n in names if n.endswith((".so", ".pyd", ".dylib"))]
    assert extensions in (["shoal/_core.abi3.so"], ["shoal/_core.pyd"]), extensions
    for needed in ("shoal/__init__.py", "shoal/py.typed", "shoal/_core.pyi",
                   "shoal/cli/__init__.py"):
        assert needed in names, f"{needed} missing from {wheel.name}"
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]


SMOKE = textwrap.dedent(
    """
    import os, sys
    import shoal

    # The installed wheel, not a checkout on sys.path.
    assert os.path.realpath(shoal.__file__).startswith(os.path.realpath(sys.prefix)), shoal.__file__
    path = os.path.join(sys.argv[1], "db")
    with shoal.open(path, durability="sync") as store:
        kv = store.kv("smoke")
        kv["greeting"] = {"text": "hello", "n": 1}
        kv.update({("item", i): i * i for i in range(100)})
        assert kv["greeting"] == {"text": "hello", "n": 1}
        people = store.collection("people")
        people.insert_many([{"_id": i, "name": n, "age": a}
                            for i, (n, a) in enumerate([("ada", 36), ("alan", 41), ("bob", 7)])])
        people.create_index("age")
    with shoal.open(path) as store:                     # reopen: everything is there
        kv = store.kv("smoke")
        assert len(kv) == 101 and kv[("item", 9)] == 81, len(kv)
        assert [k for k, _ in kv[("item", 3):("item", 5)]] == [("item", 3), ("item", 4)]
        found = store.collection("people").find({"age": {"$gte": 30}}, sort=[("age", -1)])
        assert [d["name"] for d in found] == ["alan", "ada"], found
    print("smoke ok", shoal.__version__)
    """
)


def test_wheel_installs_without_rust_and_works(
    wheel: Path, clean_env: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    python, env = clean_env
    _run([str(python), "-m", "pip", "install", "--no-index", "--quiet", str(wheel)], env=env,
         cwd=tmp_path)
    # -I: isolated mode, so neither the working directory nor PYTHON* variables
    # can put a source tree before the installed package.
    smoke = _run([str(python), "-I", "-c", SMOKE, str(tmp_path)], env=env, cwd=tmp_path)
    assert "smoke ok" in smoke.stdout
    helped = _run([str(python), "-I", "-m", "shoal", "--help"], env=env, cwd=tmp_path)
    assert "demo" in helped.stdout and "verify" in helped.stdout, helped.stdout
    script = shutil.which("shoal", path=env["PATH"])
    assert script is not None and Path(script).parent == python.parent, "no shoal console script"
    assert "usage: shoal" in _run([script, "--help"], env=env, cwd=tmp_path).stdout
    # The demo touches every face: all of them import and run without extras.
    demo = _run([str(python), "-I", "-m", "shoal", "demo"], env=env, cwd=tmp_path)
    assert demo.stdout.rstrip().endswith("done."), demo.stdout[-2000:]
