"""Property tests of the query evaluator: random small documents and random
filters from the contract's grammar; shoal must agree with the reference
evaluator of ``_mongo_model.py``.

Documents on which the contract leaves the answer open (the model raises
``Ambiguous``, see there) are left out of the comparison, not guessed.
Two further properties need no model at all: logical operators and ``$not``
must be consistent with the results of their operands.

The "core" value pool holds everyday numbers; the "exotic" pool adds ints
beyond 64 bits and beyond 2**120, NaN, Decimals, UUIDs (next to bytes) and
datetimes, whose rules ``test_query.py`` also pins one by one.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
import shoal
from _mongo_model import TYPE_ALIASES, is_ambiguous, model_match
from _util import model_key
from hypothesis import given, settings
from hypothesis import strategies as st

D = decimal.Decimal

STRS = ["", "a", "b", "ab", "ba", "A", "abc", "b a", "1"]
FLOATS = [-1.5, 0.0, 0.5, 1.0, 2.0, 2.5, math.inf, -math.inf]
CORE_NUMBERS = [2**53 + 1, float(2**53), 2**63 - 1, -(2**63), float(2**64), 10**18]
EXOTIC_NUMBERS = [
    2**64,
    2**63,
    -(2**63) - 1,
    2**200,
    2**200 + 1,
    float(2**200),
    2**130 + 1,
    float(2**130),
    math.nan,
    D("NaN"),
    D("0.1"),
    0.1,
    D("1"),
    D("1.00000000000000000001"),
    D("-Infinity"),
]
UUID1 = uuid.UUID(int=1)
T0 = datetime.datetime(2020, 1, 1, 12, 0)
T1 = datetime.datetime(2020, 1, 1, 12, 0, 0, 1)
TZ = datetime.timezone(datetime.timedelta(hours=2))
# Aware datetimes (different offsets, one same instant) are never compared
# with naive ones by the model: that mix is left open by the contract.
EXOTIC_OTHERS = [
    UUID1,
    UUID1.bytes,
    T0,
    T1,
    T0.replace(tzinfo=TZ),
    T0.replace(tzinfo=datetime.timezone.utc),
]
EXOTIC_CMP = [
    T0,
    T1,
    T0.replace(tzinfo=TZ),
    datetime.datetime(2020, 1, 1, 10, tzinfo=datetime.timezone.utc),
]

PATHS = [
    "_id",
    "a",
    "b",
    "c",
    "tags",
    "nested",
    "nested.x",
    "nested.y",
    "nested.z.w",
    "tags.0",
    "tags.1",
    "a.x",
    "a.0",
    "nested.x.y",
    "missing",
]
PATTERNS = ["a", "^a", "b$", "^$", "A", "a.?b", "^[ab]+$", "b a", "x|a", "^(a|b)*$", "[^a]", "1"]
OPTIONS = ["", "i", "s", "m", "x", "ix", "ims"]
FLAG_SETS = [0, re.I, re.M, re.S, re.X, re.I | re.X]


def examples(n: int) -> int:
    """``n`` examples, or the profile's count if larger (SHOAL_HYPOTHESIS_PROFILE=thorough)."""
    return max(n, settings.default.max_examples)


