"""The microdb README, as a script (run with ``python -m shoal run``)."""

import microdb

mdb = microdb.MicroDB("mdb.json", partition_keys=["job", "name"])
for name in ("Alice", "Bob"):
    for job in ("clean", "study"):
        mdb.upsert({"job": job, "name": name, "status": "undone"})

mdb.upsert({"job": "clean", "name": "Alice", "status": "finished"})
mdb.upsert({"job": "clean", "name": "Eve", "status": "undone"})
mdb.pprint_all()
print(mdb.gen_key({"job": "clean", "name": "Bob", "what": "ever"}))
print({"job": "clean", "name": "Bob", "what": "ever"} in mdb)
print(mdb.get({"job": "study", "name": "Alice", "whaat": "everr"}))
print(mdb.get({"wrong": "key"}, "when_not_exist"))
mdb.save()
with open("mdb.json") as f:
    print(f.read().strip())
