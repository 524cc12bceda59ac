"""Document-store adapters for ``test_documents.py`` (see README.md, "Documents").

Same conventions as ``_stores.py``: one class per store, one method per
operation running the *whole* loop with the store's bound methods hoisted,
so the timed region holds the calls a user would write. Methods return what
the calls returned (documents, counts), and the benchmark checks it after
timing, so a broken adapter fails instead of posting a number.

``OPS`` maps an operation (a benchmark group) to ``{label: method name}``;
the first entry is the store's primary way of doing it. ``COUNTS`` gives the
operations per round for a method when it differs from ``DEFAULT_COUNTS``:
a peer whose call scans every document in Python (TinyDB, mongita) gets
fewer calls per round, so the
suite stays within a few minutes. Rates are per call, so the columns stay
comparable. ``INSERT_SAMPLE`` makes the one-by-one insert time a slice of the
load instead of all of it (see ``DocAdapter``).

Stores whose keys are not ints get their own copy of the workload:
``adapt_docs``/``adapt_key`` convert (untimed, cached), ``normalize`` converts
a returned document back for the checks.

Nothing here imports a store's library at import time: a missing peer only
fails when its adapter is opened (the benchmarks skip it first).
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from itertools import cycle, islice
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence

# Knobs (environment variables; see conftest.py and README.md). N and ROUNDS
# are shared with the key/value suite.
N = int(os.environ.get("SHOAL_BENCH_N", "100000"))
ROUNDS = int(os.environ.get("SHOAL_BENCH_ROUNDS", "5"))
GETS = int(os.environ.get("SHOAL_BENCH_DOC_GETS", "20000"))

AGE_SPAN = 2  # the range query asks for ages [a, a + AGE_SPAN): ~2% of the documents
SCORE = "score"  # the field the update benchmark sets

CITIES = (
    "Amsterdam,Athens,Bangkok,Barcelona,Beijing,Berlin,Bogota,Boston,Brussels,Budapest,"
    "Buenos Aires,Cairo,Cape Town,Chicago,Copenhagen,Delhi,Dublin,Dubai,Edinburgh,Helsinki,"
    "Hong Kong,Istanbul,Jakarta,Kyiv,Lagos,Lima,Lisbon,London,Los Angeles,Madrid,Manila,"
    "Melbourne,Mexico City,Montreal,Moscow,Mumbai,Nairobi,Oslo,Paris,Prague,Rome,Santiago,"
    "Seoul,Singapore,Stockholm,Sydney,Tokyo,Toronto,Vienna,Warsaw"
).split(",")
TAGS = (
    "admin beta blocked customer early enterprise free gold inactive internal mobile "
    "newsletter partner premium silver student support trial verified vip"
).split()
FIRST = "Ada Alan Barbara Dennis Edsger Frances Grace Guido John Ken Leslie Linus".split()
LAST = "Backus Dijkstra Hamilton Hoare Hopper Knuth Lamport Liskov Lovelace Ritchie Turing".split()

# Operations (benchmark groups; prefixed so they never merge with the KV groups):
#   doc_insert        insert every document, one call each, into an empty store
#   doc_insert_batch  insert every document in one atomic batch
#   doc_get           get by primary key, random ids (GETS per round)
#   doc_find_eq       one op = {"city": c}, ~2% of the documents returned as dicts
#   doc_find_range    one op = {"age": {"$gte": a, "$lt": a + 2}}, ~2% returned
#   doc_count         one op = count({"city": c})
#   doc_update        one op = {"_id": k} -> {"$set": {"score": v}}
#   doc_delete        one op = delete the document with key k
DEFAULT_COUNTS = {
    "doc_get": GETS,
    "doc_find_eq": 10,
    "doc_find_range": 10,
    "doc_count": 10,
    "doc_update": 2000,
    "doc_delete": 2000,
}


# --------------------------------------------------------------------------- data


@dataclass
class DocData:
    """The workload: N documents with ``_id`` 1..N, plus the query parameters."""

    n: int
    docs: List[Dict[str, Any]]  # in _id order; docs[i - 1]["_id"] == i
    get_ids: List[int]  # random ids for the get benchmark
    cities: List[str]  # equality-query / count parameters, in random order
    ages: List[int]  # range-query starts, in random order
    write_ids: List[int]  # a permutation of the ids: update/delete take chunks of it
    ids_by_city: Dict[str, List[int]]
    ids_by_age: Dict[int, List[int]]
    _cache: Dict[Any, Any] = field(repr=False, default_factory=dict)

    def doc(self, key: int) -> Dict[str, Any]:
        return self.docs[key - 1]

    def cached(self, key: Any, make: Callable[[], Any]) -> Any:
        """Per-session cache for adapted copies of the workload (untimed)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def range_ids(self, start: int) -> List[int]:
        return sorted(i for a in range(start, start + AGE_SPAN) for i in self.ids_by_age.get(a, ()))

    def write_chunk(self, round_no: int, size: int) -> List[int]:
        """The ``round_no``-th chunk of ``size`` distinct ids (wrapping around)."""
        size = min(size, self.n)
        start = (round_no * size) % self.n
        return list(islice(cycle(self.write_ids), start, start + size))


