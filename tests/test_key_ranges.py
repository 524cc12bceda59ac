"""Key-range plans: equality on leading primary-key fields (then a range on
the next) reads one range of keys, in key order or reversed for a sort;
results must equal a scan's (``$nor`` is never planned: a double one is
the same filter, read by a scan)."""

from __future__ import annotations

from typing import Any

import shoal
from hypothesis import given, settings
from hypothesis import strategies as st

PARTS = st.one_of(st.integers(-2, 2), st.sampled_from(["", "a", "b", "ab"]))
SORTS = st.sampled_from([1, -1])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([-1.5, 0.5, 2.0]),
    st.sampled_from(["", "a", "b", "ab"]),
    st.sampled_from([b"", b"a"]),
)
DOCS = st.lists(st.tuples(PARTS, SCALARS, st.integers(0, 3)), max_size=25)
RANGE_OPS = st.dictionaries(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), SCALARS, min_size=1)


def scan_equivalent(flt: dict[str, Any]) -> dict[str, Any]:
    return {"$nor": [{"$nor": [flt]}]}


@settings(max_examples=150, deadline=None)
@given(
    DOCS,
    PARTS,
    st.one_of(st.none(), RANGE_OPS, SCALARS),
    st.one_of(st.none(), SORTS),
    st.one_of(st.none(), st.integers(0, 4)),
    st.booleans(),
)
def test_key_ranges_agree_with_scans(
    rows: list[tuple[Any, Any, int]],
    p: Any,
    s_cond: Any,
    direction: int | None,
    limit: int | None,
    extra: bool,
) -> None:
    with shoal.open(durability="memory") as store:
        c = store.collection("t", key=("p", "s"))
        seen = set()
        for pv, sv, x in rows:
            k = (type(pv).__name__, pv, type(sv).__name__, repr(sv))
            if k in seen:
                continue
            seen.add(k)
            try:
                c.insert({"p": pv, "s": sv, "x": x})
            except shoal.DuplicateKeyError:
                pass  # 1 and 1.0, True and 1... the key says they are one
        flt: dict[str, Any] = {"p": p}
        if s_cond is not None:
            flt["s"] = s_cond
        if extra:
            flt["x"] = {"$gte": 1}
        kw: dict[str, Any] = {"limit": limit}
        if direction is not None:
            kw["sort"] = [("s", direction)]
        plan = c.explain(flt, **kw)
        assert plan["access"] in ("key_range", "primary_key"), plan
        got = c.find(flt, **kw)
        want = c.find(scan_equivalent(flt), **kw)
        assert c.explain(scan_equivalent(flt))["access"] == "scan"
        assert got == want, (flt, kw, plan)
        assert c.count(flt) == c.count(scan_equivalent(flt))


def test_partition_queries_read_only_their_partition() -> None:
    with shoal.open(durability="memory") as store:
        c = store.collection("t", key=("pk", "sk"))
        c.insert_many({"pk": f"p{i % 10}", "sk": i, "v": i} for i in range(1000))
        plan = c.explain({"pk": "p3"})
        assert plan["access"] == "key_range" and plan["docs_examined"] == 100
        plan = c.explain({"pk": "p3", "sk": {"$gte": 500}}, sort=[("sk", -1)], limit=5)
        assert plan["docs_examined"] == 5 and plan["reverse"]
        got = c.find({"pk": "p3", "sk": {"$gte": 500}}, sort=[("sk", -1)], limit=5)
        assert [d["sk"] for d in got] == [993, 983, 973, 963, 953]
        assert c.count({"pk": "p3", "sk": {"$lt": 100}}) == 10
        assert c.explain({"pk": "p3", "sk": {"$lt": 100}}, count=True)["docs_examined"] == 0
        plain = store.collection("u")
        plain.insert_many({"_id": i} for i in range(100))
        plan = plain.explain({"_id": {"$gte": 90}})
        assert plan["access"] == "key_range" and plan["docs_examined"] == 10
