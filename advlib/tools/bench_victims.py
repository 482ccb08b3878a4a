"""Benchmarks (``make bench``): throughput of each victim of a profile, written to JSON.

Speed is measured here, never in tests. For every victim at its profile size, on each data
set's clip length: forward and forward+backward clips per second at batch 32 on the CPU
(median of ``repeats`` timed runs after ``warmup`` untimed ones).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from advlib.chapters import load_profile
from advlib.cli import ArgumentParser, run
from advlib.models.registry import build_victim, count_parameters, victim_spec
from advlib.study.provenance import environment_info

__all__ = ["bench_victim", "main", "write_json"]


def bench_victim(
    model: torch.nn.Module, length: int, *, batch: int = 32, repeats: int = 5, warmup: int = 2
) -> dict[str, float]:
    """Median clips/s of forward (no grad) and forward+backward (grad w.r.t. the input)."""
    x = torch.rand(batch, length) * 2 - 1
    model.eval()

    def fwd() -> None:
        with torch.no_grad():
            model(x)

    def fwd_bwd() -> None:
        xi = x.clone().requires_grad_(True)
        model(xi).logsumexp(1).sum().backward()

    out = {}
    for label, fn in (("forward", fwd), ("forward_backward", fwd_bwd)):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out[f"{label}_clips_per_s"] = batch / statistics.median(times)
    return out


def write_json(doc: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``doc`` atomically (a temporary file in the same folder, then a rename)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, allow_nan=False, default=_jsonable) + "\n")
    tmp.replace(out)
    return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m advlib.tools.bench_victims")
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--out", default="bench/results.json")
    parser.add_argument("--batch", type=int, default=None, help="default: the profile's bench "
                        "section, else 32")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=None, help="default: the profile's, else 5")
    parser.add_argument("--warmup", type=int, default=None, help="default: the profile's, else 2")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_profile(args.profile)
    # a paper-size image victim holds about 10 GB per clip for a forward and backward pass: the
    # profile's bench section sizes the benchmark to it
    bench = {"batch": 32, "repeats": 5, "warmup": 2, **(cfg.get("bench") or {})}
    for k in bench:
        if getattr(args, k) is not None:
            bench[k] = getattr(args, k)
    results = []
    for ds_name, ds in cfg["datasets"].items():
        a = ds.get("args", {})
        length = a.get("length") or int(round(a.get("sample_rate", 8000) * a.get("duration", 1.0)))
        for v_name, v in ds["victims"].items():
            torch.manual_seed(0)
            knobs = dict(v.get("knobs") or {})
            if "sample_rate" in victim_spec(v_name).knobs:
                knobs.setdefault("sample_rate", a.get("sample_rate", 8000))
            model = build_victim(v_name, 10, length, **knobs)
            r = bench_victim(model, length, batch=bench["batch"], repeats=bench["repeats"],
                             warmup=bench["warmup"])  # fmt: skip
            r.update(
                dataset=ds_name, victim=v_name, input_length=length, params=count_parameters(model)
            )
            print(
                f"{ds_name:12s} {v_name:14s} fwd {r['forward_clips_per_s']:8.1f} clips/s  "
                f"fwd+bwd {r['forward_backward_clips_per_s']:8.1f} clips/s"
            )
            results.append(r)
    env = environment_info()
    doc = {
        "benchmark": "victim_throughput",
        "profile": args.profile,
        "batch": bench["batch"],
        "repeats": bench["repeats"],
        "warmup": bench["warmup"],
        "machine": platform.processor() or platform.machine(),
        "environment": env,
        "results": results,
    }
    print(f"wrote {write_json(doc, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
