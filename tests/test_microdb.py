"""shoal.microdb: the numbered behaviours of spec/microdb.md, its defects, failure paths.

Tests named ``test_b<N>_...`` are behaviour N of section 2 of the spec;
``test_defect<N>_...`` check that defect N of section 4 is fixed.
"""

from __future__ import annotations

import ast
import os
import pprint
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import shoal
from shoal import microdb
from shoal.microdb import MicroDB


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def m(here: Path) -> MicroDB:
    return MicroDB("mdb.json", partition_keys=["job", "name"])


def fill(m: MicroDB) -> None:
    for job in ("clean", "study"):
        for name in ("Alice", "Bob"):
            m.upsert({"job": job, "name": name, "status": "undone"})


# --------------------------------------------------------------------------- section 2


def test_b1_empty_and_no_file(m: MicroDB, here: Path) -> None:
    assert len(m) == 0
    assert list(m.all()) == []
    assert str(m) == "[]"
    assert list(here.iterdir()) == []


def test_b2_upsert_returns_none(m: MicroDB) -> None:
    assert m.upsert({"job": "clean", "name": "Alice", "status": "undone"}) is None
    assert len(m) == 1


def test_b3_replace_keeps_position(m: MicroDB) -> None:
    fill(m)
    m.upsert({"job": "clean", "name": "Alice", "status": "finished"})
    assert len(m) == 4
    first = next(m.all())
    assert first == {"job": "clean", "name": "Alice", "status": "finished"}


def test_b4_gen_key(m: MicroDB) -> None:
    assert m.gen_key({"job": "clean", "name": "Bob", "what": "ever"}) == ("clean", "Bob")
    assert m.gen_key({"job": "clean"}) == ("clean", None)


def test_b5_membership_by_record(m: MicroDB) -> None:
    fill(m)
    assert {"job": "clean", "name": "Bob", "what": "ever"} in m
    assert {"job": "clean", "name": "Eve"} not in m


def test_b6_get(m: MicroDB) -> None:
    fill(m)
    rec = m.get({"job": "study", "name": "Alice", "whaat": "everr"})
    assert rec == {"job": "study", "name": "Alice", "status": "undone"}
    assert m.get({"wrong": "key"}, "when_not_exist") == "when_not_exist"
    assert m.get({"wrong": "key"}) is None


def test_b7_item_access_by_key_tuple(m: MicroDB) -> None:
    fill(m)
    assert m[("clean", "Bob")]["status"] == "undone"
    with pytest.raises(KeyError) as info:
        m[("x", "y")]
    assert info.value.args == (("x", "y"),)
    del m[("clean", "Bob")]
    assert ("clean", "Bob") not in m and len(m) == 3
    with pytest.raises(KeyError):
        del m[("x", "y")]


def test_b7_item_access_with_dict_is_unhashable(m: MicroDB) -> None:
    with pytest.raises(TypeError, match="unhashable"):
        m[{"job": "clean", "name": "Bob"}]  # type: ignore[index]


def test_b8_missing_field_is_none(m: MicroDB) -> None:
    m.upsert({"job": "clean", "v": 1})
    m.upsert({"job": "clean", "name": None, "v": 2})
    assert len(m) == 1
    assert m.get({"job": "clean"})["v"] == 2


def test_b9_identity(m: MicroDB) -> None:
    d = {"job": "clean", "name": "Alice", "status": "undone"}
    m.upsert(d)
    d["status"] = "x"
    assert m.get(d)["status"] == "x"
    assert m.get(d) is d
    assert m[("clean", "Alice")] is d
    assert next(iter(m)) is d


def test_b10_save_format(m: MicroDB, here: Path) -> None:
    fill(m)
    m.save()
    assert (here / "mdb.json").read_text("utf-8") == repr(list(m.all())) + "\n"


def test_b11_reload_same_order(m: MicroDB) -> None:
    fill(m)
    m.upsert({"job": "clean", "name": "Alice", "status": "finished", "extra": [1, 2]})
    m.save()
    again = MicroDB("mdb.json", ["job", "name"])
    assert list(again.all()) == list(m.all())
    assert [list(r) for r in again.all()] == [list(r) for r in m.all()]