def _op(name: str, operand: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return operand.map(lambda v: {name: v})


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in parts:
        if not any(k in out for k in p):
            out.update(p)
    return out


def op_dicts(ops: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """One to three operators on one field."""
    return st.lists(ops, min_size=1, max_size=3).map(_merge)


class Grammar(NamedTuple):
    doc_sets: st.SearchStrategy[list[dict[str, Any]]]
    filters: st.SearchStrategy[dict[str, Any]]
    shallow_filters: st.SearchStrategy[dict[str, Any]]
    op_dicts: st.SearchStrategy[dict[str, Any]]


def grammar(numbers: list[Any], others: list[Any], cmp_others: list[Any]) -> Grammar:
    """Documents and filters over scalars drawn from the given extra pools."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from(FLOATS),
        st.sampled_from(STRS),
        st.sampled_from([b"", b"a", b"b"]),
        st.sampled_from(numbers),
        *([st.sampled_from(others)] if others else []),
    )
    small_dicts = st.dictionaries(st.sampled_from(["x", "y"]), scalars, max_size=2)
    elements = st.one_of(scalars, scalars, scalars, small_dicts, st.lists(scalars, max_size=2))
    leaf_values = st.one_of(scalars, st.lists(elements, max_size=4), small_dicts)
    tags = st.one_of(
        st.lists(st.one_of(st.sampled_from(STRS), st.integers(0, 3)), max_size=4), scalars
    )
    w_docs = st.fixed_dictionaries({}, optional={"w": scalars})
    sub_docs = st.fixed_dictionaries(
        {},
        optional={
            "x": leaf_values,
            "y": scalars,
            "z": st.one_of(w_docs, st.lists(w_docs, min_size=1, max_size=2), scalars),
        },
    )
    nested = st.one_of(sub_docs, st.lists(sub_docs, min_size=1, max_size=3), scalars)
    bodies = st.fixed_dictionaries(
        {},
        optional={
            "a": leaf_values,
            "b": leaf_values,
            "c": leaf_values,
            "tags": tags,
            "nested": nested,
        },
    )
    doc_ids = st.one_of(st.integers(-5, 60), st.text("abc", max_size=3))
    doc_sets = st.lists(
        st.tuples(doc_ids, bodies), min_size=1, max_size=8, unique_by=lambda t: model_key(t[0])
    ).map(lambda pairs: [{"_id": k, **body} for k, body in pairs])

    eq_values = st.one_of(scalars, st.lists(scalars, max_size=2), small_dicts)
    cmp_values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from(FLOATS + numbers),
        st.sampled_from(STRS),
        *([st.sampled_from(cmp_others)] if cmp_others else []),
    )
    regex_ops = st.tuples(st.sampled_from(PATTERNS), st.sampled_from(OPTIONS)).map(
        lambda t: {"$regex": t[0], "$options": t[1]} if t[1] else {"$regex": t[0]}
    )
    compiled = st.tuples(st.sampled_from(PATTERNS), st.sampled_from(FLAG_SETS)).map(
        lambda t: re.compile(t[0], t[1])
    )
    simple_ops = st.one_of(
        _op("$ne", eq_values),
        _op("$in", st.lists(eq_values, max_size=3)),
        _op("$nin", st.lists(eq_values, max_size=3)),
        st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), cmp_values).map(
            lambda t: {t[0]: t[1]}
        ),
        _op("$exists", st.booleans()),
        regex_ops,
        _op("$size", st.integers(0, 3)),
        _op("$all", st.lists(eq_values, min_size=1, max_size=2)),
        _op("$mod", st.tuples(st.sampled_from([1, 2, 3, -3]), st.integers(-2, 2)).map(list)),
        _op("$type", st.sampled_from(TYPE_ALIASES)),
    )
    simple_op_dicts = op_dicts(simple_ops)
    simple_conds = st.one_of(eq_values, simple_op_dicts, compiled)
    elem_doc_filters = st.dictionaries(
        st.sampled_from(["x", "y", "z.w", "z"]), simple_conds, min_size=1, max_size=2
    )
    ops = st.one_of(
        simple_ops,
        simple_ops,
        _op("$elemMatch", st.one_of(simple_op_dicts, elem_doc_filters)),
        _op("$not", st.one_of(simple_op_dicts, compiled)),
    )
    conds = st.one_of(eq_values, op_dicts(ops), op_dicts(ops), compiled)
    field_filters = st.dictionaries(st.sampled_from(PATHS), conds, max_size=3)

    def filters(depth: int) -> st.SearchStrategy[dict[str, Any]]:
        if depth == 0:
            return field_filters
        logical = st.tuples(
            st.sampled_from(["$and", "$or", "$nor"]),
            st.lists(filters(depth - 1), min_size=1, max_size=3),
        ).map(lambda t: {t[0]: t[1]})
        return st.one_of(
            field_filters,
            st.tuples(field_filters, st.lists(logical, max_size=2)).map(
                lambda t: _merge([t[0], *t[1]])
            ),
        )

    return Grammar(doc_sets, filters(2), filters(1), op_dicts(ops))


CORE = grammar(CORE_NUMBERS, [], [])
EXOTIC = grammar(EXOTIC_NUMBERS, EXOTIC_OTHERS, EXOTIC_CMP)


# --- the properties -------------------------------------------------------


@pytest.fixture(scope="module")
def coll() -> Iterator[Any]:
    with shoal.open(durability="memory") as store:
        yield store.collection("model")


def reload(coll: Any, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make ``docs`` the collection's content; returns them as stored, in key order."""
    for d in list(coll):
        coll.delete(d["_id"])
    coll.insert_many(docs)
    stored = list(coll)
    assert [model_key(d["_id"]) for d in stored] == sorted(model_key(d["_id"]) for d in docs)
    return stored


def check_filter(coll: Any, stored: list[dict[str, Any]], flt: dict[str, Any]) -> None:
    ambiguous = {model_key(d["_id"]) for d in stored if is_ambiguous(d, flt)}
    want = [d for d in stored if model_key(d["_id"]) not in ambiguous and model_match(d, flt)]
    got = coll.find(flt)
    got_decided = [d for d in got if model_key(d["_id"]) not in ambiguous]
    if [d["_id"] for d in got_decided] != [d["_id"] for d in want]:
        want_ids = {model_key(d["_id"]) for d in want}
        got_ids = {model_key(d["_id"]) for d in got_decided}
        wrong = [
            ("shoal matches" if model_key(d["_id"]) in got_ids else "shoal misses", d)
            for d in stored
            if (model_key(d["_id"]) in want_ids) != (model_key(d["_id"]) in got_ids)
        ]
        detail = "\n".join(f"  {what}: {doc!r}" for what, doc in wrong)
        raise AssertionError(f"filter {flt!r}\n{detail or '  (order differs)'}")
    assert coll.count(flt) == len(got), f"count({flt!r}) != len(find)"
    if not ambiguous:
        assert len(got) == len(want)
    assert [d["_id"] for d in coll.find(flt, skip=1, limit=2)] == [d["_id"] for d in got[1:3]]
    first = coll.find_one(flt)
    assert (first is None) == (not got), f"find_one({flt!r})"
    if first is not None:
        assert first["_id"] == got[0]["_id"], f"find_one({flt!r})"


@settings(max_examples=examples(250), deadline=None)
@given(CORE.doc_sets, st.lists(CORE.filters, min_size=1, max_size=6))
def test_find_agrees_with_the_model(
    coll: Any, docs: list[dict[str, Any]], flts: list[dict[str, Any]]
) -> None:
    stored = reload(coll, docs)
    for flt in flts:
        check_filter(coll, stored, flt)


@settings(max_examples=examples(150), deadline=None)
@given(EXOTIC.doc_sets, st.lists(EXOTIC.filters, min_size=1, max_size=6))
def test_find_agrees_with_the_model_on_exotic_numbers(
    coll: Any, docs: list[dict[str, Any]], flts: list[dict[str, Any]]
) -> None:
    stored = reload(coll, docs)
    for flt in flts:
        check_filter(coll, stored, flt)


@settings(max_examples=examples(100), deadline=None)
@given(
    CORE.doc_sets,
    st.sampled_from(PATHS),
    CORE.op_dicts,
    CORE.shallow_filters,
    CORE.shallow_filters,
)
def test_logical_operators_are_consistent(
    coll: Any,
    docs: list[dict[str, Any]],
    path: str,
    cond: dict[str, Any],
    f: dict[str, Any],
    g: dict[str, Any],
) -> None:
    stored = reload(coll, docs)

    def ids(flt: dict[str, Any]) -> set[Any]:
        return {model_key(d["_id"]) for d in coll.find(flt)}

    all_ids = {model_key(d["_id"]) for d in stored}
    in_f, in_g = ids(f), ids(g)
    assert ids({"$and": [f, g]}) == in_f & in_g
    assert ids({"$or": [f, g]}) == in_f | in_g
    assert ids({"$nor": [f, g]}) == all_ids - (in_f | in_g)
    assert coll.count(f) + coll.count({"$nor": [f]}) == len(stored)
    # $not complements an operator expression exactly.
    pos = ids({path: cond})
    assert ids({path: {"$not": cond}}) == all_ids - pos, f"{path}: {cond!r}"
