"""The "Generative attacks" chapter: the GAN paper's figures and tables from cached generators.

Paper: Wang et al., "Towards speech adversarial examples with GAN" (SpeechAdvGan; study spec
rows GAN-F4/5, GAN-T1, GAN-T2, GAN-F6, GAN-F8/9). One generator per target class
(:func:`advlib.train.generator.fit_generator`) crafts targeted adversarial clips in one forward pass
(:func:`advlib.attacks.gan.gan_attack`); this module evaluates them:

* :func:`gan_examples`: every held-out clip not of the target, through the target's generator,
  judged by the victim: one row per (target, clip) with success, SNR and the crafting time;
* :func:`success_matrix` (Figs. 4-5): targeted success rate per (source class, target);
* :func:`quality_table` (Table 2): SNR, PESQ and STOI per target;
* :func:`compare_table` (Table 1): the GAN against the genetic algorithm (Alzantot et al.) and
  particle swarm (SirenAttack) on the same clips, targets and victim, timed in one run;
* :func:`error_rates` (Fig. 6): the attack error rate (1 - success) of every (source, target)
  pair, per victim, for a box plot;
* :func:`transfer_table` and :func:`playback_table` (beyond the paper): the same adversarial
  clips judged by other victims, and after simulated playback
  (:func:`advlib.attacks.eot.random_playback`).

Success is the study's targeted success (spec section 2): the prediction equals the target; clips
of the target class are never attacked. SNR is :func:`advlib.metrics.snr_db` (paper Eq. 15).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

from advlib.attacks.eot import random_playback
from advlib.attacks.gan import gan_attack
from advlib.attacks.registry import make_attack
from advlib.cache import Cache
from advlib.metrics import pesq_score, snr_db, stoi_score
from advlib.run.runner import run_attack
from advlib.study.profile import check_keys, fail, positive_int
from advlib.train.classifier import predict_logits
from advlib.train.generator import FittedGenerator

__all__ = [
    "compare_table",
    "error_rates",
    "gan_examples",
    "playback_table",
    "plot_ablation",
    "plot_error_boxes",
    "plot_success_matrix",
    "quality_table",
    "success_matrix",
    "transfer_table",
]


def _craft(gen: FittedGenerator, x: torch.Tensor, target: int, batch_size: int = 256):
    """Adversarial clips for ``target`` and the wall time of the generator passes."""
    t = torch.full((len(x),), target, dtype=torch.long)
    t0 = time.perf_counter()
    out = [
        gan_attack(
            None,
            x[i : i + batch_size],
            t[i : i + batch_size],
            net=gen.generator,
            net_target=None if gen.config.conditional else target,
            variant=gen.config.variant,
        )
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(out), time.perf_counter() - t0


def gan_examples(
    generators: Mapping[int, FittedGenerator],
    victim: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
) -> tuple[pd.DataFrame, dict[int, torch.Tensor]]:
    """Every clip of ``x`` not of each target, through that target's generator.

    Returns the per-(target, clip) table (``target``, ``clip``, ``source``, ``clean_pred``,
    ``adv_pred``, ``success``, ``snr_db``, ``seconds`` (the clip's share of its generator
    passes)) and the adversarial clips per target (all of ``x``; rows of the target class are
    copies of the clean clip).
    """
    clean = predict_logits(victim, x).argmax(1)
    rows, adv = [], {}
    for target, gen in generators.items():
        keep = y != target
        idx = torch.nonzero(keep).flatten()
        xa, secs = _craft(gen, x[idx], target)
        full = x.clone()
        full[idx] = xa
        adv[target] = full
        pred = predict_logits(victim, xa).argmax(1)
        rows.append(
            pd.DataFrame(
                {
                    "target": target,
                    "clip": idx.numpy(),
                    "source": y[idx].numpy(),
                    "clean_pred": clean[idx].numpy(),
                    "adv_pred": pred.numpy(),
                    "success": (pred == target).numpy(),
                    "snr_db": snr_db(x[idx].numpy(), (xa - x[idx]).numpy()),
                    "seconds": secs / max(len(idx), 1),
                }
            )
        )
    return pd.concat(rows, ignore_index=True), adv


def success_matrix(table: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Figs. 4-5: targeted success rate per (source class row, target column); NaN on the
    diagonal (never attacked)."""
    m = table.pivot_table(index="source", columns="target", values="success", aggfunc="mean")
    k = len(classes)
    m = m.reindex(index=range(k), columns=range(k))
    m.index = [classes[i] for i in m.index]
    m.columns = [classes[j] for j in m.columns]
    return m


