"""The sophy README (0.1 API), as a script (run with ``python -m shoal run``)."""

from sophy import connect

db = connect("data-dir", "db-name")

db["k1"] = "v1"
db.update(k2="v2", k3="v3", k4="v4")  # Efficient, atomic.
with db.transaction() as txn:  # Same as .update()
    txn["k1"] = "v1-e"
    txn["k5"] = "v5"

print(db["k1"])
print([item for item in db["k2":"k444"]])
print(list(db["k3":"k1"]))  # Results are returned in reverse.
print(list(db[:"k3"]))  # All items from lowest key up to 'k3'.
print(list(db[:"k3":True]))  # Same as above, but ordered in reverse.
print(list(db["k3":]))
