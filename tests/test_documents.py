"""Document values: what a collection stores is what it gives back (with the
extended types: datetime, UUID, Decimal), anything else is refused with
TypeError, size and depth limits with InvalidArgumentError, and a refused
write leaves nothing behind. The extended types also work in KV spaces."""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
import shoal
from hypothesis import given, settings
from hypothesis import strategies as st

D = decimal.Decimal
UTC = datetime.timezone.utc
MiB = 1024 * 1024

# --- strategies -----------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda m: datetime.timezone(datetime.timedelta(minutes=m))
)
naive_datetimes = st.datetimes()
aware_datetimes = st.datetimes(
    min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2100, 1, 1)
).flatmap(lambda dt: offsets.map(lambda tz: dt.replace(tzinfo=tz)))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**200), 2**200),
    st.floats(),
    texts,
    st.binary(max_size=20),
    naive_datetimes,
    aware_datetimes,
    st.uuids(),
    st.decimals(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(texts, inner, max_size=4),
    ),
    max_leaves=12,
)
documents = st.dictionaries(texts.filter(lambda k: k != "_id"), values, max_size=6)


def examples(n: int) -> int:
    """``n`` examples, or the profile's count if larger (SHOAL_HYPOTHESIS_PROFILE=thorough)."""
    return max(n, settings.default.max_examples)


def normalized(v: Any) -> Any:
    """``v`` as a document gives it back: tuples become lists."""
    if isinstance(v, (list, tuple)):
        return [normalized(x) for x in v]
    if isinstance(v, dict):
        return {k: normalized(x) for k, x in v.items()}
    return v


def assert_same(got: Any, want: Any, path: str = "doc") -> None:
    """Equal with the same types all the way down (1, 1.0 and True differ;
    NaN equals NaN; Decimals by ``str``; aware datetimes keep their offset)."""
    assert type(got) is type(want), f"{path}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    elif isinstance(want, dict):
        assert list(got) == list(want), f"{path}: keys {list(got)!r} != {list(want)!r}"
        for k in want:
            assert_same(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(want, float):
        if math.isnan(want):
            assert math.isnan(got), path
        else:
            assert got == want and math.copysign(1, got) == math.copysign(1, want), path
    elif isinstance(want, D):
        assert str(got) == str(want), f"{path}: {got!r} != {want!r}"
    elif isinstance(want, datetime.datetime):
        assert got == want, f"{path}: {got!r} != {want!r}"
        if want.tzinfo is None:
            assert got.tzinfo is None, f"{path}: naive datetime read back aware: {got!r}"
        else:
            offset = want.utcoffset()
            assert isinstance(got.tzinfo, datetime.timezone), f"{path}: {got.tzinfo!r}"
            assert got.utcoffset() == offset, f"{path}: {got!r} != {want!r}"
            assert got.tzinfo == datetime.timezone(offset), f"{path}: {got.tzinfo!r}"
            assert got.replace(tzinfo=None) == want.replace(tzinfo=None), path
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


@pytest.fixture(scope="module")
def module_store() -> Iterator[shoal.Store]:
    with shoal.open(durability="memory") as store:
        yield store


@pytest.fixture
def coll(store: shoal.Store) -> Any:
    return store.collection("c")


def round_trip(coll: Any, doc: dict[str, Any]) -> None:
    """Store ``doc`` under ``_id`` "k" and read it back every way."""
    full = {"_id": "k", **doc}
    coll.put(full)
    want = normalized(full)
    assert_same(coll.get("k"), want)
    assert_same(coll.find_one({"_id": "k"}), want)
    assert_same([d for d in coll if d["_id"] == "k"][0], want)


# --- round trips ----------------------------------------------------------


@settings(max_examples=examples(150), deadline=None)
@given(documents)
def test_documents_round_trip(module_store: shoal.Store, doc: dict[str, Any]) -> None:
    round_trip(module_store.collection("docs"), doc)


@settings(max_examples=examples(100), deadline=None)
@given(values)
def test_kv_values_with_extended_types_round_trip(module_store: shoal.Store, value: Any) -> None:
    kv = module_store.kv("kv")
    kv["k"] = value
    assert_same(kv["k"], normalized(value), "value")
    assert_same(dict(kv.items())["k"], normalized(value), "value")


def test_ints_of_any_size(coll: Any) -> None:
    ints = [0, 1, -1, 2**31, 2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**64) - 1, 10**100]
    round_trip(coll, {"i": ints, "big": -(2**1000)})


