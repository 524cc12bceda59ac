"""A throw-away PostgreSQL cluster for the datastore tests.

``start()`` runs ``initdb`` and ``pg_ctl start`` from the installed server
binaries (``PATH``, then ``/usr/lib/postgresql/*/bin``) into a temporary
directory, listening on a free loopback port (and a private socket
directory), with ``fsync=off``; as root it runs the server as ``nobody``
(PostgreSQL refuses root). ``stop()`` stops it and removes its files.
``SHOAL_TEST_PG_URL`` uses an existing server instead (its databases named
``shoal_t*`` are created and dropped by the tests).

When no server can be had (no binaries, no ``psycopg`` driver, a start that
fails) ``Unavailable`` says why; the tests then skip with that reason.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from typing import Any, Optional

DRIVER = "postgresql+psycopg"


class Unavailable(RuntimeError):
    """No PostgreSQL server could be started (the message says why)."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for path in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return path
    raise Unavailable(f"PostgreSQL server binary {name!r} not found (install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running cluster (or an external one) and a factory of fresh databases."""

    def __init__(self) -> None:
        self.dir: Optional[str] = None
        self.pg_ctl: Optional[str] = None
        self.user: Optional[str] = None
        self.base_url = ""
        self._names = itertools.count()

    def start(self) -> Server:
        """Start the cluster (or adopt ``SHOAL_TEST_PG_URL``); ``Unavailable`` on failure."""
        try:
            import psycopg  # noqa: F401
        except ImportError as e:
            raise Unavailable("the psycopg driver is not installed (pip install psycopg)") from e
        external = os.environ.get("SHOAL_TEST_PG_URL")
        if external:
            self.base_url = external
            return self
        initdb, self.pg_ctl = _binary("initdb"), _binary("pg_ctl")
        self.dir = tempfile.mkdtemp(prefix="shoal-pg-")
        run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            os.chmod(self.dir, 0o700)
            run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        self._run_as = run_as
        data = os.path.join(self.dir, "data")
        port = _free_port()
        self._cmd([initdb, "-D", data, "-U", "shoal", "--auth=trust", "-E", "UTF8", "--no-sync"])
        options = (
            f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        log = os.path.join(self.dir, "server.log")
        self._cmd([self.pg_ctl, "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start"])
        self.base_url = f"{DRIVER}://shoal@127.0.0.1:{port}/postgres"
        return self

    def _cmd(self, argv: list[str]) -> None:
        try:
            subprocess.run(
                argv,
                check=True,
                capture_output=True,
                timeout=120,
                cwd=self.dir,
                **self._run_as,
            )
        except (OSError, subprocess.SubprocessError) as e:
            detail = getattr(e, "stderr", b"") or b""
            self.stop()
            raise Unavailable(
                f"could not start PostgreSQL ({argv[0]}): {e} {detail.decode(errors='replace')}"
            ) from e

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        import sqlalchemy as sa

        name = f"shoal_t{os.getpid()}_{next(self._names)}"
        engine = sa.create_engine(self.base_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return str(sa.make_url(self.base_url).set(database=name).render_as_string(False))

    def stop(self) -> None:
        """Stop the cluster and remove its files (nothing for an external server)."""
        if self.dir is None:
            return
        data = os.path.join(self.dir, "data")
        if self.pg_ctl and os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(
                [self.pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                cwd=self.dir,
                **self._run_as,
            )
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


_SERVER: Optional[Server] = None
_FAILURE: Optional[str] = None


def server() -> Server:
    """The process's shared cluster, started on first use (``Unavailable`` if it cannot be)."""
    global _SERVER, _FAILURE
    if _FAILURE is not None:
        raise Unavailable(_FAILURE)
    if _SERVER is None:
        try:
            _SERVER = Server().start()
        except Unavailable as e:
            _FAILURE = str(e)
            raise
        import atexit

        atexit.register(_SERVER.stop)
    return _SERVER
