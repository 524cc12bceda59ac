"""``shoal demo``: a tour of the native API and every face on a temporary store."""

from __future__ import annotations

import argparse
import tempfile
import time

import shoal

from ._common import say as _say


def demo(path: str | None = None) -> int:
    """Write, read, scan, run a transaction, close, reopen; print each step."""
    with tempfile.TemporaryDirectory(prefix="shoal-demo-") as tmp:
        where = path or f"{tmp}/store"
        _say(f"shoal {shoal.__version__}: demo store at {where}")

        store = shoal.open(where, durability="sync")
        users = store.kv("users")
        _say("\n1. write: users[name] = {...} (each write is fsynced: durability='sync')")
        people = {
            "ada": {"born": 1815, "field": "mathematics"},
            "alan": {"born": 1912, "field": "computing"},
            "grace": {"born": 1906, "field": "compilers"},
            "edsger": {"born": 1930, "field": "algorithms"},
        }
        for name, doc in people.items():
            users[name] = doc
            _say(f"   users[{name!r}] = {doc}")
        start = time.perf_counter()
        users.update({f"user{i:05d}": {"born": 1900 + i % 100} for i in range(10_000)})
        took = (time.perf_counter() - start) * 1000
        _say(f"   users.update(10,000 more) as one atomic batch in {took:.1f} ms")

        _say("\n2. read")
        _say(f"   users['ada'] -> {users['ada']}")
        _say(f"   'bob' in users -> {'bob' in users};  users.get('bob', 'n/a') -> "
             f"{users.get('bob', 'n/a')}")
        _say(f"   len(users) -> {len(users)}")

        _say("\n3. scan (keys are kept in order)")
        _say(f"   users['a':'f'] -> {[name for name, _ in users['a':'f']]}")
        _say(f"   users['h':'a'] (descending) -> {[name for name, _ in users['h':'a']]}")
        _say(f"   keys with prefix 'user0001' -> {users.count(prefix='user0001')}")
        _say(f"   first -> {users.first()[0]}, last -> {users.last()[0]}")

        _say("\n4. transaction (optimistic; all or nothing)")
        with users.transaction() as tx:
            ada = tx["ada"]
            ada["visits"] = ada.get("visits", 0) + 1
            tx["ada"] = ada
            del tx["edsger"]
        _say(f"   committed: users['ada'] -> {users['ada']}; 'edsger' in users -> "
             f"{'edsger' in users}")
        try:
            with users.transaction() as tx:
                tx["grace"] = {"born": 0}
                raise RuntimeError("something went wrong mid-transaction")
        except RuntimeError:
            pass
        _say(f"   rolled back on an exception: users['grace'] -> {users['grace']}")
        tx = users.transaction()
        tx.get("alan")
        users["alan"] = {"born": 1912, "field": "computing", "award": "Turing"}
        tx["alan"] = {"born": 1912}
        try:
            tx.commit()
        except shoal.ConflictError:
            _say("   a concurrent write to a key the transaction read -> ConflictError")

        _documents_demo(store, users)

        _say("\n6. close and reopen")
        count = len(users)
        store.close()
        _say(f"   closed (the directory lock is released); reopening {where}")
        with shoal.open(where) as again:
            users = again.kv("users")
            _say(f"   len(users) -> {len(users)} (was {count}); users['ada'] -> {users['ada']}")
            report = again.verify()
            _say(f"   verify(): every block read and checked, indexes agree with their "
                 f"documents -> {len(report['problems'])} problem(s)")
            stats = again.stats()
            _say(f"   stats: {stats['disk_bytes'] / 1e6:.1f} MB on disk, "
                 f"{stats['journal_count']} journal file(s)")
        _sophy_demo(f"{where}-sophy")
        _microdb_demo(f"{where}-microdb.json")
        _sofart_demo(f"{where}-sofart.json")
        _dynafile_demo(f"{where}-dynafile")
        _datastore_demo(f"{where}-datastore")
        _say("\ndone.")
    return 0


