"""The order-preserving key codecs (``shoal.encode_key`` / ``shoal.decode_key``)."""

from __future__ import annotations

import math
import sys

import pytest
import shoal
from _util import model_key, same_key
from hypothesis import given
from hypothesis import strategies as st

# -- strategies ------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
small_bytes = st.binary(max_size=20)
big_ints = st.integers(min_value=-(2**300), max_value=2**300)
edge_ints = st.sampled_from(
    [0, 1, -1, 255, 256, -255, -256, 2**63 - 1, 2**63, -(2**63), 2**64, -(2**64) - 1, 2**1000]
)
finite_floats = st.floats(allow_nan=False)
edge_floats = st.sampled_from(
    [0.0, -0.0, 0.5, -0.5, 5e-324, -5e-324, sys.float_info.max, -sys.float_info.max]
    + [math.inf, -math.inf, 2.0**64, 2.0**64 + 2**12, 1e300, 0.1, 1 - 2**-53, 1 + 2**-52]
    + [-1 - 2**-16, -(2**-16), 1 + 2**-16, 2.0**-1022, 2.0**-1074, -(2.0**-1074)]
)
# Integers plus fractions whose binary expansion holds zero bytes: the
# magnitude encoding escapes those, which is where order bugs hide.
fraction_parts = st.sampled_from(
    [0.5, 2**-8, 2**-16, 2**-24, 2**-16 + 2**-40, 1 - 2**-16, 2**-32, 255 / 256, 1 / 3]
)
tricky_floats = st.builds(
    lambda i, f, neg: -(i + f) if neg else i + f,
    st.integers(0, 2**20),
    fraction_parts,
    st.booleans(),
)
subnormals = st.floats(min_value=-(2.0**-1020), max_value=2.0**-1020, allow_subnormal=True)
numbers = st.one_of(big_ints, edge_ints, finite_floats, edge_floats, tricky_floats, subnormals)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.just(math.nan), texts, small_bytes)
any_keys = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4).map(tuple), max_leaves=12
)
int_str_tuples = st.tuples(st.integers(-(10**6), 10**6), st.text("abc\x00", max_size=4))
i64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def enc(key, codec="any") -> bytes:
    return shoal.encode_key(key, codec)


# -- order, one family at a time ---------------------------------------------


def check_order(a, b, codec="any") -> None:
    ea, eb = enc(a, codec), enc(b, codec)
    assert isinstance(ea, bytes)
    assert (a < b) == (ea < eb), (a, b, ea, eb)
    assert (a == b) == (ea == eb), (a, b, ea, eb)


@given(numbers, numbers)
def test_number_order(a, b) -> None:
    check_order(a, b)


@given(st.integers(0, 2**20), fraction_parts, st.booleans())
def test_number_order_next_to_integers(i, f, negative) -> None:
    sign = -1 if negative else 1
    check_order(sign * i, sign * (i + f))
    check_order((sign * i,), (sign * (i + f),))


@given(big_ints, finite_floats)
def test_int_float_cross_order(i, f) -> None:
    check_order(i, f)
    check_order(f, i)


@given(texts, texts)
def test_str_order(a, b) -> None:
    check_order(a, b)


@given(small_bytes, small_bytes)
def test_bytes_order(a, b) -> None:
    check_order(a, b)


@given(int_str_tuples, int_str_tuples)
def test_tuple_order(a, b) -> None:
    check_order(a, b)


@given(
    st.lists(st.integers(-3, 3), max_size=4).map(tuple),
    st.lists(st.integers(-3, 3), max_size=4).map(tuple),
)
def test_tuple_prefix_order(a, b) -> None:
    check_order(a, b)


@given(st.lists(texts, max_size=3).map(tuple), st.lists(texts, max_size=3).map(tuple))
def test_tuple_of_str_order(a, b) -> None:
    check_order(a, b)


@given(i64, i64)
def test_int_codec_order(a, b) -> None:
    check_order(a, b, "int")


@given(texts, texts)
def test_str_codec_order(a, b) -> None:
    check_order(a, b, "str")


@given(small_bytes.filter(bool), small_bytes.filter(bool))
def test_bytes_codec_order(a, b) -> None:
    check_order(a, b, "bytes")


# -- mixed types, against the model order ------------------------------------


@given(any_keys, any_keys)
def test_mixed_order_matches_model(a, b) -> None:
    ma, mb = model_key(a), model_key(b)
    ea, eb = enc(a), enc(b)
    assert (ma < mb) == (ea < eb), (a, b, ea, eb)
    assert (ma == mb) == (ea == eb), (a, b, ea, eb)


def test_type_order() -> None:
    ordered = [
        None,
        math.nan,
        -math.inf,
        -(2**100),
        -1.5,
        0,
        5e-324,
        1,
        1.5,
        2**100,
        math.inf,
        "",
        "a",
        "b",
        (),
        (None,),
        (1,),
        (1, "a"),
        ("a",),
        ((),),
        (b"",),
        (False,),
        b"",
        b"\x00",
        b"a",
        False,
        True,
    ]
    encoded = [enc(k) for k in ordered]
    assert encoded == sorted(encoded)
    assert len(set(encoded)) == len(encoded)


# -- round trips -------------------------------------------------------------


