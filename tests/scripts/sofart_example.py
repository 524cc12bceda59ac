"""The sofart README, as a script (unchanged imports: run with ``python -m shoal run``)."""

from sofart import Database

db = Database("so.fart")
db.create_collection("test_collection")
print(db.collection_names())

c = db.test_collection
post = {"artist": "Jambon", "track": "I love my jambon"}
_id = c.save(post)
print(c.find_one({"artist": "Jambon"})["track"])
print(c.find_one({"artist": "Bieber"}))
for i in range(5):
    c.save({"artist": "Bieber", "plays": i})
print(sorted(d["plays"] for d in c.find({"plays": {"$gte": 3}})))
c.remove(_id)
print(c.find_one({"artist": "Jambon"}))
db.sync()
print(Database("so.fart").test_collection.find_one({"plays": 4})["artist"])
