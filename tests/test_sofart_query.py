"""sofart query semantics: the face (engine filters + Python residue) against a plain model.

The model below is the spec's section 1.5 written out directly (with the
defects of section 4 fixed: all operators ANDed, incomparable values do not
match). Hypothesis draws documents and queries over a small vocabulary so
that types mix, and checks that ``find``, ``count_documents``, ``find_one``
and ``delete_many`` select exactly the documents the model selects, with and
without a secondary index on the queried fields. A differential test against
the original ``sofart`` (when installed) covers queries where the original
has no defect.
"""

from __future__ import annotations

import math
import platform
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shoal.sofart import Database, QueryError

OPS = ["$gt", "$gte", "$lt", "$lte", "$all", "$exists", "$mod", "$ne", "$in", "$nin"]
FIELDS = ["a", "b", "a.b", "$x"]


# -- the model ------------------------------------------------------------------
def _op(name: str, v: Any, x: Any) -> bool:
    if name == "$gt":
        return bool(v > x)
    if name == "$gte":
        return bool(v >= x)
    if name == "$lt":
        return bool(v < x)
    if name == "$lte":
        return bool(v <= x)
    if name == "$ne":
        return not (x == v)
    if name == "$all":
        return all(e in v for e in x)
    if name == "$mod":
        if len(x) != 2:
            raise QueryError("Modulo take a list of two elements")
        return bool(v % x[0] == x[1])
    values = v if isinstance(v, list) else [v]
    hit = any(i in x for i in values)
    return hit if name == "$in" else not hit


def model_condition(doc: dict[str, Any], field: str, cond: Any) -> bool:
    if isinstance(cond, dict) and any(isinstance(k, str) and k in OPS for k in cond):
        v = doc.get(field)
        for k, x in cond.items():
            if k not in OPS:
                continue
            if k == "$exists":
                if (v is not None and x == False) or (v is None and x == True):  # noqa: E712
                    return False
                continue
            if v is None:
                return False
            try:
                if not _op(k, v, x):
                    return False
            except (TypeError, ValueError, ArithmeticError):
                return False
        return True
    if field not in doc:
        return False
    try:
        if isinstance(cond, re.Pattern):
            return cond.match(doc[field]) is not None
        return bool(doc[field] == cond)
    except TypeError:
        return False


def model_match(doc: dict[str, Any], spec: dict[str, Any]) -> bool:
    return all(model_condition(doc, f, c) for f, c in spec.items())


# -- strategies --------------------------------------------------------------------
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 0.5, -1.5, 2.0, math.inf]),
    st.sampled_from(["", "a", "ab", "b", "A", "ba"]),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), scalars, max_size=2),
)
documents = st.dictionaries(st.sampled_from(FIELDS), values, max_size=3)
patterns = st.sampled_from(
    [
        re.compile("a"),
        re.compile("^a"),
        re.compile("A", re.I),
        re.compile("b$"),
        re.compile("a|b"),
        re.compile(r"\w{2}"),
        re.compile("(?=a)"),
    ]
)
op_args = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.lists(st.integers(-3, 3), min_size=2, max_size=2),
)


@st.composite
def operator_conditions(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=3, unique=True))
    cond: dict[str, Any] = {}
    for name in names:
        if name == "$mod":
            cond[name] = [draw(st.sampled_from([1, 2, 3, -2])), draw(st.integers(-2, 2))]
        else:
            cond[name] = draw(op_args)
    if draw(st.booleans()):
        cond["$unknown"] = 1
    return cond


conditions = st.one_of(values, patterns, operator_conditions())
queries = st.dictionaries(st.sampled_from(FIELDS), conditions, max_size=3)


def _ids(found: list[dict[str, Any]]) -> list[int]:
    return [d["_id"] for d in found]


@pytest.mark.parametrize("indexed", [False, True])
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(docs=st.lists(documents, max_size=12), query=queries)
def test_face_matches_model(
    indexed: bool, docs: list[dict[str, Any]], query: dict[str, Any]
) -> None:
    db = Database()
    try:
        c = db.c
        if indexed:
            c.create_index("a")
            c.create_index([("b", 1), ("a", -1)])
        for i, doc in enumerate(docs):
            c.save({**doc, "_id": i + 1})
        want = [i + 1 for i, d in enumerate(docs) if model_match(d, query)]
        assert _ids(list(c.find(query))) == want
        assert c.count_documents(query) == len(want)
        first = c.find_one(query)
        assert (first["_id"] if first else None) == (want[0] if want else None)
        assert c.delete_many(query).deleted_count == len(want)
        assert c.count() == len(docs) - len(want)
    finally:
        db.close()


