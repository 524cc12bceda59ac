"""``shoal dump`` / ``shoal load``: the portable JSON Lines format round-trips
every supported value exactly, and ``dump --salvage`` saves what a damaged
store still holds."""

from __future__ import annotations

import datetime
import decimal
import math
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import shoal
from _util import damage_largest_table, model_key
from hypothesis import given, settings
from hypothesis import strategies as st
from shoal.cli import _dumpformat as fmt
from shoal.cli import main

TIMEOUT = 120


def cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None
        ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "shoal", *args], input=stdin,
                          capture_output=True, cwd=cwd, timeout=TIMEOUT)


def exact(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1, 1.0 and True differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                     math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(exact(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(exact(ka, kb) and exact(va, vb)
                                        for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if isinstance(a, (datetime.datetime, decimal.Decimal)):
        return str(a) == str(b)
    return bool(a == b)


def contents(path: Path) -> dict[str, Any]:
    """Everything a store holds, as read back (pickle spaces included)."""
    out: dict[str, Any] = {}
    with shoal.open(path) as s:
        for name in s.spaces():
            try:
                kv = s.kv(name)
            except shoal.InvalidArgumentError:
                kv = s.kv(name, value="pickle")
            out[f"kv {name} {kv.key_codec} {kv.value_codec}"] = list(kv.items())
        for name in s.collections():
            c = s.collection(name)
            indexes = [(ix["name"], ix["fields"], ix["unique"], ix["sparse"])
                       for ix in c.indexes()]
            out[f"collection {name}"] = (c.key, c.ttl, indexes, list(c))
    return out


# -- values -------------------------------------------------------------------

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
ints = st.integers() | st.integers(min_value=-(2**80), max_value=2**80)
floats = st.floats() | st.sampled_from([0.0, -0.0, 1.0, 1e16, math.inf, -math.inf, math.nan])
scalar_keys = st.none() | st.booleans() | ints | floats | text | st.binary(max_size=8)
any_keys = st.recursive(scalar_keys, lambda k: st.tuples(k) | st.tuples(k, k), max_leaves=4)
datetimes = st.datetimes() | st.datetimes(timezones=st.timezones()) | st.builds(
    lambda d, m: d.replace(tzinfo=datetime.timezone(datetime.timedelta(minutes=m))),
    st.datetimes(), st.integers(-1439, 1439))
atoms = (scalar_keys | datetimes | st.uuids() | st.decimals(places=None)
         | st.sampled_from([decimal.Decimal("-0"), decimal.Decimal("NaN"),
                            decimal.Decimal("1.10"), decimal.Decimal("1E+3")]))
field_names = st.sampled_from(["a", "b", "x", "$x", "", "é", "x.y"]) | text
msgpack_values = st.recursive(
    atoms,
    lambda v: st.lists(v, max_size=3) | st.dictionaries(field_names, v, max_size=3)
    | st.dictionaries(scalar_keys, v, max_size=3),
    max_leaves=8,
)
json_values = st.recursive(
    st.none() | st.booleans() | ints | floats | text,
    lambda v: st.lists(v, max_size=3) | st.dictionaries(field_names, v, max_size=3),
    max_leaves=8,
)
pickle_values = msgpack_values | st.frozensets(st.integers(), max_size=3) | st.tuples(ints) \
    | st.builds(complex, st.floats(allow_nan=False), st.floats(allow_nan=False))
doc_values = st.recursive(  # documents: str keys only, at every level
    atoms, lambda v: st.lists(v, max_size=3) | st.dictionaries(field_names, v, max_size=3),
    max_leaves=8)
documents = st.dictionaries(field_names.filter(lambda f: f not in ("_id", "a", "b")),
                            doc_values, max_size=3)

SPACES = {  # key codec, value codec -> strategies
    ("any", "msgpack"): (any_keys, msgpack_values),
    ("str", "json"): (text.filter(bool), json_values),  # str and bytes keys are not empty
    ("bytes", "bytes"): (st.binary(min_size=1, max_size=8), st.binary(max_size=8)),
    ("int", "str"): (st.integers(-(2**63), 2**63 - 1), text),
    ("any", "pickle"): (any_keys, pickle_values),
}


@st.composite
def store_contents(draw: st.DrawFn) -> dict[str, Any]:
    spaces = {}
    for i, codecs in enumerate(draw(st.lists(st.sampled_from(sorted(SPACES)), max_size=3))):
        keys, values = SPACES[codecs]
        spaces[f"kv{i}"] = (codecs, draw(st.lists(st.tuples(keys, values), max_size=6)))
    by_id = draw(st.lists(st.tuples(any_keys, documents), max_size=6))
    by_pair = draw(st.lists(st.tuples(scalar_keys, any_keys, documents), max_size=6))
    return {"spaces": spaces, "by_id": by_id, "by_pair": by_pair,
            "ttl": draw(st.none() | st.just("expires")), "index": draw(st.booleans())}


def build(path: Path, data: dict[str, Any]) -> None:
    with shoal.open(path) as s:
        for name, ((key, value), items) in data["spaces"].items():
            s.kv(name, key=key, value=value).update(items)
        ids = s.collection("ids", ttl=data["ttl"])
        ids.put_many({**doc, "_id": k} for k, doc in data["by_id"])
        pairs = s.collection("pairs", key=("a", "b"))
        pairs.put_many({**doc, "a": a, "b": b} for a, b, doc in data["by_pair"])
        if data["index"]:
            ids.create_index("x")
            ids.set_ttl(data["ttl"])  # again: see test_a_ttl_field_survives_create_index
            pairs.create_index([("b", -1), ("a", 1)], sparse=True, name="by_b")
            if len({model_key(a) for a, _, _ in data["by_pair"]}) == len(data["by_pair"]):
                pairs.create_index("a", unique=True)


def dump_lines(path: Path, out: Path) -> list[str]:
    assert main(["dump", str(path), "-o", str(out), "--allow-pickle"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    return lines[1:]  # the header holds the time of the dump


# Four store opens per example (~0.3 s): fewer examples than the profile's at CI
# size; the value-level property below runs the full count.
_STORE_EXAMPLES = 25 if os.environ.get("SHOAL_HYPOTHESIS_PROFILE", "ci") == "ci" else None


@settings(max_examples=_STORE_EXAMPLES or settings.default.max_examples)
@given(store_contents())
def test_dump_load_dump_is_identical_and_every_value_type_exact(
        tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]) -> None:
    tmp = tmp_path_factory.mktemp("dump")
    build(tmp / "a", data)
    first = dump_lines(tmp / "a", tmp / "a.jsonl")
    assert main(["load", str(tmp / "b"), str(tmp / "a.jsonl"), "--allow-pickle"]) == 0
    assert dump_lines(tmp / "b", tmp / "b.jsonl") == first
    before, after = contents(tmp / "a"), contents(tmp / "b")
    assert list(before) == list(after)
    for name in before:
        assert exact(before[name], after[name]), name


@given(msgpack_values | any_keys | pickle_values)
def test_every_value_encodes_to_json_and_back_exactly(value: Any) -> None:
    data = fmt.parse(fmt.line(fmt.encode_pickled(value)), 1)
    assert exact(fmt.decode(data, allow_pickle=True), value)


def test_types_that_json_would_blur_stay_distinct() -> None:
    values = [1, 1.0, True, 0, -0.0, 0.0, 2**53 + 1, 1e16, None, "1", b"1", (1,), [1],
              {"$int": "1"}, {1: "a"}, {"1": "a"}]
    lines = [fmt.line(fmt.encode(v)) for v in values]
    assert len(set(lines)) == len(values)
    assert [fmt.decode(fmt.parse(ln, 1)) for ln in lines] == values
    assert all(exact(fmt.decode(fmt.parse(ln, 1)), v) for ln, v in zip(lines, values))


# -- the commands, end to end ---------------------------------------------------


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "db"
    with shoal.open(path) as s:
        s.kv("users").update({"ada": {"born": 1815}, ("t", 1): [1.0, b"\x00"]})
        c = s.collection("people")
        c.insert_many({"_id": i, "city": "ab"[i % 2]} for i in range(50))
        c.create_index("city")
        c.set_ttl("until")  # after the index: see test_a_ttl_field_survives_create_index
    return path


def test_dump_to_stdout_load_from_stdin(sample: Path, tmp_path: Path) -> None:
    dumped = cli("dump", str(sample))
    assert dumped.returncode == 0, dumped.stderr
    assert dumped.stdout.startswith(b'{"format":"shoal-dump","version":1,')
    assert dumped.stdout.endswith(b'{"end":{"sections":2,"records":52,"errors":[]}}\n')
    loaded = cli("load", str(tmp_path / "copy"), stdin=dumped.stdout)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.decode().strip() == (
        f"loaded 52 records in 2 sections into {tmp_path / 'copy'}")
    assert exact(contents(tmp_path / "copy"), contents(sample))
    with shoal.open(tmp_path / "copy") as s:
        assert s.collection("people").explain({"city": "a"})["index"] == "city_1"
        assert s.collection("people").ttl == "until"


# Regression: the TTL field used to be stored inside index 1's key range, so
# creating or dropping that index lost it and verify() took it for a stray entry.
def test_a_ttl_field_survives_create_index(tmp_path: Path) -> None:
    with shoal.open(tmp_path / "db") as s:
        s.collection("c", ttl="expires").create_index("a")
    with shoal.open(tmp_path / "db") as s:
        assert s.collection("c").ttl == "expires"


def test_verify_accepts_a_ttl_field_beside_an_index(tmp_path: Path) -> None:
    with shoal.open(tmp_path / "db") as s:
        c = s.collection("c")
        c.create_index("a")
        c.set_ttl("expires")
        assert s.verify()["problems"] == []


def test_load_refuses_existing_sections_unless_replace(sample: Path, tmp_path: Path) -> None:
    dump = tmp_path / "d.jsonl"
    assert cli("dump", str(sample), "-o", str(dump)).returncode == 0
    with shoal.open(tmp_path / "other") as s:
        s.kv("users")["zed"] = 1
        s.kv("kept")["k"] = "v"
    refused = cli("load", str(tmp_path / "other"), str(dump))
    assert refused.returncode == 1
    assert refused.stderr.decode().splitlines() == [
        "shoal load: error: the store already has a kv 'users'; load into a new store, "
        "or pass --replace to overwrite it"]
    with shoal.open(tmp_path / "other") as s:  # nothing written
        assert s.collections() == [] and list(s.kv("users")) == ["zed"]
    # Streamed (no pre-check possible): refused at the section, before writing it.
    piped = cli("load", str(tmp_path / "other"), stdin=dump.read_bytes())
    assert piped.returncode == 1 and b"already has a kv 'users'" in piped.stderr
    assert cli("load", str(tmp_path / "other"), str(dump), "--replace").returncode == 0
    after = contents(tmp_path / "other")
    assert after.pop("kv kept any msgpack") == [("k", "v")]
    assert exact(after, contents(sample))


def test_pickle_spaces_need_allow_pickle_both_ways(tmp_path: Path) -> None:
    with shoal.open(tmp_path / "db") as s:
        s.kv("objs", value="pickle")["k"] = {1, 2}
    out = tmp_path / "d.jsonl"
    refused = cli("dump", str(tmp_path / "db"), "-o", str(out))
    assert refused.returncode == 1 and b"--allow-pickle" in refused.stderr
    assert not out.exists()
    assert cli("dump", str(tmp_path / "db"), "-o", str(out), "--allow-pickle").returncode == 0
    assert b'{"$pickle":' in out.read_bytes()
    refused = cli("load", str(tmp_path / "copy"), str(out))
    assert refused.returncode == 1 and b"--allow-pickle" in refused.stderr
    assert cli("load", str(tmp_path / "copy"), str(out), "--allow-pickle").returncode == 0
    with shoal.open(tmp_path / "copy") as s:
        assert s.kv("objs", value="pickle")["k"] == {1, 2}


@pytest.mark.parametrize("content, message", [
    (b"", "not a shoal dump"),
    (b"hello\n", "line 1: not JSON"),
    (b'{"format":"shoal-dump","version":99}\n', "dump format version 99"),
    (b'{"format":"shoal-dump","version":1}\n["k",1]\n', "line 2: a record before any section"),
    (b'{"format":"shoal-dump","version":1}\n{"kv":"a","key_codec":"any",'
     b'"value_codec":"msgpack"}\n["k",{"$nope":1}]\n', "line 3: unknown or malformed tagged"),
    (b'{"format":"shoal-dump","version":1}\n{"kv":"a","key_codec":"any",'
     b'"value_codec":"msgpack"}\n["k",1]\n', "truncated (no end line)"),
    (b'{"format":"shoal-dump","version":1}\n{"end":{"sections":0,"records":3}}\n',
     "counts 3 records, it holds 0"),
])
def test_a_bad_dump_is_a_one_line_error(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "bad.jsonl").write_bytes(content)
    out = cli("load", str(tmp_path / "db"), str(tmp_path / "bad.jsonl"))
    assert out.returncode == 1
    lines = out.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shoal load: error: ") and message in lines[0]


def test_load_refuses_a_directory_that_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    out = cli("load", str(tmp_path), "-", stdin=b"")
    assert out.returncode == 1 and b"not a shoal store" in out.stderr
    assert os.listdir(tmp_path) == ["notes.txt"]


# -- salvage ----------------------------------------------------------------------


def damaged_store(path: Path) -> dict[str, Any]:
    """A store whose largest table (space "big") has bytes flipped in the middle."""
    rng = random.Random(5)
    big = {f"k{i:05d}": rng.randbytes(300) for i in range(3000)}
    with shoal.open(path) as s:
        s.kv("big", key="str", value="bytes").update(big)
        s.kv("small").update({i: str(i) for i in range(100)})
        c = s.collection("docs")
        c.insert_many({"_id": i, "v": i % 7} for i in range(200))
        c.create_index("v")
        s.compact()
    damage_largest_table(path)
    return big


def test_dump_salvage_keeps_what_is_readable(tmp_path: Path) -> None:
    big = damaged_store(tmp_path / "db")
    out = tmp_path / "d.jsonl"
    plain = cli("dump", str(tmp_path / "db"), "-o", str(out))
    assert plain.returncode == 1 and not out.exists()
    lines = plain.stderr.decode().splitlines()
    assert len(lines) == 1 and "corrupted" in lines[0], lines

    salvaged = cli("dump", str(tmp_path / "db"), "-o", str(out), "--salvage")
    assert salvaged.returncode == 2
    report = salvaged.stderr.decode()
    assert "kv 'big' is damaged" in report and "the items in between are lost" in report
    assert "salvaged: 1 damaged section(s)" in report

    loaded = cli("load", str(tmp_path / "copy"), str(out))
    assert loaded.returncode == 0, loaded.stderr
    assert b"the dump was salvaged: kv 'big'" in loaded.stderr
    with shoal.open(tmp_path / "copy") as s:
        assert s.verify()["problems"] == []
        assert dict(s.kv("small").items()) == {i: str(i) for i in range(100)}
        assert s.collection("docs").count({"v": 3}) == len(range(3, 200, 7))
        got = dict(s.kv("big").items())
    assert all(big[k] == v for k, v in got.items())  # nothing wrong, nothing invented
    assert 0 < len(got) < len(big)
    # Read from both ends: items after the damaged part are kept too.
    assert "k00000" in got and "k02999" in got


def test_dump_salvage_reads_a_damaged_collection_from_both_ends(tmp_path: Path) -> None:
    rng = random.Random(6)
    docs = {i: {"_id": i, "pad": rng.randbytes(300)} for i in range(3000)}
    with shoal.open(tmp_path / "db") as s:
        s.collection("docs").insert_many(docs.values())
        s.compact()
    damage_largest_table(tmp_path / "db")
    out = tmp_path / "d.jsonl"
    salvaged = cli("dump", str(tmp_path / "db"), "-o", str(out), "--salvage")
    assert salvaged.returncode == 2, salvaged.stderr
    assert "the documents in between are lost" in salvaged.stderr.decode()
    loaded = cli("load", str(tmp_path / "copy"), str(out))
    assert loaded.returncode == 0, loaded.stderr
    with shoal.open(tmp_path / "copy") as s:
        got = {d["_id"]: d for d in s.collection("docs")}
    assert all(docs[k] == d for k, d in got.items())  # nothing wrong, nothing invented
    assert 0 in got and 2999 in got and len(got) < len(docs)
