"""Hostile input to the native API: a clear error or a documented result, nothing worse.

Every case runs in its own interpreter (``_rel.run_python``) with a time limit,
on a store holding a seed record and an indexed seed document, in a working
directory of its own. For each case the parent checks:

- the outcome is the expected one: a named exception (``TypeError``,
  ``shoal.InvalidArgumentError``, ``shoal.QueryError``, ``UnicodeEncodeError``)
  or ``ok`` with the value read back exactly (the case asserts it in the child);
- no interpreter crash (return code 0; a Rust panic surfacing as
  ``pyo3_runtime.PanicException`` is a failure too), no hang (the time limit,
  10 s for the regular expressions, is hang detection, not a benchmark);
- the store stays readable: the seed record, the seed document and an index
  lookup, in the same process after the case and again after reopening;
- no file appears outside the store directory (its parent, the working
  directory, ``/abs``).

Faces (sofart, dynafile, ...) have their own hostile-input tests. Cases the
engine gets wrong are ``xfail(strict=True)`` with the reproduction in the
reason.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _rel import figure, run_batch, run_python

RUNNER = Path(__file__).with_name("_hostile_runner.py")

IAE, QE, TE = "InvalidArgumentError", "QueryError", "TypeError"
BIG = 1 << 20

# id -> (body of case(), expected outcome)
CASES: dict[str, tuple[str, str]] = {
    # --- values the codecs cannot store ---
    "value-object": ("kv['x'] = object()", TE),
    "value-set": ("kv['x'] = {1, 2}", TE),
    "value-complex": ("kv['x'] = 1j", TE),
    "value-function": ("kv['x'] = [len]", TE),
    "doc-object": ("coll.insert({'_id': 'x', 'o': object()})", TE),
    "doc-non-str-field": ("coll.insert({'_id': 'x', 1: 2})", TE),
    "doc-nested-set": ("coll.insert({'_id': 'x', 'a': {'b': [{1}]}})", TE),
    # --- NaN, infinities, integers beyond 64 bits: stored exactly ---
    "nan-inf-values": (
        "return roundtrip(kv, 'f', [math.inf, -math.inf, 0.0, -0.0]) and "
        "math.isnan((kv.__setitem__('n', math.nan), kv['n'])[1])",
        "ok",
    ),
    "nan-inf-keys": (
        "kv[math.nan] = 'nan'; kv[math.inf] = 'inf'; kv[-math.inf] = '-inf'\n"
        "    assert kv[math.inf] == 'inf' and kv[math.nan] == 'nan'\n"
        "    keys = [k for k in kv if isinstance(k, float)]\n"
        "    assert math.isnan(keys[0]) and keys[1:] == [-math.inf, math.inf], keys\n"
        "    return True",
        "ok",
    ),
    "nan-in-docs": (
        "coll.insert({'_id': math.inf, 'x': math.nan})\n"
        "    d = coll.get(math.inf)\n"
        "    assert math.isnan(d['x']) and coll.count({'x': {'$gt': 0}}) == 0\n"
        "    return True",
        "ok",
    ),
    "big-ints": (
        "for v in [2**64, -(2**64) - 1, 2**100, -(2**200), 10**5000]:\n"
        "        roundtrip(kv, 'b', v)\n"
        "        roundtrip(kv, v, 'key')\n"
        "    return True",
        "ok",
    ),
    "big-int-docs": (
        "coll.create_index('n')\n"
        "    coll.insert_many([{'_id': 2**80, 'n': 2**70}, {'_id': -(2**90), 'n': 2**64 + 1}])\n"
        "    assert coll.get(2**80)['n'] == 2**70\n"
        "    assert [d['_id'] for d in coll.find({'n': {'$gt': 2**64}}, sort=[('n', 1)])] "
        "== [-(2**90), 2**80]\n"
        "    assert coll.explain({'n': 2**70})['access'] == 'index'\n"
        "    return True",
        "ok",
    ),
    # --- nesting: limited to 100 levels (values) and 64 (key tuples) ---
    **{
        f"nest-{kind}-{n}": (body.format(n=n), IAE)
        for n in (300, 5_000, 100_000)
        for kind, body in {
            "list": "kv['x'] = nest_list({n})",
            "dict": "kv['x'] = nest_dict({n})",
            "doc": "coll.insert({{'_id': 'x', 'v': nest_dict({n})}})",
            "key": "kv[nest_tuple({n})] = 1",
            "update": "coll.update({{'_id': 'seed'}}, {{'$set': {{'v': nest_list({n})}}}})",
        }.items()
    },
    **{f"nest-filter-{n}": (f"coll.find({{'v': nest_dict({n})}})", QE) for n in (300, 100_000)},
    # --- sizes ---
    "doc-64MiB": ("coll.insert({'_id': 'big', 'b': bytes(64 << 20)})", IAE),
    "key-1MiB-set": (f"kv['k' * {BIG}] = 1", IAE),
    "key-1MiB-bytes-set": (f"raw[b'k' * {BIG}] = b'1'", IAE),
    "key-1MiB-delete": (f"del kv['k' * {BIG}]", IAE),
    "key-1MiB-in-tx": (f"with store.transaction() as tx:\n        tx[kv]['k' * {BIG}] = 1", IAE),
    # --- keys: empty, NUL, lone surrogates ---
    "key-empty-str": ("return roundtrip(kv, '', 'empty') and list(kv)[0] == ''", "ok"),
    "key-nul": (
        "kv.update({'a': 1, 'a\\x00': 2, 'a\\x00b': 3, '\\x00': 4})\n"
        "    assert kv['a\\x00b'] == 3 and kv['a'] == 1 and kv['\\x00'] == 4\n"
        "    assert [k for k in kv if k != 'seed'] == ['\\x00', 'a', 'a\\x00', 'a\\x00b']\n"
        "    coll.insert({'_id': 'x\\x00y', 'f': 'nul\\x00'})\n"
        "    assert coll.find({'f': 'nul\\x00'})[0]['_id'] == 'x\\x00y'\n"
        "    return True",
        "ok",
    ),
    "key-bytes-empty": ("raw[b''] = b'x'", IAE),
    "key-lone-surrogate": ("kv['\\ud800'] = 1", "UnicodeEncodeError"),
    "value-lone-surrogate": ("kv['s'] = ['\\udc00']", "UnicodeEncodeError"),
    "id-lone-surrogate": ("coll.insert({'_id': '\\ud800'})", "UnicodeEncodeError"),
    "field-lone-surrogate": ("coll.insert({'_id': 's', '\\udfff': 1})", "UnicodeEncodeError"),
    "filter-lone-surrogate": ("coll.find({'f': '\\ud800'})", "UnicodeEncodeError"),
    # --- filters ---
    "unknown-operator": ("coll.find({'f': {'$foo': 1}})", QE),
    "unknown-top-operator": ("coll.find({'$foo': [1]})", QE),
    "where-string": ("coll.find({'$where': 'this.f == 1'})", QE),
    "where-int": ("coll.find({'$where': 5})", QE),
    "where-none": ("coll.count({'$where': None})", QE),
    "mod-zero": ("coll.find({'f': {'$mod': [0, 0]}})", QE),
    "mod-arity": ("coll.find({'f': {'$mod': [2]}})", QE),
    "mod-type": ("coll.find({'f': {'$mod': ['a', 1]}})", QE),
    "in-not-list": ("coll.find({'f': {'$in': 5}})", QE),
    "size-str": ("coll.find({'f': {'$size': 'x'}})", QE),
    "regex-int": ("coll.find({'f': {'$regex': 5}})", QE),
    "regex-invalid": ("coll.find({'f': {'$regex': '('}})", QE),
    "regex-backreference": ("coll.find({'f': {'$regex': '(a)\\\\1'}})", QE),
    "filter-not-a-dict": ("coll.find([('f', 1)])", QE),
    "and-not-list": ("coll.find({'$and': {'f': 1}})", QE),
    "and-nested-3000": ("coll.find(nest_and(3000))", QE),
    "and-nested-100000": ("coll.count(nest_and(100_000))", QE),
    "and-flat-3000": (
        "assert [d['_id'] for d in coll.find({'$and': [{'f': 'seed'}] * 3000})] == ['seed']\n"
        "    return True",
        "ok",
    ),
    "or-flat-3000": (
        "flt = {'$or': [{'f': str(i)} for i in range(3000)] + [{'f': 'seed'}]}\n"
        "    assert coll.count(flt) == 1\n"
        "    return True",
        "ok",
    ),
    "update-unknown-operator": ("coll.update({'_id': 'seed'}, {'$foo': {'f': 1}})", QE),
    "update-inc-string": ("coll.update({'_id': 'seed'}, {'$inc': {'f': 'x'}})", QE),
    "update-pk": ("coll.update({'_id': 'seed'}, {'$set': {'_id': 'other'}})", QE),
    # --- names ---
    **{
        f"name-{label}-{kind}": (body.format(name=repr(name)), IAE)
        for label, name in {
            "dotdot": "../../x",
            "abs": "/abs",
            "slash": "a/b",
            "empty": "",
            "nul": "a\x00b",
            "dot": ".",
            "backslash": "..\\x",
        }.items()
        for kind, body in {
            "collection": "store.collection({name})",
            "kv": "store.kv({name})",
            "drop-collection": "store.drop_collection({name})",
            "drop-kv": "store.drop_kv({name})",
        }.items()
    },
    "index-field-dotdot": ("coll.create_index('../../x')", IAE),
    "index-field-empty": ("coll.create_index('')", IAE),
    "index-field-dollar": ("coll.create_index('$where')", IAE),
    # Index names are catalog entries, never file names: any non-empty one is kept as given.
    "index-name-path": (
        "assert coll.create_index('g', name='../../x') == '../../x'\n"
        "    assert coll.create_index('h', name='/abs') == '/abs'\n"
        "    coll.insert({'_id': 'g', 'g': 1, 'h': 2})\n"
        "    assert coll.explain({'g': 1})['index'] == '../../x'\n"
        "    coll.drop_index('../../x')\n"
        "    return True",
        "ok",
    ),
}

# Cases where the engine panics (pyo3_runtime.PanicException, a BaseException,
# not shoal.Error) instead of answering: a key longer than the engine's 65,535
# byte key limit reaches lsm-tree (src/key.rs:42 "keys can be 65535 bytes in
# length") on read paths and on the auto-commit index write path.
# Keys and indexed values beyond the engine's 65,535-byte key limit once
# made the engine panic (PanicException); they are now absent keys, refused
# bounds or refused writes.
PANICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "key-1MiB-get": (f"return kv.get('k' * {BIG})", ("ok", IAE, "KeyError")),
    "key-1MiB-contains": (f"return ('k' * {BIG}) in kv", ("ok", IAE)),
    "key-1MiB-getitem": (f"return kv['k' * {BIG}]", ("KeyError", IAE)),
    "key-1MiB-slice": (f"return list(kv['k' * {BIG}:])", ("ok", IAE)),
    "key-1MiB-find-id": (f"return coll.find({{'_id': 'k' * {BIG}}})", ("ok", IAE, QE)),
    "key-1MiB-coll-get": (f"return coll.get('k' * {BIG})", ("ok", IAE)),
    "key-1MiB-id-insert-indexed": (f"coll.insert({{'_id': 'k' * {BIG}}})", (IAE,)),
    "indexed-value-70KB-insert": (
        "coll.insert({'_id': 'long', 'f': 'k' * 70_000})",
        (IAE,),
    ),
    "indexed-value-70KB-update": (
        "coll.update({'_id': 'seed'}, {'$set': {'f': 'k' * 70_000}})",
        (IAE,),
    ),
    "create-index-over-70KB-value": (
        "other = store.collection('o')\n"
        "    other.insert({'_id': 1, 'g': 'k' * 70_000})\n"
        "    other.create_index('g')",
        (IAE,),
    ),
}

TIME_LIMIT = 300  # for the whole batch: hang detection only


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("hostile")
    abs_existed = os.path.exists("/abs")
    bodies = {name: body for name, (body, _) in {**CASES, **PANICS}.items()}
    bodies = {k: textwrap.indent(textwrap.dedent("    " + v), "    ") for k, v in bodies.items()}
    results = run_batch(root, bodies, RUNNER, TIME_LIMIT)
    assert sorted(os.listdir(root)) == sorted([*bodies, "cwd"]), "files outside the stores"
    assert os.path.exists("/abs") == abs_existed
    slow = max(results.values(), key=lambda r: r.get("seconds", 0))
    figure(
        "hostile/native",
        f"{len(results)} cases, slowest {slow.get('name')} {slow.get('seconds', 0) * 1e3:.0f} ms, "
        f"outcomes: {sorted({r['outcome'] for r in results.values()})}",
    )
    return results


def check_case(out: dict[str, Any]) -> None:
    """The parts every case must get right whatever it answered."""
    assert "readable" in out, f"the interpreter crashed or hung: {out}"
    assert out["files"] == ["db"], f"files beside the store: {out['files']}"
    assert out["readable"], f"store unreadable after the case: {out}"
    assert out["reopened"], f"store unreadable after reopening: {out}"


@pytest.mark.parametrize(
    ("name", "expected"), [(name, exp) for name, (_, exp) in CASES.items()], ids=list(CASES)
)
def test_hostile_input(outcomes: dict[str, dict[str, Any]], name: str, expected: str) -> None:
    out = outcomes[name]
    check_case(out)
    assert out["outcome"] == expected, out
    assert out["outcome"] == "ok" or out["message"], f"an error without a message: {out}"


@pytest.mark.parametrize(
    ("name", "allowed"),
    [(name, allowed) for name, (_, allowed) in PANICS.items()],
    ids=list(PANICS),
)
def test_oversized_keys_never_panic(
    outcomes: dict[str, dict[str, Any]], name: str, allowed: tuple[str, ...]
) -> None:
    out = outcomes[name]
    check_case(out)
    assert out["outcome"] in allowed, out


REGEX = """
import json, re, sys, time
import shoal
with shoal.open(sys.argv[1]) as store:
    coll = store.collection("c")
    coll.insert_many([{"_id": 1, "a": "a" * 32 + "!"}, {"_id": 2, "a": "a" * 100_000 + "!"}])
    out = {}
    for name, flt in {
        "$regex": {"a": {"$regex": "^(a+)+$"}},
        "re.Pattern": {"a": re.compile("^(a+)+$")},
        "$options": {"a": {"$regex": "^(a|aa)+$", "$options": "i"}},
        "$not": {"a": {"$not": {"$regex": "^(a+)+$"}}},
    }.items():
        t0 = time.perf_counter()
        found = [d["_id"] for d in coll.find(flt)]
        out[name] = [found, time.perf_counter() - t0]
