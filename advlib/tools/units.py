"""Every unit of work of a profile, and running one (``python -m advlib unit``).

Each chapter enumerates its page's units from the page's parameters (``units(params)`` in
``advlib.chapters.*``, see :mod:`advlib.study.units`); :func:`profile_units` collects them for
every page of a profile, and :func:`run_unit` runs one and writes its sentinel: a small JSON
with the cache entries it computed or read, its seconds and peak memory, written atomically
(the pipeline's job output, ``data/units/<profile>/<id>.json``).

On a machine with several GPUs and ``--config device=cuda``, each unit job claims a free GPU
(a file lock per device, held while the job runs): with ``snakemake --resources gpu=N`` at most
``N`` model-running units run at once, one per GPU.

Each sentinel records what it takes to estimate the unit's cost at another size (the
reproducibility appendix scales the ``smoke`` profile's sentinels to the paper profile's): wall
and CPU seconds, the peak resident memory of the unit itself (the process's high-water mark is
reset when a unit starts, so the units of one batch are told apart, where Linux allows it;
``peak_rss_scope`` says ``unit`` or ``process``), torch's thread count, the device, and the size
of every data set the unit read (clips per partition, samples per clip); its ``spec`` holds
every setting (epochs, steps, batch sizes, clips attacked, ...).
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
    "profile_units",
    "run_batch",
    "run_unit",
    "run_units",
    "sentinel",
    "with_needs",
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


def with_needs(units: Mapping[str, Unit], ids: list[str]) -> list[str]:
    """``ids`` and every unit they need, directly or not, each after the units it needs."""
    todo, seen = list(ids), set()
    while todo:
        uid = todo.pop()
        if uid not in units:
            raise KeyError(f"no unit {uid!r}")
        if uid not in seen:
            seen.add(uid)
            todo += units[uid].needs
    return _needs_first(units, [u for u in units if u in seen])


def run_units(
    units: Mapping[str, Unit],
    ids: list[str],
    *,
    root: str | Path = ".",
    cache: Any = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Run units ``ids`` and the units they need (:func:`with_needs`) in this one process, each
    writing its sentinel under ``root``; the units of one page share a
    :class:`~advlib.study.Study`, as in :func:`run_batch`. Returns their records in run order
    (``python -m advlib unit --with-needs``; CI runs a covering part of the ``smoke`` profile
    so)."""
    return _run_in_order(units, with_needs(units, ids), root, cache, progress)


def _run_in_order(
    units: Mapping[str, Unit], order: list[str], root: str | Path, cache: Any, progress: bool
) -> list[dict[str, Any]]:
    """Run units ``order`` in this process, in that order, each writing its sentinel; units
    with the same Study arguments share one Study (data sets and fitted victims stay loaded)."""
    studies: dict[str, Any] = {}
    records = []
    for uid in order:
        unit = units[uid]
        key = json.dumps(unit.study, sort_keys=True, default=str)
        if key not in studies:
            studies[key] = unit.make_study(cache=cache, progress=progress)
        path = sentinel(unit.study["profile"], uid, root)
        records.append(run_unit(unit, path, study=studies[key]))
    return records


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
    t0 = time.perf_counter()
    records = _run_in_order(units, _needs_first(units, ids), root, cache, progress)
    summary = {
        "batch": name,
        "units": ids,
        "computed": sum(r["computed"] for r in records),
        "seconds": round(time.perf_counter() - t0, 3),
        # each unit resets the high-water mark: the batch's peak is its largest unit's
        "peak_rss_mb": max([_peak_rss_mb(), *(r["peak_rss_mb"] for r in records)]),
    }
    _atomic_json(Path(out), summary)
    return summary


def _reset_peak_rss() -> bool:
    """Reset this process's resident-memory high-water mark (Linux ``clear_refs``, value 5);
    False where that is not possible (then peaks are the process's since it started)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _peak_rss_mb() -> float:
    """The resident-memory high-water mark in MB: ``VmHWM`` (which :func:`_reset_peak_rss`
    resets), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _spec_datasets(spec: Any) -> set[str]:
    """The names of the data sets a unit's spec loads (its :func:`~advlib.study.units.data_spec`
    entries, at any depth)."""
    if isinstance(spec, Mapping):
        found = {spec["name"]} if "loader" in spec and isinstance(spec.get("name"), str) else set()
        return found.union(*(_spec_datasets(v) for v in spec.values()))
    if isinstance(spec, list | tuple):
        return set().union(*(_spec_datasets(v) for v in spec))
    return set()


def _data_sizes(unit: Unit, study: Any) -> dict[str, Any]:
    """Clips per partition and samples per clip of each data set of ``unit``'s spec that
    ``study`` has loaded."""
    out = {}
    names = _spec_datasets(unit.spec)
    for name, data in study.loaded().items():
        if name not in names:
            continue
        split = data.split.tolist()
        out[name] = {
            "clips": {p: split.count(p) for p in ("train", "valid", "test")},
            "length": int(data.length),
            "sample_rate": int(data.sample_rate),
            "classes": int(data.n_classes),
        }
    return out


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
    in (:func:`run_batch` shares one between a page's units); a new one by default. The
    record's sizes are described in the module docstring."""
    import torch

    claimed = claim_gpu()
    if claimed is not None:
        os.environ["ADVLIB_DEVICE"] = claimed[0]
    if study is None:
        study = unit.make_study(cache=cache, progress=progress)
    first = len(study.cache.events)
    scope = "unit" if _reset_peak_rss() else "process"
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    unit.run(study)
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
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
        "cpu_seconds": round(cpu, 3),
        "peak_rss_mb": _peak_rss_mb(),
        "peak_rss_scope": scope,
        "threads": torch.get_num_threads(),
        "device": os.environ.get("ADVLIB_DEVICE", "cpu"),
        "data": _data_sizes(unit, study),
    }
    if out is not None:
        _atomic_json(Path(out), record)
    if claimed is not None:
        claimed[1].release()
    return record
