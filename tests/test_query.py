"""The MongoDB-style query evaluator: one test per rule of the contract.

Each test loads a few documents (``_id`` 1, 2, 3... in the order given) and
states which ids a filter matches. ``expect`` checks ``find``, ``count`` and
``find_one`` against that list, and also checks the reference model of
``_mongo_model.py`` (so the property test's oracle is held to the same rules).
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
import subprocess
import sys
import textwrap
import uuid
from typing import Any

import pytest
import shoal
from _mongo_model import TYPE_ALIASES, model_find

UTC = datetime.timezone.utc
D = decimal.Decimal


@pytest.fixture
def coll(store: shoal.Store) -> Any:
    return store.collection("c")


def load(coll: Any, *docs: dict[str, Any]) -> None:
    """Insert ``docs`` with ``_id`` 1, 2, 3... in the order given."""
    coll.insert_many([{"_id": i, **d} for i, d in enumerate(docs, 1)])


def expect(coll: Any, flt: Any, want: list[int]) -> None:
    docs = list(coll)
    model = [d["_id"] for d in model_find(docs, flt)]
    assert model == want, f"reference model disagrees with the test for {flt!r}: {model}"
    got = [d["_id"] for d in coll.find(flt)]
    assert got == want, f"find({flt!r})"
    assert coll.count(flt) == len(want), f"count({flt!r})"
    first = coll.find_one(flt)
    assert (None if first is None else first["_id"]) == (want[0] if want else None), (
        f"find_one({flt!r})"
    )


def query_error(coll: Any, flt: Any, name: str) -> None:
    """``find``, ``count`` and ``find_one`` all raise QueryError naming ``name``."""
    for call in (coll.find, coll.count, coll.find_one):
        with pytest.raises(shoal.QueryError) as info:
            call(flt)
        assert name in str(info.value), f"{call.__name__}({flt!r}): {info.value}"


# --- implicit equality ----------------------------------------------------


def test_eq_scalar(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": 2}, {"a": "1"}, {"b": 1})
    expect(coll, {"a": 1}, [1])
    expect(coll, {"a": "1"}, [3])


def test_eq_list_element(coll: Any) -> None:
    load(coll, {"a": [1, 2]}, {"a": [3]}, {"a": 2}, {"a": []})
    expect(coll, {"a": 2}, [1, 3])
    expect(coll, {"a": 3}, [2])


def test_eq_whole_list(coll: Any) -> None:
    load(coll, {"a": [1, 2]}, {"a": [2, 1]}, {"a": [1, 2, 3]}, {"a": 1}, {"a": [[1, 2]]})
    expect(coll, {"a": [1, 2]}, [1, 5])
    expect(coll, {"a": []}, [])


def test_eq_empty_list_and_dict(coll: Any) -> None:
    load(coll, {"a": []}, {"a": {}}, {"a": [[]]}, {"a": None}, {})
    expect(coll, {"a": []}, [1, 3])
    expect(coll, {"a": {}}, [2])


def test_eq_expands_one_level_only(coll: Any) -> None:
    load(coll, {"a": [[1, 2], 3]}, {"a": [[[1, 2]]]})
    expect(coll, {"a": 1}, [])
    expect(coll, {"a": 3}, [1])
    expect(coll, {"a": [1, 2]}, [1])
    expect(coll, {"a": [[1, 2]]}, [2])


def test_eq_none_matches_null_and_missing(coll: Any) -> None:
    load(coll, {"a": None}, {}, {"a": [None, 1]}, {"a": []}, {"a": 0}, {"a": False}, {"a": ""})
    expect(coll, {"a": None}, [1, 2, 3])


def test_eq_numbers_across_int_and_float(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": 1.0}, {"a": 1.5}, {"a": [2.0]}, {"a": True})
    expect(coll, {"a": 1}, [1, 2])
    expect(coll, {"a": 1.0}, [1, 2])
    expect(coll, {"a": 2}, [4])


def test_eq_bool_is_not_a_number(coll: Any) -> None:
    load(coll, {"a": True}, {"a": 1}, {"a": False}, {"a": 0}, {"a": [1, 0]}, {"a": 1.0})
    expect(coll, {"a": True}, [1])
    expect(coll, {"a": 1}, [2, 5, 6])
    expect(coll, {"a": False}, [3])
    expect(coll, {"a": 0}, [4, 5])


def test_eq_big_ints_are_exact(coll: Any) -> None:
    load(coll, {"a": 2**64}, {"a": 2**64 + 1}, {"a": float(2**64)}, {"a": -(2**70)})
    expect(coll, {"a": 2**64}, [1, 3])
    expect(coll, {"a": 2**64 + 1}, [2])
    expect(coll, {"a": float(2**64)}, [1, 3])
    expect(coll, {"a": -(2**70)}, [4])
    expect(coll, {"a": 2**53 + 1}, [])


def test_eq_huge_ints_and_floats_are_exact(coll: Any) -> None:
    load(coll, {"a": 2**200 + 1}, {"a": 2**200}, {"a": float(2**200)}, {"a": 2**130 + 1})
    expect(coll, {"a": float(2**200)}, [2, 3])
    expect(coll, {"a": 2**200 + 1}, [1])
    expect(coll, {"a": float(2**130)}, [])


def test_eq_nan_equals_only_nan(coll: Any) -> None:
    # MongoDB: NaN equals NaN (float or Decimal), and nothing else.
    load(coll, {"a": math.nan}, {"a": 0}, {"a": -math.inf}, {"a": D("NaN")}, {"a": None})
    expect(coll, {"a": math.nan}, [1, 4])
    expect(coll, {"a": 0}, [2])


def test_eq_decimals_compare_exactly(coll: Any) -> None:
    load(
        coll,
        {"a": D("0.1")},
        {"a": 0.1},
        {"a": D("1.00000000000000000001")},
        {"a": 1},
        {"a": D("1.000")},
        {"a": 1.0},
    )
    expect(coll, {"a": D("0.1")}, [1])
    expect(coll, {"a": 0.1}, [2])
    expect(coll, {"a": 1}, [4, 5, 6])
    expect(coll, {"a": D("1")}, [4, 5, 6])
    expect(coll, {"a": D("1.00000000000000000001")}, [3])


def test_eq_uuid_is_not_its_bytes(coll: Any) -> None:
    u = uuid.UUID(int=1)
    load(coll, {"a": u}, {"a": u.bytes}, {"a": str(u)}, {"a": uuid.UUID(int=2)})
    expect(coll, {"a": u}, [1])
    expect(coll, {"a": u.bytes}, [2])
    expect(coll, {"a": str(u)}, [3])


def test_eq_dicts_are_field_order_sensitive(coll: Any) -> None:
    load(coll, {"a": {"x": 1, "y": 2}}, {"a": {"y": 2, "x": 1}}, {"a": {"x": 1}})
    expect(coll, {"a": {"x": 1, "y": 2}}, [1])
    expect(coll, {"a": {"y": 2, "x": 1}}, [2])
    expect(coll, {"a": {"x": 1}}, [3])


def test_eq_nested_values_compare_numerically(coll: Any) -> None:
    load(coll, {"a": {"x": 1}}, {"a": {"x": 1.0}}, {"a": {"x": True}}, {"a": [1, [2.0]]})
    expect(coll, {"a": {"x": 1.0}}, [1, 2])
    expect(coll, {"a": [1.0, [2]]}, [4])


def test_eq_dict_element_of_list(coll: Any) -> None:
    load(coll, {"a": [{"x": 1}, {"x": 2}]}, {"a": [{"x": 1, "y": 1}]})
    expect(coll, {"a": {"x": 2}}, [1])
    expect(coll, {"a": {"x": 1}}, [1])


def test_eq_bytes_and_str_are_different_types(coll: Any) -> None:
    load(coll, {"a": b"x"}, {"a": "x"}, {"a": [b"x"]}, {})
    expect(coll, {"a": b"x"}, [1, 3])
    expect(coll, {"a": "x"}, [2])


def test_eq_datetimes(coll: Any) -> None:
    t = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
    load(coll, {"a": t}, {"a": t + datetime.timedelta(microseconds=1)}, {"a": [t]})
    expect(coll, {"a": t}, [1, 3])


def test_eq_aware_datetimes_compare_instants(coll: Any) -> None:
    t = datetime.datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    plus2 = t.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    load(coll, {"a": plus2}, {"a": t + datetime.timedelta(hours=1)})
    expect(coll, {"a": t}, [1])


def test_several_fields_all_must_match(coll: Any) -> None:
    load(coll, {"a": 1, "b": 2}, {"a": 1, "b": 3}, {"a": 2, "b": 2})
    expect(coll, {"a": 1, "b": 2}, [1])


def test_empty_and_none_filters_match_everything(coll: Any) -> None:
    load(coll, {"a": 1}, {}, {"b": None})
    expect(coll, {}, [1, 2, 3])
    expect(coll, None, [1, 2, 3])
    assert coll.find() == list(coll)
    assert coll.count() == 3


def test_eq_operator_if_supported(coll: Any) -> None:
    # $eq is MongoDB's explicit form of implicit equality (not listed in the contract).
    load(coll, {"a": [1, 2]}, {"a": 3}, {})
    try:
        coll.find({"a": {"$eq": 2}})
    except shoal.QueryError:
        pytest.skip("$eq is not supported")
    expect(coll, {"a": {"$eq": 2}}, [1])
    expect(coll, {"a": {"$eq": None}}, [3])


# --- $ne, $in, $nin -------------------------------------------------------


def test_ne_matches_missing_and_other_values(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": 2}, {}, {"a": None}, {"a": 1.0}, {"a": True})
    expect(coll, {"a": {"$ne": 1}}, [2, 3, 4, 6])


def test_ne_on_lists_means_no_element_equal(coll: Any) -> None:
    load(coll, {"a": [1, 2]}, {"a": [3, 4]}, {"a": []}, {"a": [[1]]})
    expect(coll, {"a": {"$ne": 1}}, [2, 3, 4])
    expect(coll, {"a": {"$ne": [3, 4]}}, [1, 3, 4])


def test_ne_none_excludes_null_and_missing(coll: Any) -> None:
    load(coll, {"a": None}, {}, {"a": 0}, {"a": [None]}, {"a": []})
    expect(coll, {"a": {"$ne": None}}, [3, 5])


def test_in_matches_any_listed_value(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": "x"}, {"a": 2.0}, {"a": True}, {})
    expect(coll, {"a": {"$in": [1, 2, "x"]}}, [1, 2, 3])


def test_in_matches_list_elements_and_whole_lists(coll: Any) -> None:
    load(coll, {"a": [5, 6]}, {"a": [7]}, {"a": [[5, 6]]})
    expect(coll, {"a": {"$in": [6]}}, [1])
    expect(coll, {"a": {"$in": [[5, 6], 7]}}, [1, 2, 3])


def test_in_none_matches_missing(coll: Any) -> None:
    load(coll, {"a": None}, {}, {"a": 1})
    expect(coll, {"a": {"$in": [None]}}, [1, 2])
    expect(coll, {"a": {"$in": [None, 1]}}, [1, 2, 3])


def test_in_empty_list_matches_nothing(coll: Any) -> None:
    load(coll, {"a": 1}, {})
    expect(coll, {"a": {"$in": []}}, [])


def test_nin_is_the_negation_of_in(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": [1, 5]}, {"a": [5]}, {}, {"a": None}, {"a": 1.0})
    expect(coll, {"a": {"$nin": [1, 2]}}, [3, 4, 5])
    expect(coll, {"a": {"$nin": [None]}}, [1, 2, 3, 6])
    expect(coll, {"a": {"$nin": []}}, [1, 2, 3, 4, 5, 6])


# --- comparisons ----------------------------------------------------------


def test_gt_gte_lt_lte_on_numbers(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": 2.5}, {"a": 3}, {"a": -1.0})
    expect(coll, {"a": {"$gt": 2.5}}, [3])
    expect(coll, {"a": {"$gte": 2.5}}, [2, 3])
    expect(coll, {"a": {"$lt": 1}}, [4])
    expect(coll, {"a": {"$lte": 1.0}}, [1, 4])


def test_several_operators_on_one_field_all_apply(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": 3}, {"a": 5})
    expect(coll, {"a": {"$gt": 1, "$lt": 5}}, [2])
    expect(coll, {"a": {"$gte": 1, "$ne": 3}}, [1, 3])


def test_comparisons_are_type_bracketed(coll: Any) -> None:
    load(coll, {"a": 5}, {"a": "5"}, {"a": b"5"}, {"a": True}, {"a": None}, {"a": {"x": 9}})
    expect(coll, {"a": {"$gt": 1}}, [1])
    expect(coll, {"a": {"$gt": ""}}, [2])
    expect(coll, {"a": {"$gte": b"0"}}, [3])
    expect(coll, {"a": {"$gte": False}}, [4])
    expect(coll, {"a": {"$lt": "zzz"}}, [2])
    expect(coll, {"a": {"$lt": 10**30}}, [1])


def test_comparison_of_bool_values(coll: Any) -> None:
    load(coll, {"a": True}, {"a": False}, {"a": 1}, {"a": 0})
    expect(coll, {"a": {"$gt": False}}, [1])
    expect(coll, {"a": {"$lt": True}}, [2])
    expect(coll, {"a": {"$gt": 0}}, [3])


def test_comparison_of_strings_is_code_point_order(coll: Any) -> None:
    load(coll, {"a": "B"}, {"a": "a"}, {"a": "ab"}, {"a": "é"}, {"a": "\U0001f600"})
    expect(coll, {"a": {"$gt": "a"}}, [3, 4, 5])
    expect(coll, {"a": {"$lt": "a"}}, [1])
    expect(coll, {"a": {"$gt": "\uffff"}}, [5])


def test_comparison_of_bytes(coll: Any) -> None:
    load(coll, {"a": b"\x00\x01"}, {"a": b"\x00\x02"}, {"a": b"\xff\x00"})
    expect(coll, {"a": {"$gt": b"\x00\x01"}}, [2, 3])
    expect(coll, {"a": {"$lte": b"\x00\x02"}}, [1, 2])


def test_comparison_of_naive_datetimes(coll: Any) -> None:
    t = datetime.datetime(2020, 1, 1)
    load(coll, {"a": t}, {"a": t + datetime.timedelta(days=1)}, {"a": "2020-01-02"})
    expect(coll, {"a": {"$gt": t}}, [2])
    expect(coll, {"a": {"$lte": t}}, [1])


def test_comparison_of_aware_datetimes_uses_instants(coll: Any) -> None:
    t = datetime.datetime(2020, 1, 1, 12, 0, tzinfo=UTC)
    east = datetime.timezone(datetime.timedelta(hours=5))
    west = datetime.timezone(datetime.timedelta(hours=-5))
    # 12:00Z shown in +05:00 (17:00), and 11:00Z shown in -05:00 (06:00).
    load(coll, {"a": t.astimezone(east)}, {"a": (t - datetime.timedelta(hours=1)).astimezone(west)})
    expect(coll, {"a": {"$gte": t}}, [1])
    expect(coll, {"a": {"$lt": t}}, [2])


def test_comparison_on_list_fields_any_element(coll: Any) -> None:
    load(coll, {"a": [1, 10]}, {"a": [2, 3]}, {"a": []}, {"a": ["z", 0]})
    expect(coll, {"a": {"$gt": 5}}, [1])
    expect(coll, {"a": {"$lt": 1}}, [4])
    # Each operator may be satisfied by a different element.
    expect(coll, {"a": {"$gt": 1, "$lt": 5}}, [1, 2])


def test_comparison_does_not_reach_into_nested_lists(coll: Any) -> None:
    load(coll, {"a": [[10]]}, {"a": [[1], 10]})
    expect(coll, {"a": {"$gt": 5}}, [2])


def test_comparison_never_matches_missing(coll: Any) -> None:
    load(coll, {}, {"b": 1})
    for op in ("$gt", "$gte", "$lt", "$lte"):
        expect(coll, {"a": {op: 0}}, [])
        expect(coll, {"a": {op: ""}}, [])


def test_comparison_ignores_lists_and_dicts_as_field_values(coll: Any) -> None:
    load(coll, {"a": {"x": 1}}, {"a": []}, {"a": [{"x": 1}]})
    expect(coll, {"a": {"$gt": 0}}, [])
    expect(coll, {"a": {"$lt": 0}}, [])


def test_comparison_with_none(coll: Any) -> None:
    load(coll, {"a": None}, {}, {"a": 0}, {"a": [None, 1]}, {"a": False})
    expect(coll, {"a": {"$gte": None}}, [1, 2, 4])
    expect(coll, {"a": {"$lte": None}}, [1, 2, 4])
    expect(coll, {"a": {"$gt": None}}, [])
    expect(coll, {"a": {"$lt": None}}, [])


def test_comparison_of_big_ints_and_floats_is_exact(coll: Any) -> None:
    load(coll, {"a": 2**53 + 1}, {"a": 2**64}, {"a": -(2**64)}, {"a": 10**30})
    expect(coll, {"a": {"$gt": float(2**53)}}, [1, 2, 4])
    expect(coll, {"a": {"$gt": 2**53}}, [1, 2, 4])
    expect(coll, {"a": {"$lte": 2**53}}, [3])
    expect(coll, {"a": {"$gt": 2**63 - 1}}, [2, 4])
    expect(coll, {"a": {"$gte": 10**30}}, [4])
    expect(coll, {"a": {"$lt": -(2**63)}}, [3])


def test_comparison_of_huge_ints_and_floats_is_exact(coll: Any) -> None:
    load(coll, {"a": 2**200 + 1}, {"a": 2**200}, {"a": -(2**200) - 1}, {"a": 2**130 + 1})
    expect(coll, {"a": {"$gt": float(2**200)}}, [1])
    expect(coll, {"a": {"$gte": float(2**200)}}, [1, 2])
    expect(coll, {"a": {"$lt": -float(2**200)}}, [3])
    expect(coll, {"a": {"$gt": float(2**130)}}, [1, 2, 4])


def test_comparison_of_decimals_is_exact(coll: Any) -> None:
    load(coll, {"a": D("1.00000000000000000001")}, {"a": 1}, {"a": D("-Infinity")}, {"a": 2.5})
    expect(coll, {"a": {"$gt": 1}}, [1, 4])
    expect(coll, {"a": {"$lte": D("1")}}, [2, 3])
    expect(coll, {"a": {"$lt": D("2.5000000000000000001")}}, [1, 2, 3, 4])


def test_nan_is_neither_less_nor_greater(coll: Any) -> None:
    # MongoDB: a comparison involving NaN holds only for NaN $gte/$lte NaN.
    load(coll, {"a": math.nan}, {"a": 0}, {"a": -math.inf}, {"a": [math.nan, 5]})
    expect(coll, {"a": {"$lt": 0}}, [3])
    expect(coll, {"a": {"$lte": -math.inf}}, [3])
    expect(coll, {"a": {"$gt": 1}}, [4])
    expect(coll, {"a": {"$gte": math.nan}}, [1, 4])
    expect(coll, {"a": {"$lte": math.nan}}, [1, 4])
    expect(coll, {"a": {"$gt": math.nan}}, [])
    expect(coll, {"a": {"$lt": math.nan}}, [])


def test_comparison_with_infinities(coll: Any) -> None:
    inf = float("inf")
    load(coll, {"a": inf}, {"a": -inf}, {"a": 10**400}, {"a": 0})
    expect(coll, {"a": {"$gt": 10**300}}, [1, 3])
    expect(coll, {"a": {"$lt": inf}}, [2, 3, 4])
    expect(coll, {"a": {"$gte": inf}}, [1])


# --- $exists --------------------------------------------------------------


def test_exists(coll: Any) -> None:
    load(coll, {"a": None}, {}, {"a": 0}, {"a": []}, {"b": 1})
    expect(coll, {"a": {"$exists": True}}, [1, 3, 4])
    expect(coll, {"a": {"$exists": False}}, [2, 5])


def test_exists_on_dotted_paths(coll: Any) -> None:
    load(
        coll,
        {"a": {"b": None}},
        {"a": {"c": 1}},
        {"a": [{"c": 1}, {"b": 2}]},
        {"a": [{"c": 1}]},
        {"a": 5},
    )
    expect(coll, {"a.b": {"$exists": True}}, [1, 3])
    expect(coll, {"a.b": {"$exists": False}}, [2, 4, 5])


# --- $regex ---------------------------------------------------------------


def test_regex_searches_str_fields(coll: Any) -> None:
    load(coll, {"a": "abc"}, {"a": "xbz"}, {"a": "ABC"}, {"a": 1}, {})
    expect(coll, {"a": {"$regex": "b"}}, [1, 2])
    expect(coll, {"a": {"$regex": "^a"}}, [1])
    expect(coll, {"a": {"$regex": "c$"}}, [1])


def test_regex_does_not_match_non_strings(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": b"1"}, {"a": None}, {"a": ["1"]}, {"a": {"x": "1"}}, {"a": True})
    expect(coll, {"a": {"$regex": "1"}}, [4])
    expect(coll, {"a": {"$regex": "^True$|^None$"}}, [])


def test_regex_on_list_elements(coll: Any) -> None:
    load(coll, {"a": ["x", "yz"]}, {"a": ["x"]}, {"a": [["yz"]]})
    expect(coll, {"a": {"$regex": "^y"}}, [1])


def test_regex_option_i(coll: Any) -> None:
    load(coll, {"a": "Hello"}, {"a": "HELLO"}, {"a": "help"})
    expect(coll, {"a": {"$regex": "^hello$", "$options": "i"}}, [1, 2])
    expect(coll, {"a": {"$regex": "^hello$"}}, [])


def test_regex_option_m(coll: Any) -> None:
    load(coll, {"a": "one\ntwo"}, {"a": "two\none"})
    expect(coll, {"a": {"$regex": "^two", "$options": "m"}}, [1, 2])
    expect(coll, {"a": {"$regex": "^two"}}, [2])


def test_regex_option_s(coll: Any) -> None:
    load(coll, {"a": "a\nb"}, {"a": "axb"})
    expect(coll, {"a": {"$regex": "a.b", "$options": "s"}}, [1, 2])
    expect(coll, {"a": {"$regex": "a.b"}}, [2])


def test_regex_option_x(coll: Any) -> None:
    load(coll, {"a": "ab"}, {"a": "a b"})
    expect(coll, {"a": {"$regex": "a b  # a comment", "$options": "x"}}, [1])
    expect(coll, {"a": {"$regex": "^a b$"}}, [2])


def test_regex_combined_options(coll: Any) -> None:
    load(coll, {"a": "x\nHELLO"}, {"a": "hello"})
    expect(coll, {"a": {"$regex": "^ hel lo $", "$options": "imx"}}, [1, 2])


def test_compiled_pattern_as_implicit_value(coll: Any) -> None:
    load(coll, {"a": "abc"}, {"a": "xyz"}, {"a": ["q", "cab"]})
    expect(coll, {"a": re.compile("ab")}, [1, 3])


def test_compiled_pattern_flags_are_honoured(coll: Any) -> None:
    load(coll, {"a": "x\nHello"}, {"a": "hello"}, {"a": "h\nllo"})
    expect(coll, {"a": re.compile("^hello", re.IGNORECASE)}, [2])
    expect(coll, {"a": re.compile("^hello", re.IGNORECASE | re.MULTILINE)}, [1, 2])
    expect(coll, {"a": re.compile("^h.llo$", re.DOTALL)}, [2, 3])
    expect(coll, {"a": re.compile("^ h e l l o $", re.VERBOSE)}, [2])


def test_compiled_pattern_as_regex_operand(coll: Any) -> None:
    load(coll, {"a": "ABC"}, {"a": "abc"})
    expect(coll, {"a": {"$regex": re.compile("^abc", re.I)}}, [1, 2])
    expect(coll, {"a": {"$regex": re.compile("^abc")}}, [2])


def test_regex_unicode(coll: Any) -> None:
    load(coll, {"a": "café"}, {"a": "cafe"}, {"a": "ÉTÉ"})
    expect(coll, {"a": {"$regex": "^caf.$"}}, [1, 2])
    expect(coll, {"a": {"$regex": "é$"}}, [1])
    expect(coll, {"a": {"$regex": "^été$", "$options": "i"}}, [3])


def test_regex_engine_is_linear_time(tmp_path: Any) -> None:
    # A backtracking engine needs ~2**50 steps here; run it in a child so a
    # hang fails the test instead of the suite.
    script = textwrap.dedent(
        f"""
        import shoal
        with shoal.open({str(tmp_path / "db")!r}) as store:
            coll = store.collection("c")
            coll.insert({{"_id": 1, "a": "a" * 50 + "b"}})
            coll.insert({{"_id": 2, "a": "a" * 50}})
            print(coll.count({{"a": {{"$regex": "^(a+)+$"}}}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


@pytest.mark.parametrize("pattern", ["(?=a)a", "a(?!b)", "(?<=a)b", "(?<!a)b", r"(a)\1"])
def test_regex_lookaround_and_backreferences_are_errors(coll: Any, pattern: str) -> None:
    load(coll, {"a": "ab"})
    query_error(coll, {"a": {"$regex": pattern}}, "$regex")
    with pytest.raises(shoal.QueryError):
        coll.find({"a": re.compile(pattern)})


# --- $size, $all, $elemMatch ----------------------------------------------


def test_size(coll: Any) -> None:
    load(coll, {"a": [1, 2]}, {"a": [[1, 2, 3]]}, {"a": "ab"}, {"a": {"x": 1, "y": 2}}, {})
    expect(coll, {"a": {"$size": 2}}, [1])
    expect(coll, {"a": {"$size": 1}}, [2])
    expect(coll, {"a": {"$size": 3}}, [])


def test_size_zero(coll: Any) -> None:
    load(coll, {"a": []}, {}, {"a": None}, {"a": [None]})
    expect(coll, {"a": {"$size": 0}}, [1])


def test_all_requires_every_value(coll: Any) -> None:
    load(coll, {"a": [1, 2, 3]}, {"a": [1, 3]}, {"a": [2.0, 1]}, {"a": [1]})
    expect(coll, {"a": {"$all": [1, 2]}}, [1, 3])
    expect(coll, {"a": {"$all": [1]}}, [1, 2, 3, 4])


def test_all_on_scalar_field(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": 2}, {"a": "1"})
    expect(coll, {"a": {"$all": [1]}}, [1])
    expect(coll, {"a": {"$all": [1, 1.0]}}, [1])
    expect(coll, {"a": {"$all": [1, 2]}}, [])


def test_all_with_list_values(coll: Any) -> None:
    load(coll, {"a": [[1, 2], 3]}, {"a": [1, 2]}, {"a": [[2, 1]]})
    expect(coll, {"a": {"$all": [[1, 2]]}}, [1, 2])


def test_all_empty_matches_nothing(coll: Any) -> None:
    load(coll, {"a": [1]}, {"a": []}, {})
    expect(coll, {"a": {"$all": []}}, [])


def test_elem_match_with_operators_applies_to_elements(coll: Any) -> None:
    load(coll, {"a": [0, 10]}, {"a": [0, 3]}, {"a": 3}, {"a": []}, {"a": [[3]]})
    expect(coll, {"a": {"$elemMatch": {"$gt": 1, "$lt": 5}}}, [2])
    # Compare with the same operators without $elemMatch:
    expect(coll, {"a": {"$gt": 1, "$lt": 5}}, [1, 2, 3])


def test_elem_match_with_other_element_operators(coll: Any) -> None:
    load(coll, {"a": ["x", "yy"]}, {"a": [1, 2]}, {"a": [None]}, {"a": [[1, 2]]})
    expect(coll, {"a": {"$elemMatch": {"$regex": "^y"}}}, [1])
    expect(coll, {"a": {"$elemMatch": {"$in": [2, "x"]}}}, [1, 2])
    expect(coll, {"a": {"$elemMatch": {"$ne": 1}}}, [1, 2, 3, 4])
    expect(coll, {"a": {"$elemMatch": {"$type": "null"}}}, [3])
    expect(coll, {"a": {"$elemMatch": {"$size": 2}}}, [4])


def test_elem_match_with_a_document_filter(coll: Any) -> None:
    load(
        coll,
        {"a": [{"x": 1, "y": 2}, {"x": 2, "y": 1}]},
        {"a": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]},
        {"a": {"x": 1, "y": 2}},
        {"a": [1, 2]},
    )
    expect(coll, {"a": {"$elemMatch": {"x": 1, "y": 2}}}, [1])
    expect(coll, {"a": {"$elemMatch": {"x": 2, "y": {"$gte": 2}}}}, [2])
    # Without $elemMatch each condition may hold on a different element.
    expect(coll, {"a.x": 1, "a.y": 2}, [1, 2, 3])


def test_elem_match_document_filter_with_logical_operators(coll: Any) -> None:
    load(coll, {"a": [{"x": 1}, {"x": 5}]}, {"a": [{"x": 3}]})
    expect(coll, {"a": {"$elemMatch": {"x": {"$gt": 0}, "$or": [{"x": 5}, {"x": 3}]}}}, [1, 2])


def test_elem_match_only_matches_lists(coll: Any) -> None:
    load(coll, {"a": 3}, {"a": {"x": 1}}, {})
    expect(coll, {"a": {"$elemMatch": {"$gt": 1}}}, [])
    expect(coll, {"a": {"$elemMatch": {"x": 1}}}, [])


# --- $mod, $type ----------------------------------------------------------


def test_mod_on_ints(coll: Any) -> None:
    load(coll, {"a": 4}, {"a": 5}, {"a": 9}, {"a": [3, 7]}, {"a": 0})
    expect(coll, {"a": {"$mod": [4, 1]}}, [2, 3])
    expect(coll, {"a": {"$mod": [4, 0]}}, [1, 5])
    expect(coll, {"a": {"$mod": [4, 3]}}, [4])


def test_mod_truncates_floats(coll: Any) -> None:
    load(coll, {"a": 5.9}, {"a": 6.0}, {"a": -5.9})
    expect(coll, {"a": {"$mod": [5, 0]}}, [1, 3])
    expect(coll, {"a": {"$mod": [5, 1]}}, [2])


def test_mod_remainder_has_the_sign_of_the_dividend(coll: Any) -> None:
    load(coll, {"a": -5}, {"a": 5})
    expect(coll, {"a": {"$mod": [3, -2]}}, [1])
    expect(coll, {"a": {"$mod": [3, 2]}}, [2])
    expect(coll, {"a": {"$mod": [-3, 2]}}, [2])


def test_mod_on_ints_beyond_64_bits(coll: Any) -> None:
    load(coll, {"a": 2**64}, {"a": -(2**64)}, {"a": 2**200 + 1}, {"a": 2**63})
    expect(coll, {"a": {"$mod": [3, 1]}}, [1])
    expect(coll, {"a": {"$mod": [3, -1]}}, [2])
    expect(coll, {"a": {"$mod": [3, 2]}}, [3, 4])


def test_mod_ignores_non_numbers(coll: Any) -> None:
    load(coll, {"a": "4"}, {"a": True}, {"a": None}, {}, {"a": False})
    expect(coll, {"a": {"$mod": [2, 0]}}, [])
    expect(coll, {"a": {"$mod": [1, 0]}}, [])


@pytest.mark.parametrize("alias", TYPE_ALIASES)
def test_type_aliases(coll: Any, alias: str) -> None:
    values = {
        "null": None,
        "bool": True,
        "int": 7,
        "big int": 2**80,
        "double": 1.5,
        "string": "s",
        "object": {"x": 1},
        "array": [],
        "binData": b"\x00",
        "date": datetime.datetime(2020, 1, 1),
    }
    load(coll, *({"a": v} for v in values.values()), {})
    want = {
        "null": [1],
        "bool": [2],
        "int": [3, 4],
        "long": [3, 4],
        "double": [5],
        "number": [3, 4, 5],
        "string": [6],
        "object": [7],
        "array": [8],
        "binData": [9],
        "date": [10],
    }
    expect(coll, {"a": {"$type": alias}}, want[alias])


def test_type_of_uuids_is_bin_data(coll: Any) -> None:
    load(coll, {"a": uuid.UUID(int=5)}, {"a": b"x"}, {"a": "x"})
    expect(coll, {"a": {"$type": "binData"}}, [1, 2])


def test_type_on_list_fields(coll: Any) -> None:
    load(coll, {"a": [1, "x"]}, {"a": [[1]]}, {"a": ["y"]}, {"a": 2})
    expect(coll, {"a": {"$type": "string"}}, [1, 3])
    expect(coll, {"a": {"$type": "number"}}, [1, 4])
    expect(coll, {"a": {"$type": "array"}}, [1, 2, 3])


# --- $not and logical operators -------------------------------------------


def test_not_negates_an_operator_expression(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": 5}, {}, {"a": "x"}, {"a": [1, 9]})
    expect(coll, {"a": {"$not": {"$gt": 3}}}, [1, 3, 4])
    expect(coll, {"a": {"$not": {"$gt": 3, "$lt": 10}}}, [1, 3, 4])


def test_not_with_a_regex(coll: Any) -> None:
    load(coll, {"a": "apple"}, {"a": "banana"}, {"a": 1}, {})
    expect(coll, {"a": {"$not": re.compile("^a")}}, [2, 3, 4])
    expect(coll, {"a": {"$not": {"$regex": "^A", "$options": "i"}}}, [2, 3, 4])


def test_and(coll: Any) -> None:
    load(coll, {"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 2})
    expect(coll, {"$and": [{"a": 1}, {"b": {"$gt": 1}}]}, [2])
    # $and lets one field carry two conditions.
    expect(coll, {"$and": [{"a": {"$gte": 1}}, {"a": {"$lte": 1}}]}, [1, 2])


def test_or(coll: Any) -> None:
    load(coll, {"a": 1}, {"b": 2}, {"a": 3, "b": 3})
    expect(coll, {"$or": [{"a": 1}, {"b": 2}]}, [1, 2])
    expect(coll, {"$or": [{"a": 1}, {"b": 2}], "a": {"$exists": False}}, [2])


def test_nor(coll: Any) -> None:
    load(coll, {"a": 1}, {"b": 2}, {"a": 3, "b": 3}, {})
    expect(coll, {"$nor": [{"a": 1}, {"b": 2}]}, [3, 4])


def test_nested_logical_operators(coll: Any) -> None:
    load(coll, *({"a": i % 3, "b": i % 2} for i in range(6)))
    flt = {"$or": [{"$and": [{"a": 0}, {"b": 0}]}, {"$nor": [{"a": {"$lt": 2}}, {"b": 0}]}]}
    expect(coll, flt, [1, 6])


# --- dotted paths ---------------------------------------------------------


def test_dotted_path_into_sub_documents(coll: Any) -> None:
    load(coll, {"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 2}}}, {"a": {"b": 1}}, {"a": 1})
    expect(coll, {"a.b.c": 1}, [1])
    expect(coll, {"a.b.c": {"$gte": 1}}, [1, 2])
    expect(coll, {"a.b": 1}, [3])


def test_dotted_path_through_lists_of_documents(coll: Any) -> None:
    load(coll, {"a": [{"b": 1}, {"b": 2}]}, {"a": [{"b": 3}]}, {"a": [{"b": [4, 5]}]})
    expect(coll, {"a.b": 2}, [1])
    expect(coll, {"a.b": {"$in": [1, 3]}}, [1, 2])
    expect(coll, {"a.b": 5}, [3])
    expect(coll, {"a.b": {"$gt": 2}}, [2, 3])
    expect(coll, {"a.b": [4, 5]}, [3])


def test_dotted_path_missing_in_some_elements(coll: Any) -> None:
    load(coll, {"a": [{"b": 1}, {"c": 2}]}, {"a": [{"b": 1}]})
    expect(coll, {"a.b": None}, [1])
    expect(coll, {"a.b": {"$ne": None}}, [2])


def test_dotted_numeric_index_into_lists(coll: Any) -> None:
    load(coll, {"tags": ["x", "y"]}, {"tags": ["y", "x"]}, {"tags": "x"}, {"tags": [["x"]]})
    expect(coll, {"tags.0": "x"}, [1, 4])
    expect(coll, {"tags.1": "x"}, [2])
    expect(coll, {"tags.1": {"$exists": True}}, [1, 2])
    expect(coll, {"tags.5": {"$gt": ""}}, [])


def test_dotted_numeric_component_on_a_dict_is_a_field(coll: Any) -> None:
    load(coll, {"a": {"0": "x"}}, {"a": {"1": "x"}})
    expect(coll, {"a.0": "x"}, [1])


def test_dotted_path_through_scalars_is_missing(coll: Any) -> None:
    load(coll, {"a": 5}, {"a": "str"}, {"a": {"b": 1}}, {})
    expect(coll, {"a.b": None}, [1, 2, 4])
    expect(coll, {"a.b": {"$exists": False}}, [1, 2, 4])
    expect(coll, {"a.b": {"$gte": 0}}, [3])


def test_dotted_path_deep_through_several_lists(coll: Any) -> None:
    load(
        coll,
        {"a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": [{"c": 3}]}]},
        {"a": [{"b": {"c": 4}}]},
    )
    expect(coll, {"a.b.c": 3}, [1])
    expect(coll, {"a.b.c": {"$gt": 2}}, [1, 2])
    expect(coll, {"a.b.c": {"$size": 1}}, [])


# --- errors ---------------------------------------------------------------


def test_query_error_hierarchy() -> None:
    assert issubclass(shoal.QueryError, shoal.Error)
    assert issubclass(shoal.QueryError, ValueError)


@pytest.mark.parametrize(
    ("flt", "name"),
    [
        ({"a": {"$foo": 1}}, "$foo"),
        ({"$foo": [{"a": 1}]}, "$foo"),
        ({"a": {"$gt": 1, "$bar": 2}}, "$bar"),
        ({"a": {"$not": {"$baz": 1}}}, "$baz"),
        ({"$or": [{"a": {"$qux": 1}}]}, "$qux"),
        ({"a": {"$elemMatch": {"$gt": 1, "$zap": 1}}}, "$zap"),
        ({"$where": "this.a == 1"}, "$where"),
    ],
    ids=repr,
)
def test_unknown_operator_is_an_error(coll: Any, flt: Any, name: str) -> None:
    load(coll, {"a": 1})
    query_error(coll, flt, name)


BAD_OPERANDS = [
    ("$in", 1),
    ("$in", "ab"),
    ("$in", {"x": 1}),
    ("$nin", 1),
    ("$nin", None),
    ("$all", 1),
    ("$all", "ab"),
    ("$mod", 2),
    ("$mod", [2]),
    ("$mod", [2, 1, 0]),
    ("$mod", [0, 0]),
    ("$mod", ["2", 0]),
    ("$mod", [2, "0"]),
    ("$size", -1),
    ("$size", "2"),
    ("$size", 1.5),
    ("$size", None),
    ("$exists", 1),
    ("$exists", "yes"),
    ("$exists", None),
    ("$regex", 1),
    ("$regex", None),
    ("$regex", b"a"),
    ("$regex", "(unclosed"),
    ("$regex", "a{2,1}"),
    ("$elemMatch", 1),
    ("$elemMatch", [{"x": 1}]),
    ("$not", 1),
    ("$not", "^a"),
    ("$not", None),
    ("$type", "nosuchtype"),
]


@pytest.mark.parametrize(("op", "operand"), BAD_OPERANDS, ids=repr)
def test_bad_operand_is_an_error(coll: Any, op: str, operand: Any) -> None:
    load(coll, {"a": [1, 2]})
    query_error(coll, {"a": {op: operand}}, op)


@pytest.mark.parametrize("op", ["$and", "$or", "$nor"])
@pytest.mark.parametrize("operand", [[], {}, {"a": 1}, [1], [{"a": 1}, "x"], None], ids=repr)
def test_bad_logical_operand_is_an_error(coll: Any, op: str, operand: Any) -> None:
    load(coll, {"a": 1})
    query_error(coll, {op: operand}, op)


def test_errors_do_not_depend_on_the_data(coll: Any) -> None:
    # Never "matches nothing" silently: an empty collection, or a field no
    # document has, still reports a bad filter.
    query_error(coll, {"a": {"$foo": 1}}, "$foo")
    query_error(coll, {"a": {"$in": 5}}, "$in")
    load(coll, {"b": 1})
    query_error(coll, {"zzz": {"$size": -1}}, "$size")
    query_error(coll, {"$or": [{"b": 1}, {"zzz": {"$mod": [0, 1]}}]}, "$mod")
    query_error(coll, {"b": 2, "zzz": {"$exists": "x"}}, "$exists")


def test_errors_are_reported_by_find_with_skip_and_limit(coll: Any) -> None:
    load(coll, {"a": 1})
    with pytest.raises(shoal.QueryError):
        coll.find({"a": {"$foo": 1}}, skip=5)
    with pytest.raises(shoal.QueryError):
        coll.find({"a": {"$foo": 1}}, limit=1)


def _deep_and(depth: int) -> dict[str, Any]:
    f: dict[str, Any] = {"a": 1}
    for _ in range(depth):
        f = {"$and": [f]}
    return f


def _deep_not(depth: int) -> dict[str, Any]:
    e: dict[str, Any] = {"$gt": 0}
    for _ in range(depth):
        e = {"$not": e}
    return {"a": e}


def _deep_elem_match(depth: int) -> dict[str, Any]:
    e: dict[str, Any] = {"$gt": 0}
    for _ in range(depth):
        e = {"$elemMatch": e}
    return {"a": e}


def test_moderately_nested_filters_work(coll: Any) -> None:
    load(coll, {"a": 1}, {"a": 0})
    expect(coll, _deep_and(30), [1])
    expect(coll, _deep_not(30), [1])  # an even number of $not
    expect(coll, _deep_not(31), [2])


@pytest.mark.parametrize(
    ("build", "name"),
    [(_deep_and, "$and"), (_deep_not, "$not"), (_deep_elem_match, "$elemMatch")],
    ids=["and", "not", "elemMatch"],
)
def test_too_deeply_nested_filter_is_an_error(coll: Any, build: Any, name: str) -> None:
    load(coll, {"a": 1})
    with pytest.raises(shoal.QueryError):
        coll.find(build(150))
    with pytest.raises(shoal.QueryError):
        coll.count(build(150))
    with pytest.raises(shoal.QueryError):
        coll.find_one(build(150))


def test_very_deep_filter_is_an_error_not_a_crash(tmp_path: Any) -> None:
    # 100,000 levels: a recursive evaluator without a depth check would
    # overflow the stack; run it in a child so a crash fails only this test.
    script = textwrap.dedent(
        f"""
        import shoal
        with shoal.open({str(tmp_path / "db")!r}) as store:
            coll = store.collection("c")
            coll.insert({{"_id": 1, "a": 1}})
            for op in ("$and", "$not", "$elemMatch"):
                f = {{"a": 1}} if op == "$and" else {{"$gt": 0}}
                for _ in range(100_000):
                    f = {{"$and": [f]}} if op == "$and" else {{op: f}}
                if op != "$and":
                    f = {{"a": f}}
                try:
                    coll.find(f)
                except shoal.QueryError:
                    print(op, "QueryError")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:3] == [
        "$and QueryError",
        "$not QueryError",
        "$elemMatch QueryError",
    ]


def test_filter_values_must_be_storable_types(coll: Any) -> None:
    load(coll, {"a": 1})
    for flt in [
        {"a": {1, 2}},
        {"a": {"$in": [object()]}},
        {"a": {"$gt": datetime.date(2020, 1, 1)}},
    ]:
        with pytest.raises((TypeError, shoal.QueryError)):
            coll.find(flt)


def test_tuples_in_filters_are_lists(coll: Any) -> None:
    load(coll, {"a": [1, 2]}, {"a": [[1, 2]]}, {"a": 1})
    expect(coll, {"a": (1, 2)}, [1, 2])
    expect(coll, {"a": {"$in": (1, 5)}}, [1, 3])


@pytest.mark.parametrize("flt", ["a", 1, [("a", 1)], [{"a": 1}]], ids=repr)
def test_filter_must_be_a_dict(coll: Any, flt: Any) -> None:
    load(coll, {"a": 1})
    with pytest.raises((TypeError, shoal.QueryError)):
        coll.find(flt)
    with pytest.raises((TypeError, shoal.QueryError)):
        coll.count(flt)
