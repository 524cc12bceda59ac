"""The dynafile README, as a script (run with ``python -m shoal run``)."""

from dynafile import *  # noqa: F403

# init DB interface
db = Dynafile(path=".", pk_attribute="PK", sk_attribute="SK")  # noqa: F405


def print_listener(event: Event):  # noqa: F405
    print(event.action, event.old, event.new)


db.add_stream_listener(print_listener)

# put items
db.put_item(item={"PK": "user#1", "SK": "user#1", "name": "Bob"})
db.put_item(item={"PK": "user#1", "SK": "role#1", "TYPE": "sender"})
db.put_item(item={"PK": "user#2", "SK": "user#2", "name": "Alice"})

# more performant batch operation
with db.batch_writer() as writer:
    writer.put_item(item={"PK": "user#3", "SK": "user#3", "name": "Steve"})
    writer.delete_item(key={"PK": "user#3", "SK": "user#3"})

# retrieve items
print(db.get_item(key={"PK": "user#1", "SK": "user#1"}))
print(list(db.query(pk="user#1")))
print(len(list(db.scan())))
print(list(db.scan(_filter=lambda item: item.get("name") == "Alice")))
