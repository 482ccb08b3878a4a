"""The paper profile's bill, before anyone pays it (``python -m advlib.tools.bill``).

The ``smoke`` profile runs every code path of the ``paper`` profile at the paper's model sizes,
input lengths and front-ends, on a few clips and one or two steps. Each of its units leaves a
sentinel with its wall seconds and peak resident memory (:mod:`advlib.tools.units`).
``collect`` gathers them, with the machine they ran on and the sizes of the smoke data sets,
into one measurement file (``data/bill/smoke-measured.json``, kept with the repository like any
other measured data). ``estimate`` turns it into the paper profile's bill:

* **Work.** Every unit's work is counted from its own settings as clips × iterations: a
  training unit's training clips × epochs (× 2 for FGSM training: one extra forward and
  backward per clip), an attack's attacked clips × steps × binary-search steps × samples ×
  budgets, a universal perturbation's crafting clips × passes × inner steps (iterative) or
  steps × batch (penalty), a generator's training clips × epochs × targets. Clip counts of the
  paper's data sets come from ``data/bill/paper_sizes.csv`` (with their sources); the smoke
  sets' from the measurement file.
* **Seconds.** A paper unit takes the seconds its smoke twin (same id) measured, times the ratio
  of their work. A unit the smoke run did not measure borrows the median seconds per unit of
  work of measured units of its kind (rule, and attack) on the same model (architecture or
  victim), else of its kind, else of its rule.
* **Memory.** Peak memory is the process's base plus the measured part above it scaled by the
  ratio of batch sizes (activations grow with the batch; weights and data do not).
* **Wall time.** The units' DAG (``needs``) with these times: the critical path (no number of
  GPUs beats it), and a greedy list schedule on N GPUs, one unit per GPU.

Where it is weakest, in order: the work is linear in clips and steps, which ignores early stops
(training's early stopping, UAP's fooling-rate stop, CW's abort: the bill is an upper bound for
those) and the per-unit start-up (model build, data loading: smoke units are dominated by it, so
short paper units are over-estimated); times are this machine's CPU, not a GPU (divide by the
GPU's measured speed-up: the table keeps CPU seconds); and memory is host memory on the CPU, not
device memory.
"""

from __future__ import annotations

import csv
import heapq
import json
import math
import os
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from advlib.paths import REPO_ROOT
from advlib.study.provenance import environment_info
from advlib.tools.units import _atomic_json

__all__ = [
    "PAPER_SIZES",
    "collect",
    "critical_path",
    "estimate",
    "kind_of",
    "load_paper_sizes",
    "main",
    "rule_of",
    "schedule",
    "work",
]

PAPER_SIZES = REPO_ROOT / "data" / "bill" / "paper_sizes.csv"
MEASURED = REPO_ROOT / "data" / "bill" / "smoke-measured.json"

#: Settings that multiply an attack's or a crafting run's model passes.
ITERATION_KEYS = ("steps", "binary_search_steps", "samples", "population", "particles")


def rule_of(uid: str) -> str:
    """The rule (kind of job) of unit ``uid``: ``victims``, ``at fit``, ``at attack``, ``uap``,
    ``uap section``, ``attacks``, ``gan generator``, ``gan baseline``."""
    seg = uid.split("/")
    if seg[0] == "at":
        return "at fit" if len(seg) == 6 else "at attack"
    if seg[0] == "uap":
        return "uap" if seg[1].startswith("t") or seg[1] == "variants" else "uap section"
    if seg[0] == "gan":
        return "gan baseline" if len(seg) > 2 and seg[2] == "compare" else "gan generator"
    return seg[0]


def kind_of(uid: str) -> str:
    """The rule, and for an attack unit the attack (``at attack bim_a``): units of one kind
    spend their work alike, so a kind's measured seconds per work stand for its other units."""
    rule = rule_of(uid)
    if rule in ("at attack", "attacks", "gan baseline"):
        return f"{rule} {uid.split('/')[-1 if rule != 'gan baseline' else 3]}"
    return rule


def model_of(uid: str, spec: Mapping[str, Any]) -> str:
    """The model a unit runs (its architecture or victim), for borrowing measured rates."""
    fit = spec.get("fit") or spec
    return str(fit.get("arch") or spec.get("victim") or uid.split("/")[-1])


def load_paper_sizes(path: str | Path = PAPER_SIZES) -> dict[str, dict[str, int]]:
    """Clip counts per part of the paper profile's data sets, by data set name."""
    with open(path, newline="", encoding="utf-8") as f:
        return {
            r["dataset"]: {k: int(r[k]) for k in ("train", "valid", "test", "n_classes")}
            for r in csv.DictReader(f)
        }