def test_special_floats(coll: Any) -> None:
    floats = [math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, 1.7976931348623157e308, 0.1]
    round_trip(coll, {"f": floats, "nan": math.nan})


def test_tuples_read_back_as_lists(coll: Any) -> None:
    coll.insert({"_id": 1, "t": (1, (2, 3), ()), "l": [()]})
    assert_same(coll.get(1), {"_id": 1, "t": [1, [2, 3], []], "l": [[]]})


def test_scalars_and_containers(coll: Any) -> None:
    round_trip(
        coll,
        {
            "none": None,
            "bools": [True, False],
            "str": "héllo \U0001f600 \x00",
            "empty": "",
            "bytes": b"\x00\xff",
            "nested": {"a": {"b": [{"c": {}}]}},
            "ünïcode kéy": 1,
            "": "empty key",
        },
    )


def test_field_order_is_kept(coll: Any) -> None:
    doc = {"z": 1, "a": 2, "m": {"y": 1, "b": 2}}
    coll.insert({"_id": 1, **doc})
    got = coll.get(1)
    assert [k for k in got if k != "_id"] == ["z", "a", "m"]
    assert list(got["m"]) == ["y", "b"]


def test_naive_datetimes(coll: Any) -> None:
    stamps = [
        datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
        datetime.datetime(1970, 1, 1),
        datetime.datetime(1969, 12, 31, 23, 59, 59, 1),
        datetime.datetime.min,
        datetime.datetime.max,
        datetime.datetime(2020, 1, 1, fold=1),
    ]
    round_trip(coll, {"t": stamps, "one": stamps[0]})


@pytest.mark.parametrize(
    "offset", [0, 60, -60, 5 * 60 + 45, -(3 * 60 + 30), 14 * 60, -(23 * 60 + 59)], ids=repr
)
def test_aware_datetimes_keep_their_offset(coll: Any, offset: int) -> None:
    tz = datetime.timezone(datetime.timedelta(minutes=offset))
    t = datetime.datetime(2023, 7, 1, 12, 30, 15, 123456, tzinfo=tz)
    round_trip(coll, {"t": t, "list": [t, t.astimezone(UTC)]})


def test_aware_datetime_extremes_in_utc(coll: Any) -> None:
    round_trip(
        coll,
        {
            "min": datetime.datetime.min.replace(tzinfo=UTC),
            "max": datetime.datetime.max.replace(tzinfo=UTC),
        },
    )


def test_aware_datetimes_with_zoneinfo(coll: Any) -> None:
    tz = zoneinfo.ZoneInfo("America/New_York")
    summer = datetime.datetime(2023, 7, 1, 12, tzinfo=tz)
    winter = datetime.datetime(2023, 1, 1, 12, tzinfo=tz)
    coll.insert({"_id": 1, "s": summer, "w": winter})
    got = coll.get(1)
    assert got["s"] == summer and got["w"] == winter
    assert got["s"].utcoffset() == datetime.timedelta(hours=-4)
    assert got["w"].utcoffset() == datetime.timedelta(hours=-5)
    assert got["s"].tzinfo == datetime.timezone(datetime.timedelta(hours=-4))
    assert got["s"].hour == 12 and got["w"].hour == 12


