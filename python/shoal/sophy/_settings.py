"""Sophia's configuration surface: setting descriptors and :class:`Configuration`.

Sophia exposes hundreds of engine options as properties of the environment and
of each database (``env.scheduler_threads``, ``db.compression``...), all backed
by dotted option paths (``scheduler.threads``, ``db.<name>.compression``).
shoal's engine has no use for most of them (page sizes, mmap, scheduler
threads): they are accepted, remembered and reported, and have no effect.
A few are derived from the engine (``status``, ``index_count``, ``memory_used``,
``log_files``...). The meaningful ones are ``log_sync`` (a truthy value opens
the store with durability ``"sync"``), ``limit_field`` (enforced) and
``compression`` (persisted with the database, as Sophia does).

Values are normalised as Sophia does: ``bool`` -> 0/1, ``str``/``bytes`` ->
``str``, ``int`` -> ``int``; anything else raises ``ValueError``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ._errors import SophiaError

Compute = Callable[[Any], Any]


def normalize(value: Any) -> Any:
    """Normalise an option value (see the module docstring)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise ValueError("Setting value must be bool, int, bytes or string.")


class Setting:
    """A property backed by an option path of its owner (environment or database).

    The owner implements ``_get_setting(setting)`` and ``_set_setting(setting,
    value)``; ``compute`` derives a read-only value from the owner instead.
    """

    def __init__(
        self,
        suffix: str,
        default: Any = 0,
        *,
        ro: bool = False,
        compute: Optional[Compute] = None,
        offline: bool = False,
    ) -> None:
        self.suffix = suffix
        self.default = default
        self.ro = ro or compute is not None
        self.compute = compute
        self.offline = offline
        self.name = suffix

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: Optional[type] = None) -> Any:
        if obj is None:
            return self
        return obj._get_setting(self)

    def __set__(self, obj: Any, value: Any) -> None:
        if self.ro:
            raise AttributeError(f"{self.name} is read-only")
        obj._set_setting(self, normalize(value))


def env_path(name: str) -> str:
    """Option path of an environment property name (``log_rotate_wm`` -> ``log.rotate_wm``)."""
    if name in ("version", "version_storage", "build", "status", "errors", "error", "recover"):
        return f"sophia.{name}"
    head, _, tail = name.partition("_")
    return f"{head}.{tail}" if tail else name


_DB_SPECIAL = {"database_name": "name", "database_id": "id", "database_path": "path"}
_DB_DOTTED = ("index", "compaction", "stat", "scheduler", "limit")


def db_suffix(name: str) -> str:
    """Option path suffix of a database property name (``limit_field`` -> ``limit.field``)."""
    if name in _DB_SPECIAL:
        return _DB_SPECIAL[name]
    head, _, tail = name.partition("_")
    return f"{head}.{tail}" if head in _DB_DOTTED and tail else name


EFFECTS = {
    "log_sync": "a truthy value opens the store with durability 'sync' (fsync per commit)",
    "sync": "set explicitly to a truthy value: the store opens with durability 'sync'",
    "limit_field": "enforced: a larger value field raises SophiaError and writes nothing",
    "compression": "persisted with the database, as in Sophia; shoal compresses on its own",
    "backup_path": "directory that backup_run() copies the store into",
    "scheduler_threads": "settable only while closed; not persisted; no effect on shoal",
}


def install(
    cls: type, table: dict[str, Setting], path: Callable[[str], str], scope: str = ""
) -> None:
    """Attach the settings of ``table`` to ``cls`` as documented properties."""
    for name, setting in table.items():
        setting.name = name
        setting.suffix = path(name)
        if setting.compute is not None:
            effect = "read-only, derived from the engine (or a constant)"
        else:
            effect = EFFECTS.get(name, "remembered and reported; no effect on shoal")
        setting.__doc__ = f"Sophia option ``{scope}{setting.suffix}``: {effect}."
        setattr(cls, name, setting)


class Configuration:
    """Options of an environment by dotted path (``env.config``).

    Options set here are remembered and re-applied at every ``open()``; while
    the environment is open they are validated and applied at once (an
    unknown option raises :class:`SophiaError` and is not remembered).
    """

    def __init__(self, env: Any) -> None:
        self._env = env

    def set_option(self, key: str, value: Any) -> bool:
        """Set option ``key`` (``scheduler.threads``, ``db.main.compression``...)."""
        value = normalize(value)
        key = key.decode("utf-8") if isinstance(key, bytes) else str(key)
        env = self._env
        if env.is_open:
            env._check_option(key, writing=True)
        env._store_option(key, value)
        return True

    def get_option(self, key: str, is_string: bool = True, **kwargs: Any) -> Any:
        """Current value of option ``key`` (the environment must be open).

        ``string=`` is accepted as the legacy name of ``is_string``.
        """
        key = key.decode("utf-8") if isinstance(key, bytes) else str(key)
        return self._env._read_option(key)

    def clear_option(self, key: str) -> None:
        """Forget a remembered option (idempotent)."""
        key = key.decode("utf-8") if isinstance(key, bytes) else str(key)
        self._env._opts.pop(key, None)

    def run_operation(self, key: str) -> Any:
        """Run a one-shot action such as ``scheduler.checkpoint`` or ``log.rotate``."""
        key = key.decode("utf-8") if isinstance(key, bytes) else str(key)
        action = key.replace(".", "_")
        method = getattr(self._env, action, None)
        if action not in self._env._ACTIONS or method is None:
            raise SophiaError(f"unknown operation {key!r}")
        return method()