print(json.dumps(out))
"""


def test_catastrophic_backtracking_pattern_answers(tmp_path: Path) -> None:
    res = run_python(REGEX, str(tmp_path / "db"), timeout=10)
    assert not res.timed_out, "^(a+)+$ did not answer within 10 s (backtracking?)"
    assert res.returncode == 0, res.describe()
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["$regex"][0] == [] and out["re.Pattern"][0] == [] and out["$options"][0] == []
    assert out["$not"][0] == [1, 2]
    figure(
        "hostile/regex",
        "^(a+)+$ against 'a'*32+'!' and 'a'*100000+'!': "
        + ", ".join(f"{k} {v[1] * 1e3:.2f} ms" for k, v in out.items()),
    )


BIG_VALUE = """
import os, sys
import shoal
big = os.urandom(64 << 20)
with shoal.open(sys.argv[1]) as store:
    store.kv("raw", key="bytes", value="bytes")[b"big"] = big
    store.kv("k")["big"] = big
    store.kv("k")["small"] = 1
with shoal.open(sys.argv[1]) as store:
    assert store.kv("raw")[b"big"] == big
    assert store.kv("k")["big"] == big
    assert store.kv("k")["small"] == 1
print("ok")
"""


def test_a_64MiB_value_is_stored_exactly(tmp_path: Path) -> None:
    res = run_python(BIG_VALUE, str(tmp_path / "db"), timeout=TIME_LIMIT)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.describe()
