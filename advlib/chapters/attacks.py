"""Tables and figures of the "Attack library" chapter, from cached attack runs.

Kept out of the notebook so the page stays thin and the aggregation is tested: each function
takes :class:`~advlib.run.runner.AttackRun` results (or the attack benchmark's JSON) and returns a
``pandas.DataFrame`` or a matplotlib figure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from advlib import plots
from advlib.attacks.registry import attack_spec
from advlib.metrics import Proportion, ldb_x
from advlib.run.playback import playback_success
from advlib.run.runner import AttackRun, attack_clips, eot_victim, pick_clips
from advlib.run.universal import craft_uap, evaluate_uap, uap_space
from advlib.stats import wilson_interval
from advlib.study import Study
from advlib.study.profile import check_keys, fail, positive_int
from advlib.study.units import Unit, as_page_parameters, data_spec, study_args, unit_slug, victim_id
from advlib.tables import percent
from advlib.train.classifier import FittedVictim, predict_logits

__all__ = [
    "AttackPage",
    "Bench",
    "attack_run",
    "bench",
    "bench_table",
    "craft_universal",
    "eot_playback",
    "example",
    "glue_values",
    "listen",
    "playback_table",
    "plot_bench",
    "plot_success_and_snr",
    "run_attacks",
    "settings_table",
    "summary_display",
    "summary_table",
    "units",
    "universal",
    "universal_table",
    "victim_summary",
]


def _fmt_settings(settings: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (settings or {}).items()) or "defaults"


def settings_table(runs: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run label: attack, kind, norm, reference, study use, targets, settings."""
    rows = []
    for label, run in runs.items():
        spec = attack_spec(run.get("attack", label))
        t = run.get("targets")
        rows.append(
            {
                "run": label,
                "attack": spec.name,
                "kind": spec.kind,
                "distance": spec.norm,
                "reference": spec.reference,
                "used in the study for": spec.study,
                "targets": "untargeted" if t is None else ("label + 1" if t == "next" else t),
                "settings": _fmt_settings(run.get("settings")),
            }
        )
    return pd.DataFrame(rows).set_index("run")


def summary_table(
    results: Mapping[str, AttackRun], runs: Mapping[str, Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """Success (rate and Wilson interval), median norms and SNR of successful clips, passes
    and seconds per attacked clip, one row per run label."""
    rows = []
    for label, res in results.items():
        s = res.summary()
        p = res.success
        lo, hi = p.interval()
        n = max(s["attacked"], 1)
        attack = (runs or {}).get(label, {}).get("attack", label)
        rows.append(
            {
                "run": label,
                "attack": attack,
                "attacked": s["attacked"],
                "successes": p.successes,
                "success": p.rate,
                "95 % CI": f"[{100 * lo:.0f}, {100 * hi:.0f}] %",
                "median L2": s["median_l2"],
                "median Linf": s["median_linf"],
                "median SNR (dB)": s["median_snr_db"],
                "forward / clip": s["forward_samples"] / n,
                "backward / clip": s["backward_samples"] / n,
                "ms / clip": 1000 * s["seconds"] / n,
            }
        )
    df = pd.DataFrame(rows).set_index("run")
    return df.round(
        {
            "success": 3,
            "median L2": 4,
            "median Linf": 5,
            "median SNR (dB)": 1,
            "forward / clip": 1,
            "backward / clip": 1,
            "ms / clip": 1,
        }
    )


def plot_success_and_snr(summary: pd.DataFrame) -> plt.Figure:
    """Success rate with its interval (left) and median SNR of successful clips (right)."""
    labels = list(summary.index)
    y = np.arange(len(labels))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 0.35 * len(labels) + 1.5), sharey=True)
    rate = summary["success"].to_numpy(float)
    lo, hi = wilson_interval(summary["successes"].to_numpy(), summary["attacked"].to_numpy())
    err = np.vstack([rate - lo, hi - rate]).clip(min=0)
    ax1.barh(y, rate, xerr=err, color="tab:red", alpha=0.8, capsize=3)
    ax1.set_xlim(0, 1.02)
    ax1.set_xlabel("success rate (95 % Wilson interval)")
    ax1.set_yticks(y, labels)
    ax1.invert_yaxis()
    snr = summary["median SNR (dB)"].to_numpy(float)
    ax2.barh(y, np.nan_to_num(snr), color="tab:blue", alpha=0.8)
    ax2.set_xlabel("median SNR of successful clips (dB)")
    for yi, v in zip(y, snr):
        if not np.isfinite(v):
            ax2.text(0.5, yi, "no success", va="center", fontsize=8)
    fig.suptitle("Every attack on the same clips and victim")
    fig.tight_layout()
    return fig