def test_bad_mod_raises_on_iteration() -> None:
    c = Database().c
    c.save({"v": 2})
    cursor = c.find({"v": {"$mod": [2]}})
    with pytest.raises(QueryError) as info:
        next(cursor)
    assert str(info.value) == "'Modulo take a list of two elements'"
    with pytest.raises(QueryError):
        c.count_documents({"v": {"$mod": 5}})


@pytest.mark.parametrize(
    ("query", "python_checks"),
    [
        ({"a": 5}, []),
        ({"a": "x"}, []),
        ({"a": {"$gt": 1, "$lte": 9}}, []),
        ({"a": {"$in": ["x", "y"]}}, []),  # "a" is indexed and holds no list: exact
        ({"b": {"$in": ["x", "y"]}}, ["b"]),  # lists in "b" are checked in Python
        ({"a": re.compile("^ab", re.I)}, []),
        ({"a.b": 1}, ["a.b"]),
        ({"a": {"$all": [1]}}, ["a"]),
        ({"a": [1, 2]}, ["a"]),
    ],
)
def test_explain_names_python_checks(query: dict[str, Any], python_checks: list[str]) -> None:
    c = Database().c
    c.create_index("a")
    c.save({"a": 5})
    plan = c.explain(query)
    assert plan["python_checks"] == python_checks
    if query in ({"a": 5}, {"a": "x"}, {"a": {"$gt": 1, "$lte": 9}}):
        assert plan["access"] == "index" and plan["covered"]
    c.save({"a": [5]})  # now "a" holds a list: guards come back, results stay exact
    assert c.explain({"a": 5})["covered"] is False
    assert [d["a"] for d in c.find({"a": 5})] == [5]
    assert c.count_documents({"a": 5}) == 1


# -- differential against the original ----------------------------------------------
def _original() -> Any:
    if not hasattr(platform, "dist"):
        platform.dist = lambda *a, **k: ("", "", "")  # type: ignore[attr-defined]
    return pytest.importorskip("sofart")


plain_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["", "a", "ab", "b"]),
    st.lists(st.integers(-3, 3), max_size=3),
)
plain_docs = st.dictionaries(st.sampled_from(["a", "b"]), plain_values, max_size=2)


@st.composite
def plain_conditions(draw: Any) -> Any:
    kind = draw(st.sampled_from(["eq", "ops", "exists"]))
    if kind == "eq":
        return draw(plain_values)
    if kind == "exists":  # alone: the original skips the other operators after it
        return {"$exists": draw(st.booleans())}
    names = draw(
        st.lists(
            st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$ne", "$in", "$nin"]),
            min_size=1,
            max_size=2,
            unique=True,
        )
    )
    # The original rebinds the value to a list inside $in/$nin, which changes
    # the operators after it: keep those last.
    names.sort(key=lambda n: n in ("$in", "$nin"))
    cond: dict[str, Any] = {}
    for name in names:
        if name in ("$in", "$nin"):
            cond[name] = draw(st.lists(st.integers(-3, 3), max_size=3))
        else:
            cond[name] = draw(st.integers(-3, 3))
    return cond


@given(
    docs=st.lists(plain_docs, max_size=8),
    query=st.dictionaries(st.sampled_from(["a", "b"]), plain_conditions(), max_size=2),
)
def test_differential_against_original(docs: list[dict[str, Any]], query: dict[str, Any]) -> None:
    sofart = _original()
    theirs = sofart.Database().c
    ours = Database().c
    for i, doc in enumerate(docs):
        theirs.save({**doc, "_id": i + 1})
        ours.save({**doc, "_id": i + 1})
    try:
        want = list(theirs.find(query))
    except TypeError:  # defect 5: the original raises on incomparable values
        assume(False)
        return
    assert list(ours.find(query)) == want
