"""Child process of test_hostile_faces.py: hostile cases against the faces.

Reads a JSON list of ``[name, body, directory]`` on stdin, ``name`` being
``<face>-<case>``. For each case it opens a fresh store of that face in ``directory`` (a seed record
written, see ``FACES``), runs ``body`` as the body of a function ``case()``
and prints one JSON line: the outcome (``ok`` or the exception's class name
and module), whether the seed was still readable after the case and after
closing and reopening, and the files in ``directory``.

The body sees the face's handles (``sofart``: ``db``, ``c``; ``sophy``:
``env``, ``db``, ``jdb``; ``microdb``: ``m``; ``dynafile``: ``db``;
``datastore``: ``ds``), ``root`` (the case's directory), ``h`` (the dict of
handles: a case that closes a handle puts a reopened one there), the face module
under its name, the nesting helpers of ``_hostile_runner`` and ``math``,
``os``, ``re``, ``pickle``.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _hostile_runner import nest_and, nest_dict, nest_list, nest_tuple
from shoal import datastore, dynafile, microdb, sofart, sophy

SEED = {"f": "seed", "a": "a" * 32 + "!"}


@dataclass
class Face:
    """How to open, seed, check and close one face's store in a directory."""

    open: Callable[[str], dict[str, Any]]
    seed: Callable[[dict[str, Any]], None]
    readable: Callable[[dict[str, Any]], bool]
    close: Callable[[dict[str, Any]], None]


# --- sofart: a multi-mode database (a legacy JSON file + its store directory)


def _sofart_open(root: str) -> dict[str, Any]:
    db = sofart.Database(os.path.join(root, "db.json"), mode="multi")
    return {"db": db, "c": db.c}


def _sofart_seed(h: dict[str, Any]) -> None:
    h["c"].create_index("f")
    h["c"].save({"_id": "seed", **SEED})


def _sofart_readable(h: dict[str, Any]) -> bool:
    c = h["db"].c
    return c.find_one("seed")["f"] == "seed" and [d["_id"] for d in c.find({"f": "seed"})] == [
        "seed"
    ]


def _sofart_close(h: dict[str, Any]) -> None:
    h["db"].close()


# --- sophy: a 0.7 environment, one string database and one JSON-valued one


def _sophy_open(root: str) -> dict[str, Any]:
    env = sophy.Sophia(os.path.join(root, "db"))
    db = env.add_database("d", sophy.Schema([sophy.StringIndex("k")], [sophy.StringIndex("v")]))
    jdb = env.add_database(
        "j",
        sophy.Schema(
            [sophy.StringIndex("k"), sophy.U64Index("n")],
            [sophy.JsonIndex("v"), sophy.BytesIndex("m")],
        ),
    )
    env.open()
    return {"env": env, "db": db, "jdb": jdb}


def _sophy_seed(h: dict[str, Any]) -> None:
    h["db"]["seed"] = "seed"
    h["jdb"][("seed", 1)] = ({"f": "seed"}, b"1")


def _sophy_readable(h: dict[str, Any]) -> bool:
    return (
        h["db"]["seed"] == "seed"
        and h["jdb"][("seed", 1)] == ({"f": "seed"}, b"1")
        and [k for k, _ in h["db"]["seed":"seed"]] == ["seed"]
    )


def _sophy_close(h: dict[str, Any]) -> None:
    h["env"].close()


# --- microdb: a durable table (the literal file + its journal store)


def _microdb_open(root: str) -> dict[str, Any]:
    return {"m": microdb.MicroDB(os.path.join(root, "db.txt"), ["k"], durable=True)}


def _microdb_seed(h: dict[str, Any]) -> None:
    h["m"].upsert({"k": "seed", **SEED})
    h["m"].save()


def _microdb_readable(h: dict[str, Any]) -> bool:
    m = h["m"]
    return m.get({"k": "seed"})["f"] == "seed" and m[("seed",)]["a"] == SEED["a"]


def _microdb_close(h: dict[str, Any]) -> None:
    h["m"].close()


# --- dynafile: a table with a GSI on f


def _dynafile_open(root: str) -> dict[str, Any]:
    return {"db": dynafile.Dynafile(os.path.join(root, "db"))}


def _dynafile_seed(h: dict[str, Any]) -> None:
    h["db"].put_item(item={"PK": "seed", "SK": "seed", **SEED})
    h["db"].create_gsi("by_f", "f", "PK")


