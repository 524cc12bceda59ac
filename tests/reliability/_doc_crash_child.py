"""Child process of test_crash_documents.py: writes documents until killed.

Usage: python _doc_crash_child.py DB_PATH SEED FIRST_ID DURABILITY

Protocol on stdout, one line per event, each written (atomically: lines are
far below PIPE_BUF) and flushed before the next step:

- ``opening`` right before ``shoal.open``; ``O <ms>`` after it returned;
- ``B <json>`` before an operation starts, ``A`` after it returned (the
  acknowledgement); operations run one at a time, so the commit order is the
  order of the ``B`` lines;
- ``S`` after ``store.sync()`` returned (durability ``"memory"`` only).

Operations (the JSON holds everything the parent needs to replay them):
``ins`` (one document), ``upd`` (a new version through ``$set``/``$unset``,
``replace`` or ``put``), ``del`` (``delete`` or ``delete_many``), ``many``
(``insert_many``), ``tx`` (a transaction over both collections and the KV
space: three inserts, a ledger record, a KV record, an update and a delete),
``dup`` (a write that must fail on the unique index and change nothing, as an
``insert_many`` or inside a transaction), ``index`` (``create_index``).
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

from _doc_records import (
    DOCS,
    KVS,
    LATE_INDEX,
    LATE_INDEX_AT,
    LEDGER,
    LEDGER_INDEX,
    OPEN_INDEXES,
    kv_value,
    ledger_doc,
    make_doc,
    tx_ids,
)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def begin(op: dict[str, Any]) -> None:
    say("B " + json.dumps(op, separators=(",", ":")))


def main() -> None:  # noqa: C901 - one loop choosing among the operations
    path, seed, first_id, durability = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rng = random.Random(seed)
    import shoal

    say("opening")
    t0 = time.perf_counter()
    store = shoal.open(path, durability=durability)
    say(f"O {(time.perf_counter() - t0) * 1000:.2f}")
    docs = store.collection(DOCS)
    ledger = store.collection(LEDGER)
    kvs = store.kv(KVS, key="int")
    versions = {d["_id"]: d["v"] for d in docs}
    deletable = [k for k in versions if k.startswith("p")]
    updatable = list(versions)
    have = {ix["name"] for ix in docs.indexes()}
    for name, (fields, opts) in OPEN_INDEXES.items():
        if name not in have:
            begin({"op": "index", "coll": DOCS, "name": name})
            docs.create_index(fields, **opts)
            say("A")
    if LEDGER_INDEX[0] not in {ix["name"] for ix in ledger.indexes()}:
        begin({"op": "index", "coll": LEDGER, "name": LEDGER_INDEX[0]})
        ledger.create_index(LEDGER_INDEX[1], unique=True)
        say("A")
    late = LATE_INDEX[0] in have
    sync_every = rng.randrange(5, 40)
    n = first_id
    while True:
        n += 1
        if durability == "memory" and n % sync_every == 0:
            store.sync()
            say("S")
        if not late and len(versions) >= LATE_INDEX_AT:
            begin({"op": "index", "coll": DOCS, "name": LATE_INDEX[0]})
            docs.create_index(LATE_INDEX[1])
            say("A")
            late = True
            continue
        r = rng.random()
        if r < 0.30 or not updatable:
            key = f"p{n}"
            begin({"op": "ins", "id": key})
            docs.insert(make_doc(key, 0))
            versions[key] = 0
            deletable.append(key)
            updatable.append(key)
        elif r < 0.50:
            key = rng.choice(updatable)
            v = versions[key] + 1
            how = rng.choice(["set", "replace", "put"])
            begin({"op": "upd", "id": key, "v": v, "how": how})
            new = make_doc(key, v)
            if how == "set":
                fields = {f: x for f, x in new.items() if f != "_id"}
                unset = {} if "uniq" in new else {"$unset": {"uniq": ""}}
                res = docs.update({"_id": key}, {"$set": fields, **unset})
                assert res.matched == 1, res
            elif how == "replace":
                docs.replace(new)
            else:
                docs.put(new)
            versions[key] = v
        elif r < 0.60 and deletable:
            key = deletable.pop(rng.randrange(len(deletable)))
            how = rng.choice(["delete", "delete_many"])
            begin({"op": "del", "id": key, "how": how})
            if how == "delete":
                assert docs.delete(key) is True
            else:
                assert docs.delete_many({"_id": key}) == 1
            del versions[key]
            updatable.remove(key)
        elif r < 0.70:
            size = rng.randrange(2, 5)
            ids = [f"m{n}.{j}.{size}" for j in range(size)]
            begin({"op": "many", "ids": ids})
            docs.insert_many([make_doc(k, 0) for k in ids])
            for k in ids:
                versions[k] = 0
                updatable.append(k)
        elif r < 0.95:
            ids = tx_ids(n)
            upd_key = rng.choice(updatable)
            upd = [upd_key, versions[upd_key] + 1]
            dele = None
            if deletable and rng.random() < 0.5:
                dele = deletable[rng.randrange(len(deletable))]
                if dele == upd_key:
                    dele = None
            begin({"op": "tx", "n": n, "ids": ids, "upd": upd, "del": dele})
            with store.transaction() as tx:
                tdocs = tx[docs]
                for k in ids:
                    tdocs.insert(make_doc(k, 0))
                tdocs.replace(make_doc(upd_key, upd[1]))
                if dele is not None:
                    assert tdocs.delete(dele) is True
                tx[ledger].insert(ledger_doc(n, ids, upd, dele))
                tx[kvs][n] = kv_value(n)
            for k in ids:
                versions[k] = 0
                updatable.append(k)
            versions[upd_key] = upd[1]
            if dele is not None:
                deletable.remove(dele)
                updatable.remove(dele)
                del versions[dele]
        else:
            holders = [k for k in updatable if versions[k] % 4 != 3]
            if not holders:
                continue
            victim = rng.choice(holders)
            taken_uniq = f"u.{victim}.{versions[victim]}"
            clash = dict(make_doc(f"c{n}", 0), uniq=taken_uniq)
            how = rng.choice(["many", "tx"])
            begin({"op": "dup", "how": how, "uniq": taken_uniq})
            try:
                if how == "many":
                    docs.insert_many([make_doc(f"d{n}", 0), clash])
                else:
                    with store.transaction() as tx:
                        tx[docs].insert(make_doc(f"d{n}", 0))
                        tx[kvs][n] = kv_value(n)
                        tx[docs].insert(clash)
            except shoal.DuplicateKeyError:
                pass
            else:
                sys.stderr.write(f"no DuplicateKeyError for uniq={taken_uniq} ({how})\n")
                sys.exit(3)
        say("A")


if __name__ == "__main__":
    main()