def test_b12_grid_roundtrip(here: Path) -> None:
    g = MicroDB("g.json", ["k"])
    g.upsert({"k": 1, "a": "x"})
    g.upsert({"a": "y", "k": 2})
    g.save_as_grid()
    text = (here / "g.json").read_text("utf-8")
    assert text == "[['k', 'a'], [1, 'x'], [2, 'y']]\n"
    again = MicroDB("g.json", ["k"])
    assert list(again.all()) == [{"k": 1, "a": "x"}, {"k": 2, "a": "y"}]
    assert [list(r) for r in again.all()] == [["k", "a"], ["k", "a"]]  # header order


def test_b13_grid_missing_fields(m: MicroDB, here: Path) -> None:
    fill(m)
    m.save()
    before = (here / "mdb.json").read_bytes()
    m.upsert({"job": "x", "name": "y"})
    with pytest.raises(Exception) as info:  # noqa: B017 - the original raises Exception
        m.save_as_grid()
    assert str(info.value).startswith("Dict ")
    assert "dosen't have these keys:" in str(info.value)
    assert "['status']" in str(info.value)
    assert isinstance(info.value, microdb.MissingFieldsError)
    assert (here / "mdb.json").read_bytes() == before
    with pytest.raises(microdb.MissingFieldsError):
        m.pprint_all_as_grid()


def test_b14_save_elsewhere(m: MicroDB, here: Path) -> None:
    fill(m)
    m.save("other.json")
    assert m.filename == "mdb.json"
    assert not (here / "mdb.json").exists()
    assert (here / "other.json").read_text("utf-8") == str(m) + "\n"
    m.save_as_grid(here / "grid.json")  # path-like accepted too
    assert MicroDB(here / "grid.json", ["job", "name"]).get(("study", "Bob")) is not None


def test_b15_erase_all(m: MicroDB, here: Path) -> None:
    fill(m)
    m.erase_all()
    assert len(m) == 0
    assert (here / "mdb.json").read_text("utf-8") == "[]\n"


def test_b16_literal_values_load(here: Path) -> None:
    (here / "e.json").write_text("[]")
    assert len(MicroDB("e.json", ["job", "name"])) == 0
    (here / "v.json").write_text(
        "[{'job': 'a', 'name': 'b', 'x': (1, 2), 'y': {1}, 'z': b'q', 'n': None}]"
    )
    rec = MicroDB("v.json", ["job", "name"])[("a", "b")]
    assert rec == {"job": "a", "name": "b", "x": (1, 2), "y": {1}, "z": b"q", "n": None}
    assert type(rec["x"]) is tuple and type(rec["y"]) is set and type(rec["z"]) is bytes


def test_b17_lock(m: MicroDB) -> None:
    assert m.lock() is m.lock()
    with m.lock():
        with m.lock():
            m.upsert({"job": "clean", "name": "Bob", "status": "undone"})
    assert len(m) == 1


def test_b17_lock_blocks_other_writers(m: MicroDB) -> None:
    fill(m)
    done = threading.Event()

    def writer() -> None:
        m.upsert({"job": "pay_penalty", "name": "Bob", "status": "undone"})
        done.set()

    with m.lock():
        t = threading.Thread(target=writer)
        t.start()
        assert not done.wait(0.2)
        status = m.get({"job": "clean", "name": "Bob"})["status"]
        assert status == "undone" and len(m) == 4
    t.join()
    assert done.is_set() and len(m) == 5


def test_b18_unhashable_key(m: MicroDB) -> None:
    with pytest.raises(TypeError):
        m.upsert({"job": ["x"], "name": "y"})
    assert len(m) == 0


def test_b19_pprint_all(m: MicroDB, capsys: pytest.CaptureFixture[str]) -> None:
    fill(m)
    m.upsert({"job": "x" * 50, "name": "y" * 40, "status": {"nested": list(range(30))}})
    m.pprint_all()
    out = capsys.readouterr().out
    pprint.pprint(list(m.all()))
    assert out == capsys.readouterr().out


def test_b20_upsert_order(here: Path) -> None:
    n = MicroDB("n.json", ["k"])
    n.upsert({"k": 1, "a": 1})
    n.upsert({"k": 2, "a": 2})
    n.upsert({"k": 1, "a": 3})
    assert list(n.all()) == [{"k": 1, "a": 3}, {"k": 2, "a": 2}]