def plot_success_matrix(matrix: pd.DataFrame, *, title: str = "") -> plt.Figure:
    """The source x target success matrix as an annotated heat map (percent)."""
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * matrix.shape[1], 0.8 + 0.5 * matrix.shape[0]))
    im = ax.imshow(100 * matrix.to_numpy(dtype=float), vmin=0, vmax=100, cmap="viridis")
    for (i, j), v in np.ndenumerate(matrix.to_numpy(dtype=float)):
        if np.isfinite(v):
            ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=7,
                    color="white" if v < 0.6 else "black")  # fmt: skip
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(matrix.shape[0]), matrix.index, fontsize=8)
    ax.set_xlabel("target")
    ax.set_ylabel("source (true class)")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="targeted success %")
    fig.tight_layout()
    return fig


def quality_table(
    table: pd.DataFrame,
    adv: Mapping[int, torch.Tensor],
    x: torch.Tensor,
    classes: Sequence[str],
    sample_rate: int,
    *,
    max_clips: int | None = None,
) -> pd.DataFrame:
    """Table 2: per target, the mean SNR (dB), PESQ and STOI between each clean clip and its
    adversarial version (over the attacked clips; PESQ and STOI on the first ``max_clips``
    of them, they are slow). PESQ needs 8 or 16 kHz; at other rates it is left empty."""
    rows = []
    for target, g in table.groupby("target", sort=True):
        clips = g["clip"].to_numpy()
        some = clips if max_clips is None else clips[:max_clips]
        ref, deg = x[some].numpy(), adv[int(target)][some].numpy()
        row = {
            "target": classes[int(target)],
            "clips": len(clips),
            "success": float(g["success"].mean()),
            "snr_db": float(g["snr_db"].mean()),
        }
        if sample_rate in (8000, 16000):
            row["pesq"] = float(np.nanmean(pesq_score(ref, deg, sample_rate)))
        row["stoi"] = float(np.nanmean(stoi_score(ref, deg, sample_rate)))
        rows.append(row)
    out = pd.DataFrame(rows)
    mean = out.drop(columns=["target"]).mean(numeric_only=True)
    mean["clips"] = out["clips"].sum()
    return pd.concat([out, pd.DataFrame([{"target": "average", **mean.to_dict()}])],
                     ignore_index=True)  # fmt: skip


