"""``shoal stats PATH``: what a store holds and what it takes on disk and in memory."""

from __future__ import annotations

import argparse
import json
from typing import Any

import shoal

from ._common import disk_use, human, open_kv, open_store, say


def gather(path: str) -> dict[str, Any]:
    """Every figure ``stats`` shows, as a JSON-ready dict."""
    store = open_store(path)
    with store:
        kvs = {name: open_kv(store, name, allow_pickle=True)  # counting decodes no value
               for name in store.spaces()}
        colls = {name: store.collection(name) for name in store.collections()}
        engine = store.stats()  # after opening every space: it covers the open ones
        space_disk: dict[tuple[str, str], int] = {}
        for space in engine["spaces"]:
            key = (space["kind"], space["name"])
            space_disk[key] = space_disk.get(key, 0) + space["disk_bytes"]
        kv_info = [{"name": name, "items": len(kv), "key_codec": kv.key_codec,
                    "value_codec": kv.value_codec, "disk_bytes": space_disk.get(("kv", name), 0)}
                   for name, kv in kvs.items()]
        coll_info = [{
            "name": name, "documents": len(coll), "key": list(coll.key), "ttl": coll.ttl,
            "indexes": [{"name": ix["name"], "fields": [list(f) for f in ix["fields"]],
                         "unique": ix["unique"], "sparse": ix["sparse"],
                         "multikey": ix["multikey"]} for ix in coll.indexes()],
            "disk_bytes": space_disk.get(("doc", name), 0),
            "index_disk_bytes": space_disk.get(("idx", name), 0),
        } for name, coll in colls.items()]
    disk = disk_use(path)
    return {
        "path": path, "shoal": shoal.__version__,
        "kv": kv_info, "collections": coll_info,
        "disk": {"files": disk.files, "size_bytes": disk.size,
                 "allocated_bytes": disk.allocated, "journals": engine["journal_count"]},
        "memory": {"cache_bytes": engine["cache_bytes"],
                   "write_buffer_bytes": engine["write_buffer_bytes"]},
    }


def _index_text(ix: dict[str, Any]) -> str:
    fields = ", ".join(f"{f} {'asc' if d == 1 else 'desc'}" for f, d in ix["fields"])
    kinds = [k for k in ("unique", "sparse", "multikey") if ix[k]]
    return f"{ix['name']} ({fields}){' ' + ' '.join(kinds) if kinds else ''}"


def show(info: dict[str, Any]) -> None:
    """Print ``info`` (from :func:`gather`) as tables."""
    disk, mem = info["disk"], info["memory"]
    say(f"store {info['path']} (shoal {info['shoal']})")
    say(f"disk: {human(disk['allocated_bytes'])} allocated in {disk['files']} files "
        f"(sizes add up to {human(disk['size_bytes'])}; {disk['journals']} journal(s))")
    say(f"memory: block cache {human(mem['cache_bytes'])}, "
        f"write buffers {human(mem['write_buffer_bytes'])}")
    say(f"\nkey/value spaces: {len(info['kv'])}")
    if info["kv"]:
        say(f"  {'name':<24} {'items':>12}  {'key':<6} {'value':<8} {'tables':>10}")
        for kv in info["kv"]:
            say(f"  {kv['name']:<24} {kv['items']:>12,}  {kv['key_codec']:<6} "
                f"{kv['value_codec']:<8} {human(kv['disk_bytes']):>10}")
    say(f"\ncollections: {len(info['collections'])}")
    for c in info["collections"]:
        ttl = f", expiry field {c['ttl']!r}" if c["ttl"] else ""
        say(f"  {c['name']}: {c['documents']:,} documents, key ({', '.join(c['key'])}){ttl}; "
            f"tables {human(c['disk_bytes'])} + indexes {human(c['index_disk_bytes'])}")
        for ix in c["indexes"]:
            say(f"    index {_index_text(ix)}")


def stats(path: str, as_json: bool = False) -> int:
    """Show a store's spaces, collections, counts, indexes, disk and memory use."""
    info = gather(path)
    if as_json:
        say(json.dumps(info, indent=2))
    else:
        show(info)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``stats``."""
    p = sub.add_parser(
        "stats", help="spaces, collections, counts, indexes, disk and memory use of a store",
        description=f"{stats.__doc__} Item counts are exact (every key is read); "
        "'tables' is what the space's on-disk tables take (recent writes may still be in the "
        "journal); memory figures are the engine's caches and write buffers.")
    p.add_argument("path", help="store directory")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.set_defaults(func=lambda args: stats(args.path, args.json))