class _FixedTZ(datetime.tzinfo):
    """A user-defined tzinfo (not datetime.timezone)."""

    def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
        return datetime.timedelta(hours=3, minutes=15)

    def dst(self, dt: datetime.datetime | None) -> datetime.timedelta:
        return datetime.timedelta(0)

    def tzname(self, dt: datetime.datetime | None) -> str:
        return "X"


def test_aware_datetimes_with_a_custom_tzinfo(coll: Any) -> None:
    t = datetime.datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=_FixedTZ())
    coll.insert({"_id": 1, "t": t})
    got = coll.get(1)["t"]
    assert got == t
    assert got.tzinfo == datetime.timezone(datetime.timedelta(hours=3, minutes=15))
    assert (got.hour, got.minute, got.microsecond) == (4, 5, 7)


def test_uuids(coll: Any) -> None:
    ids = [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.uuid4(), uuid.uuid1()]
    round_trip(coll, {"u": ids, "one": ids[2]})


DECIMALS = [
    "0",
    "-0",
    "1.10",
    "1E+5",
    "-1.5E-7",
    "0E-30",
    "3.14159265358979323846264338327950288419716939937510582097494459",
    "1E+999999",
    "-1E-999999",
    "123456789012345678901234567890.123456789",
    "NaN",
    "-NaN",
    "sNaN",
    "NaN123",
    "Infinity",
    "-Infinity",
]


def test_decimals_round_trip_exactly(coll: Any) -> None:
    values = [D(s) for s in DECIMALS]
    coll.insert({"_id": 1, "d": values})
    got = coll.get(1)["d"]
    assert [type(x) for x in got] == [D] * len(values)
    assert [str(x) for x in got] == [str(v) for v in values]


# --- refusals -------------------------------------------------------------

UNSUPPORTED = [
    {1, 2},
    frozenset([1]),
    object(),
    1j,
    datetime.date(2020, 1, 1),
    datetime.time(12, 0),
    datetime.timedelta(days=1),
    range(3),
    ...,
    len,
    int,
]


@pytest.mark.parametrize("bad", UNSUPPORTED, ids=lambda v: type(v).__name__)
def test_unsupported_values_are_type_errors(coll: Any, bad: Any) -> None:
    coll.insert({"_id": "before", "v": 1})
    for doc in [
        {"_id": 1, "v": bad},
        {"_id": 1, "v": [1, 2, bad]},
        {"_id": 1, "v": {"deep": {"x": (bad,)}}},
        {"v": bad},
    ]:
        with pytest.raises(TypeError):
            coll.insert(doc)
        with pytest.raises(TypeError):
            coll.insert_many([{"_id": 2}, doc])
        with pytest.raises(TypeError):
            coll.replace({**doc, "_id": "before"})
        if "_id" in doc:
            with pytest.raises(TypeError):
                coll.put(doc)
    assert list(coll) == [{"_id": "before", "v": 1}]


@pytest.mark.parametrize(
    "doc",
    [
        {1: "int key"},
        {"_id": 1, 2: "int key"},
        {"_id": 1, "a": {1: 2}},
        {"_id": 1, "a": [{b"k": 1}]},
        {"_id": 1, "a": {None: 1}},
        {"_id": 1, "a": {1.5: 1}},
        {"_id": 1, "a": {True: 1}},
        {"_id": 1, "a": {("t",): 1}},
    ],
    ids=repr,
)
def test_dict_keys_must_be_str(coll: Any, doc: dict[Any, Any]) -> None:
    with pytest.raises(TypeError):
        coll.insert(doc)
    with pytest.raises(TypeError):
        coll.insert_many([doc])
    if "_id" in doc:
        with pytest.raises(TypeError):
            coll.put(doc)
    assert len(coll) == 0


def test_dates_are_refused_in_kv_spaces_too(store: shoal.Store) -> None:
    kv = store.kv("t")
    kv["before"] = 1
    for bad in [datetime.date(2020, 1, 1), [datetime.date(2020, 1, 1)], {"d": datetime.time()}]:
        with pytest.raises(TypeError):
            kv["k"] = bad
    assert dict(kv.items()) == {"before": 1}


