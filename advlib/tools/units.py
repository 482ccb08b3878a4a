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

__all__ = ["UNITS_DIR", "claim_gpu", "page_units", "profile_units", "run_unit", "sentinel"]

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


def run_unit(
    unit: Unit, out: str | Path | None = None, *, cache: Any = None, progress: bool = False
) -> dict[str, Any]:
    """Run ``unit`` (its chapter functions fill the cache) and, with ``out``, write its sentinel
    atomically. Returns the sentinel's record: id, page, the cache events (kind, key, hit,
    seconds), wall seconds, peak resident memory (MB), the device."""
    claimed = claim_gpu()
    if claimed is not None:
        os.environ["ADVLIB_DEVICE"] = claimed[0]
    study = unit.make_study(cache=cache, progress=progress)
    t0 = time.perf_counter()
    unit.run(study)
    seconds = time.perf_counter() - t0
    record = {
        "id": unit.id,
        "page": unit.page,
        "profile": unit.study["profile"],
        "spec": json.loads(unit.spec_json),
        "entries": [
            {"kind": e.kind, "key": e.key, "hit": e.hit, "seconds": round(e.seconds, 3)}
            for e in study.cache.events
        ],
        "computed": sum(not e.hit for e in study.cache.events),
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "device": os.environ.get("ADVLIB_DEVICE", "cpu"),
    }
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, path)
    if claimed is not None:
        claimed[1].release()
    return record