def _iterations(settings: Mapping[str, Any] | None) -> float:
    out = 1.0
    for k in ITERATION_KEYS:
        v = (settings or {}).get(k)
        if isinstance(v, int | float) and not isinstance(v, bool) and v > 0:
            out *= v
    return out


def _epochs(spec: Mapping[str, Any], default: int) -> float:
    for key in ("train", "recipe"):
        value = spec.get(key)
        if isinstance(value, Mapping) and value.get("epochs"):
            return float(value["epochs"])
    config = spec.get("config")
    if isinstance(config, Mapping) and isinstance(config.get("train"), Mapping):
        if config["train"].get("epochs"):
            return float(config["train"]["epochs"])
    return float(default)


def _default_epochs(uid: str, spec: Mapping[str, Any]) -> int:
    """The recipe's epochs when the spec leaves them to the paper recipe."""
    from advlib.models.registry import AT_RECIPE, victim_spec
    from advlib.train.generator import GanConfig

    rule = rule_of(uid)
    if rule == "at fit":
        return int(AT_RECIPE["epochs"])
    if rule == "gan generator":
        return GanConfig().epochs
    try:
        return int(victim_spec(str(spec.get("victim"))).recipe.get("epochs", 1))
    except (KeyError, ValueError):
        return 1


def work(uid: str, spec: Mapping[str, Any], sizes: Mapping[str, Mapping[str, int]]) -> float:
    """The work of unit ``uid`` with settings ``spec``, as clips × iterations (module doc);
    ``sizes``: clip counts per part of its data sets (:func:`load_paper_sizes`)."""
    rule = rule_of(uid)
    fit = spec.get("fit") if isinstance(spec.get("fit"), Mapping) else spec
    data = (fit.get("data") or {}).get("name")
    size = sizes.get(data, {"train": 1, "valid": 1, "test": 1, "n_classes": 1})

    def clips(n: Any, part: str = "test") -> float:
        return float(n) if isinstance(n, int) and n > 0 else float(size[part])

    if rule in ("victims", "at fit"):
        factor = 2.0 if (spec.get("adversarial") or {}).get("method") == "fgsm" else 1.0
        factor = factor if spec.get("adversarial") is not None or rule == "victims" else 1.0
        return _epochs(spec, _default_epochs(uid, spec)) * (size["train"] + size["valid"]) * factor
    if rule == "at attack":
        attack = spec.get("attack") or {}
        budgets = len(attack.get("budgets") or [None])
        return clips(spec.get("n")) * budgets * _iterations(attack.get("settings"))
    if rule == "attacks":
        run = spec.get("run") or spec.get("universal") or {}
        n = clips(spec.get("n_craft") if "universal" in spec else spec.get("n"))
        eot = (spec.get("eot") or {}).get("samples", 1)
        passes = (run.get("settings") or {}).get("max_passes", 1)
        return n * _iterations(run.get("settings")) * eot * passes + clips(spec.get("n"))
    if rule in ("uap", "uap section"):
        return _uap_work(uid, spec, size)
    if rule == "gan generator":
        targets = size["n_classes"] if spec.get("targets") == "all" else 1
        return _epochs(spec, _default_epochs(uid, spec)) * size["train"] * targets
    if rule == "gan baseline":
        settings = (spec.get("baseline") or {}).get("settings")
        targets = size["n_classes"] if spec.get("targets") == "all" else 1
        return clips(spec.get("n")) * _iterations(settings) * targets
    return 1.0


def _craft(method: str, settings: Mapping[str, Any], n_craft: float) -> float:
    if method == "uap_iterative":
        s = settings.get("inner_steps", 1) * settings.get("max_passes", 1)
        return n_craft * s
    return float(settings.get("steps", 1)) * float(settings.get("batch_size", 1))


def _uap_work(uid: str, spec: Mapping[str, Any], size: Mapping[str, int]) -> float:
    n_craft = float(spec.get("n_craft") or size["train"])
    n_eval = float(spec.get("n_eval") or size["test"])
    every = spec.get("scenario") == "targeted" and spec.get("target") in (None, "*")
    targets = size["n_classes"] if every else 1
    methods = spec.get("methods") or {}
    if "method" in spec:
        one = _craft(spec["method"], spec.get("settings") or {}, n_craft)
        return (one + n_eval) * targets
    penalty = _craft("uap_penalty", methods.get("uap_penalty") or {}, n_craft) + n_eval
    if uid.split("/")[1] == "variants":  # the code variant, every target of the scenario
        return penalty * targets
    section = spec.get("section") or {}
    runs = len(section.get("values") or [None]) * len(section.get("victims") or [None])
    if "draws" in section:  # playback: every victim's UAP replayed, draws × EOT samples
        return runs * n_eval * section.get("draws", 1) * section.get("eot_samples", 1)
    if "settings" in section:  # one clip per class, the section's steps
        return size["n_classes"] * float(section["settings"].get("steps", 1))
    return runs * penalty