def _dynafile_readable(h: dict[str, Any]) -> bool:
    db = h["db"]
    return (
        db.get_item(key={"PK": "seed", "SK": "seed"})["f"] == "seed"
        and [i["SK"] for i in db.query("seed", _filter="f == 'seed'")] == ["seed"]
        and [i["PK"] for i in db.query("seed", index="by_f")] == ["seed"]
    )


def _dynafile_close(h: dict[str, Any]) -> None:
    h["db"].close()


# --- datastore: the embedded backend with one view on f


class FView(datastore.View):
    """A view indexing field ``f`` of every document that has one."""

    def get_table(self, metadata: Any) -> Any:
        # no metadata: it may be SQLAlchemy's, which the look-alike Table cannot join
        return datastore.Table("f_view", None, datastore.Column("f", datastore.Unicode, index=True))

    def map(self, doc: dict[str, Any]) -> Any:
        if isinstance(doc.get("f"), str):
            yield {"f": doc["f"]}


class GView(FView):
    """The same view under another table name."""

    def get_table(self, metadata: Any) -> Any:
        return datastore.Table("g_view", None, datastore.Column("f", datastore.Unicode, index=True))


def _datastore_open(root: str) -> dict[str, Any]:
    url = "shoal:///" + os.path.join(root, "db").lstrip("/")
    return {"ds": datastore.Datastore(url, views={"f": FView()})}


def _datastore_seed(h: dict[str, Any]) -> None:
    h["ds"].put("seed", dict(SEED))


def _datastore_readable(h: dict[str, Any]) -> bool:
    ds = h["ds"]
    return ds.get("seed")["f"] == "seed" and [r["_key"] for r in ds.query("f", f="seed")] == [
        "seed"
    ]


def _datastore_close(h: dict[str, Any]) -> None:
    h["ds"].close()


FACES: dict[str, Face] = {
    "sofart": Face(_sofart_open, _sofart_seed, _sofart_readable, _sofart_close),
    "sophy": Face(_sophy_open, _sophy_seed, _sophy_readable, _sophy_close),
    "microdb": Face(_microdb_open, _microdb_seed, _microdb_readable, _microdb_close),
    "dynafile": Face(_dynafile_open, _dynafile_seed, _dynafile_readable, _dynafile_close),
    "datastore": Face(_datastore_open, _datastore_seed, _datastore_readable, _datastore_close),
}

HELPERS: dict[str, Any] = {
    "math": math,
    "os": os,
    "re": re,
    "pickle": pickle,
    "nest_and": nest_and,
    "nest_dict": nest_dict,
    "nest_list": nest_list,
    "nest_tuple": nest_tuple,
    "sofart": sofart,
    "sophy": sophy,
    "microdb": microdb,
    "dynafile": dynafile,
    "datastore": datastore,
    "FView": FView,
    "GView": GView,
}


def _readable(face: Face, h: dict[str, Any]) -> bool | str:
    try:
        return face.readable(h)
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        return f"{type(e).__name__}: {str(e)[:200]}"


def run(face_name: str, body: str, root: str) -> dict[str, Any]:
    """Runs one case on a fresh, seeded store of ``face_name`` in ``root``."""
    face = FACES[face_name]
    h = face.open(root)
    face.seed(h)
    ns: dict[str, Any] = {**HELPERS, **h, "h": h, "root": root}
    t0 = time.perf_counter()
    try:
        exec("def case():\n" + body, ns)
        r = ns["case"]()
        out: dict[str, Any] = {"outcome": "ok", "result": repr(r)[:300]}
    except BaseException as e:  # a panic (PanicException) is a BaseException
        out = {"outcome": type(e).__name__, "module": type(e).__module__, "message": str(e)[:300]}
    out["seconds"] = time.perf_counter() - t0
    out["readable"] = _readable(face, h)
    face.close(h)  # a case may have replaced a handle in h
    again = face.open(root)
    out["reopened"] = _readable(face, again)
    face.close(again)
    out["files"] = sorted(os.listdir(root))
    return out


def main() -> None:
    """Runs the cases given on stdin, one JSON line of outcome each."""
    for name, body, root in json.loads(sys.stdin.read()):
        face = name.split("-", 1)[0]
        print(json.dumps({"name": name, **run(face, body, root)}), flush=True)


if __name__ == "__main__":
    main()
