"""The cache under concurrency and kills, with real processes."""

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from advlib.cache import Cache, param_key

PARAMS = {"what": "slow", "seed": 0}


def _slow_fetch(root, counter, out):
    """Fetch one entry whose computation takes a while and counts itself."""
    import numpy as np

    def compute():
        with open(counter, "a") as f:
            f.write("x")
        time.sleep(1.0)
        return {"value": np.arange(5.0), "meta": {"pid": os.getpid()}}

    payload = Cache(root).get_or_compute("demo", PARAMS, compute)
    Path(out).write_text(str(payload["meta"]["pid"]) + " " + str(payload["value"].sum()))


def _killed_writer(root, params=PARAMS):
    """Write an entry and hang inside the write, after the temporary folder has data."""
    import numpy as np

    cache = Cache(root)

    def compute():
        return {"value": np.ones(3)}

    import advlib.cache as c

    real = c._write_item

    def hang(folder, name, value):
        out = real(folder, name, value)
        time.sleep(60)
        return out

    c._write_item = hang
    cache.get_or_compute("demo", params, compute)


def test_two_processes_compute_one_entry_once(tmp_path):
    ctx = mp.get_context("spawn")
    counter = tmp_path / "count"
    outs = [tmp_path / f"out{i}" for i in range(2)]
    procs = [ctx.Process(target=_slow_fetch, args=(tmp_path / "c", counter, o)) for o in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert counter.read_text() == "x", "the entry was computed more than once"
    a, b = (o.read_text() for o in outs)
    assert a == b and a.endswith(" 10.0"), (a, b)  # both read the one computed entry


def test_a_writer_killed_mid_write_leaves_nothing_read_as_complete(tmp_path):
    ctx = mp.get_context("spawn")
    root = tmp_path / "c"
    p = ctx.Process(target=_killed_writer, args=(root,))
    p.start()
    key = param_key("demo", PARAMS)
    folder = Cache(root).path("demo", key).parent
    deadline = time.time() + 60
    while time.time() < deadline and not any(folder.glob(f".tmp-{key[:12]}-*/*")):
        time.sleep(0.1)
    assert any(folder.glob(f".tmp-{key[:12]}-*/*")), "the writer never started writing"
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    cache = Cache(root)
    assert cache.load("demo", PARAMS) is None  # the torn write is not an entry
    import numpy as np

    got = cache.get_or_compute("demo", PARAMS, lambda: {"value": np.zeros(2)})
    assert got["value"].tolist() == [0.0, 0.0]
    assert not list(folder.glob(".tmp-*")), "the killed writer's leftovers were not cleaned"


def test_lock_is_reentrant_and_times_out_for_another_holder(tmp_path):
    from filelock import FileLock, Timeout

    cache = Cache(tmp_path, lock_timeout=0.2)
    key = param_key("demo", PARAMS)
    with cache.lock("demo", key), cache.lock("demo", key):
        pass
    other = FileLock(str(cache.path("demo", key).parent / f"{key}.lock"))
    with other:  # another holder, as another process would be
        with pytest.raises(Timeout):
            cache.save("demo", PARAMS, {"v": 1})


def test_the_next_run_cleans_a_killed_writers_leftovers_of_any_entry(tmp_path):
    """A writer killed inside its write leaves a temporary folder; the next run's first write
    of *another* entry removes it (a killed writer's entry may never be asked for again), while
    a live writer's folder (its entry's lock held) is kept."""
    import numpy as np

    ctx = mp.get_context("spawn")
    root = tmp_path / "c"
    other = {"what": "other", "seed": 1}
    tmps = {}
    for name, params in (("killed", PARAMS), ("alive", other)):
        key = param_key("demo", params)
        tmps[name] = (Cache(root).path("demo", key).parent, f".tmp-{key[:12]}-*")
    killed = ctx.Process(target=_killed_writer, args=(root,))
    alive = ctx.Process(target=_killed_writer, args=(root, other))
    killed.start()
    alive.start()
    deadline = time.time() + 120
    while time.time() < deadline and not all(any(f.glob(g + "/*")) for f, g in tmps.values()):
        time.sleep(0.1)
    assert all(any(f.glob(g + "/*")) for f, g in tmps.values()), "the writers never wrote"
    os.kill(killed.pid, signal.SIGKILL)
    killed.join(10)
    try:
        Cache(root).get_or_compute("next", {"seed": 1}, lambda: {"v": np.ones(2)})
        folder, glob = tmps["killed"]
        assert not list(folder.glob(glob)), "the killed writer's leftovers were not cleaned"
        folder, glob = tmps["alive"]
        assert list(folder.glob(glob)), "a live writer's folder was removed"
    finally:
        alive.kill()
        alive.join(10)
    cache = Cache(root)  # the run after: the second writer is dead too now
    cache.get_or_compute("next", {"seed": 2}, lambda: {"v": np.ones(2)})
    assert not list(root.glob("*/*/.tmp-*")), "the dead writers' leftovers were not cleaned"
    assert cache.load("demo", PARAMS) is None and cache.load("demo", other) is None
