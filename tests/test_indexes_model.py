"""Property tests of secondary indexes and the planner: the same random
documents in a collection without indexes and in one with many (single
field, compound, multikey, sparse); every random filter must give the same
documents in the same order, the same counts and the same windows, whatever
plan the planner picks. The collection without indexes is itself checked
against the reference model in ``test_query_model.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import shoal
from _util import model_key
from hypothesis import given, settings
from hypothesis import strategies as st
from test_query_model import CORE, EXOTIC, examples

INDEXES: list[tuple[Any, dict[str, Any]]] = [
    ("a", {}),
    ("b", {}),
    ("tags", {}),
    ("nested.x", {}),
    ("nested.y", {}),
    ([("a", 1), ("b", -1)], {}),
    ("c", {"sparse": True}),
]


# Only compound indexes: each serves queries on its first field alone too.
COMPOUND: list[tuple[Any, dict[str, Any]]] = [
    ([("b", 1), ("a", 1)], {}),
    ([("c", 1), ("tags", -1), ("nested.x", 1)], {}),
    ([("tags", 1), ("nested", 1)], {}),
]


@pytest.fixture(scope="module", params=["single", "compound"])
def pair(request: Any) -> Iterator[tuple[Any, Any]]:
    with shoal.open(durability="memory") as store:
        plain = store.collection("plain")
        indexed = store.collection("indexed")
        for fields, opts in INDEXES if request.param == "single" else COMPOUND:
            indexed.create_index(fields, **opts)
        yield plain, indexed


def reload(pair: tuple[Any, Any], docs: list[dict[str, Any]]) -> None:
    for c in pair:
        c.delete_many()
        c.insert_many(docs)


def ids(docs: list[dict[str, Any]]) -> list[Any]:
    return [model_key(d["_id"]) for d in docs]


def check_same(pair: tuple[Any, Any], flt: dict[str, Any]) -> None:
    plain, indexed = pair
    want = plain.find(flt)
    got = indexed.find(flt)
    plan = indexed.explain(flt)
    assert ids(got) == ids(want), f"{flt!r} via {plan}"
    assert repr(got) == repr(want)  # repr: NaN != NaN
    assert indexed.count(flt) == len(want), f"count {flt!r} via {indexed.explain(flt, count=True)}"
    assert ids(indexed.find(flt, skip=1, limit=2)) == ids(want[1:3])
    assert plan["returned"] == len(want)


@settings(max_examples=examples(200), deadline=None)
@given(CORE.doc_sets, st.lists(CORE.filters, min_size=1, max_size=6))
def test_indexes_never_change_results(
    pair: tuple[Any, Any], docs: list[dict[str, Any]], flts: list[dict[str, Any]]
) -> None:
    reload(pair, docs)
    for flt in flts:
        check_same(pair, flt)


@settings(max_examples=examples(150), deadline=None)
@given(EXOTIC.doc_sets, st.lists(EXOTIC.filters, min_size=1, max_size=6))
def test_indexes_never_change_results_on_exotic_values(
    pair: tuple[Any, Any], docs: list[dict[str, Any]], flts: list[dict[str, Any]]
) -> None:
    reload(pair, docs)
    for flt in flts:
        check_same(pair, flt)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([-1.5, 0.5, 2.0, 2.5]),
    st.sampled_from(["", "a", "b", "ab"]),
    st.sampled_from([b"", b"a"]),
)
SCALAR_DOCS = st.lists(
    st.fixed_dictionaries({"s": SCALARS}, optional={"t": SCALARS}),
    min_size=1,
    max_size=12,
).map(lambda bodies: [{"_id": i, **b} for i, b in enumerate(bodies)])


@settings(max_examples=examples(150), deadline=None)
@given(
    SCALAR_DOCS,
    st.sampled_from([1, -1]),
    st.integers(0, 3),
    st.one_of(st.none(), st.integers(0, 5)),
    st.one_of(
        st.just({}),
        SCALARS.map(lambda v: {"s": {"$gte": v}}),
        SCALARS.map(lambda v: {"s": {"$lt": v}}),
        SCALARS.map(lambda v: {"t": v}),
    ),
)
def test_sorting_through_an_index_matches_sorting_in_memory(
    docs: list[dict[str, Any]], direction: int, skip: int, limit: int | None, flt: dict[str, Any]
) -> None:
    with shoal.open(durability="memory") as store:
        plain = store.collection("plain")
        indexed = store.collection("indexed")
        indexed.create_index("s")
        indexed.create_index([("t", 1), ("s", 1)])
        plain.insert_many(docs)
        indexed.insert_many(docs)
        kw: dict[str, Any] = {"sort": [("s", direction)], "skip": skip, "limit": limit}
        want = plain.find(flt, **kw)
        got = indexed.find(flt, **kw)
        assert ids(got) == ids(want), indexed.explain(flt, **kw)
