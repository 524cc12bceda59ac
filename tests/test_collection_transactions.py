"""Collections inside ``store.transaction()``: reads see the transaction's
writes, documents and their index entries commit with the transaction (and
with its key/value writes) all or nothing, conflicts are detected, and index
counters stay exact whatever commits first.
"""

from __future__ import annotations

from typing import Any

import pytest
import shoal
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture
def store(tmp_path: Any) -> Any:
    s = shoal.open(tmp_path / "db")
    yield s
    s.close()


@pytest.fixture
def coll(store: Any) -> Any:
    c = store.collection("c")
    c.create_index("k", unique=True)
    c.create_index("g")
    c.insert_many([{"_id": 1, "k": "a", "g": 1}, {"_id": 2, "k": "b", "g": 2}])
    return c


def test_reads_see_the_transactions_writes(store: Any, coll: Any) -> None:
    with store.transaction() as tx:
        tc = tx[coll]
        assert tc.transaction is tx and coll.transaction is None
        tc.insert({"_id": 3, "k": "c", "g": 1})
        tc.update({"_id": 1}, {"$set": {"g": 5}})
        tc.delete(2)
        assert sorted(d["_id"] for d in tc.find()) == [1, 3]
        assert [d["_id"] for d in tc.find({"g": 1})] == [3]
        assert tc.count({"g": 1}) == 1 and tc.count() == 2 and len(tc) == 2
        assert tc.get(2) is None and 3 in tc
        assert [d["_id"] for d in tc] == [1, 3]
        assert tc.distinct("g") == [1, 5]
        # Outside, nothing yet.
        assert coll.get(3) is None and coll.count({"g": 1}) == 1
    assert sorted(d["_id"] for d in coll.find()) == [1, 3]
    assert coll.count({"g": 1}) == 1 and coll.count({"g": 5}) == 1 and coll.count({"g": 2}) == 0
    assert coll.explain({"g": 1}, count=True)["docs_examined"] == 0


def test_commit_is_atomic_with_key_value_writes(store: Any, coll: Any) -> None:
    kv = store.kv("kv")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx[coll].insert({"_id": 9, "k": "z"})
        tx[kv]["x"] = 1
        raise RuntimeError("boom")
    assert coll.get(9) is None and "x" not in kv
    with store.transaction() as tx:
        tx[coll].insert({"_id": 9, "k": "z"})
        tx[kv]["x"] = 1
    assert coll.get(9)["k"] == "z" and kv["x"] == 1


def test_a_failing_call_leaves_the_transaction_usable(store: Any, coll: Any) -> None:
    with store.transaction() as tx:
        tc = tx[coll]
        with pytest.raises(shoal.DuplicateKeyError):
            tc.insert_many([{"_id": 5, "k": "q"}, {"_id": 6, "k": "a"}])
        assert tc.get(5) is None
        tc.insert({"_id": 7, "k": "q"})
    assert coll.get(5) is None and coll.get(7)["k"] == "q"


def test_concurrent_unique_values_conflict(store: Any, coll: Any) -> None:
    t1, t2 = store.transaction(), store.transaction()
    t1[coll].insert({"_id": 10, "k": "same"})
    t2[coll].insert({"_id": 11, "k": "same"})
    t1.commit()
    with pytest.raises(shoal.ConflictError):
        t2.commit()
    assert coll.count({"k": "same"}) == 1


def test_read_then_concurrent_write_conflicts(store: Any, coll: Any) -> None:
    tx = store.transaction()
    assert tx[coll].get(1)["g"] == 1
    coll.update({"_id": 1}, {"$inc": {"g": 1}})
    tx[coll].update({"_id": 1}, {"$inc": {"g": 10}})
    with pytest.raises(shoal.ConflictError):
        tx.commit()
    assert coll.get(1)["g"] == 2


