"""Every unit of work of a profile, and running one (``python -m advlib unit``).

Each chapter enumerates its page's units from the page's parameters (``units(params)`` in
``advlib.chapters.*``, see :mod:`advlib.study.units`); :func:`profile_units` collects them for
every page of a profile, and :func:`run_unit` runs one and writes its sentinel: a small JSON
with the cache entries it computed or read, its seconds and peak memory, written atomically
(the pipeline's job output, ``data/units/<profile>/<id>.json``).

On a machine with several GPUs and ``--config device=cuda``, each unit job claims a free GPU
(a file lock per device, held while the job runs): with ``snakemake --resources gpu=N`` at most
``N`` model-running units run at once, one per GPU.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from advlib.chapters import at, attacks, gan, uap, victims
from advlib.study.units import Unit, check_units
from advlib.tools.pages import page_parameters

__all__ = [
    "UNITS_DIR",
    "batch_of",
    "batches",
    "claim_gpu",
    "page_units",
    "peak_rss_mb",
    "profile_units",
    "run_batch",
    "run_unit",
    "sentinel",
]

UNITS_DIR = "data/units"


def page_units(cfg: Mapping[str, Any], page: str, dataset: str | None = None) -> list[Unit]:
    """The units of one page of profile ``cfg`` (none for a page without heavy work)."""
    params = page_parameters(cfg, page, dataset=dataset)
    module = {"victims": victims, "attacks": attacks, "uap": uap, "at": at, "gan": gan}.get(page)
    return module.units(params) if module is not None else []


def profile_units(cfg: Mapping[str, Any]) -> dict[str, Unit]:
    """Every unit of profile ``cfg`` (:func:`advlib.chapters.load_profile`), by id, in the
    pages' order: each data set's victims, then the chapters the profile has."""
    out: list[Unit] = []
    for name in cfg["datasets"]:
        out += page_units(cfg, "victims", name)
    for page in ("attacks", "uap", "at", "gan"):
        if cfg.get(page):
            out += page_units(cfg, page)
    return check_units(out)


def sentinel(profile: str, uid: str, root: str | Path = ".") -> Path:
    """Where the pipeline keeps unit ``uid``'s sentinel."""
    return Path(root) / UNITS_DIR / profile / f"{uid}.json"


def claim_gpu(lock_dir: str | Path | None = None) -> tuple[str, Any] | None:
    """With ``$ADVLIB_DEVICE`` ``cuda`` (no index) and several visible GPUs, a free one:
    ``("cuda:i", lock)``, the lock held (by this process) until released or the process ends.
    ``None`` otherwise (one GPU, an explicit ``cuda:N``, or the CPU)."""
    if os.environ.get("ADVLIB_DEVICE", "cpu") != "cuda":
        return None
    import torch
    from filelock import FileLock, Timeout

    n = torch.cuda.device_count()
    if n <= 1:
        return None
    folder = Path(lock_dir or Path(tempfile.gettempdir()) / f"advlib-gpus-{os.getuid()}")
    folder.mkdir(parents=True, exist_ok=True)
    start = os.getpid() % n  # spread the first tries
    while True:
        for k in range(n):
            i = (start + k) % n
            lock = FileLock(str(folder / f"gpu{i}.lock"), timeout=0)
            try:
                lock.acquire()
            except Timeout:
                continue
            return f"cuda:{i}", lock
        time.sleep(1.0)  # every GPU busy (more jobs than --resources gpu=N): wait for one


def batch_of(unit: Unit) -> str:
    """The batch a unit belongs to when a small profile runs a page's units in one job: the
    victims of one data set (``victims-<data set>``), the AT cells of one representation with
    their attacks (``at-<representation>``: the AT page is most of a small profile's work, and
    its batches run side by side on the cores), the GAN's timed baselines (``gan-baselines``,
    alone on every core, apart from the generators), or the page."""
    seg = unit.id.split("/")
    if unit.page == "victims":
        return f"victims-{unit.dataset}"
    if unit.page == "at" and len(seg) > 3:
        return f"at-{seg[3]}"
    if unit.page == "gan" and len(seg) > 2 and seg[2] == "compare":
        return "gan-baselines"
    return unit.page