def test_kv_extended_types(store: shoal.Store) -> None:
    kv = store.kv("t")
    t = datetime.datetime(2020, 5, 6, 7, 8, 9, 10, tzinfo=datetime.timezone.utc)
    value = {
        "naive": datetime.datetime(2020, 1, 1),
        "aware": t.astimezone(datetime.timezone(datetime.timedelta(hours=-7))),
        "uuid": uuid.UUID(int=12345),
        "dec": [D("1.50"), D("-Infinity"), D("NaN")],
    }
    kv["k"] = value
    kv.update({"x": D("2.0"), "y": uuid.UUID(int=1)})
    assert_same(kv["k"], value)
    assert_same(kv["x"], D("2.0"))
    assert_same(kv["y"], uuid.UUID(int=1))


def test_surrogates_are_refused(coll: Any) -> None:
    for doc in [{"_id": 1, "v": "\ud800"}, {"_id": 1, "\udfff": 1}, {"_id": "\ud800"}]:
        with pytest.raises((TypeError, ValueError)):
            coll.insert(doc)
    assert len(coll) == 0


# --- limits ---------------------------------------------------------------


def test_documents_up_to_16_mib_are_accepted(coll: Any) -> None:
    blob = b"x" * (16 * MiB - 4096)
    coll.insert({"_id": 1, "blob": blob})
    assert coll.get(1)["blob"] == blob


@pytest.mark.parametrize(
    "big",
    [
        {"blob": b"x" * (16 * MiB + 1)},
        {"text": "y" * (16 * MiB + 1)},
        {"parts": [b"z" * MiB for _ in range(17)]},
    ],
    ids=["bytes", "str", "list"],
)
def test_documents_over_16_mib_are_refused(coll: Any, big: dict[str, Any]) -> None:
    coll.insert({"_id": 1, "v": "before"})
    for call in [
        lambda: coll.insert({"_id": 2, **big}),
        lambda: coll.insert(dict(big)),
        lambda: coll.put({"_id": 1, **big}),
        lambda: coll.replace({"_id": 1, **big}),
        lambda: coll.insert_many([{"_id": 3}, {"_id": 2, **big}]),
    ]:
        with pytest.raises(shoal.InvalidArgumentError):
            call()
    assert list(coll) == [{"_id": 1, "v": "before"}]


def test_kv_values_are_not_limited_to_16_mib(store: shoal.Store) -> None:
    kv = store.kv("t")
    kv["k"] = {"blob": b"x" * (17 * MiB)}
    assert len(kv["k"]["blob"]) == 17 * MiB


def nested_doc(levels: int) -> dict[str, Any]:
    """A document with ``levels`` nested containers, itself included."""
    inner: Any = 1
    for i in range(levels - 1):
        inner = [inner] if i % 2 else {"x": inner}
    return {"_id": 1, "v": inner}


def test_nesting_within_the_limit_is_accepted(coll: Any) -> None:
    for levels in (2, 50, 100):
        doc = nested_doc(levels)
        coll.put(doc)
        assert coll.get(1) == doc


@pytest.mark.parametrize("levels", [102, 150, 10_000])
def test_nesting_beyond_the_limit_is_refused(coll: Any, levels: int) -> None:
    coll.insert({"_id": 1, "v": "before"})
    doc = nested_doc(levels)
    for call in [
        lambda: coll.insert({**doc, "_id": 2}),
        lambda: coll.put(doc),
        lambda: coll.replace(doc),
        lambda: coll.insert_many([{"_id": 3}, {**doc, "_id": 2}]),
    ]:
        with pytest.raises(shoal.InvalidArgumentError):
            call()
    assert list(coll) == [{"_id": 1, "v": "before"}]