def example(run: AttackRun) -> int | None:
    """Row of the successful clip with the median SNR (a typical example), or ``None``."""
    ok = run.table[run.table["success"]]
    if ok.empty:
        return None
    order = ok["snr_db"].sort_values(kind="stable")
    return int(order.index[len(order) // 2])


def bench_table(bench: Mapping[str, Any]) -> pd.DataFrame:
    """The attack benchmark's JSON as a table: one row per (attack, library)."""
    rows = [dict(r) for r in bench.get("results", [])]
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    keys = [k for k in ("attack", "library") if k in df.columns]
    return df.set_index(keys) if keys else df


def plot_bench(bench: Mapping[str, Any]) -> plt.Figure:
    """Wall time per attack and library (log scale), ours highlighted."""
    df = pd.DataFrame(bench.get("results", []))
    fig, ax = plt.subplots(figsize=(8, 3.5))
    if df.empty or "seconds" not in df.columns:
        ax.text(0.5, 0.5, "no benchmark results", ha="center")
        return fig
    piv = df.pivot_table(index="attack", columns="library", values="seconds", aggfunc="first")
    libs = list(piv.columns)
    if "advlib" in libs:
        libs = ["advlib"] + [c for c in libs if c != "advlib"]
    width = 0.8 / max(len(libs), 1)
    x = np.arange(len(piv.index))
    for i, lib in enumerate(libs):
        color = "tab:red" if lib == "advlib" else None
        ax.bar(x + i * width, piv[lib].to_numpy(float), width, label=lib, color=color)
    ax.set_xticks(x + width * (len(libs) - 1) / 2, piv.index, rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel("wall time (s)")
    ax.legend(fontsize=8)
    ax.set_title("Same attack, victim and clips: wall time per library")
    fig.tight_layout()
    return fig


def universal_table(
    results: Mapping[str, tuple[AttackRun, Mapping[str, Any]]], x: torch.Tensor
) -> pd.DataFrame:
    """One row per universal perturbation: success on held-out clips (Eq. 3, all clips), the
    share whose prediction differs from the true label, median SNR, the perturbation's
    loudness relative to the clips (median l_dB_x, UAP paper Eq. 4), crafting time and passes.

    ``results`` maps a label to ``(evaluation run, crafting record)``; ``x`` are the clean
    held-out clips the runs evaluated.
    """
    rows = []
    for label, (run, rec) in results.items():
        p = run.success
        lo, hi = p.interval()
        t = run.table
        delta = (run.x_adv - x).numpy()
        rows.append(
            {
                "run": label,
                "success (held out)": p.rate,
                "95 % CI": f"[{100 * lo:.0f}, {100 * hi:.0f}] %",
                "differs from label": float(t.loc[t["attacked"], "fooled_label"].mean()),
                "median SNR (dB)": float(t["snr_db"].median()),  # NaN (undefined) left out
                "median l_dB_x": float(np.nanmedian(ldb_x(delta, x.numpy()))),
                "max |v| (waveform)": float(np.abs(delta).max()),
                "craft s": rec["seconds"],
                "craft passes": rec["forward_samples"] + rec["backward_samples"],
            }
        )
    return pd.DataFrame(rows).set_index("run").round(3)


@torch.no_grad()
def playback_table(
    model: torch.nn.Module,
    runs: Mapping[str, AttackRun],
    clean_pred: torch.Tensor,
    *,
    draws: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Untargeted runs judged on ``model``: success played directly and under random playback
    (:func:`playback_success`, over the attacked clips), and the median SNR of the successes.

    The runs may have been crafted on another model (an :class:`~advlib.attacks.EOTModel`
    around ``model``), so success is recomputed here against ``clean_pred``, ``model``'s clean
    predictions of the same clips."""
    rows = []
    for name, r in runs.items():
        attacked = torch.as_tensor(r.table["attacked"].to_numpy().copy())
        adv_pred = predict_logits(model, r.x_adv).argmax(1)
        direct = Proportion(int((attacked & (adv_pred != clean_pred)).sum()), int(attacked.sum()))
        played = playback_success(model, r.x_adv, clean_pred, attacked, draws=draws, seed=seed)
        snr = r.table.loc[r.table["success"], "snr_db"].median()
        rows.append(
            {
                "attack": name,
                "success, played directly": str(direct),
                "success under random playback": str(played),
                "median SNR (dB)": round(float(snr), 1),
            }
        )
    return pd.DataFrame(rows).set_index("attack")


# --------------------------------------------------------------------------- the page


@dataclass
class AttackPage:
    """Every per-clip run of the page on one victim: ``results[label] = (run, clip indices,
    record)`` as :func:`~advlib.run.runner.attack_clips` returns them, their summary, and the
    test clips every run attacked (``x_test``, ``y_test``)."""

    dataset: str
    data: Any
    fit: FittedVictim
    runs: dict[str, dict[str, Any]]
    n: int
    batch_size: int
    results: dict[str, tuple[AttackRun, Any, Any]]
    summary: pd.DataFrame
    x_test: torch.Tensor
    y_test: torch.Tensor
    glue: dict[str, str] = field(default_factory=dict)


def victim_summary(fit: FittedVictim) -> str:
    """One line on the victim: its size and best validation accuracy."""
    return (
        f"{fit.name}: {fit.n_params:,} parameters, best validation accuracy "
        f"{100 * fit.best_valid_acc:.1f} % (epoch {fit.best_epoch})"
    )


def attack_run(
    study: Study,
    fit: FittedVictim,
    data: Any,
    label: str,
    run: Mapping[str, Any],
    *,
    n: int,
    batch_size: int,
    victim: Any = None,
) -> tuple[AttackRun, Any, Any]:
    """One run of the page (``label``: its name, the attack's unless ``run["attack"]``) on
    ``n`` class-balanced test clips, cached (:func:`~advlib.run.runner.attack_clips`);
    ``victim``: the model attacked instead of ``fit`` (the EOT comparison's)."""
    return attack_clips(
        study.cache, fit if victim is None else victim, data, run.get("attack", label),
        run.get("settings"), part="test", n=n, targets=run.get("targets"), seed=study.seed,
        batch_size=batch_size, progress=study.progress,
    )  # fmt: skip


def craft_universal(
    study: Study, fit: FittedVictim, data: Any, label: str, run: Mapping[str, Any], n_craft: int
) -> tuple[torch.Tensor, dict[str, Any], bool]:
    """One universal perturbation of the page's ``universal`` section, cached."""
    return craft_uap(
        study.cache, fit, data, run.get("attack", label), run.get("settings"), n=n_craft,
        target=run.get("target"), seed=study.seed,
    )  # fmt: skip


def run_attacks(
    study: Study,
    dataset: str,
    victim: str,
    runs: Mapping[str, Mapping[str, Any]],
    *,
    n: int,
    batch_size: int,
) -> AttackPage:
    """Every run of ``runs`` on the same ``n`` class-balanced test clips of the profile's
    ``victim`` on ``dataset`` (the cache entry its data set's page trained), in order."""
    data = study.dataset(dataset)
    fit = study.victim(dataset, victim)
    runs = {k: dict(v or {}) for k, v in runs.items()}
    results = {}
    for label, run in runs.items():
        results[label] = attack_run(study, fit, data, label, run, n=n, batch_size=batch_size)
    summary = summary_table({k: r[0] for k, r in results.items()}, runs)
    test = data.part("test")
    test_idx = pick_clips(test.y, n, seed=study.seed)  # the clips every run attacked
    page = AttackPage(
        dataset, data, fit, runs, n, batch_size, results, summary,
        test.x[test_idx], test.y[test_idx],
    )  # fmt: skip
    page.glue = glue_values(summary, n, len(runs))
    return page


def glue_values(summary: pd.DataFrame, n: int, n_runs: int) -> dict[str, str]:
    """The numbers the section's prose quotes: the most successful run, and the quietest of
    those that succeed on more than half of the clips ("none" / "n/a" when there is none)."""
    best = summary["success"].idxmax()
    out = {
        "n_clips": f"{n}",
        "n_runs": f"{n_runs}",
        "best_run": best,
        "best_rate": f"{100 * summary.loc[best, 'success']:.1f} %",
    }
    quiet = summary[summary["success"] > 0.5]["median SNR (dB)"]
    if len(quiet):
        out["quiet_run"] = quiet.idxmax()
        out["quiet_snr"] = f"{quiet.max():.1f} dB"
    else:
        out["quiet_run"], out["quiet_snr"] = "none", "n/a"
    return out


def summary_display(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`summary_table` for reading: success in percent with its interval, units in the
    headers."""
    lo, hi = wilson_interval(summary["successes"].to_numpy(), summary["attacked"].to_numpy())
    return pd.DataFrame(
        {
            "run": summary.index,
            "attack": summary["attack"].to_numpy(),
            "attacked clips": summary["attacked"].to_numpy(),
            "success [95 % CI]": [
                percent(p, a, b) for p, a, b in zip(summary["success"], lo, hi, strict=True)
            ],
            "median L2": summary["median L2"].to_numpy(),
            "median L-inf": summary["median Linf"].to_numpy(),
            "median SNR (dB)": summary["median SNR (dB)"].to_numpy(),
            "forward passes / clip": summary["forward / clip"].to_numpy(),
            "backward passes / clip": summary["backward / clip"].to_numpy(),
            "time / clip (ms)": summary["ms / clip"].to_numpy(),
        }
    )


SUMMARY_FORMATS = {
    "median L2": "{:.4f}",
    "median L-inf": "{:.5f}",
    "median SNR (dB)": "{:.1f}",
    "forward passes / clip": "{:.1f}",
    "backward passes / clip": "{:.1f}",
    "time / clip (ms)": "{:.1f}",
}


def listen(page: AttackPage, credit: str = "") -> list[Any]:
    """Per run, its typical successful clip (:func:`example`): a line naming it, then players
    of the clean clip, the adversarial clip and the perturbation alone."""
    from IPython.display import Markdown

    data, test = page.data, page.data.part("test")
    out: list[Any] = []
    for label, (run, idx, _) in page.results.items():
        pick = example(run)
        if pick is None:
            out.append(Markdown(f"**{label}**: no successful clip to play."))
            continue
        i = int(idx[pick])
        clean = test.x[i].numpy()
        adv = run.x_adv[pick].numpy()
        row = run.table.iloc[pick]
        out.append(Markdown(
            f"**{label}**: clip `{test.files[i]}`, {data.classes[row['clean_pred']]} -> "
            f"{data.classes[row['adv_pred']]}, SNR {row['snr_db']:.1f} dB"))  # fmt: skip
        for title, clip in (("clean", clean), ("adversarial", adv), ("perturbation", adv - clean)):
            out.append(plots.audio_player(clip, data.sample_rate, title=f"{label}: {title}",
                                          credit=credit))  # fmt: skip
    return out


def universal(
    study: Study, page: AttackPage, section: Mapping[str, Any] | None
) -> tuple[pd.DataFrame, plt.Figure] | None:
    """The section's universal perturbations (``None`` without one): each crafted on
    class-balanced training clips, evaluated on the page's test clips; their table
    (:func:`universal_table`) and a figure of each perturbation added to one clip."""
    if not section:
        return None
    uni = {}
    for label, run in section["runs"].items():
        method = run.get("attack", label)
        v, rec, _ = craft_universal(study, page.fit, page.data, label, run,
                                    section.get("n_craft", 64))  # fmt: skip
        res = evaluate_uap(
            page.fit.model, page.x_test, page.y_test, v,
            space=uap_space(method, run.get("settings")), target=run.get("target"),
        )  # fmt: skip
        uni[label] = (res, rec)
    table = universal_table(uni, page.x_test)
    fig, axes = plt.subplots(1, len(uni), figsize=(5 * len(uni), 2.4), squeeze=False)
    for ax, (label, (res, _)) in zip(axes[0], uni.items()):
        delta = (res.x_adv - page.x_test)[0].numpy()
        t = [i / page.data.sample_rate for i in range(len(delta))]
        ax.plot(t, delta, lw=0.5)
        ax.set_title(f"{label}: perturbation added to one clip")
        ax.set_xlabel("time (s)")
    fig.tight_layout()
    return table, fig


def eot_playback(study: Study, page: AttackPage, eot: Mapping[str, Any] | None):
    """The EOT comparison (``None`` without one): run ``eot["run"]`` again through
    :func:`~advlib.run.runner.eot_victim`, and judge both runs played directly and under random
    playback (:func:`playback_table`, 8 draws)."""
    if not eot:
        return None
    base = dict(page.runs[eot["run"]])
    plain = page.results[eot["run"]][0]
    eot_run, _, _ = attack_run(
        study, page.fit, page.data, eot["run"], base, n=page.n, batch_size=page.batch_size,
        victim=eot_victim(page.fit, samples=eot.get("samples", 4), seed=study.seed),
    )  # fmt: skip
    clean_pred = torch.as_tensor(plain.table["clean_pred"].to_numpy().copy())
    return playback_table(
        page.fit.model, {eot["run"]: plain, f"{eot['run']} + EOT": eot_run}, clean_pred,
        draws=8, seed=study.seed,
    )  # fmt: skip


@dataclass
class Bench:
    """The attack benchmark's tables and figure (:func:`bench`)."""

    table: pd.DataFrame
    figure: plt.Figure
    speedups: pd.DataFrame | None
    population: pd.DataFrame | None
    curves: plt.Figure | None = None


#: The columns of the speed-up table, those a benchmark file has (older files lack some).
SPEEDUP_COLUMNS = ("fastest_peer", "speedup", "asr_diff", "norm", "norm_ratio",
                   "fastest_matched_peer", "speedup_at_quality", "floor_ratio",
                   "peer_over_floor", "goal", "goal_met")  # fmt: skip


def bench(bench_file: str | Path | None) -> Bench | None:
    """The attack benchmark's JSON (``None`` when the file is not set or absent): its table,
    wall-time figure, per attack the speed-up over the fastest peer or the ratio to the floor
    where no peer has the attack (:data:`SPEEDUP_COLUMNS`), the GA/PSO population speed-ups,
    and the success-against-time curves of the minimal-norm attacks
    (:func:`advlib.plots.plot_success_curves`; ``None`` without curves)."""
    if not bench_file or not Path(bench_file).is_file():
        return None
    doc = json.loads(Path(bench_file).read_text())
    speed = {
        a: s
        for a, s in doc.get("speedups", {}).items()
        if s.get("speedup") is not None or s.get("floor_ratio") is not None
    }
    pop = {k: v for k, v in doc.get("population", {}).items() if "speedup" in v}
    pcols = ["batched_seconds", "loop_seconds", "speedup", "same_result"]
    fig = plot_bench(doc)
    plt.close(fig)  # the page displays it once, with its caption
    curves = None
    if any(any(libs.values()) for libs in (doc.get("curves") or {}).values()):
        curves = plots.plot_success_curves(doc["curves"])
        plt.close(curves)
    speedups = None
    if speed:
        speedups = pd.DataFrame(speed).T.rename_axis("attack")
        speedups = speedups[[c for c in SPEEDUP_COLUMNS if c in speedups.columns]]
    return Bench(
        bench_table(doc),
        fig,
        speedups,
        pd.DataFrame(pop).T[pcols].rename_axis("attack") if pop else None,
        curves,
    )


# The profile's ``attacks`` section: checked when the profile is loaded
# (advlib.chapters.load_profile).
_ATTACKS = {
    "dataset",
    "victim",
    "n",
    "batch_size",
    "runs",
    "universal",
    "eot",
    "bench_n",
    "bench_libraries",
}
_RUN = {"attack", "settings", "targets"}
_UNIVERSAL_RUN = {"attack", "settings", "target"}


def validate_section(att: Any, datasets: dict[str, Any], source: str) -> None:
    where = "attacks"
    check_keys(source, where, att, _ATTACKS, {"dataset", "victim", "runs"})
    if att["dataset"] not in datasets:
        fail(source, f"{where}.dataset", f"{att['dataset']!r} is not a data set of the profile")
    if att["victim"] not in datasets[att["dataset"]]["victims"]:
        fail(source, f"{where}.victim", f"{att['victim']!r} is not trained on {att['dataset']!r}")
    for key in ("n", "batch_size", "bench_n"):
        if key in att:
            positive_int(source, f"{where}.{key}", att[key])
    libs = att.get("bench_libraries", [])
    known = {"advlib", "torchattacks", "foolbox", "art"}
    if not isinstance(libs, list) or any(not isinstance(x, str) for x in libs) or set(libs) - known:
        fail(source, f"{where}.bench_libraries", f"must be a list of {sorted(known)}")
    runs = att["runs"]
    if not isinstance(runs, dict) or not runs:
        fail(source, f"{where}.runs", "must be a non-empty mapping of labels")
    for label, run in runs.items():
        run = _check_run(source, f"{where}.runs.{label}", label, run, universal=False)
        t = run.get("targets")
        if t is not None and t != "next" and (not isinstance(t, int) or t < 0):
            fail(source, f"{where}.runs.{label}.targets", "must be a class index or 'next'")
    uni = att.get("universal")
    if uni is not None:
        uwhere = f"{where}.universal"
        runs_ok = isinstance(uni, dict) and isinstance(uni.get("runs"), dict) and uni["runs"]
        if not runs_ok or set(uni) - {"n_craft", "runs"}:
            fail(source, uwhere, "must be a mapping with n_craft and a non-empty runs mapping")
        for label, run in uni["runs"].items():
            _check_run(source, f"{uwhere}.runs.{label}", label, run, universal=True)
    eot = att.get("eot")
    if eot is not None:
        ewhere = f"{where}.eot"
        if not isinstance(eot, dict) or set(eot) - {"run", "samples"}:
            fail(source, ewhere, "must be a mapping of run and samples")
        if eot.get("run") not in runs:
            fail(source, f"{ewhere}.run", f"{eot.get('run')!r} is not a label of attacks.runs")


def _check_run(source: str, where: str, label: str, run: Any, *, universal: bool) -> dict:
    """One run of the attacks section: known keys, a known attack of the right kind (per-clip
    under ``runs``, universal under ``universal.runs``) and settings it accepts."""
    from advlib.attacks.registry import attack_spec, make_attack

    run = run or {}
    if not isinstance(run, dict):
        fail(source, where, "must be a mapping")
    unknown = set(run) - (_UNIVERSAL_RUN if universal else _RUN)
    if unknown:
        fail(source, where, f"unknown key(s) {sorted(unknown)}")
    name = run.get("attack", label)
    try:
        kind = attack_spec(name).kind
        make_attack(name, run.get("settings") or {})
    except ValueError as exc:
        fail(source, where, str(exc))
    if universal and kind != "universal":
        fail(source, where, f"{name!r} is not a universal attack")
    if not universal and kind == "universal":
        fail(source, where, f"{name!r} is universal; the chapter runs per-clip attacks")
    return run


# --------------------------------------------------------------------------- units of work


def _unit_run(p: Mapping[str, Any], label: str, eot: bool, study: Study) -> None:
    data, fit = study.dataset(p["dataset"]), study.victim(p["dataset"], p["victim"])
    run = dict(p["runs"][label] or {})
    victim = None
    if eot:
        victim = eot_victim(fit, samples=p["eot"].get("samples", 4), seed=study.seed)
    attack_run(study, fit, data, label, run, n=p["n"], batch_size=p["batch_size"], victim=victim)


def _unit_universal(p: Mapping[str, Any], label: str, study: Study) -> None:
    sec = p["universal"]
    craft_universal(study, study.victim(p["dataset"], p["victim"]), study.dataset(p["dataset"]),
                    label, sec["runs"][label], sec.get("n_craft", 64))  # fmt: skip


def units(params: Mapping[str, Any]) -> list[Any]:
    """The attack library page's units (``params``: the page's parameters): each per-clip run
    on the victim, each universal perturbation, the EOT run. All are timed (their seconds are
    shown), so each runs alone on every core."""
    from functools import partial

    p = as_page_parameters(params)
    args = study_args(p)
    ds, v = p["dataset"], p["victim"]
    base = {"data": data_spec(p, ds), "victim": v, "config": p["datasets"][ds]["victims"][v],
            "n": p["n"], "batch_size": p["batch_size"]}  # fmt: skip
    needs = (victim_id(ds, v),)
    out = [
        Unit(
            f"attacks/run/{unit_slug(label)}",
            "attacks",
            args,
            {**base, "run": run},
            partial(_unit_run, p, label, False),
            needs,
            timing=True,
        )
        for label, run in p["runs"].items()
    ]
    uni = p.get("universal") or {}
    for label, run in (uni.get("runs") or {}).items():
        spec = {**base, "universal": run, "n_craft": uni.get("n_craft", 64)}
        out.append(Unit(f"attacks/universal/{unit_slug(label)}", "attacks", args, spec,
                        partial(_unit_universal, p, label), needs, timing=True))  # fmt: skip
    eot = p.get("eot")
    if eot:
        spec = {**base, "run": p["runs"][eot["run"]], "eot": eot}
        out.append(Unit(f"attacks/eot/{unit_slug(eot['run'])}", "attacks", args, spec,
                        partial(_unit_run, p, eot["run"], True), needs, timing=True))  # fmt: skip
    return out
