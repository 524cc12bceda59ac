"""Hypothesis-driven fuzzing of shoal's parsers and codecs through the public Python API.

Each test feeds generated input to one public entry point and accepts only
the documented outcomes: a result, or one of the named exceptions. Anything
else fails, and a Rust panic reaching Python (``pyo3_runtime.PanicException``,
a ``BaseException``, not an ``Exception``) fails loudly.

- key codec: ``shoal.encode_key``/``decode_key`` round-trip any key; decoding
  arbitrary bytes with each codec returns a value or raises ``CorruptionError``;
- values: any msgpack-able value round-trips through a KV space and a
  collection;
- Mongo filters and updates: generated documents of operators (known, unknown,
  with operands of every type) through ``Collection.find/count/update``:
  a result or ``QueryError``/``InvalidArgumentError``/``TypeError``;
- dynafile's filter strings (filtration grammar) and DynamoDB expression
  strings, built from their tokens: a result or the face's errors.

CI size: 200 examples per test. ``SHOAL_FUZZ_EXAMPLES=N`` runs N instead
(e.g. ``SHOAL_FUZZ_EXAMPLES=20000 python3 -m pytest -q tests/reliability/test_fuzz_python.py``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shoal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shoal import dynafile

EXAMPLES = int(os.environ.get("SHOAL_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def outcome(call: Callable[[], Any], allowed: tuple[type[BaseException], ...]) -> Any:
    """``call()``'s result, or ``None`` if it raised one of ``allowed``.

    Any other exception fails the test; a panic (not an ``Exception``) is named as such.
    """
    try:
        return call()
    except allowed:
        return None
    except Exception:
        raise
    except BaseException as e:  # pyo3_runtime.PanicException
        pytest.fail(f"a Rust panic reached Python: {type(e).__module__}.{type(e).__name__}: {e}")


# --- key codec ------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
SCALAR_KEYS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False)
    | TEXT
    | st.binary(max_size=20)
)
KEYS = st.recursive(
    SCALAR_KEYS,
    lambda inner: st.tuples(inner) | st.lists(inner, max_size=4).map(tuple),
    max_leaves=12,
)


@FUZZ
@given(key=KEYS)
def test_key_codec_round_trips_every_key(key: Any) -> None:
    data = shoal.encode_key(key)
    back = shoal.decode_key(data)
    assert back == key and _same_types(back, key), (key, back)
    assert shoal.encode_key(back) == data


def _same_types(back: Any, key: Any) -> bool:
    """Types agree, except that an integral float comes back as an int (README: same key)."""
    if isinstance(key, tuple):
        return isinstance(back, tuple) and all(map(_same_types, back, key))
    if type(key) is float and key.is_integer():
        return type(back) is int
    return type(back) is type(key)


@FUZZ
@given(a=KEYS, b=KEYS)
def test_key_codec_preserves_order_within_a_type(a: Any, b: Any) -> None:
    if type(a) is not type(b) or isinstance(a, tuple):
        return  # across types the codec has its own (documented) type order
    if isinstance(a, bool) or a is None:
        return
    ea, eb = shoal.encode_key(a), shoal.encode_key(b)
    assert (a < b) == (ea < eb) and (a == b) == (ea == eb), (a, b)


@FUZZ
@given(data=st.binary(max_size=64), codec=st.sampled_from(["any", "bytes", "str", "int"]))
def test_decoding_arbitrary_bytes_never_panics(data: bytes, codec: str) -> None:
    value = outcome(lambda: shoal.decode_key(data, codec), (shoal.CorruptionError,))
    if value is not None and codec == "any":
        again = shoal.decode_key(shoal.encode_key(value))
        assert again == value or (isinstance(value, float) and math.isnan(value))


# Regression (found here): the int codec used to decode any key of the "any" codec.
def test_int_codec_refuses_keys_that_are_not_ints() -> None:
    for key in ["x", None, True, 1.5, (1,), b"b"]:
        with pytest.raises(shoal.CorruptionError):
            shoal.decode_key(shoal.encode_key(key), "int")


# --- values -------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**100), max_value=2**100)
    | st.floats(allow_nan=False)
    | TEXT
    | st.binary(max_size=20)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=16,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[shoal.Store]:
    with shoal.open(tmp_path_factory.mktemp("fuzz") / "db") as s:
        yield s


@FUZZ
@given(value=VALUES)
def test_values_round_trip(store: shoal.Store, value: Any) -> None:
    kv = store.kv("values")
    kv["v"] = value
    assert kv["v"] == value
    coll = store.collection("docs")
    coll.put({"_id": 1, "v": value})
    assert coll.get(1)["v"] == value


# --- Mongo filters and updates --------------------------------------------------------------

FIELDS = st.sampled_from(["a", "b", "a.b", "a.0", "c.d.e", "_id", "", "$x", "a..b"])
FILTER_OPS = [
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$regex",
    "$options", "$size", "$all", "$elemMatch", "$mod", "$type", "$not", "$foo", "$where",
]  # fmt: skip
OPERANDS = st.recursive(
    SCALARS | st.sampled_from(["string", "number", "array", "^a", "(", "i", 0, -1, 2]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FILTER_OPS) | TEXT, inner, max_size=3)
    ),
    max_leaves=8,
)


def _conditions(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    field_cond = st.dictionaries(
        FIELDS,
        OPERANDS | st.dictionaries(st.sampled_from(FILTER_OPS), OPERANDS, max_size=3),
        max_size=3,
    )
    logical = st.dictionaries(
        st.sampled_from(["$and", "$or", "$nor", "$not", "$where"]),
        st.lists(inner, max_size=3) | OPERANDS,
        min_size=1,
        max_size=2,
    )
    return field_cond | logical


FILTERS = st.recursive(st.dictionaries(FIELDS, OPERANDS, max_size=2), _conditions, max_leaves=10)
UPDATE_OPS = [
    "$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$push", "$addToSet",
    "$pull", "$pop", "$currentDate", "$foo",
]  # fmt: skip
UPDATES = st.dictionaries(
    st.sampled_from(UPDATE_OPS),
    st.dictionaries(
        FIELDS, OPERANDS | st.fixed_dictionaries({"$each": st.lists(SCALARS, max_size=3)})
    ),
    min_size=1,
    max_size=3,
) | st.dictionaries(st.sampled_from(["a", "b", "_id"]), OPERANDS, max_size=3)
DOCS = st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), VALUES, max_size=3), max_size=4)
QUERY_ERRORS = (shoal.QueryError, shoal.InvalidArgumentError, TypeError)


@FUZZ
@given(docs=DOCS, flt=FILTERS)
def test_filters_answer_or_raise_query_error(store: shoal.Store, docs: list[Any], flt: Any) -> None:
    coll = store.collection("filters")
    coll.delete_many({})
    coll.insert_many([{"_id": i, **d} for i, d in enumerate(docs)])
    found = outcome(lambda: [d["_id"] for d in coll.find(flt)], QUERY_ERRORS)
    if found is not None:
        assert coll.count(flt) == len(found)
        everything = {d["_id"] for d in coll.find({})}
        negated = outcome(lambda: {d["_id"] for d in coll.find({"$nor": [flt]})}, QUERY_ERRORS)
        if negated is not None:
            assert negated == everything - set(found), (flt, found, negated)


@FUZZ
@given(docs=DOCS, flt=FILTERS | st.just({}), update=UPDATES)
def test_updates_apply_or_raise_query_error(
    store: shoal.Store, docs: list[Any], flt: Any, update: Any
) -> None:
    coll = store.collection("updates")
    coll.delete_many({})
    coll.insert_many([{"_id": i, **d} for i, d in enumerate(docs)])
    before = {d["_id"]: d for d in coll.find({})}
    changed = outcome(lambda: coll.update(flt, update), QUERY_ERRORS)
    after = {d["_id"]: d for d in coll.find({})}
    assert set(after) == set(before), "an update added or removed documents"
    if changed is None:
        assert after == before, "a refused update changed documents"


# --- dynafile: filter strings and DynamoDB expressions ------------------------------------

FILTER_TOKENS = [
    "f", "a.b", "PK", "SK", "n", "==", "!=", "<", "<=", ">", ">=", "in", "=~", "and", "or",
    "not", "(", ")", ",", "'x'", '"seed"', "1", "10", "2020-01-01", "2020-01-01T10:00:00",
    "10:00:00", "/^a/", "/(/", "/a/i", "10.0.0.0/8", "-1", "1.5", "'", "#", "",
]  # fmt: skip
EXPR_TOKENS = [
    "f", "#n", ":v", ":w", "a.b", "a[0]", "PK", "=", "<>", "<", "<=", ">", ">=", "AND", "OR",
    "NOT", "BETWEEN", "IN", "(", ")", ",", "attribute_exists", "attribute_not_exists",
    "attribute_type", "begins_with", "contains", "size", "evil", ":", "#", "[", "]", "1",
]  # fmt: skip
UPDATE_TOKENS = [
    "SET", "REMOVE", "ADD", "DELETE", "f", "#n", ":v", "=", "+", "-", ",", "if_not_exists",
    "list_append", "(", ")", "a.b", "a[0]", "PK", "[", "]",
]  # fmt: skip
DYNA_ERRORS = (dynafile.DynafileError, TypeError)


def _sentences(tokens: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(tokens), max_size=12).map(" ".join) | st.text(max_size=30)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dynafile.Dynafile]:
    db = dynafile.Dynafile(Path(tmp_path_factory.mktemp("dyna")) / "db")
    db.put_item(item={"PK": "seed", "SK": "seed", "f": "seed", "n": 5, "a": {"b": [1, 2]}})
    db.put_item(item={"PK": "seed", "SK": "two", "f": 1, "n": "5"})
    yield db
    db.close()


@FUZZ
@given(text=_sentences(FILTER_TOKENS))
def test_dynafile_filter_strings(table: dynafile.Dynafile, text: str) -> None:
    outcome(lambda: list(table.scan(_filter=text)), DYNA_ERRORS)
    outcome(lambda: list(table.query("seed", _filter=text)), DYNA_ERRORS)


@FUZZ
@given(text=_sentences(EXPR_TOKENS), value=SCALARS)
def test_dynamodb_condition_expressions(table: dynafile.Dynafile, text: str, value: Any) -> None:
    values = {":v": value, ":w": "seed"}
    names = {"#n": "f"}
    outcome(
        lambda: table.scan(
            FilterExpression=text, ExpressionAttributeValues=values, ExpressionAttributeNames=names
        ),
        DYNA_ERRORS,
    )
    outcome(
        lambda: table.put_item(
            Item={"PK": "fuzz", "SK": "c", "f": 1},
            ConditionExpression=text,
            ExpressionAttributeValues=values,
            ExpressionAttributeNames=names,
        ),
        DYNA_ERRORS,
    )


@FUZZ
@given(text=_sentences(UPDATE_TOKENS), value=SCALARS)
def test_dynamodb_update_expressions(table: dynafile.Dynafile, text: str, value: Any) -> None:
    outcome(
        lambda: table.update_item(
            Key={"PK": "fuzz", "SK": "u"},
            UpdateExpression=text,
            ExpressionAttributeValues={":v": value},
            ExpressionAttributeNames={"#n": "f"},
        ),
        DYNA_ERRORS,
    )
    assert table.get_item(key={"PK": "seed", "SK": "seed"})["f"] == "seed"