def batches(units: Mapping[str, Unit]) -> dict[str, list[str]]:
    """The units' ids by :func:`batch_of`, each batch in the units' order."""
    out: dict[str, list[str]] = {}
    for uid, unit in units.items():
        out.setdefault(batch_of(unit), []).append(uid)
    return out


def _atomic_json(path: Path, record: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def _needs_first(units: Mapping[str, Unit], ids: list[str]) -> list[str]:
    """``ids`` in an order where each unit comes after the units of ``ids`` it needs."""
    inside, done, order = set(ids), set(), []

    def visit(uid: str) -> None:
        if uid in done:
            return
        done.add(uid)
        for need in units[uid].needs:
            if need in inside:
                visit(need)
        order.append(uid)

    for uid in ids:
        visit(uid)
    return order


def run_batch(
    units: Mapping[str, Unit],
    name: str,
    out: str | Path,
    *,
    root: str | Path = ".",
    cache: Any = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run every unit of batch ``name`` (:func:`batches`) in this one process, each writing its
    own sentinel, then the batch's sentinel ``out`` (the ids and their records' totals).

    On a small machine a process per unit costs more than the unit (importing torch, loading
    the data set and the victims again: about 9 s per unit at ci, most units being short);
    units of one page share one :class:`~advlib.study.Study` here (its data sets and fitted
    victims stay loaded), as the page itself did before it was split. The cache entries are
    the same either way (they are keyed by their settings)."""
    ids = batches(units).get(name)
    if not ids:
        raise KeyError(f"no batch {name!r} (batches: {', '.join(sorted(batches(units)))})")
    studies: dict[str, Any] = {}
    records = []
    t0 = time.perf_counter()
    for uid in _needs_first(units, ids):
        unit = units[uid]
        key = json.dumps(unit.study, sort_keys=True, default=str)
        if key not in studies:
            studies[key] = unit.make_study(cache=cache, progress=progress)
        path = sentinel(unit.study["profile"], uid, root)
        records.append(run_unit(unit, path, study=studies[key]))
    summary = {
        "batch": name,
        "units": ids,
        "computed": sum(r["computed"] for r in records),
        "seconds": round(time.perf_counter() - t0, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    _atomic_json(Path(out), summary)
    return summary


def _reset_peak() -> None:
    """Start a new peak-memory window (Linux: ``/proc/self/clear_refs``), so that a unit run
    after others in one process (:func:`run_batch`) reports its own peak, not theirs."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # not Linux, or not allowed: the process's peak since it started
        pass


def peak_rss_mb() -> float:
    """Peak resident memory (MB) since the last :func:`_reset_peak` (Linux ``VmHWM``), else
    since the process started (``getrusage``)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_unit(
    unit: Unit,
    out: str | Path | None = None,
    *,
    cache: Any = None,
    progress: bool = False,
    study: Any = None,
) -> dict[str, Any]:
    """Run ``unit`` (its chapter functions fill the cache) and, with ``out``, write its sentinel
    atomically. Returns the sentinel's record: id, page, the cache events (kind, key, hit,
    seconds), wall seconds, peak resident memory (MB), the device. ``study``: a Study to work
    in (:func:`run_batch` shares one between a page's units); a new one by default."""
    claimed = claim_gpu()
    if claimed is not None:
        os.environ["ADVLIB_DEVICE"] = claimed[0]
    if study is None:
        study = unit.make_study(cache=cache, progress=progress)
    first = len(study.cache.events)
    _reset_peak()
    t0 = time.perf_counter()
    unit.run(study)
    seconds = time.perf_counter() - t0
    events = study.cache.events[first:]
    record = {
        "id": unit.id,
        "page": unit.page,
        "profile": unit.study["profile"],
        "spec": json.loads(unit.spec_json),
        "entries": [
            {"kind": e.kind, "key": e.key, "hit": e.hit, "seconds": round(e.seconds, 3)}
            for e in events
        ],
        "computed": sum(not e.hit for e in events),
        "seconds": round(seconds, 3),
        "peak_rss_mb": peak_rss_mb(),
        "device": os.environ.get("ADVLIB_DEVICE", "cpu"),
    }
    if out is not None:
        _atomic_json(Path(out), record)
    if claimed is not None:
        claimed[1].release()
    return record
