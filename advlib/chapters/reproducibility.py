"""The "Reproducibility" appendix: what ran, with which parameters, for how long, on what.

Every executed page carries papermill's record (parameters, start, wall time) and its own
provenance block (cache entries computed or reused, software); this module turns those, and the
victim-throughput benchmark (``python -m advlib.tools.bench_victims``), into the page's tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from advlib.study.provenance import collect_executed, environment_info

__all__ = [
    "BILL_FORMATS",
    "bill",
    "bill_longest",
    "bill_rules",
    "bill_source",
    "bill_wall",
    "cache_table",
    "environment_table",
    "executed",
    "pages_table",
    "parameters_table",
    "plot_throughput",
    "throughput",
    "throughput_table",
]


def executed(folder: str | Path, exclude: list[str] | tuple[str, ...] = ()) -> list[dict]:
    """Every executed page under ``folder`` (papermill's record and its provenance)."""
    return [r for r in collect_executed(folder) if r["notebook"] not in exclude]


def pages_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per executed page: its source, profile, seed, start and wall time."""
    rows = [
        {
            "page": r["notebook"],
            "source": r["input"] or "",
            "profile": r["parameters"].get("profile"),
            "seed": r["parameters"].get("seed"),
            "started (UTC)": (r["start"] or "")[:19],
            "wall time (s)": None if r["duration_s"] is None else round(r["duration_s"], 1),
            "failed": bool(r["exception"]),
        }
        for r in records
    ]
    cols = ["page", "source", "profile", "seed", "started (UTC)", "wall time (s)", "failed"]
    return pd.DataFrame(rows, columns=cols)


def parameters_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Every parameter of every page (its value as Python writes it)."""
    rows = [
        {"page": r["notebook"], "parameter": k, "value": repr(v)}
        for r in records
        for k, v in sorted(r["parameters"].items())
    ]
    return pd.DataFrame(rows, columns=["page", "parameter", "value"])


def cache_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Every cache entry a page computed or reused, with its kind, key and seconds."""
    rows = [
        {
            "page": r["notebook"],
            "kind": e["kind"],
            "key": e["key"][:16],
            "status": "cached" if e["hit"] else "computed",
            "seconds": e["seconds"],
        }
        for r in records
        for e in r["provenance"].get("cache", [])
    ]
    return pd.DataFrame(rows, columns=["page", "kind", "key", "status", "seconds"])


def throughput(bench_file: str | Path | None) -> pd.DataFrame | None:
    """The victim-throughput benchmark of this run (``None`` when the run has none)."""
    if not bench_file or not Path(bench_file).exists():
        return None
    tp = pd.DataFrame(json.loads(Path(bench_file).read_text())["results"])
    tp["case"] = tp["victim"] + " / " + tp["dataset"]
    return tp


def plot_throughput(tp: pd.DataFrame) -> Any:
    """Clips per second, forward and forward + backward, one bar pair per victim (log scale)."""
    ax = tp.set_index("case")[["forward_clips_per_s", "forward_backward_clips_per_s"]].plot.barh(
        figsize=(8, 0.5 * len(tp) + 1.5), logx=True
    )
    ax.set(xlabel="clips per second (log scale)", ylabel="")
    ax.legend(["forward", "forward + backward (input gradient)"], loc="lower right")
    plt.tight_layout()
    return ax.figure


def throughput_table(tp: pd.DataFrame) -> pd.DataFrame:
    """The benchmark's numbers per (data set, victim)."""
    t = tp[["dataset", "victim", "params", "input_length", "forward_clips_per_s",
            "forward_backward_clips_per_s"]]  # fmt: skip
    return t.rename(
        columns={
            "dataset": "data set",
            "params": "parameters",
            "input_length": "input (samples)",
            "forward_clips_per_s": "forward (clips/s)",
            "forward_backward_clips_per_s": "forward + backward (clips/s)",
        }
    )


def environment_table(profile: str) -> pd.DataFrame:
    """The software and machine this build ran on."""
    env = environment_info()
    rows = {
        "profile": profile,
        "git commit": env["git_commit"],
        "python": env["python"],
        "platform": env["platform"],
        "torch threads": env["torch_threads"],
        **{f"package: {k}": v for k, v in env["packages"].items()},
    }
    return pd.DataFrame({"what": list(rows), "value": [str(v) for v in rows.values()]})


#: Number formats of :func:`bill_rules`' columns.
BILL_FORMATS = {
    "CPU hours, all jobs": "{:,.1f}",
    "hours per job, median": "{:.2f}",
    "hours per job, longest": "{:.2f}",
    "peak memory, largest job (GB)": "{:.1f}",
}


def bill(bill_file: str | Path | None) -> dict[str, Any] | None:
    """The paper profile's estimated bill (``python -m advlib.tools.bill estimate``), or
    ``None`` when this run has none or no smoke measurement existed to make it."""
    if not bill_file or not Path(bill_file).exists():
        return None
    record = json.loads(Path(bill_file).read_text())
    return record if record.get("measured") else None


def bill_rules(record: dict[str, Any]) -> pd.DataFrame:
    """Per rule of the paper profile: its jobs, how their times were estimated, the estimated
    CPU hours in all and per job (median, longest) and the largest job's peak memory."""
    jobs = pd.DataFrame(record["jobs"])
    jobs["hours"] = jobs["seconds"] / 3600
    g = jobs.groupby("rule", sort=False)
    out = pd.DataFrame({
        "jobs": g.size(),
        "measured (same unit)": g["basis"].apply(lambda b: int((b == "same unit").sum())),
        "not measured": g["seconds"].apply(lambda s: int(s.isna().sum())),
        "CPU hours, all jobs": g["hours"].sum(min_count=1),
        "hours per job, median": g["hours"].median(),
        "hours per job, longest": g["hours"].max(),
        "peak memory, largest job (GB)": g["mem_mb"].max() / 1024,
    })  # fmt: skip
    total = pd.DataFrame({
        "jobs": [len(jobs)],
        "measured (same unit)": [int((jobs["basis"] == "same unit").sum())],
        "not measured": [int(jobs["seconds"].isna().sum())],
        "CPU hours, all jobs": [jobs["hours"].sum()],
        "hours per job, median": [jobs["hours"].median()],
        "hours per job, longest": [jobs["hours"].max()],
        "peak memory, largest job (GB)": [jobs["mem_mb"].max() / 1024],
    }, index=["all rules"])  # fmt: skip
    return pd.concat([out, total]).rename_axis("rule").reset_index()


def bill_wall(record: dict[str, Any]) -> pd.DataFrame:
    """Estimated wall time of the whole paper profile on N workers (GPUs, one job each), beside
    the critical path (no number of workers beats it) and the total."""
    rows = [{"workers": f"{n}", "wall time (days)": s / 86400} for n, s in record["wall"].items()]
    rows.append({"workers": "unlimited (critical path)",
                 "wall time (days)": record["critical_path"]["seconds"] / 86400})  # fmt: skip
    return pd.DataFrame(rows)


def bill_longest(record: dict[str, Any], n: int = 10) -> pd.DataFrame:
    """The ``n`` longest jobs and the critical path's jobs, with their estimates."""
    jobs = pd.DataFrame(record["jobs"]).dropna(subset=["seconds"])
    path = set(record["critical_path"]["units"])
    top = jobs.nlargest(n, "seconds").assign(
        **{"on the critical path": lambda d: d["id"].isin(path)}
    )
    top["hours"] = top["seconds"] / 3600
    top["peak memory (GB)"] = top["mem_mb"] / 1024
    return top[["id", "rule", "hours", "peak memory (GB)", "basis", "on the critical path"]]


def bill_source(record: dict[str, Any]) -> str:
    """Where the measurements behind the bill come from (profile, date, commit, machine)."""
    m = record["measured"]
    mach = m.get("machine") or {}
    return (f"the `{m['profile']}` run of commit {m.get('commit') or '?'} measured on "
            f"{m['measured']}, {mach.get('cpus', '?')} CPUs, {mach.get('torch_threads', '?')} "
            f"torch threads ({mach.get('platform', '?')})")  # fmt: skip
