"""Value codecs, property-tested: what is written is what is read back, or the
write is refused with TypeError and nothing is stored."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import shoal
from hypothesis import given
from hypothesis import strategies as st

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
i64_u64 = st.integers(-(2**63), 2**64 - 1)
msgpack_scalars = st.one_of(
    st.none(),
    st.booleans(),
    i64_u64,
    st.floats(allow_nan=False),
    texts,
    st.binary(max_size=30),
)
dict_keys = st.one_of(texts, st.integers(-(2**63), 2**63 - 1))
msgpack_values = st.recursive(
    msgpack_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(dict_keys, inner, max_size=4),
    ),
    max_leaves=15,
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=15,
)


def normalized(v):
    """``v`` as msgpack gives it back: tuples become lists."""
    if isinstance(v, (list, tuple)):
        return [normalized(x) for x in v]
    if isinstance(v, dict):
        return {k: normalized(x) for k, x in v.items()}
    return v


def assert_strict_equal(got, want, path="value") -> None:
    """Equal, and of the same types all the way down (1 != 1.0 != True here)."""
    assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_strict_equal(g, w, f"{path}[{i}]")
    elif isinstance(want, dict):
        assert list(got) == list(want), f"{path}: keys {list(got)!r} != {list(want)!r}"
        for k in want:
            assert_strict_equal(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got), path
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


@pytest.fixture(scope="module")
def module_store() -> Iterator[shoal.Store]:
    with shoal.open(durability="memory") as store:
        yield store


@given(msgpack_values)
def test_msgpack_round_trip(module_store: shoal.Store, value) -> None:
    kv = module_store.kv("msgpack")
    kv["k"] = value
    assert_strict_equal(kv["k"], normalized(value))
    assert_strict_equal(dict(kv.items())["k"], normalized(value))


@given(json_values)
def test_json_round_trip(module_store: shoal.Store, value) -> None:
    kv = module_store.kv("json", value="json")
    kv["k"] = value
    got = kv["k"]
    assert got == value
    # JSON has no int/float distinction to lose for these, nor bool/int.
    assert_strict_equal(got, value)


@given(st.one_of(msgpack_values, st.sets(st.integers(), max_size=3), st.complex_numbers()))
def test_pickle_round_trip(module_store: shoal.Store, value) -> None:
    kv = module_store.kv("pickle", value="pickle")
    kv["k"] = value
    got = kv["k"]
    if isinstance(value, complex) and (math.isnan(value.real) or math.isnan(value.imag)):
        return
    assert got == value and type(got) is type(value)


@given(st.binary(max_size=1000))
def test_bytes_values_round_trip(module_store: shoal.Store, value: bytes) -> None:
    kv = module_store.kv("bytes", value="bytes")
    kv["k"] = value
    assert kv["k"] == value and type(kv["k"]) is bytes


@given(texts)
def test_str_values_round_trip(module_store: shoal.Store, value: str) -> None:
    kv = module_store.kv("str", value="str")
    kv["k"] = value
    assert kv["k"] == value


@pytest.mark.parametrize(
    "value",
    [
        {(1, 2): "tuple key"},
        {("a",): {"nested": 1}},
        {frozenset([1]): 1},
        2**64,
        -(2**63) - 1,
        2**200,
        {1.5: "float key"},
        {b"k": "bytes key"},
        {None: "none key"},
    ],
    ids=repr,
)
def test_msgpack_value_is_refused_or_read_back(kv: shoal.KV, value) -> None:
    # Never accept a value that cannot be read back: that would poison the
    # key (and every scan over it).
    kv["before"] = 1
    try:
        kv["k"] = value
    except TypeError:
        assert dict(kv.items()) == {"before": 1}
        return
    assert kv["k"] == value
    assert dict(kv.items()) == {"before": 1, "k": value}


def test_surrogates_are_refused(store: shoal.Store) -> None:
    kv = store.kv("t")
    s = store.kv("s", key="str", value="str")
    kv["before"] = 1
    s["before"] = "1"
    for bad_write in [
        lambda: kv.__setitem__("k", "\ud800"),
        lambda: kv.__setitem__("\udfff", 1),
        lambda: s.__setitem__("k", "\ud800"),
        lambda: s.__setitem__("\ud800", "v"),
    ]:
        with pytest.raises((TypeError, ValueError)):
            bad_write()
    assert dict(kv.items()) == {"before": 1}
    assert dict(s.items()) == {"before": "1"}