def _documents_demo(store: shoal.Store, users: shoal.KV) -> None:
    """Step 5: a collection with an index, a query, a transaction, an event."""
    _say("\n5. documents: store.collection(...) with Mongo filters evaluated in Rust")
    people = store.collection("people")
    people.create_index("born")
    people.insert_many({"_id": name, **users[name]} for name in ("ada", "alan", "grace"))
    query = {"born": {"$lt": 1910}}
    found = [d["_id"] for d in people.find(query, sort=[("born", 1)])]
    plan = people.explain(query)
    _say(f"   people.find({query}) -> {found}")
    _say(f"   explain -> access={plan['access']!r}, index={plan['index']!r}, "
         f"documents read={plan['docs_examined']}")
    events: list[shoal.ChangeEvent] = []
    people.watch(events.append)
    with store.transaction() as tx:  # a document and a key/value write, all or nothing
        tx[people].update({"_id": "alan"}, {"$inc": {"talks": 1}})
        tx[users]["alan"] = {**tx[users]["alan"], "talks": 1}
    _say(f"   after the commit, watch() saw: {events[0].action} {events[0].key!r} "
         f"-> {events[0].new}")


def _sophy_demo(where: str) -> None:
    """The sophy face: a script written for ``sophy`` after ``from shoal import sophy``."""
    from shoal import sophy

    _say("\n7. the sophy face (drop-in for the sophy package): from shoal import sophy")
    env = sophy.Sophia(where)
    db = env.add_database("kv", sophy.Schema.key_value())
    env.open()
    db.update(k1="v1", k2="v2", k3="v3")
    _say(f"   db['k1':'k2'] -> {list(db['k1':'k2'])}; db['k3':'k1'] -> {list(db['k3':'k1'])}")
    with env.transaction() as txn:
        txn[db]["k4"] = "v4"
    _say(f"   after env.transaction(): db.cursor(order='<', key='k4') -> "
         f"{list(db.cursor(order='<', key='k4', values=False))}")
    env.close()
    legacy = sophy.connect(where, "legacy")  # the 0.1 API of the seed document
    legacy["a"] = "1"
    view = legacy.view("before")
    legacy["a"] = "2"
    _say(f"   legacy connect(): db['a'] -> {legacy['a']!r}, view['a'] -> {view['a']!r}")
    view.close()
    legacy.sophia.close()


def _microdb_demo(path: str) -> None:
    """The microdb face: a script written for ``microdb`` after ``from shoal import microdb``."""
    from shoal import microdb

    _say("\n8. the microdb face (drop-in for the microdb package): from shoal import microdb")
    mdb = microdb.MicroDB(path, partition_keys=["job", "name"], durable=True)
    for job in ("clean", "study"):
        mdb.upsert({"job": job, "name": "Alice", "status": "undone"})
    mdb.upsert({"job": "clean", "name": "Alice", "status": "finished"})
    _say(f"   mdb.get({{'job': 'clean', 'name': 'Alice'}}) -> "
         f"{mdb.get({'job': 'clean', 'name': 'Alice'})}")
    mdb.close()  # not saved: durable=True kept every upsert in {path}.shoal
    mdb = microdb.MicroDB(path, ["job", "name"], durable=True)
    _say(f"   reopened without a save (durable=True): {len(mdb)} records")
    mdb.save()
    with open(path, encoding="utf-8") as f:
        _say(f"   save() wrote the original's format: {f.read().strip()}")
    done = mdb.search(microdb.where("status") == "finished")
    _say(f"   search(where('status') == 'finished') -> {done}")
    mdb.close()