def test_concurrent_inserts_of_one_value_keep_counts_exact(store: Any, coll: Any) -> None:
    txs = [store.transaction() for _ in range(5)]
    for i, tx in enumerate(txs):
        tx[coll].insert({"_id": 100 + i, "k": f"v{i}", "g": 7})
    coll.insert({"_id": 200, "k": "w", "g": 7})
    for tx in txs:
        tx.commit()  # blind inserts of new keys: no conflict
    assert coll.count({"g": 7}) == 6
    assert coll.explain({"g": 7}, count=True)["docs_examined"] == 0


def test_index_changes_during_a_transaction_abort_it(store: Any, coll: Any) -> None:
    tx = store.transaction()
    tx[coll].insert({"_id": 30, "k": "n", "h": 1})
    coll.create_index("h")
    with pytest.raises(shoal.ConflictError):
        tx.commit()
    assert coll.get(30) is None and coll.count({"h": 1}) == 0
    with pytest.raises(shoal.InvalidArgumentError):
        store.transaction()[coll].create_index("x")
    with pytest.raises(shoal.InvalidArgumentError):
        store.transaction()[coll].drop()


def test_finished_and_foreign_transactions_are_refused(
    tmp_path: Any, store: Any, coll: Any
) -> None:
    tx = store.transaction()
    tc = tx[coll]
    tx.commit()
    with pytest.raises(shoal.ClosedError):
        tc.insert({"_id": 50})
    with pytest.raises(shoal.ClosedError):
        tc.find()
    with shoal.open(tmp_path / "other") as other:
        with pytest.raises(shoal.InvalidArgumentError):
            other.transaction()[coll]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["insert", "put", "delete", "update"]),
            st.integers(0, 6),
            st.integers(0, 2),
        ),
        max_size=12,
    ),
    st.booleans(),
)
def test_transaction_matches_a_dict_model(ops: list[tuple[str, int, int]], commit: bool) -> None:
    with shoal.open(durability="memory") as s:
        c = s.collection("m")
        c.create_index("g")
        c.insert_many({"_id": i, "g": i % 3} for i in range(0, 6, 2))
        model = {d["_id"]: d["g"] for d in c.find()}
        before = dict(model)
        with s.transaction() as tx:
            tc = tx[c]
            for op, k, g in ops:
                if op == "insert":
                    if k in model:
                        with pytest.raises(shoal.DuplicateKeyError):
                            tc.insert({"_id": k, "g": g})
                    else:
                        tc.insert({"_id": k, "g": g})
                        model[k] = g
                elif op == "put":
                    tc.put({"_id": k, "g": g})
                    model[k] = g
                elif op == "delete":
                    assert tc.delete(k) == (k in model)
                    model.pop(k, None)
                else:
                    n = tc.update({"g": g}, {"$inc": {"g": 1}}, multi=True).matched
                    hit = [i for i, v in model.items() if v == g]
                    assert n == len(hit)
                    for i in hit:
                        model[i] += 1
                for v in range(5):
                    assert tc.count({"g": v}) == sum(1 for x in model.values() if x == v)
            if not commit:
                tx.rollback()
        want = model if commit else before
        assert {d["_id"]: d["g"] for d in c.find()} == want
        for v in range(5):
            assert c.count({"g": v}) == sum(1 for x in want.values() if x == v)


def test_insert_many_in_a_transaction_conflicts_only_on_its_own_keys(tmp_path: Any) -> None:
    # Outside transactions a large batch probes its key range once; inside one
    # it reads its keys one by one, so a concurrent write elsewhere in the
    # range is no conflict.
    with shoal.open(tmp_path / "db") as store:
        coll = store.collection("c")
        with store.transaction() as tx:
            tx[coll].insert_many({"_id": i} for i in range(0, 40, 2))
            coll.insert({"_id": 7})  # committed meanwhile, inside that range
        assert len(coll) == 21
        with pytest.raises(shoal.ConflictError):
            with store.transaction() as tx:
                tx[coll].insert_many({"_id": i} for i in range(100, 140))
                coll.insert({"_id": 120})  # one of its keys: a real conflict
