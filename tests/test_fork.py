"""A forked child must not use, flush or close its parent's store."""

from __future__ import annotations

import os
import sys

import pytest
import shoal

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")


def test_child_sees_closed_store_and_parent_keeps_its_data(tmp_path):
    store = shoal.open(tmp_path / "s")
    kv = store.kv("main")
    kv.update({i: f"v{i}" for i in range(100)})

    pid = os.fork()
    if pid == 0:  # child: every use fails cleanly; exiting must not touch the files
        code = 0
        try:
            kv[1]
            code = 1
        except shoal.ClosedError:
            pass
        except BaseException:
            code = 2
        try:
            store.close()
            del kv, store
        except BaseException:
            code = 3
        sys.stdout.flush()
        os._exit(code)

    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status

    # The parent is unaffected: reads, writes, close and reopen all work.
    assert kv[1] == "v1"
    kv[100] = "after fork"
    store.close()
    with shoal.open(tmp_path / "s") as again:
        data = again.kv("main")
        assert len(data) == 101 and data[100] == "after fork"


def test_child_exiting_normally_leaves_the_parent_store_intact(tmp_path):
    store = shoal.open(tmp_path / "s")
    kv = store.kv("main")
    kv.update({i: i for i in range(1000)})

    pid = os.fork()
    if pid == 0:
        # Drop the handles through normal finalisation, as a script would.
        del kv
        del store
        import gc

        gc.collect()
        os._exit(0)
    os.waitpid(pid, 0)
    kv[1000] = 1000
    store.close()
    with shoal.open(tmp_path / "s") as again:
        assert len(again.kv("main")) == 1001
