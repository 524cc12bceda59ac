"""``shoal export mongo|dynamodb|sql``: the output parses back (with a small
independent decoder, and with pymongo's/boto3's where installed) to exactly
what the store holds; values a target cannot hold fail naming the record."""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
import shoal
from _util import cli_fails, cli_ok, shoal_cli
from shoal.cli import main
from shoal.dynafile import Dynafile
from shoal.migrate import MigrationError, export_dynamodb, export_mongo

UTC = datetime.timezone.utc


cli = shoal_cli
ok = cli_ok
fails = cli_fails


def lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- MongoDB Extended JSON ------------------------------------------------------------------

def ejson(value: Any) -> Any:
    """A small canonical Extended JSON v2 decoder, independent of the exporter."""
    if isinstance(value, list):
        return [ejson(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        if tag in ("$numberInt", "$numberLong"):
            return int(inner)
        if tag == "$numberDouble":
            return float(inner)  # "NaN", "Infinity", "-Infinity" included
        if tag == "$numberDecimal":
            return decimal.Decimal(inner)
        if tag == "$binary":
            data = base64.b64decode(inner["base64"])
            return uuid.UUID(bytes=data) if inner["subType"] == "04" else data
        if tag == "$date":
            ms = int(inner["$numberLong"])
            return datetime.datetime(1970, 1, 1, tzinfo=UTC) + datetime.timedelta(milliseconds=ms)
    return {k: ejson(v) for k, v in value.items()}


UID = uuid.UUID("12345678-1234-5678-1234-567812345678")
PEOPLE = [
    {"_id": 1, "name": "ada", "small": -(2**31), "long": 2**40, "huge": -(2**70),
     "f": 1.5, "neg0": -0.0, "nan": math.nan, "inf": math.inf, "ninf": -math.inf,
     "b": b"\x00\xff", "u": UID, "dec": decimal.Decimal("-1.250"),
     "when": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
     "aware": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone(
         datetime.timedelta(hours=2))),
     "nested": {"list": [1, "x", None, True, {"deep": [2.5]}], "t": False}},
    {"_id": "two", "empty": {}, "arr": []},
]


def expected_back(value: Any) -> Any:
    """What the decoder gives for a stored value: UTC-aware, millisecond dates."""
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return decimal.Decimal(value)
    if isinstance(value, dict):
        return {k: expected_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expected_back(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 vs 1.0 vs True differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    return bool(a == b)


def test_mongo_extended_json_round_trip(tmp_path: Path) -> None:
    with shoal.open(tmp_path / "st") as store:
        store.collection("people").insert_many(PEOPLE)
        store.collection("many").insert_many({"_id": i, "v": [i]} for i in range(25))
        stored = store.collection("people").find()
    out = ok("export", "mongo", tmp_path / "st", tmp_path / "out")
    assert "people: 2" in out and "many: 25" in out
    raw = lines(tmp_path / "out" / "people.json")
    assert raw[0]["_id"] == {"$numberInt": "1"} and raw[0]["long"] == {"$numberLong": str(2**40)}
    assert raw[0]["huge"] == {"$numberDecimal": str(-(2**70))}
    assert raw[0]["nan"] == {"$numberDouble": "NaN"} and raw[0]["ninf"] == {
        "$numberDouble": "-Infinity"}
    assert raw[0]["u"] == {"$binary": {"base64": base64.b64encode(UID.bytes).decode(),
                                       "subType": "04"}}
    for doc, line in zip(stored, raw):
        assert same(ejson(line), expected_back(doc)), (doc, line)
    many = lines(tmp_path / "out" / "many.json")
    assert [ejson(d) for d in many] == [{"_id": i, "v": [i]} for i in range(25)]
    fails("export", "mongo", tmp_path / "st", tmp_path / "out", says="--overwrite")
    ok("export", "mongo", tmp_path / "st", tmp_path / "out", "--overwrite",
       "--collection", "people")


def test_mongo_output_reads_with_pymongo(tmp_path: Path) -> None:
    json_util = pytest.importorskip("bson.json_util")
    with shoal.open(tmp_path / "st") as store:
        store.collection("people").insert_many(PEOPLE)
    export_mongo(tmp_path / "st", tmp_path / "out")
    doc = json_util.loads((tmp_path / "out" / "people.json").read_text().splitlines()[0])
    assert doc["_id"] == 1 and doc["long"] == 2**40 and doc["f"] == 1.5
    assert str(doc["huge"]) == str(-(2**70)) and math.isnan(doc["nan"])
    assert doc["b"] == b"\x00\xff" and doc["nested"]["list"][4] == {"deep": [2.5]}
    assert doc["when"].replace(tzinfo=None) == datetime.datetime(2024, 5, 6, 7, 8, 9, 123000)


def test_mongo_refuses_what_bson_cannot_hold(tmp_path: Path) -> None:
    with shoal.open(tmp_path / "st") as store:
        store.collection("c").insert_many([{"_id": 1, "n": 10**40}])
    fails("export", "mongo", tmp_path / "st", tmp_path / "out",
          says="collection 'c', _id 1: the integer")
    assert not (tmp_path / "out" / "c.json").exists()
    assert not list((tmp_path / "out").iterdir())  # no half-written file
    fails("export", "mongo", tmp_path / "nowhere", tmp_path / "out", says="does not exist")
    fails("export", "mongo", tmp_path / "st", tmp_path / "out", "--collection", "nope",
          says="no collection 'nope'")


def test_mongo_from_a_sofart_file(tmp_path: Path) -> None:
    from shoal import sofart

    with sofart.Database(tmp_path / "so.fart", mode="multi") as db:
        db.songs.insert_many([{"_id": "a", "n": 1}, {"_id": "b", "n": 2.5}])
    fails("export", "mongo", tmp_path / "so.fart.shoal", tmp_path / "out",
          says="export the database file")
    out = ok("export", "mongo", tmp_path / "so.fart", tmp_path / "out")
    assert "songs: 2" in out
    assert [ejson(d) for d in lines(tmp_path / "out" / "songs.json")] == [
        {"_id": "a", "n": 1}, {"_id": "b", "n": 2.5}]


# -- DynamoDB JSON ----------------------------------------------------------------------------

def ddb(attr: dict[str, Any]) -> Any:
    """A small DynamoDB JSON decoder, independent of the exporter."""
    (tag, v), = attr.items()
    if tag == "S":
        return v
    if tag == "N":
        return decimal.Decimal(v)
    if tag == "B":
        return base64.b64decode(v)
    if tag == "BOOL":
        return v
    if tag == "NULL":
        return None
    if tag == "M":
        return {k: ddb(x) for k, x in v.items()}
    if tag == "L":
        return [ddb(x) for x in v]
    raise AssertionError(tag)


def numbers_as_decimal(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
    if isinstance(value, dict):
        return {k: numbers_as_decimal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_decimal(v) for v in value]
    return value


ITEMS = [
    {"PK": "user#1", "SK": "a", "n": 3, "f": 0.1, "d": decimal.Decimal("12.50"),
     "b": b"\x01\x02", "ok": True, "none": None, "m": {"l": [1, "x", {"y": False}]}},
    {"PK": "user#1", "SK": "b", "big": 10**37},
    {"PK": "user#2", "SK": "a", "s": ""},
]


def test_dynamodb_json_round_trip(tmp_path: Path) -> None:
    with Dynafile(tmp_path / "tables" / "users") as t:
        for item in ITEMS:
            t.put_item(item=item)
        stored = list(t.scan())
    with Dynafile(tmp_path / "tables" / "orders", pk_attribute="O", sk_attribute="N") as t:
        with t.batch_writer() as w:
            for i in range(1200):
                w.put_item(item={"O": f"o{i % 10}", "N": i})
    out = ok("export", "dynamodb", tmp_path / "tables", tmp_path / "out")
    assert "users: 3" in out and "orders: 1,200" in out and "O (HASH), N (RANGE)" in out
    raw = lines(tmp_path / "out" / "users.json")
    assert raw[0]["Item"]["PK"] == {"S": "user#1"} and raw[0]["Item"]["n"] == {"N": "3"}
    assert raw[0]["Item"]["none"] == {"NULL": True}
    got = [{k: ddb(v) for k, v in line["Item"].items()} for line in raw]
    assert got == [numbers_as_decimal(i) for i in stored]
    orders = lines(tmp_path / "out" / "orders.json")
    assert len(orders) == 1200 and orders[0] == {"Item": {"O": {"S": "o0"}, "N": {"N": "0"}}}
    # one table directory works as well
    export_dynamodb(tmp_path / "tables" / "users", tmp_path / "one")
    assert (tmp_path / "one" / "users.json").read_text() == (
        tmp_path / "out" / "users.json").read_text()


def test_dynamodb_output_reads_with_boto3(tmp_path: Path) -> None:
    types = pytest.importorskip("boto3.dynamodb.types")
    with Dynafile(tmp_path / "users") as t:
        for item in ITEMS:
            t.put_item(item=item)
        stored = list(t.scan())
    export_dynamodb(tmp_path / "users", tmp_path / "out")
    deserializer = types.TypeDeserializer()

    def unbase64(attr: Any) -> Any:  # what botocore does to a "B" before the deserializer
        if isinstance(attr, dict):
            return {k: base64.b64decode(v) if k == "B" else unbase64(v) for k, v in attr.items()}
        return [unbase64(v) for v in attr] if isinstance(attr, list) else attr

    got = [{k: deserializer.deserialize(unbase64(v)) for k, v in line["Item"].items()}
           for line in lines(tmp_path / "out" / "users.json")]
    assert got == [numbers_as_decimal(i) for i in stored]


def test_dynamodb_refuses_what_dynamodb_cannot_hold(tmp_path: Path) -> None:
    with Dynafile(tmp_path / "t") as t:
        t.put_item(item={"PK": "p", "SK": "s", "x": math.nan})
    fails("export", "dynamodb", tmp_path / "t", tmp_path / "out",
          says="item PK='p', SK='s': nan is not a DynamoDB number")
    with pytest.raises(MigrationError, match="38 significant digits"):
        from shoal.migrate.dynamodb import encode

        encode(10**40 + 1)
    assert encode(10**40) == {"N": str(10**40)}  # trailing zeros are not significant
    (tmp_path / "empty").mkdir()
    fails("export", "dynamodb", tmp_path / "empty", tmp_path / "out2", says="not a dynafile table")


# -- SQL ---------------------------------------------------------------------------------------

def test_sql_export_keeps_ids_revisions_and_timestamps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sa = pytest.importorskip("sqlalchemy")
    from shoal.datastore import Datastore, View
    from shoal.migrate import _common, export_sql

    class ByEmail(View):
        def get_table(self, metadata: Any) -> Any:
            return sa.Table("by_email", metadata, sa.Column("email", sa.Unicode))

        def map(self, doc: Any) -> Any:
            yield {"email": doc["email"]}

    src = tmp_path / "native"
    with Datastore(str(src), tablename="users") as store:
        store.add_view("email", ByEmail())
        store.put_many({f"u{i}": {"email": f"{i}@x", "n": [i]} for i in range(40)})
        store.put("u3", store.get("u3") | {"n": "changed"})  # rev 1
        store.delete("u0")
        expected = store.get_many(list(store))
    url = f"sqlite:///{tmp_path / 'app.db'}"
    out = ok("export", "sql", src, url, "--tablename", "users")
    assert "users: 39" in out and "view tables not copied (by_email)" in out
    with Datastore(url, tablename="users") as dst:
        assert dst.get_many(list(dst)) == expected
        assert dst.get("u3")["_rev"] == "1"
        dst.add_view("email", ByEmail())  # the program's view, back-filled from the documents
        assert dst.query("email", email="5@x")[0]["_key"] == "u5"
        new = dst.put("new", {"email": "n@x"})
        assert new["id"] > max(d["_id"] for d in expected.values())
    fails("export", "sql", src, url, "--tablename", "users", says="already holds 40")
    fails("export", "sql", tmp_path / "none", url, says="not an existing datastore store")
    fails("export", "sql", src, "shoal:///x", says="not an SQLAlchemy URL")
    # The default table name on a store that has another one: refused, naming it
    # (it used to create the empty default table and export 0 documents).
    fails("export", "sql", src, f"sqlite:///{tmp_path / 'x.db'}",
          says="no document table 'store' (tables: users")
    monkeypatch.setattr(_common, "BATCH", 7)  # several batches
    url2 = f"sqlite:///{tmp_path / 'app2.db'}"
    assert export_sql(f"shoal://{src}", url2, tablename="users").counts == {"users": 39}
    with Datastore(url2, tablename="users") as dst:
        assert dst.get_many(list(dst)) == expected


def test_sql_export_to_postgresql_moves_the_id_sequence(tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    import _pg_server
    from shoal.datastore import Datastore
    from shoal.migrate import export_sql

    try:
        url = _pg_server.server().new_database()
    except _pg_server.Unavailable as e:
        pytest.skip(f"PostgreSQL tests NOT RUN: {e}")
    with Datastore(str(tmp_path / "native")) as store:
        store.put_many({f"k{i}": {"i": i} for i in range(5)})
        expected = store.get_many(list(store))
    assert export_sql(tmp_path / "native", url).counts == {"store": 5}
    with Datastore(url) as dst:
        assert dst.get_many(list(dst)) == expected
        assert dst.put("new", {"i": 9})["id"] == 6  # not a clash with a copied id


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert "usage: shoal export" in ok("export", "--help")  # end to end once
    for kind in ("mongo", "dynamodb", "sql"):
        with pytest.raises(SystemExit) as exit_:
            main(["export", kind, "--help"])
        assert exit_.value.code == 0
        assert f"usage: shoal export {kind}" in capsys.readouterr().out