def make_doc_data(
    n: int, *, queries: int = 1000, gets: int = GETS, seed: int = 20240602
) -> DocData:
    """Build the deterministic workload."""
    rng = random.Random(seed)
    docs = []
    ids_by_city: Dict[str, List[int]] = {c: [] for c in CITIES}
    ids_by_age: Dict[int, List[int]] = {}
    for i in range(1, n + 1):
        city = rng.choice(CITIES)
        age = rng.randrange(100)
        docs.append(
            {
                "_id": i,
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "age": age,
                "city": city,
                "tags": rng.sample(TAGS, 3),
                "nested": {"a": rng.randrange(1_000_000)},
            }
        )
        ids_by_city[city].append(i)
        ids_by_age.setdefault(age, []).append(i)
    write_ids = list(range(1, n + 1))
    rng.shuffle(write_ids)
    return DocData(
        n=n,
        docs=docs,
        get_ids=[rng.randrange(1, n + 1) for _ in range(gets)],
        cities=[rng.choice(CITIES) for _ in range(queries)],
        ages=[rng.randrange(100 - AGE_SPAN + 1) for _ in range(queries)],
        write_ids=write_ids,
        ids_by_city=ids_by_city,
        ids_by_age=ids_by_age,
    )


# --------------------------------------------------------------------------- adapters


class DocAdapter:
    """Base class: a document store opened in a directory, one method per operation.

    ``INSERT_SAMPLE``: for a store whose one-by-one insert cannot load all N
    documents within the suite's budget (TinyDB rewrites its whole table on
    every write: O(N) per insert), the benchmark prefills (untimed) the
    documents before the middle of the load and times the next
    ``INSERT_SAMPLE`` inserts, so the store holds ~N/2 documents while timed:
    the mean per-insert cost of a full load when the cost grows with size.
    """

    name: ClassVar[str]
    module: ClassVar[str]  # the import name of the store's library
    OPS: ClassVar[Dict[str, Dict[str, str]]]
    COUNTS: ClassVar[Dict[str, int]] = {}  # ops per round, by method name
    INSERT_SAMPLE: ClassVar[Optional[int]] = None

    def __init__(self, path: str) -> None:
        self.path = path

    def close(self) -> None:
        raise NotImplementedError

    @classmethod
    def ops_per_round(cls, op: str, method: str) -> int:
        return cls.COUNTS.get(method, DEFAULT_COUNTS.get(op, 0))

    # Conversions between the shared workload and the store's own (untimed).
    @classmethod
    def adapt_docs(cls, data: DocData) -> Sequence[Any]:
        return data.docs

    @classmethod
    def adapt_key(cls, key: int) -> Any:
        return key

    @classmethod
    def adapt_keys(cls, keys: Sequence[int]) -> List[Any]:
        return [cls.adapt_key(k) for k in keys]

    @classmethod
    def normalize(cls, doc: Any) -> Any:
        """A returned document as the workload's dict (for the checks)."""
        return doc

    def fill(self, docs: Sequence[Any]) -> None:
        """Populate quickly (untimed): the store's batch insert."""
        getattr(self, next(iter(self.OPS["doc_insert_batch"].values())))(docs)

    # For the checks (untimed).
    def count_all(self) -> int:
        raise NotImplementedError

    def fetch(self, key: int) -> Any:
        """The document with workload key ``key``, normalized, or None."""
        raise NotImplementedError