def _batch(uid: str, spec: Mapping[str, Any]) -> float:
    """The batch size a unit's model sees (for scaling memory)."""
    if isinstance(spec.get("batch_size"), int):
        return float(spec["batch_size"])
    for key in ("train", "recipe"):
        if isinstance(spec.get(key), Mapping) and spec[key].get("batch_size"):
            return float(spec[key]["batch_size"])
    from advlib.models.registry import AT_RECIPE, victim_spec

    if rule_of(uid) == "at fit":
        return float(AT_RECIPE["batch_size"])
    try:
        return float(victim_spec(str(spec.get("victim"))).recipe.get("batch_size", 1))
    except (KeyError, ValueError):
        return 1.0


def collect(
    profile: str = "smoke",
    root: str | Path = ".",
    sizes: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    """The measurement file of a run of ``profile``: every unit sentinel under
    ``data/units/<profile>`` (id, seconds, peak MB, batch, work), the data sets' clip counts,
    and the machine. ``sizes``: the profile's clip counts (default: loaded from its data)."""
    folder = Path(root) / "data" / "units" / profile
    sentinels = sorted(p for p in folder.rglob("*.json") if "_batches" not in p.parts)
    if not sentinels:
        raise FileNotFoundError(
            f"no unit sentinels under {folder}: run the {profile} profile first"
        )
    if sizes is None:
        sizes = _profile_sizes(profile)
    units = []
    for path in sentinels:
        rec = json.loads(path.read_text())
        spec = rec["spec"]["spec"]
        units.append({
            "id": rec["id"], "seconds": rec["seconds"], "peak_rss_mb": rec["peak_rss_mb"],
            "batch": _batch(rec["id"], spec), "work": work(rec["id"], spec, sizes),
            "computed": rec.get("computed"),
        })  # fmt: skip
    env = environment_info(())
    return {
        "profile": profile,
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": env["git_commit"],
        "machine": {
            "cpus": os.cpu_count(),
            "platform": env["platform"],
            "python": env["python"],
            "torch_threads": env["torch_threads"],
        },
        "sizes": {k: dict(v) for k, v in sizes.items()},
        "units": units,
    }


def _profile_sizes(profile: str) -> dict[str, dict[str, int]]:
    from advlib.study.profile import load_profile
    from advlib.study.session import Study

    cfg = load_profile(profile)
    study = Study(profile, cfg["seed"], cfg["datasets"], notebook="bill")
    out = {}
    for name in cfg["datasets"]:
        ds = study.dataset(name)
        parts = {p: int((ds.split == p).sum()) for p in ("train", "valid", "test")}
        out[name] = {**parts, "n_classes": len(ds.classes)}
    return out


def critical_path(
    durations: Mapping[str, float], needs: Mapping[str, Sequence[str]]
) -> tuple[float, list[str]]:
    """The longest chain of the DAG (``needs``: each unit's prerequisites), its length and ids."""
    finish: dict[str, float] = {}
    prev: dict[str, str | None] = {}

    def visit(uid: str, stack: frozenset = frozenset()) -> float:
        if uid in finish:
            return finish[uid]
        if uid in stack:
            raise ValueError(f"the units' needs form a cycle through {uid!r}")
        best, arg = 0.0, None
        for n in needs.get(uid, ()):
            t = visit(n, stack | {uid})
            if t > best:
                best, arg = t, n
        finish[uid], prev[uid] = best + durations[uid], arg
        return finish[uid]

    for uid in durations:
        visit(uid)
    end = max(finish, key=finish.get) if finish else None
    path: list[str] = []
    while end is not None:
        path.append(end)
        end = prev[end]
    return (max(finish.values()) if finish else 0.0), path[::-1]


def schedule(
    durations: Mapping[str, float], needs: Mapping[str, Sequence[str]], workers: int
) -> float:
    """Makespan of a greedy list schedule on ``workers`` (GPUs): whenever one is free it takes
    the ready unit with the longest remaining path (the usual critical-path heuristic)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    users: dict[str, list[str]] = {u: [] for u in durations}
    for u, ns in needs.items():
        for n in ns:
            users[n].append(u)
    tail: dict[str, float] = {}

    def rest(u: str) -> float:
        if u not in tail:
            tail[u] = durations[u] + max((rest(v) for v in users[u]), default=0.0)
        return tail[u]

    sys.setrecursionlimit(max(10_000, 4 * len(durations)))
    waiting = {u: len(needs.get(u, ())) for u in durations}
    ready = [(-rest(u), u) for u, k in waiting.items() if k == 0]
    heapq.heapify(ready)
    running: list[tuple[float, str]] = []
    now, free = 0.0, workers
    while ready or running:
        while ready and free:
            _, u = heapq.heappop(ready)
            heapq.heappush(running, (now + durations[u], u))
            free -= 1
        now, u = heapq.heappop(running)
        free += 1
        for v in users[u]:
            waiting[v] -= 1
            if waiting[v] == 0:
                heapq.heappush(ready, (-rest(v), v))
    return now


def estimate(
    measured: Mapping[str, Any],
    units: Mapping[str, Any],
    sizes: Mapping[str, Mapping[str, int]],
    *,
    workers: Iterable[int] = (1, 4, 8, 32, 100),
) -> dict[str, Any]:
    """The bill of ``units`` (the paper profile's, :func:`advlib.tools.units.profile_units`)
    from the ``measured`` smoke run (:func:`collect`) and the paper's clip counts ``sizes``."""
    rows = {u["id"]: u for u in measured["units"] if u["work"] > 0 and u["seconds"] > 0}
    base = min((u["peak_rss_mb"] for u in rows.values()), default=0.0)
    by_model: dict[tuple[str, str], list[dict]] = {}
    by_kind: dict[str, list[dict]] = {}
    by_rule: dict[str, list[dict]] = {}
    for uid, u in rows.items():
        spec = units[uid].spec if uid in units else {}
        by_model.setdefault((kind_of(uid), model_of(uid, spec)), []).append(u)
        by_kind.setdefault(kind_of(uid), []).append(u)
        by_rule.setdefault(rule_of(uid), []).append(u)

    def rate(us: list[dict]) -> tuple[float, float]:  # seconds per work, MB above base per batch
        return (statistics.median(u["seconds"] / u["work"] for u in us),
                statistics.median((u["peak_rss_mb"] - base) / u["batch"] for u in us))  # fmt: skip

    jobs = []
    for uid, unit in units.items():
        w, b = work(uid, unit.spec, sizes), _batch(uid, unit.spec)
        rule, model = rule_of(uid), model_of(uid, unit.spec)
        if uid in rows:
            m = rows[uid]
            sec = m["seconds"] * w / m["work"]
            mb = base + (m["peak_rss_mb"] - base) * b / m["batch"]
            basis = "same unit"
        else:
            kind = kind_of(uid)
            peers, basis = by_model.get((kind, model)), "same kind and model"
            if not peers:
                peers, basis = by_kind.get(kind), "same kind"
            if not peers:
                peers, basis = by_rule.get(rule), "same rule"
            if not peers:
                nan = math.nan
                jobs.append({"id": uid, "rule": rule, "model": model, "work": w,
                             "seconds": nan, "mem_mb": nan, "basis": "not measured"})  # fmt: skip
                continue
            s_per_w, mb_per_b = rate(peers)
            sec, mb = s_per_w * w, base + mb_per_b * b
        jobs.append({"id": uid, "rule": rule, "model": model, "work": w, "seconds": sec,
                     "mem_mb": mb, "basis": basis})  # fmt: skip
    known = {j["id"]: j["seconds"] for j in jobs if not math.isnan(j["seconds"])}
    needs = {u: [n for n in units[u].needs if n in known] for u in known}
    length, path = critical_path(known, needs)
    return {
        "measured": {k: measured[k] for k in ("profile", "measured", "commit", "machine")},
        "jobs": jobs,
        "critical_path": {"seconds": length, "units": path},
        "wall": {str(n): schedule(known, needs, n) for n in workers},
        "total_seconds": sum(known.values()),
        "not_measured": sorted(j["id"] for j in jobs if j["basis"] == "not measured"),
    }


def main(argv: list[str] | None = None) -> int:
    """``collect`` a smoke run's sentinels, or ``estimate`` the paper profile's bill."""
    from advlib.cli import ArgumentParser

    parser = ArgumentParser(prog="python -m advlib.tools.bill", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="gather a smoke run's unit sentinels into one file")
    c.add_argument("--profile", default="smoke")
    c.add_argument("--out", default=str(MEASURED))
    e = sub.add_parser("estimate", help="the paper profile's bill from a measurement file")
    e.add_argument("--measured", default=str(MEASURED))
    e.add_argument("--profile", default="paper")
    e.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.command == "collect":
        record = collect(args.profile)
        _atomic_json(Path(args.out), record)
        print(f"{len(record['units'])} units measured -> {args.out}")
        return 0
    from advlib.study.profile import load_profile
    from advlib.tools.units import profile_units

    path = Path(args.measured)
    if not path.is_file():
        record = {"measured": None, "reason": f"no measurement file {path.name} yet"}
    else:
        units = profile_units(load_profile(args.profile))
        record = estimate(json.loads(path.read_text()), units, load_paper_sizes())
    _atomic_json(Path(args.out), record)
    return 0


if __name__ == "__main__":
    from advlib.cli import run

    raise SystemExit(run(main))