def check_round_trip(key, codec="any") -> None:
    back = shoal.decode_key(enc(key, codec), codec)
    assert same_key(back, key), (key, back)
    assert_same_types(back, key)


def assert_same_types(back, key) -> None:
    if isinstance(key, tuple):
        assert type(back) is tuple and len(back) == len(key)
        for b, k in zip(back, key):
            assert_same_types(b, k)
    elif isinstance(key, float) and not math.isnan(key) and key.is_integer():
        assert type(back) is int  # an integral float comes back as an int
    elif isinstance(key, float) and math.isnan(key):
        assert isinstance(back, float) and math.isnan(back)
    else:
        assert type(back) is type(key), (key, back)
        assert back == key


@given(any_keys)
def test_any_round_trip(key) -> None:
    check_round_trip(key)


@given(i64)
def test_int_codec_round_trip(key) -> None:
    check_round_trip(key, "int")


@given(texts)
def test_str_codec_round_trip(key) -> None:
    check_round_trip(key, "str")


@given(small_bytes.filter(bool))
def test_bytes_codec_round_trip(key) -> None:
    check_round_trip(key, "bytes")


def test_numeric_identities() -> None:
    assert enc(1) == enc(1.0)
    assert enc(0) == enc(0.0) == enc(-0.0)
    assert enc(2**64) == enc(2.0**64)
    assert enc(-3) == enc(-3.0)
    assert enc(1) != enc(True)
    assert enc(0) != enc(False)
    assert enc(1) != enc(1 + 2**-52)
    assert enc(math.nan) == enc(-math.nan)
    assert math.isnan(shoal.decode_key(enc(math.nan)))
    assert shoal.decode_key(enc(-0.0)) == 0
    assert type(shoal.decode_key(enc(3.0))) is int
    assert shoal.decode_key(enc(math.inf)) == math.inf
    assert shoal.decode_key(enc(-math.inf)) == -math.inf
    assert shoal.decode_key(enc(0.1)) == 0.1


@given(numbers)
def test_nan_is_below_every_number(x) -> None:
    assert enc(math.nan) < enc(x)
    assert enc(None) < enc(math.nan)


def test_default_codec_is_any() -> None:
    assert shoal.encode_key("x") == shoal.encode_key("x", "any")
    assert shoal.decode_key(shoal.encode_key(("x", 1))) == ("x", 1)


def test_unknown_codec() -> None:
    with pytest.raises(shoal.InvalidArgumentError):
        shoal.encode_key(1, "float")
    with pytest.raises(shoal.InvalidArgumentError):
        shoal.decode_key(b"\x14\x01\x01\x00", "float")


@pytest.mark.parametrize(
    ("codec", "bad"),
    [("any", [1]), ("any", {}), ("any", object()), ("bytes", "s"), ("str", b"b"), ("int", "1")],
    ids=repr,
)
def test_encode_wrong_type(codec: str, bad: object) -> None:
    with pytest.raises(TypeError):
        shoal.encode_key(bad, codec)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\xee",
        b"\x20abc",
        b"\x14\xff",
        b"\x40\x05",
        b"\x05\x05",
        b"\x61extra",
        b"\x20\xc3\x00",
    ],
    ids=repr,
)
def test_decode_garbage_raises_a_shoal_error(garbage: bytes) -> None:
    with pytest.raises(shoal.Error):
        shoal.decode_key(garbage, "any")


# -- keys through a real space -------------------------------------------------


@given(st.lists(any_keys, max_size=30))
def test_space_iterates_in_model_order(keys) -> None:
    with shoal.open(durability="memory") as store:
        kv = store.kv("t")
        model = {}
        for i, k in enumerate(keys):
            kv[k] = i
            model[model_key(k)] = i
        got = list(kv.items())
        assert [model_key(k) for k, _ in got] == sorted(model)
        assert [v for _, v in got] == [model[m] for m in sorted(model)]
        for k in keys:
            assert kv[k] == model[model_key(k)]


# -- pinned cases (regressions found by the properties above) -----------------


@pytest.mark.parametrize("key", [(-1,), (-1.5,), (0, -(2**70)), ((-3,),), ("a", -1)], ids=repr)
def test_negative_number_last_in_tuple_round_trips(key) -> None:
    check_round_trip(key)


@pytest.mark.parametrize(
    ("low", "high"),
    [(-1 - 2**-16, -1), (-(2**-16) - 2**-40, -(2**-16)), (-2.0 - 2**-24, -2), (-5.0, -5 + 2**-16)],
    ids=repr,
)
def test_negative_numbers_with_zero_fraction_bytes_order(low, high) -> None:
    assert low < high
    assert enc(low) < enc(high)
    assert enc((low,)) < enc((high,))
    assert enc((low, "z")) < enc((high, "a"))


@pytest.mark.parametrize("x", [5e-324, -5e-324, 2.0**-1074 * 3, 2.0**-1023, 2.0**-1022], ids=repr)
def test_subnormal_floats_round_trip(x) -> None:
    back = shoal.decode_key(enc(x))
    assert back == x and type(back) is float


def test_subnormal_key_in_a_space() -> None:
    with shoal.open(durability="memory") as store:
        kv = store.kv("t")
        kv[5e-324] = "tiny"
        kv[0] = "zero"
        assert list(kv.items()) == [(0, "zero"), (5e-324, "tiny")]