class Shoal(DocAdapter):
    """shoal: ``store.collection("docs", key=("_id",))``, durability="flush".

    Indexes on ``city`` and ``age`` (created on the empty collection, so
    every insert maintains them), as the sqlite3 peer has.
    """

    name = "shoal"
    module = "shoal"
    OPS = {
        "doc_insert": {"coll.insert(doc)": "insert"},
        "doc_insert_batch": {"coll.insert_many(docs)": "insert_many"},
        "doc_get": {"coll.get(k)": "get", "coll.find_one({'_id': k})": "find_one_id"},
        "doc_find_eq": {"coll.find({'city': c})": "find_eq"},
        "doc_find_range": {"coll.find({'age': {'$gte': a, '$lt': a + 2}})": "find_range"},
        "doc_count": {"coll.count({'city': c})": "count_eq"},
        "doc_update": {
            "coll.update({'_id': k}, {'$set': ...})": "update_one",
            "coll.get(k) + coll.put(doc)": "get_put",
        },
        "doc_delete": {"coll.delete(k)": "delete", "coll.delete_one({'_id': k})": "delete_one"},
    }
    COUNTS = {"find_eq": 100, "find_range": 100, "count_eq": 1000}

    def __init__(self, path: str, durability: str = "flush") -> None:
        super().__init__(path)
        import shoal

        self.store = shoal.open(path, durability=durability)
        self.coll = self.store.collection("docs", key=("_id",))
        self.coll.create_index("city")
        self.coll.create_index("age")

    def close(self) -> None:
        self.store.close()

    def count_all(self) -> int:
        return len(self.coll)

    def fetch(self, key: int) -> Any:
        return self.coll.get(key)

    def insert(self, docs: Sequence[Any]) -> None:
        insert = self.coll.insert
        for d in docs:
            insert(d)

    def insert_many(self, docs: Sequence[Any]) -> None:
        self.coll.insert_many(docs)

    def get(self, keys: Sequence[Any]) -> List[Any]:
        get = self.coll.get
        return [get(k) for k in keys]

    def find_one_id(self, keys: Sequence[Any]) -> List[Any]:
        find_one = self.coll.find_one
        return [find_one({"_id": k}) for k in keys]

    def find_eq(self, cities: Sequence[str]) -> List[List[Any]]:
        find = self.coll.find
        return [find({"city": c}) for c in cities]

    def find_range(self, starts: Sequence[int]) -> List[List[Any]]:
        find = self.coll.find
        return [find({"age": {"$gte": a, "$lt": a + AGE_SPAN}}) for a in starts]

    def count_eq(self, cities: Sequence[str]) -> List[int]:
        count = self.coll.count
        return [count({"city": c}) for c in cities]

    def update_one(self, keys: Sequence[Any], value: int) -> List[int]:
        update = self.coll.update
        upd = {"$set": {SCORE: value}}
        return [update({"_id": k}, upd).matched for k in keys]

    def get_put(self, keys: Sequence[Any], value: int) -> List[int]:
        get, put = self.coll.get, self.coll.put
        out = []
        for k in keys:
            d = get(k)
            d[SCORE] = value
            put(d)
            out.append(1)
        return out

    def delete(self, keys: Sequence[Any]) -> List[bool]:
        delete = self.coll.delete
        return [delete(k) for k in keys]

    def delete_one(self, keys: Sequence[Any]) -> List[bool]:
        delete_one = self.coll.delete_one
        return [delete_one({"_id": k}) for k in keys]