def compare_table(
    cache: Cache,
    generators: Mapping[int, FittedGenerator],
    victim_fit: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    baselines: Mapping[str, Mapping[str, Any]],
    *,
    seed: int = 0,
    progress: bool = True,
    return_seconds: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Table 1: the GAN against the baselines on the same clips, targets and victim.

    Every clip of ``x`` is attacked toward every target of ``generators`` other than its own
    class. ``baselines`` maps a label (``genetic``, ``pso``) to ``{attack, settings}``; the
    baselines' runs are cached (their per-clip seconds come from the run that filled the
    cache; the GAN is re-timed here, it takes milliseconds). Returns one row per method:
    success rate, mean SNR (dB), seconds per example, examples; with ``return_seconds`` also
    each method's per-example seconds (for a test of the speed claim).
    """
    victim = victim_fit.model
    table, _ = gan_examples(generators, victim, x, y)
    rows = [{"method": "gan", "success": table["success"].mean(),
             "snr_db": table["snr_db"].mean(), "seconds": table["seconds"].mean(),
             "examples": len(table)}]  # fmt: skip
    seconds = {"gan": table["seconds"].to_numpy()}
    for label, cfg in baselines.items():
        parts = []
        for target in generators:
            keep = torch.nonzero(y != target).flatten()
            params = {"victim": victim_fit.cache_key, "x": x[keep], "target": target,
                      "attack": dict(cfg), "seed": seed}  # fmt: skip

            def compute(keep=keep, target=target, cfg=cfg, label=label) -> dict[str, Any]:
                attack = make_attack(cfg["attack"], cfg.get("settings"), seed=seed)
                run = run_attack(victim, x[keep], y[keep], attack, targets=target,
                                 progress=progress, desc=f"{label} -> {target}")  # fmt: skip
                return {"table": run.table}

            payload, _ = cache.fetch("gan_baseline", params, compute)
            parts.append(payload["table"])
        t = pd.concat(parts, ignore_index=True)
        t = t[t["attacked"]]
        rows.append({"method": label, "success": t["success"].mean(),
                     "snr_db": t["snr_db"].replace(np.inf, np.nan).mean(),
                     "seconds": t["seconds"].mean(), "examples": len(t)})  # fmt: skip
        seconds[label] = t["seconds"].to_numpy()
    out = pd.DataFrame(rows)
    return (out, seconds) if return_seconds else out


def error_rates(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Fig. 6: attack error rate (1 - targeted success) of every (source, target) pair, per
    victim; ``tables`` maps a victim's name to its :func:`gan_examples` table."""
    rows = []
    for name, t in tables.items():
        g = t.groupby(["source", "target"])["success"].mean()
        rows.append(pd.DataFrame({"victim": name, "error_rate": 1.0 - g.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def plot_error_boxes(errors: pd.DataFrame, *, title: str = "") -> plt.Figure:
    """Fig. 6: one box of the per-pair error rates (%) per victim."""
    names = list(dict.fromkeys(errors["victim"]))
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(names), 3.6))
    data = [100 * errors.loc[errors["victim"] == n, "error_rate"].to_numpy() for n in names]
    ax.boxplot(data, tick_labels=names)
    ax.set_ylabel("attack error rate % per (source, target)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _target_hits(adv: Mapping[int, torch.Tensor], table: pd.DataFrame, predict) -> float:
    """Share of the attacked (target, clip) pairs of ``table`` whose adversarial clip
    ``predict`` (clips -> predicted classes) assigns to the target."""
    hits = total = 0
    for target, g in table.groupby("target"):
        clips = torch.as_tensor(g["clip"].to_numpy())
        hits += int((predict(adv[int(target)][clips]) == int(target)).sum())
        total += len(clips)
    return hits / total


def transfer_table(
    adv: Mapping[int, torch.Tensor],
    table: pd.DataFrame,
    victims: Mapping[str, nn.Module],
) -> pd.DataFrame:
    """Beyond the paper: the adversarial clips made on one victim, judged by others (targeted
    success: the other victim predicts the target), per victim."""
    rows = []
    for name, model in victims.items():
        rate = _target_hits(adv, table, lambda v, m=model: predict_logits(m, v).argmax(1))
        rows.append({"victim": name, "targeted success": rate, "examples": len(table)})
    return pd.DataFrame(rows)


def playback_table(
    adv: Mapping[int, torch.Tensor],
    table: pd.DataFrame,
    victim: nn.Module,
    *,
    draws: int = 4,
    seed: int = 0,
) -> pd.DataFrame:
    """Beyond the paper: the share of adversarial clips that still reach their target after
    ``draws`` simulated playbacks each (gain, shift, noise, band-pass; the EOT transforms)."""
    gen = torch.Generator().manual_seed(seed)

    def played(v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return predict_logits(victim, random_playback(v, generator=gen)).argmax(1)

    rates = [_target_hits(adv, table, played) for _ in range(draws)]
    return pd.DataFrame({"draw": range(draws), "targeted success": rates})


def plot_ablation(
    clip: np.ndarray,
    deltas: Mapping[str, np.ndarray],
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    sample_rate: int,
    *,
    title: str = "",
) -> plt.Figure:
    """Figs. 8-9: the clean clip and each loss setting's perturbation (left), and each
    setting's training success rate per iteration (right)."""
    n = len(deltas) + 1
    fig = plt.figure(figsize=(11, 1.5 * n))
    grid = fig.add_gridspec(n, 2, width_ratios=[1.4, 1])
    t = np.arange(len(clip)) / sample_rate
    ax = fig.add_subplot(grid[0, 0])
    ax.plot(t, clip, lw=0.5)
    ax.set_title("clean clip", fontsize=8)
    for i, (label, d) in enumerate(deltas.items(), start=1):
        a = fig.add_subplot(grid[i, 0], sharex=ax)
        a.plot(t, d, lw=0.5, color=f"C{i}")
        a.set_title(f"perturbation, {label} (max |d| {np.abs(d).max():.3f})", fontsize=8)
    a.set_xlabel("s")
    right = fig.add_subplot(grid[:, 1])
    for i, (label, h) in enumerate(histories.items(), start=1):
        h = pd.DataFrame(h)
        right.plot(h["iteration"], h["success"].rolling(5, min_periods=1).mean(),
                   color=f"C{i}", label=label)  # fmt: skip
    right.set_xlabel("iteration")
    right.set_ylabel("training success (5-iteration mean)")
    right.set_ylim(-0.02, 1.02)
    right.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# The profile's ``gan`` section: checked when the profile is loaded
# (advlib.chapters.load_profile).
_GAN = {
    "victims",
    "config",
    "n_eval",
    "compare",
    "quality",
    "ablation",
    "listen",
    "transfer",
    "playback",
}
_GAN_VICTIM = {"dataset", "victim", "targets", "label", "config"}


def validate_section(gan: Any, datasets: dict[str, Any], source: str) -> None:
    """The ``gan`` section (the "Generative attacks" chapter): the victims attacked (a data set
    of the profile and a victim trained on it, the target classes), the generator recipe
    (:class:`advlib.train.generator.GanConfig`, per victim overridable), the baselines of
    Table 1 (checked against each attack's parameters) and the indices the figures use."""
    from advlib.attacks.registry import make_attack
    from advlib.train.generator import GanConfig

    where = "gan"
    check_keys(source, where, gan, _GAN, {"victims", "config"})
    victims = gan["victims"]
    if not isinstance(victims, list) or not victims:
        fail(source, f"{where}.victims", "must be a non-empty list of {dataset, victim}")

    def recipe(rwhere: str, *configs: Any) -> GanConfig:
        merged: dict[str, Any] = {}
        for c in configs:
            if c is not None and not isinstance(c, dict):
                fail(source, rwhere, "must be a mapping of GAN settings")
            merged.update(c or {})
        try:
            return GanConfig.from_dict(merged)
        except (TypeError, ValueError) as exc:
            fail(source, rwhere, str(exc))

    recipe(f"{where}.config", gan["config"])
    for i, v in enumerate(victims):
        vwhere = f"{where}.victims[{i}]"
        check_keys(source, vwhere, v, _GAN_VICTIM, {"dataset", "victim"})
        if v["dataset"] not in datasets:
            fail(source, f"{vwhere}.dataset", f"{v['dataset']!r} is not a data set of the profile")
        if v["victim"] not in datasets[v["dataset"]]["victims"]:
            fail(source, f"{vwhere}.victim",
                  f"{v['victim']!r} is not trained on {v['dataset']!r}")  # fmt: skip
        targets = v.get("targets", "all")
        ok = targets == "all" or (
            isinstance(targets, list) and targets
            and all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in targets)
            and len(set(targets)) == len(targets))  # fmt: skip
        if not ok:
            fail(source, f"{vwhere}.targets", "must be 'all' or a list of distinct class indices")
        recipe(f"{vwhere}.config", gan["config"], v.get("config"))

    def victim_index(swhere: str, sec: dict) -> int:
        i = sec.get("victim", 0)
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(victims):
            fail(source, f"{swhere}.victim", f"must index gan.victims (0..{len(victims) - 1})")
        return i

    if gan.get("n_eval") is not None:
        positive_int(source, f"{where}.n_eval", gan["n_eval"])
    if gan.get("compare") is not None:
        cwhere = f"{where}.compare"
        cmp = gan["compare"]
        check_keys(source, cwhere, cmp, {"victim", "n", "baselines"}, {"baselines"})
        victim_index(cwhere, cmp)
        if "n" in cmp:
            positive_int(source, f"{cwhere}.n", cmp["n"])
        if not isinstance(cmp["baselines"], dict) or not cmp["baselines"]:
            fail(source, f"{cwhere}.baselines", "must map labels to {attack, settings}")
        for label, b in cmp["baselines"].items():
            bwhere = f"{cwhere}.baselines.{label}"
            check_keys(source, bwhere, b, {"attack", "settings"}, {"attack"})
            try:
                make_attack(b["attack"], b.get("settings"))
            except ValueError as exc:
                fail(source, bwhere, str(exc))
    if gan.get("quality") is not None:
        check_keys(source, f"{where}.quality", gan["quality"], {"max_clips"}, set())
        if gan["quality"].get("max_clips") is not None:
            positive_int(source, f"{where}.quality.max_clips", gan["quality"]["max_clips"])
    if gan.get("ablation") is not None:
        awhere = f"{where}.ablation"
        ab = gan["ablation"]
        check_keys(source, awhere, ab, {"victim", "source", "target", "config", "variants"},
                    {"source", "target"})  # fmt: skip
        i = victim_index(awhere, ab)
        for k in ("source", "target"):
            if not isinstance(ab[k], int) or isinstance(ab[k], bool) or ab[k] < 0:
                fail(source, f"{awhere}.{k}", "must be a class index >= 0")
        if ab["source"] == ab["target"]:
            fail(source, awhere, "source and target must differ")
        variants = ab.get("variants", ["paper"])
        if not isinstance(variants, list) or not variants or set(variants) - {"paper", "code"}:
            fail(source, f"{awhere}.variants", "must list 'paper' and/or 'code'")
        recipe(f"{awhere}.config", gan["config"], victims[i].get("config"), ab.get("config"))
    if gan.get("listen") is not None:
        lwhere = f"{where}.listen"
        ls = gan["listen"]
        check_keys(source, lwhere, ls, {"victim", "pairs"}, {"pairs"})
        victim_index(lwhere, ls)
        pairs = ls["pairs"]
        if not isinstance(pairs, list) or not pairs or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(k, int) for k in p)
            and p[0] != p[1] for p in pairs):  # fmt: skip
            fail(source, f"{lwhere}.pairs", "must list [source, target] class pairs")
    if gan.get("transfer") is not None:
        twhere = f"{where}.transfer"
        tr = gan["transfer"]
        check_keys(source, twhere, tr, {"victim", "others"}, {"others"})
        spec = victims[victim_index(twhere, tr)]
        trained = datasets[spec["dataset"]]["victims"]
        others = tr["others"]
        if not isinstance(others, list) or not others or set(others) - set(trained):
            msg = f"must list victims trained on {spec['dataset']!r}: {sorted(trained)}"
            fail(source, f"{twhere}.others", msg)
    if gan.get("playback") is not None:
        pwhere = f"{where}.playback"
        pb = gan["playback"]
        check_keys(source, pwhere, pb, {"victim", "draws"}, set())
        victim_index(pwhere, pb)
        if "draws" in pb:
            positive_int(source, f"{pwhere}.draws", pb["draws"])