def test_seed_readme_session(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The session of the seed document, on shoal."""
    (here / "testdata").mkdir()
    MicroDB("testdata/mdb.json", ["job", "name"])  # nothing created
    m = MicroDB("testdata/mdb.json", partition_keys=["job", "name"])
    fill(m)
    m.upsert({"job": "clean", "name": "Alice", "status": "finished"})
    m.upsert({"job": "clean", "name": "Eve", "status": "undone"})
    assert m.gen_key({"job": "clean", "name": "Bob", "what": "ever"}) == ("clean", "Bob")
    assert {"job": "clean", "name": "Bob", "what": "ever"} in m
    assert m.get({"job": "study", "name": "Alice", "whaat": "everr"})["status"] == "undone"
    assert m.get({"wrong": "key"}, "when_not_exist") == "when_not_exist"
    m.save_as_grid()
    m.save("another_file_name.json")
    with m.lock():
        if m.get({"job": "clean", "name": "Bob"})["status"] != "finished":
            m.upsert({"job": "pay_penalty", "name": "Bob", "status": "undone"})
    assert len(m) == 6
    grid = ast.literal_eval((here / "testdata/mdb.json").read_text())
    assert grid[0] == ["job", "name", "status"] and len(grid) == 6
    assert len(MicroDB("another_file_name.json", ["job", "name"])) == 5


# --------------------------------------------------------------------------- section 4


def test_defect1_save_is_atomic(m: MicroDB, here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(m)
    m.save()
    before = (here / "mdb.json").read_bytes()
    m.upsert({"job": "new", "name": "one"})

    def boom(*args: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        m.save()
    with pytest.raises(OSError, match="disk on fire"):
        m.erase_all()
    assert len(m) == 5  # erase_all failed: nothing lost
    assert (here / "mdb.json").read_bytes() == before
    assert sorted(p.name for p in here.iterdir()) == ["mdb.json"]  # no temporary left


def test_defect1_killed_writer_never_leaves_a_partial_file(here: Path) -> None:
    """A process killed while saving in a loop leaves a complete old or new file."""
    script = (
        "import sys\n"
        "from shoal.microdb import MicroDB\n"
        "m = MicroDB('k.json', ['k'])\n"
        "i = 0\n"
        "while True:\n"
        "    m.upsert({'k': i % 2000, 'v': 'x' * 50, 'i': i})\n"
        "    i += 1\n"
        "    if i % 500 == 0:\n"
        "        m.save()\n"
        "        if i == 2500: print('saved', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=here, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"saved"
    proc.kill()
    proc.wait()
    loaded = MicroDB(here / "k.json", ["k"])
    assert len(loaded) == 2000
    assert all(r["k"] == r["i"] % 2000 for r in loaded)


def test_defect2_grid_header_first_seen_order(here: Path) -> None:
    g = MicroDB("g.json", ["id"])
    g.upsert({"zeta": 1, "id": 1, "alpha": 2, "mid": 3})
    g.upsert({"id": 2, "mid": 3, "alpha": 2, "zeta": 1})
    g.save_as_grid()
    header = ast.literal_eval((here / "g.json").read_text())[0]
    assert header == ["zeta", "id", "alpha", "mid"]


def test_defect2_any_header_order_loads(here: Path) -> None:
    (here / "g.json").write_text("[['b', 'k', 'a'], [2, 1, 0], [5, 2, 3]]\n")
    g = MicroDB("g.json", ["k"])
    assert g[(2,)] == {"b": 5, "k": 2, "a": 3}


def test_defect3_iteration(m: MicroDB) -> None:
    fill(m)
    assert list(m) == list(m.all())
    assert [r["name"] for r in m] == ["Alice", "Bob", "Alice", "Bob"]


def test_defect4_string_partition_key(here: Path) -> None:
    s = MicroDB("s.json", "id")
    s.upsert({"id": 1, "v": "a"})
    s.upsert({"id": 2, "v": "b"})
    assert len(s) == 2
    assert s.gen_key({"id": 7, "i": 0, "d": 0}) == (7,)
    assert s.partition_keys == "id"


def test_defect5_reads_and_all_under_concurrent_writes(m: MicroDB) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            m.upsert({"job": "w", "name": i % 500})
            if i % 3 == 0 and ("w", (i - 3) % 500) in m:
                del m[("w", (i - 3) % 500)]
            i += 1

    def reader() -> None:
        try:
            for _ in range(100):
                records = list(m.all())
                assert all(r["job"] == "w" for r in records)
                assert len(str(m)) >= 2
                list(m)
                m.save("snap.json")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (writer, reader, reader)]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    assert errors == []
    assert all(r["job"] == "w" for r in MicroDB("snap.json", ["job", "name"]))


def test_defect6_unreadable_values_refused_at_save(m: MicroDB, here: Path) -> None:
    import datetime

    fill(m)
    m.save()
    before = (here / "mdb.json").read_bytes()
    bad_values = [
        datetime.datetime(2020, 1, 1),
        Decimal("1.5"),
        float("nan"),
        float("inf"),
        -float("inf"),
        complex(float("nan"), 1),
        frozenset({1}),
        bytearray(b"x"),
        object(),
        [1, {"deep": Decimal(1)}],
        {1: {2: float("nan")}},
        ({"a": 1}, {2: object()}),
    ]
    for value in bad_values:
        rec = {"job": "bad", "name": "x", "v": value}
        m.upsert(rec)  # accepted in memory, as in the original
        with pytest.raises(microdb.UnsavableValueError, match="'v'"):
            m.save()
        grid = MicroDB("g.json", ["job", "name"])
        grid.upsert(rec)
        with pytest.raises(microdb.UnsavableValueError):
            grid.save_as_grid()
        assert (here / "mdb.json").read_bytes() == before
        del m[("bad", "x")]
    m.upsert({"job": "bad", "name": "x", datetime.date(2020, 1, 1): 1})  # a bad field name
    with pytest.raises(microdb.UnsavableValueError):
        m.save()
    assert isinstance(microdb.UnsavableValueError("x"), (ValueError, shoal.Error))
    assert not (here / "g.json").exists()
    assert sorted(p.name for p in here.iterdir()) == ["mdb.json"]


def test_defect6_text_mentioning_nan_and_inf_is_fine(here: Path) -> None:
    m = MicroDB("f.json", ["k"])
    m.upsert({"k": "info", "nan": 1.5, "inf": -0.0, "c": 1 + 2j, "big": 1e300, "t": (1.0,)})
    m.save()
    again = MicroDB("f.json", ["k"])
    rec = again[("info",)]
    assert repr(rec) == repr(m[("info",)])


def test_defect7_get_and_in_accept_key_tuples(m: MicroDB) -> None:
    fill(m)
    assert m.get(("clean", "Bob"))["name"] == "Bob"
    assert m.get(("x", "y"), 5) == 5
    assert ("clean", "Bob") in m
    assert ("x", "y") not in m
    for bad in (1, "clean", None, ["clean", "Bob"]):
        with pytest.raises(TypeError):
            m.get(bad)
        with pytest.raises(TypeError):
            bad in m  # noqa: B015


# --------------------------------------------------------------------------- loading


@pytest.mark.parametrize(
    "text",
    [
        "[{'a': true}]",  # JSON spellings are not Python literals
        '[{"a": null}]',
        "[{'a': NaN}]",
        "",  # 0 bytes
        "[{'a': 1}",  # truncated
        "[{'a': 1}, {'a': __import__('os')}]",
        "[{'a': datetime.date(2020, 1, 1)}]",
        "{'a': 1}",  # not a list
        "[1, 2]",  # not records
        "[{'a': 1}, 7]",
        "[['a', 'b'], [1]]",  # grid row shorter than the header
        "[['a'], 5]",
        "[[['x'], 'b'], [1, 2]]",  # unhashable field name
        "[{'a': [1]}]",  # unhashable partition value
        "\ufeff[]",
    ],
)
def test_bad_files_raise_and_are_untouched(here: Path, text: str) -> None:
    path = here / "bad.json"
    path.write_text(text, "utf-8")
    before = path.read_bytes()
    with pytest.raises(microdb.FileFormatError) as info:
        MicroDB(path, ["a"])
    assert isinstance(info.value, ValueError) and isinstance(info.value, shoal.CorruptionError)
    assert "bad.json" in str(info.value)
    assert path.read_bytes() == before


def test_not_utf8(here: Path) -> None:
    (here / "b.json").write_bytes(b"[{'a': '\xff'}]")
    with pytest.raises(microdb.FileFormatError, match="UTF-8"):
        MicroDB("b.json", ["a"])


def test_truncated_saved_files_raise(here: Path) -> None:
    m = MicroDB("t.json", ["k"])
    for i in range(50):
        m.upsert({"k": i, "s": f"it's {i}", "t": (i, "x\ny"), "b": b"\x00"})
    m.save()
    data = (here / "t.json").read_bytes()
    for cut in range(1, len(data) - 2, 97):
        (here / "t.json").write_bytes(data[:cut])
        with pytest.raises(microdb.FileFormatError):
            MicroDB("t.json", ["k"])


def test_later_duplicates_replace_earlier(here: Path) -> None:
    (here / "d.json").write_text("[{'k': 1, 'v': 1}, {'k': 2}, {'k': 1, 'v': 3}]")
    d = MicroDB("d.json", ["k"])
    assert list(d) == [{"k": 1, "v": 3}, {"k": 2}]


def test_file_with_python_syntax_variants(here: Path) -> None:
    text = (
        "[\n  {'k': 1, 's': \"it's\", 'u': u'x', 'r': r'\\d', 'e': set(), 'c': -1-2j,\n"
        "   'h': 0x10, 'w': 'a' 'b', 'x': {1: 'one', (1, 2): None}},  # comment\n"
        "  {'k': 2, 'nl': 'a\\nb', 'q': '\\'', 'uni': '\\u00e9\\U0001f600', 'emoji': '😀'},\n]"
    )
    (here / "p.json").write_text(text, "utf-8")
    p = MicroDB("p.json", ["k"])
    assert list(p) == ast.literal_eval(text)


def test_grid_with_empty_table(here: Path) -> None:
    g = MicroDB("g.json", ["k"])
    g.save_as_grid()
    assert (here / "g.json").read_text() == "[[]]\n"
    assert len(MicroDB("g.json", ["k"])) == 0


def test_grid_with_one_field(here: Path) -> None:
    g = MicroDB("g.json", ["k"])
    g.upsert({"k": 1})
    g.upsert({"k": (2, 3)})
    g.save_as_grid()
    assert (here / "g.json").read_text() == "[['k'], [1], [(2, 3)]]\n"
    assert list(MicroDB("g.json", ["k"])) == [{"k": 1}, {"k": (2, 3)}]


def test_save_into_missing_directory(m: MicroDB) -> None:
    fill(m)
    with pytest.raises(FileNotFoundError):
        m.save("no/such/dir/x.json")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and symlinks")
def test_save_keeps_file_mode_and_symlink(m: MicroDB, here: Path) -> None:
    fill(m)
    target = here / "real.json"
    target.write_text("[]")
    os.chmod(target, 0o640)
    os.symlink(target, here / "mdb.json")
    m.save()
    assert (here / "mdb.json").is_symlink()
    assert target.read_text() == str(m) + "\n"
    assert os.stat(target).st_mode & 0o777 == 0o640


def test_lone_surrogates_roundtrip(m: MicroDB, here: Path) -> None:
    m.upsert({"job": "a", "name": "\udcff", "pair": "\ud83d\ude00"})  # repr escapes them
    m.save()
    assert list(MicroDB("mdb.json", ["job", "name"])) == list(m)


# --------------------------------------------------------------------------- input checks


def test_partition_keys_validation(here: Path) -> None:
    with pytest.raises(TypeError):
        MicroDB("x.json", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        MicroDB("x.json", [["a"]])
    empty = MicroDB("x.json", [])
    empty.upsert({"a": 1})
    empty.upsert({"a": 2})
    assert list(empty) == [{"a": 2}] and empty.gen_key({"a": 1}) == ()
    gen = MicroDB("x.json", (k for k in ["a", "b"]))  # iterated once, kept
    gen.upsert({"a": 1, "b": 2})
    assert gen.get({"a": 1, "b": 2}) is not None


def test_upsert_needs_a_dict(m: MicroDB) -> None:
    for bad in (None, ["job", "x"], ("clean", "Bob"), "job"):
        with pytest.raises(TypeError):
            m.upsert(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.gen_key(["job"])  # type: ignore[arg-type]
    assert len(m) == 0


def test_bad_durable_argument(here: Path) -> None:
    with pytest.raises(shoal.InvalidArgumentError):
        MicroDB("x.json", ["k"], durable="always")


def test_closed(m: MicroDB) -> None:
    fill(m)
    with m:
        pass
    assert m.closed
    m.close()  # idempotent
    calls = [
        lambda: m.upsert({"job": "a", "name": "b"}),
        lambda: m.get({"job": "a"}),
        lambda: ("a", "b") in m,
        lambda: m[("clean", "Bob")],
        lambda: m.__delitem__(("clean", "Bob")),
        lambda: len(m),
        lambda: list(m.all()),
        lambda: list(m),
        lambda: str(m),
        lambda: m.save(),
        lambda: m.save_as_grid(),
        lambda: m.erase_all(),
        lambda: m.search(microdb.where("job") == "a"),
    ]
    for call in calls:
        with pytest.raises(shoal.ClosedError):
            call()
    assert "closed" in repr(m)


def test_repr(m: MicroDB) -> None:
    fill(m)
    assert repr(m) == "<shoal.microdb.MicroDB 'mdb.json' keys=('job', 'name') (4 records)>"


# --------------------------------------------------------------------------- queries


@pytest.fixture
def people(here: Path) -> MicroDB:
    p = MicroDB("people.json", ["name"])
    p.upsert({"name": "ada", "age": 36, "tags": ["math", "poetry"], "addr": {"city": "London"}})
    p.upsert({"name": "alan", "age": 41, "tags": ["math"], "addr": {"city": "Wilmslow"}})
    p.upsert({"name": "grace", "age": 85, "tags": [], "rank": None})
    p.upsert({"name": "edsger", "age": "72", "tags": ["algol", "math"]})
    return p


def names(records: list[dict]) -> list[str]:
    return [r["name"] for r in records]


def test_query_comparisons(people: MicroDB) -> None:
    Q = microdb.Query()
    assert names(people.search(Q.age >= 41)) == ["alan", "grace"]  # "72" is a str: no match
    assert names(people.search(Q.age < 41)) == ["ada"]
    assert names(people.search(Q.age > 40)) == ["alan", "grace"]
    assert names(people.search(Q.age <= 36)) == ["ada"]
    assert names(people.search(Q.age == "72")) == ["edsger"]
    assert names(people.search(Q.age != 36)) == ["alan", "grace", "edsger"]
    assert names(people.search(Q.addr.city == "London")) == ["ada"]
    assert names(people.search(microdb.where("addr.city") == "Wilmslow")) == ["alan"]
    assert names(people.search(Q["name"].one_of(["ada", "zed"]))) == ["ada"]
    assert people.count(Q.tags.any(["math"])) == 3


def test_query_methods_and_logic(people: MicroDB) -> None:
    Q = microdb.Query()
    assert names(people.search(Q.rank.exists())) == ["grace"]
    assert names(people.search(~Q.rank.exists())) == ["ada", "alan", "edsger"]
    assert names(people.search(Q.name.matches("a.a"))) == ["ada"]
    assert names(people.search(Q.name.matches("a"))) == []
    assert names(people.search(Q.name.search("a"))) == ["ada", "alan", "grace"]
    assert names(people.search(Q.age.test(lambda v, m: isinstance(v, int) and v % m == 0, 41))) == [
        "alan"
    ]
    assert names(people.search(Q.tags.any(Q.search("^p")))) == ["ada"]
    assert names(people.search(Q.tags.all(["math"]))) == ["ada", "alan", "edsger"]
    assert names(people.search(Q.tags.all(Q.matches("math|algol")))) == ["alan", "grace", "edsger"]
    both = (Q.age >= 40) & Q.tags.any(["math"])
    assert names(people.search(both)) == ["alan"]
    assert names(people.search((Q.age == 36) | (Q.name == "grace"))) == ["ada", "grace"]
    assert names(people.search(lambda r: len(r["name"]) == 4)) == ["alan"]
    assert "age" in repr(Q.age >= 40)


def test_query_misuse(people: MicroDB) -> None:
    with pytest.raises(TypeError):
        people.search(microdb.Query().age)  # a path, not a condition
    with pytest.raises(TypeError):
        people.search({"age": 36})  # type: ignore[arg-type]
    assert (microdb.Query() == 1)(1)  # an empty path tests the value itself
    with pytest.raises(TypeError):
        (microdb.Query().age == 1).more  # noqa: B018


def test_query_update_and_remove(people: MicroDB) -> None:
    Q = microdb.Query()
    ada = people.get({"name": "ada"})
    assert people.update({"senior": True}, Q.age >= 41) == [("alan",), ("grace",)]
    assert people.get({"name": "alan"})["senior"] is True
    people.update(lambda r: r.update(age=37), Q.name == "ada")
    assert ada["age"] == 37 and people.get({"name": "ada"}) is ada
    people.update({"name": "ada lovelace"}, Q.name == "ada")  # moves to a new key
    assert ("ada",) not in people and people[("ada lovelace",)] is ada
    assert people.remove(Q.tags.any(["math"])) == [("alan",), ("edsger",), ("ada lovelace",)]
    assert names(list(people)) == ["grace"]
    people.update({"x": 1})
    assert people[("grace",)]["x"] == 1
    with pytest.raises(TypeError):
        people.update(5)  # type: ignore[arg-type]