class Sqlite(DocAdapter):
    """sqlite3 (stdlib): ``docs(id INTEGER PRIMARY KEY, body TEXT)`` holding JSON.

    Two expression indexes, on ``json_extract(body, '$.city')`` and
    ``json_extract(body, '$.age')``; journal_mode=WAL, synchronous=NORMAL (a
    commit reaches the OS, no fsync: shoal's "flush"). Autocommit mode
    (``isolation_level=None``): one commit per statement, the batch in one
    explicit transaction. Documents go in as ``json.dumps`` and come back
    through ``json.loads`` inside the timed loop: the dicts a user gets.
    """

    name = "sqlite3"
    module = "sqlite3"
    OPS = {
        "doc_insert": {"INSERT per doc (autocommit)": "insert"},
        "doc_insert_batch": {"executemany in one transaction": "insert_many"},
        "doc_get": {"SELECT body WHERE id = ?": "get"},
        "doc_find_eq": {"WHERE json_extract(body, '$.city') = ? (index)": "find_eq"},
        "doc_find_range": {"WHERE json_extract(body, '$.age') >= ? AND < ? (index)": "find_range"},
        "doc_count": {"SELECT count(*) WHERE json_extract(body, '$.city') = ? (index)": "count_eq"},
        "doc_update": {"UPDATE SET body = json_set(body, ...) WHERE id = ?": "update_one"},
        "doc_delete": {"DELETE WHERE id = ?": "delete"},
    }
    COUNTS = {"find_eq": 100, "find_range": 100, "count_eq": 1000}
    INSERT_SAMPLE = 20000  # one commit per insert: ~7k/s, so a full load is ~15 s a round

    def __init__(self, path: str) -> None:
        super().__init__(path)
        import sqlite3

        self.con = sqlite3.connect(os.path.join(path, "docs.sqlite"), isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.execute("CREATE TABLE IF NOT EXISTS docs(id INTEGER PRIMARY KEY, body TEXT)")
        self.con.execute(
            "CREATE INDEX IF NOT EXISTS docs_city ON docs(json_extract(body, '$.city'))"
        )
        self.con.execute("CREATE INDEX IF NOT EXISTS docs_age ON docs(json_extract(body, '$.age'))")

    def close(self) -> None:
        self.con.close()

    def count_all(self) -> int:
        return self.con.execute("SELECT count(*) FROM docs").fetchone()[0]

    def fetch(self, key: int) -> Any:
        row = self.con.execute("SELECT body FROM docs WHERE id = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def insert(self, docs: Sequence[Any]) -> None:
        execute, dumps = self.con.execute, json.dumps
        sql = "INSERT INTO docs(id, body) VALUES (?, ?)"
        for d in docs:
            execute(sql, (d["_id"], dumps(d)))

    def insert_many(self, docs: Sequence[Any]) -> None:
        dumps = json.dumps
        con = self.con
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO docs(id, body) VALUES (?, ?)", [(d["_id"], dumps(d)) for d in docs]
        )
        con.execute("COMMIT")

    def get(self, keys: Sequence[Any]) -> List[Any]:
        execute, loads = self.con.execute, json.loads
        sql = "SELECT body FROM docs WHERE id = ?"
        return [loads(execute(sql, (k,)).fetchone()[0]) for k in keys]

    def find_eq(self, cities: Sequence[str]) -> List[List[Any]]:
        execute, loads = self.con.execute, json.loads
        sql = "SELECT body FROM docs WHERE json_extract(body, '$.city') = ?"
        return [[loads(b) for (b,) in execute(sql, (c,))] for c in cities]

    def find_range(self, starts: Sequence[int]) -> List[List[Any]]:
        execute, loads = self.con.execute, json.loads
        sql = (
            "SELECT body FROM docs"
            " WHERE json_extract(body, '$.age') >= ? AND json_extract(body, '$.age') < ?"
        )
        return [[loads(b) for (b,) in execute(sql, (a, a + AGE_SPAN))] for a in starts]

    def count_eq(self, cities: Sequence[str]) -> List[int]:
        execute = self.con.execute
        sql = "SELECT count(*) FROM docs WHERE json_extract(body, '$.city') = ?"
        return [execute(sql, (c,)).fetchone()[0] for c in cities]

    def update_one(self, keys: Sequence[Any], value: int) -> List[int]:
        execute = self.con.execute
        sql = f"UPDATE docs SET body = json_set(body, '$.{SCORE}', ?) WHERE id = ?"
        return [execute(sql, (value, k)).rowcount for k in keys]

    def delete(self, keys: Sequence[Any]) -> List[int]:
        execute = self.con.execute
        sql = "DELETE FROM docs WHERE id = ?"
        return [execute(sql, (k,)).rowcount for k in keys]


class TinyDB(DocAdapter):
    """TinyDB with ``MemoryStorage``, one table, query cache off (``cache_size=0``).

    The primary key is TinyDB's ``doc_id`` (each document inserted as
    ``Document(doc, doc_id=doc["_id"])``, built untimed), so get, update and
    delete by key use ``doc_id``/``doc_ids``, TinyDB's direct path. Queries are
    ``Query()`` objects, evaluated in Python on every document. Every write
    rebuilds the table's dict (O(N) per write), hence the small counts.
    """

    name = "tinydb"
    module = "tinydb"
    OPS = {
        "doc_insert": {"table.insert(Document(doc, doc_id=k))": "insert"},
        "doc_insert_batch": {"table.insert_multiple(docs)": "insert_many"},
        "doc_get": {"table.get(doc_id=k)": "get"},
        "doc_find_eq": {"table.search(Q.city == c)": "find_eq"},
        "doc_find_range": {"table.search((Q.age >= a) & (Q.age < a + 2))": "find_range"},
        "doc_count": {"table.count(Q.city == c)": "count_eq"},
        "doc_update": {"table.update({...}, doc_ids=[k])": "update_one"},
        "doc_delete": {"table.remove(doc_ids=[k])": "delete"},
    }
    COUNTS = {"find_range": 5, "update_one": 20, "delete": 20}
    INSERT_SAMPLE = 50

    def __init__(self, path: str) -> None:
        super().__init__(path)
        from tinydb import Query
        from tinydb import TinyDB as _TinyDB
        from tinydb.storages import MemoryStorage

        self.db = _TinyDB(storage=MemoryStorage)
        self.table = self.db.table("docs", cache_size=0)
        self.Q = Query()

    @classmethod
    def adapt_docs(cls, data: DocData) -> Sequence[Any]:
        from tinydb.table import Document

        return data.cached(
            (cls.name, "docs"), lambda: [Document(d, doc_id=d["_id"]) for d in data.docs]
        )

    @classmethod
    def normalize(cls, doc: Any) -> Any:
        return None if doc is None else dict(doc)

    def close(self) -> None:
        self.db.close()

    def count_all(self) -> int:
        return len(self.table)

    def fetch(self, key: int) -> Any:
        return self.normalize(self.table.get(doc_id=key))

    def insert(self, docs: Sequence[Any]) -> None:
        insert = self.table.insert
        for d in docs:
            insert(d)

    def insert_many(self, docs: Sequence[Any]) -> None:
        self.table.insert_multiple(docs)

    def get(self, keys: Sequence[Any]) -> List[Any]:
        get = self.table.get
        return [get(doc_id=k) for k in keys]

    def find_eq(self, cities: Sequence[str]) -> List[List[Any]]:
        search, q = self.table.search, self.Q
        return [search(q.city == c) for c in cities]

    def find_range(self, starts: Sequence[int]) -> List[List[Any]]:
        search, q = self.table.search, self.Q
        return [search((q.age >= a) & (q.age < a + AGE_SPAN)) for a in starts]

    def count_eq(self, cities: Sequence[str]) -> List[int]:
        count, q = self.table.count, self.Q
        return [count(q.city == c) for c in cities]

    def update_one(self, keys: Sequence[Any], value: int) -> List[int]:
        update = self.table.update
        fields = {SCORE: value}
        return [len(update(fields, doc_ids=[k])) for k in keys]

    def delete(self, keys: Sequence[Any]) -> List[int]:
        remove = self.table.remove
        return [len(remove(doc_ids=[k])) for k in keys]


class Mongita(DocAdapter):
    """mongita in memory: ``MongitaClientMemory()["bench"]["docs"]``, no index.

    mongita only accepts ``str``/``ObjectId`` values for ``_id``, so its copy
    of the workload has ``_id = str(i)`` (built untimed). ``find_one`` and
    ``delete_one`` on ``_id`` are direct lookups; ``update_one`` on ``_id``
    scans every document (its own behaviour). Returned documents are deep
    copies, as mongita makes them.
    """

    name = "mongita"
    module = "mongita"
    OPS = {
        "doc_insert": {"coll.insert_one(doc)": "insert"},
        "doc_insert_batch": {"coll.insert_many(docs)": "insert_many"},
        "doc_get": {"coll.find_one({'_id': k})": "get"},
        "doc_find_eq": {"list(coll.find({'city': c}))": "find_eq"},
        "doc_find_range": {"list(coll.find({'age': {'$gte': a, '$lt': a + 2}}))": "find_range"},
        "doc_count": {"coll.count_documents({'city': c})": "count_eq"},
        "doc_update": {"coll.update_one({'_id': k}, {'$set': ...})": "update_one"},
        "doc_delete": {"coll.delete_one({'_id': k})": "delete"},
    }
    COUNTS = {"find_eq": 5, "find_range": 3, "count_eq": 5, "update_one": 20}

    def __init__(self, path: str) -> None:
        super().__init__(path)
        from mongita import MongitaClientMemory

        self.client = MongitaClientMemory()
        self.coll = self.client["bench"]["docs"]

    @classmethod
    def adapt_docs(cls, data: DocData) -> Sequence[Any]:
        return data.cached(
            (cls.name, "docs"), lambda: [{**d, "_id": str(d["_id"])} for d in data.docs]
        )

    @classmethod
    def adapt_key(cls, key: int) -> Any:
        return str(key)

    @classmethod
    def normalize(cls, doc: Any) -> Any:
        return None if doc is None else {**doc, "_id": int(doc["_id"])}

    def close(self) -> None:
        self.client.close()

    def count_all(self) -> int:
        return self.coll.count_documents({})

    def fetch(self, key: int) -> Any:
        return self.normalize(self.coll.find_one({"_id": str(key)}))

    def insert(self, docs: Sequence[Any]) -> None:
        insert_one = self.coll.insert_one
        for d in docs:
            insert_one(d)

    def insert_many(self, docs: Sequence[Any]) -> None:
        self.coll.insert_many(list(docs))

    def get(self, keys: Sequence[Any]) -> List[Any]:
        find_one = self.coll.find_one
        return [find_one({"_id": k}) for k in keys]

    def find_eq(self, cities: Sequence[str]) -> List[List[Any]]:
        find = self.coll.find
        return [list(find({"city": c})) for c in cities]

    def find_range(self, starts: Sequence[int]) -> List[List[Any]]:
        find = self.coll.find
        return [list(find({"age": {"$gte": a, "$lt": a + AGE_SPAN}})) for a in starts]

    def count_eq(self, cities: Sequence[str]) -> List[int]:
        count = self.coll.count_documents
        return [count({"city": c}) for c in cities]

    def update_one(self, keys: Sequence[Any], value: int) -> List[int]:
        update_one = self.coll.update_one
        upd = {"$set": {SCORE: value}}
        return [update_one({"_id": k}, upd).matched_count for k in keys]

    def delete(self, keys: Sequence[Any]) -> List[int]:
        delete_one = self.coll.delete_one
        return [delete_one({"_id": k}).deleted_count for k in keys]


DOC_ADAPTERS: Dict[str, type[DocAdapter]] = {
    cls.name: cls for cls in (Shoal, Sqlite, TinyDB, Mongita)
}
IN_MEMORY_PEERS = ["tinydb", "mongita"]


def selected_doc_adapters() -> List[type[DocAdapter]]:
    """Adapters to run: all, or the comma list in ``SHOAL_BENCH_DOC_STORES``."""
    only = os.environ.get("SHOAL_BENCH_DOC_STORES")
    if not only:
        return list(DOC_ADAPTERS.values())
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in DOC_ADAPTERS]
    if unknown:
        raise ValueError(f"unknown store(s) in SHOAL_BENCH_DOC_STORES: {unknown}")
    return [DOC_ADAPTERS[n] for n in names]
