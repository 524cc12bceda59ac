"""dynafile face: the boto3 ``Table`` conventions (expressions, condition objects, responses)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shoal.dynafile import (
    Attr,
    ConditionalCheckFailed,
    Dynafile,
    DynafileError,
    Event,
    ExpressionError,
    IndexNotFound,
    Key,
    TransactionCanceled,
    _deval,
    _dexpr,
)


@pytest.fixture
def t(tmp_path: Path) -> Any:
    d = Dynafile(tmp_path / "db")
    yield d
    d.close()


def fill(t: Any) -> None:
    with t.batch_writer() as w:
        for pk in ("u1", "u2"):
            for i in range(5):
                w.put_item(Item={"PK": pk, "SK": f"a#{i}", "n": i, "tags": ["x", f"t{i}"]})
        w.put_item(Item={"PK": "u1", "SK": "b#0", "n": Decimal("7.5"), "name": "bob"})


def sks(response: Any) -> List[Any]:
    return [(i["PK"], i["SK"]) for i in response["Items"]]


def test_put_get_delete_responses(t: Any) -> None:
    assert t.put_item(Item={"PK": "1", "SK": "a", "n": 1}) == {}
    assert t.put_item(Item={"PK": "1", "SK": "a", "n": 2}, ReturnValues="ALL_OLD") == {
        "Attributes": {"PK": "1", "SK": "a", "n": 1}
    }
    assert t.get_item(Key={"PK": "1", "SK": "a"}) == {"Item": {"PK": "1", "SK": "a", "n": 2}}
    assert t.get_item(Key={"PK": "1", "SK": "zz"}) == {}
    got = t.get_item(
        Key={"PK": "1", "SK": "a"}, ProjectionExpression="#n", ExpressionAttributeNames={"#n": "n"}
    )
    assert got == {"Item": {"n": 2}}
    assert t.delete_item(Key={"PK": "1", "SK": "a"}, ReturnValues="ALL_OLD") == {
        "Attributes": {"PK": "1", "SK": "a", "n": 2}
    }
    assert t.delete_item(Key={"PK": "1", "SK": "a"}) == {}
    with pytest.raises(DynafileError):
        t.put_item(Item={"PK": "1", "SK": "a"}, ReturnValues="ALL_NEW")
    with pytest.raises(TypeError):
        t.put_item(Item={"PK": "1", "SK": "a"}, Bogus=1)
    with pytest.raises(TypeError):
        t.put_item(item={"PK": "1", "SK": "a"}, Item={"PK": "1", "SK": "a"})


def test_condition_expressions(t: Any) -> None:
    t.put_item(Item={"PK": "1", "SK": "a", "n": 1}, ConditionExpression="attribute_not_exists(PK)")
    with pytest.raises(ConditionalCheckFailed) as info:
        t.put_item(Item={"PK": "1", "SK": "a"}, ConditionExpression="attribute_not_exists(PK)")
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    t.put_item(
        Item={"PK": "1", "SK": "a", "n": 2},
        ConditionExpression="n = :one AND NOT contains(#t, :x)",
        ExpressionAttributeNames={"#t": "tags"},
        ExpressionAttributeValues={":one": Decimal(1), ":x": "y"},
    )
    with pytest.raises(ConditionalCheckFailed):
        t.delete_item(Key={"PK": "1", "SK": "a"}, ConditionExpression=Attr("n").lt(2))
    t.delete_item(Key={"PK": "1", "SK": "a"}, ConditionExpression=Attr("n").between(2, 3))
    assert t.get_item(Key={"PK": "1", "SK": "a"}) == {}


def test_update_expressions(t: Any) -> None:
    got: List[Event] = []
    t.add_stream_listener(got.append)
    r = t.update_item(
        Key={"PK": "1", "SK": "a"},
        UpdateExpression="SET n = if_not_exists(n, :zero) + :one, l = list_append(:empty, :l) "
        "ADD c :one, s :set",
        ExpressionAttributeValues={
            ":zero": 0,
            ":one": 1,
            ":empty": [],
            ":l": [1, 2],
            ":set": {"a", "b"},
        },
        ReturnValues="ALL_NEW",
    )
    assert r == {"Attributes": {"PK": "1", "SK": "a", "n": 1, "l": [1, 2], "c": 1, "s": ["a", "b"]}}
    r = t.update_item(
        Key={"PK": "1", "SK": "a"},
        UpdateExpression="SET #n = #n - :one REMOVE l[0] DELETE s :a",
        ConditionExpression="size(l) = :two",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":one": 1, ":two": 2, ":a": {"a"}},
        ReturnValues="UPDATED_OLD",
    )
    assert r == {"Attributes": {"n": 1, "l": [1, 2], "s": ["a", "b"]}}
    assert t.get_item(Key={"PK": "1", "SK": "a"})["Item"] == {
        "PK": "1",
        "SK": "a",
        "n": 0,
        "l": [2],
        "c": 1,
        "s": ["b"],
    }
    assert [e.action for e in got] == ["PUT", "PUT"]
    with pytest.raises(ExpressionError):  # no parent q
        t.update_item(
            Key={"PK": "1", "SK": "a"},
            UpdateExpression="SET q.x = :one",
            ExpressionAttributeValues={":one": 1},
        )
    with pytest.raises(DynafileError):
        t.update_item(
            Key={"PK": "1", "SK": "a"},
            UpdateExpression="SET SK = :v",
            ExpressionAttributeValues={":v": "b"},
        )
    with pytest.raises(ConditionalCheckFailed):
        t.update_item(
            Key={"PK": "1", "SK": "a"},
            UpdateExpression="REMOVE c",
            ConditionExpression="attribute_not_exists(c)",
        )
    assert t.update_item(Key={"PK": "1", "SK": "a"}, UpdateExpression="REMOVE c") == {}
    assert "c" not in t.get_item(Key={"PK": "1", "SK": "a"})["Item"]


def test_query_key_conditions(t: Any) -> None:
    fill(t)
    assert sks(t.query(KeyConditionExpression=Key("PK").eq("u1") & Key("SK").begins_with("a#")))[
        :2
    ] == [
        ("u1", "a#0"),
        ("u1", "a#1"),
    ]
    r = t.query(
        KeyConditionExpression="#p = :p AND SK BETWEEN :lo AND :hi",
        ExpressionAttributeNames={"#p": "PK"},
        ExpressionAttributeValues={":p": "u2", ":lo": "a#1", ":hi": "a#3"},
        ScanIndexForward=False,
    )
    assert sks(r) == [("u2", "a#3"), ("u2", "a#2"), ("u2", "a#1")]
    assert r["Count"] == r["ScannedCount"] == 3
    r = t.query(
        KeyConditionExpression=Key("PK").eq("u1"),
        FilterExpression=Attr("n").gte(3) | Attr("name").exists(),
    )
    assert sks(r) == [("u1", "a#3"), ("u1", "a#4"), ("u1", "b#0")]
    assert r["ScannedCount"] == 6
    r = t.query(KeyConditionExpression=Key("PK").eq("u1"), Select="COUNT")
    assert r == {"Count": 6, "ScannedCount": 6}
    for bad in ("SK = :p", "PK = :p OR SK = :p", "PK < :p", "PK = :p AND n = :p"):
        with pytest.raises(ExpressionError):
            t.query(KeyConditionExpression=bad, ExpressionAttributeValues={":p": "u1"})
    with pytest.raises(ExpressionError, match="not used"):
        t.query(KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": "u1", ":q": 1})
    with pytest.raises(ExpressionError, match="not defined"):
        t.query(KeyConditionExpression="PK = :p")


def test_pagination_resumes_exactly(t: Any) -> None:
    fill(t)
    t.create_gsi("by_n", "n")
    for kwargs in (
        {"KeyConditionExpression": Key("PK").eq("u1")},
        {"KeyConditionExpression": Key("PK").eq("u1"), "ScanIndexForward": False},
        {"KeyConditionExpression": Key("n").eq(2), "IndexName": "by_n"},
        {"KeyConditionExpression": Key("PK").eq("u1"), "FilterExpression": Attr("n").gt(1)},
        {"ConsistentRead": True},  # scan() alone is the dynafile generator
        {"IndexName": "by_n"},
        {"FilterExpression": Attr("n").lt(3)},
    ):
        method = t.query if "KeyConditionExpression" in kwargs else t.scan
        everything = method(**kwargs)["Items"]
        for limit in (1, 2, 3):
            pages: List[Any] = []
            start = None
            for _ in range(50):
                extra = {"ExclusiveStartKey": start} if start else {}
                r = method(Limit=limit, **kwargs, **extra)
                pages += r["Items"]
                start = r.get("LastEvaluatedKey")
                if start is None:
                    break
            assert pages == everything, (kwargs, limit)


def test_scan_segments_and_filters(t: Any) -> None:
    fill(t)
    total = t.scan(ConsistentRead=True)["Items"]
    parts = [t.scan(Segment=s, TotalSegments=3)["Items"] for s in range(3)]
    assert sorted(map(repr, sum(parts, []))) == sorted(map(repr, total))
    r = t.scan(
        FilterExpression="contains(tags, :t) OR begins_with(#nm, :b)",
        ExpressionAttributeNames={"#nm": "name"},
        ExpressionAttributeValues={":t": "t3", ":b": "bo"},
    )
    assert sorted(sks(r)) == [("u1", "a#3"), ("u1", "b#0"), ("u2", "a#3")]
    r = t.scan(FilterExpression=Attr("n").is_in([1, 2]) & Attr("n").attribute_type("N"))
    assert len(r["Items"]) == 4
    r = t.scan(FilterExpression=Attr("tags").size().eq(2), ProjectionExpression="SK")
    assert len(r["Items"]) == 10 and all(set(i) == {"SK"} for i in r["Items"])
    with pytest.raises(DynafileError):
        t.scan(Segment=3, TotalSegments=3)
    with pytest.raises(IndexNotFound):
        t.scan(IndexName="nope")


def test_batch_writer_overwrite_by_pkeys_and_batch_get(t: Any) -> None:
    with t.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as w:
        w.put_item(Item={"PK": "1", "SK": "a", "v": 1})
        w.put_item(Item={"PK": "1", "SK": "a", "v": 2})
        w.delete_item(Key={"PK": "1", "SK": "b"})
    r = t.batch_get_item(Keys=[{"PK": "1", "SK": "a"}, {"PK": "1", "SK": "b"}])
    assert r == {"Responses": [{"PK": "1", "SK": "a", "v": 2}], "UnprocessedKeys": []}
    r = t.batch_get_item(
        RequestItems={"tbl": {"Keys": [{"PK": "1", "SK": "a"}], "ProjectionExpression": "v"}}
    )
    assert r == {"Responses": {"tbl": [{"v": 2}]}, "UnprocessedKeys": {}}


def test_transact_write_items(t: Any) -> None:
    t.put_item(Item={"PK": "acct", "SK": "a", "balance": 10})
    t.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": "ignored",
                    "Key": {"PK": "acct", "SK": "a"},
                    "UpdateExpression": "SET balance = balance - :amt",
                    "ConditionExpression": "balance >= :amt",
                    "ExpressionAttributeValues": {":amt": 4},
                }
            },
            {"Put": {"Item": {"PK": "acct", "SK": "b", "balance": 4}}},
            {
                "ConditionCheck": {
                    "Key": {"PK": "x", "SK": "x"},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
    )
    assert t.get_item(Key={"PK": "acct", "SK": "a"})["Item"]["balance"] == 6
    before = list(t.scan())
    with pytest.raises(TransactionCanceled) as info:
        t.transact_write_items(
            TransactItems=[
                {"Delete": {"Key": {"PK": "acct", "SK": "b"}}},
                {
                    "Update": {
                        "Key": {"PK": "acct", "SK": "a"},
                        "UpdateExpression": "SET balance = balance - :amt",
                        "ConditionExpression": "balance >= :amt",
                        "ExpressionAttributeValues": {":amt": 100},
                    }
                },
            ]
        )
    reasons = info.value.response["CancellationReasons"]
    assert reasons == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": reasons[1]["Message"]},
    ]
    assert list(t.scan()) == before
    with pytest.raises(DynafileError, match="twice"):
        t.transact_write_items(
            TransactItems=[
                {"Delete": {"Key": {"PK": "acct", "SK": "b"}}},
                {"Put": {"Item": {"PK": "acct", "SK": "b"}}},
            ]
        )
    with pytest.raises(DynafileError):
        t.transact_write_items(TransactItems=[{"Merge": {}}])


def test_expression_syntax_errors() -> None:
    e = _dexpr.Expressions({"#a": "a"}, {":v": 1})
    for bad in (
        "",
        "a =",
        "a == :v",
        "#b = :v",
        "a = :w",
        "a BETWEEN :v",
        "(a = :v",
        "a = :v extra",
        "a $ :v",
    ):
        with pytest.raises(ExpressionError):
            _dexpr.Expressions({"#a": "a"}, {":v": 1}).condition(bad)
    with pytest.raises(ExpressionError):
        e.update("SET a = :v SET b = :v")
    with pytest.raises(ExpressionError):
        e.update("FROB a")
    with pytest.raises(TypeError):
        e.condition(5)  # type: ignore[arg-type]


def test_evaluator_dynamodb_semantics() -> None:
    def ok(text: str, item: Any, **values: Any) -> bool:
        node = _dexpr.Expressions(None, {f":{k}": v for k, v in values.items()}).condition(text)
        return _deval.matches(node, item)

    assert ok("a = :v", {"a": 1}, v=Decimal("1.0"))
    assert not ok("a = :v", {"a": "1"}, v=1)
    assert not ok("a < :v", {"a": "1"}, v=2)
    assert ok("a <> :v", {}, v=2)
    assert not ok("a < :v", {}, v=2)
    assert ok("a.b[1] = :v", {"a": {"b": [0, 5]}}, v=5)
    assert ok("size(a) > :v", {"a": "abc"}, v=2)
    assert ok("attribute_type(a, :t)", {"a": {"x"}}, t="SS")
    assert ok("a IN (:x, :y)", {"a": 2}, x=1, y=2)
    assert ok("begins_with(a, :p)", {"a": b"\x01\x02"}, p=b"\x01")
    assert not ok("begins_with(a, :p)", {"a": 12}, p="1")


def test_boto3_condition_objects_when_installed(t: Any) -> None:
    conditions = pytest.importorskip("boto3.dynamodb.conditions")
    fill(t)
    r = t.query(
        KeyConditionExpression=conditions.Key("PK").eq("u1")
        & conditions.Key("SK").begins_with("a#"),
        FilterExpression=conditions.Attr("n").between(1, 2)
        | conditions.Attr("tags").contains("t4"),
    )
    assert sks(r) == [("u1", "a#1"), ("u1", "a#2"), ("u1", "a#4")]


# --- property: engine translation == Python evaluator -------------------------------------

ITEMS = [
    {"a": 0},
    {"a": 1, "b": "ab"},
    {"a": 2, "b": "b", "m": {"c": 1}},
    {"a": [1], "b": ["ab", "x"]},
    {"a": [], "b": ""},
    {"a": True, "b": None},
    {"a": "1", "b": "AB"},
    {"a": Decimal("1.5"), "b": b"ab"},
    {"m": {"c": 0}},
    {"a": {"x": 1}},
    {},
]
VALUES = {":0": 0, ":1": 1, ":2": 2, ":ab": "ab", ":b": "b", ":e": "", ":t": True, ":n": None}


@st.composite
def _atoms(draw: Any) -> str:
    path = draw(st.sampled_from(["a", "b", "m.c", "zz"]))
    value = draw(st.sampled_from(sorted(VALUES)))
    kind = draw(st.sampled_from(["cmp", "between", "in", "fn"]))
    if kind == "cmp":
        return f"{path} {draw(st.sampled_from(['=', '<>', '<', '<=', '>', '>=']))} {value}"
    if kind == "between":
        return f"{path} BETWEEN {value} AND {draw(st.sampled_from(sorted(VALUES)))}"
    if kind == "in":
        return f"{path} IN ({value}, {draw(st.sampled_from(sorted(VALUES)))})"
    fn = draw(
        st.sampled_from(["attribute_exists", "attribute_not_exists", "begins_with", "contains"])
    )
    return f"{fn}({path})" if fn.startswith("attribute") else f"{fn}({path}, {value})"


_conditions = st.recursive(
    _atoms(),
    lambda inner: st.one_of(
        st.builds(lambda e: f"NOT {e}", inner),
        st.builds(lambda e: f"({e})", inner),
        st.builds(lambda x, y: f"{x} AND {y}", inner, inner),
        st.builds(lambda x, y: f"{x} OR {y}", inner, inner),
    ),
    max_leaves=4,
)


@pytest.fixture(scope="module")
def items_table(tmp_path_factory: Any) -> Any:
    db = Dynafile(tmp_path_factory.mktemp("boto") / "db")
    for i, item in enumerate(ITEMS):
        db.put_item(item={"PK": "p", "SK": i, **item})
    yield db
    db.close()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_conditions)
def test_engine_filters_agree_with_the_evaluator(items_table: Any, text: str) -> None:
    exprs = _dexpr.Expressions(None, VALUES)
    node = exprs.condition(text)
    expected = [
        i for i, item in enumerate(ITEMS) if _deval.matches(node, {"PK": "p", "SK": i, **item})
    ]
    used = {k: v for k, v in VALUES.items() if k in text}
    r = items_table.scan(FilterExpression=text, ExpressionAttributeValues=used or None)
    assert [i["SK"] for i in r["Items"]] == expected


def test_boto3_objects_mean_what_ours_mean(t: Any) -> None:
    conditions = pytest.importorskip("boto3.dynamodb.conditions")
    fill(t)

    def build(attr: Any) -> List[Any]:
        return [
            attr("n").ne(2),
            attr("n").is_in([1, 3]),
            attr("tags").size().gt(1) & attr("n").lte(1),
            attr("name").exists() | attr("n").lt(1),
            attr("name").not_exists() & attr("n").gte(4),
            ~attr("n").between(1, 3),
            attr("n").attribute_type("N") & attr("SK").begins_with("b"),
            attr("tags").contains("t2"),
        ]

    for ours, theirs in zip(build(Attr), build(conditions.Attr)):
        mine = t.scan(FilterExpression=ours)
        assert t.scan(FilterExpression=theirs) == mine and mine["Items"], ours


def _pages(method: Any, limit: int, **kwargs: Any) -> List[Any]:
    items: List[Any] = []
    start = None
    for _ in range(200):
        extra = {"ExclusiveStartKey": start} if start else {}
        r = method(Limit=limit, **kwargs, **extra)
        items += r["Items"]
        start = r.get("LastEvaluatedKey")
        if start is None:
            return items
    raise AssertionError("pagination does not end")


def test_pagination_across_kinds_of_keys(t: Any) -> None:
    for pk in [1, 2.5, "a", "b", b"x"]:
        for sk in [None, 0, "z", b"q", True, False]:
            t.put_item(Item={"PK": pk, "SK": sk})
    everything = t.scan(ConsistentRead=True)["Items"]
    assert len(everything) == 30
    for limit in (1, 4, 7):
        assert _pages(t.scan, limit) == everything
        for forward in (True, False):
            cond = Key("PK").eq("a")
            full = t.query(KeyConditionExpression=cond, ScanIndexForward=forward)["Items"]
            assert [i["SK"] for i in full][:: 1 if forward else -1] == [
                None,
                0,
                "z",
                b"q",
                False,
                True,
            ]
            got = _pages(t.query, limit, KeyConditionExpression=cond, ScanIndexForward=forward)
            assert got == full
