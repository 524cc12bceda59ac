"""The datastore README, as a script (run with ``python -m shoal run``)."""

import sqlalchemy as sa
from datastore import Datastore, View


class UsersIndex(View):
    """A view on users store."""

    def get_table(self, metadata):
        """Schema of the index view."""
        return sa.Table("users_index", metadata, sa.Column("email", sa.Unicode, index=True))

    def map(self, doc):
        yield {"email": doc["email"].lower()}


store = Datastore("sqlite:///users.db", tablename="users")
store.add_view("index", UsersIndex())
store.put("joe", {"username": "joe", "name": "Joe Hacker", "email": "Joe@example.com"})
store.put("jane", {"username": "jane", "name": "Jane", "email": "jane@example.com"})

print(store.get("joe")["email"])
print([row["_key"] for row in store.query("index", email="joe@example.com")])
both = store.query("index", email=["joe@example.com", "jane@example.com"])
print(sorted(row["_key"] for row in both))