def _sofart_demo(path: str) -> None:
    """The sofart face: a script written for ``sofart`` after changing its import."""
    import re

    from shoal.sofart import Database

    _say("\n9. the sofart face (drop-in for sofart): from shoal.sofart import Database")
    db = Database(path)  # single mode: in memory until sync()
    c = db.test_collection
    _id = c.save({"artist": "Jambon", "track": "I love my jambon"})
    c.insert_many([{"artist": "Bieber", "plays": n} for n in range(3)])  # pymongo names too
    _say(f"   c.find_one({{'artist': 'Jambon'}}) -> {c.find_one({'artist': 'Jambon'})}")
    found = [d["plays"] for d in c.find({"plays": {"$gte": 1}})]
    _say(f"   c.find({{'plays': {{'$gte': 1}}}}) -> plays {found}")
    _say(f"   c.find_one({{'artist': re.compile('^jam', re.I)}})['_id'] == _id -> "
         f"{c.find_one({'artist': re.compile('^jam', re.I)})['_id'] == _id}")
    db.sync()  # the original's JSON file, written atomically; the store is in {path}.shoal
    _say(f"   db.sync() wrote {path}: {db.count()} documents in {db.collection_names()}")
    db.close()



def _dynafile_demo(path: str) -> None:
    """The dynafile face: a script written for ``dynafile`` after changing its import."""
    from shoal.dynafile import ConditionalCheckFailed, Dynafile

    _say("\n10. the dynafile face (drop-in for dynafile): from shoal.dynafile import *")
    db = Dynafile(path, pk_attribute="PK", sk_attribute="SK")
    db.add_stream_listener(lambda e: _say(f"   event {e.action}: {e.new or e.old}"))
    db.put_item(item={"PK": "user#1", "SK": "user#1", "name": "Bob"})
    with db.batch_writer() as writer:  # atomic, applied at the end of the block
        writer.put_item(item={"PK": "user#1", "SK": "role#1", "TYPE": "sender"})
        writer.put_item(item={"PK": "user#2", "SK": "user#2", "name": "Alice"})
    _say(f"   query(pk='user#1') -> {[i['SK'] for i in db.query(pk='user#1')]}")
    _say(f"   scan(_filter=\"name =~ /^A/\") -> {list(db.scan(_filter='name =~ /^A/'))}")
    try:
        db.put_item(item={"PK": "user#2", "SK": "user#2"}, condition="not PK")
    except ConditionalCheckFailed:
        _say("   put_item(..., condition='not PK') on an existing item -> ConditionalCheckFailed")
    db.close()

def _datastore_demo(path: str) -> None:
    """The datastore face: documents with a view, on the engine (and on SQLite if installed)."""
    from shoal import datastore as ds

    class ByEmail(ds.View):
        def get_table(self, metadata: object) -> ds.Table:
            return ds.Table("users_by_email", None, ds.Column("email", ds.Unicode, unique=True))

        def map(self, doc: dict) -> list:
            return [{"email": doc["email"].lower()}]

    _say("\n11. the datastore face (drop-in for datastore): from shoal.datastore import ...")
    urls = [f"shoal://{path}"]
    try:
        import sqlalchemy  # noqa: F401

        urls.append(f"sqlite:///{path}.sqlite")  # the same program on SQL
    except ImportError:
        _say("   (SQLAlchemy is not installed: showing the embedded engine only)")
    for url in urls:
        with ds.Datastore(url, tablename="users", views={"email": ByEmail()}) as store:
            store.put("joe", {"name": "Joe", "email": "Joe@example.com"})
            doc = store.get("joe")
            doc["name"] = "Joe Hacker"
            store.put("joe", doc)  # carries _rev: a stale copy would raise RevisionConflict
            rows = store.query("email", email="joe@example.com")
            _say(f"   {url.split(':')[0]}: query('email', email=...) -> {rows}")
            try:
                store.put("imposter", {"name": "X", "email": "JOE@example.com"})
            except ds.IntegrityError:
                _say(f"   {url.split(':')[0]}: a duplicate email -> IntegrityError; "
                     f"get('imposter') -> {store.get('imposter')}")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``demo``."""
    p = sub.add_parser("demo", help="a tour of the native API and every face on a temporary store",
                       description=demo.__doc__)
    p.add_argument("--path", default=None,
                   help="store directory to use (default: a temporary one)")
    p.set_defaults(func=lambda args: demo(args.path))
