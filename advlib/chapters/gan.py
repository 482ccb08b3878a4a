"""The "Generative attacks" chapter: the GAN paper's figures and tables from cached generators.

Paper: Wang et al., "Targeted Speech Adversarial Example Generation With Generative
Adversarial Network", IEEE Access 8, 2020 (SpeechAdvGan; study spec
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

The page (``notebooks/gan.md``) is a view of :class:`GanChapter`: one instance per executed page
holds the study (:class:`advlib.study.Study`), the profile's ``gan`` section and the generators
fitted so far; each of its section methods (:meth:`~GanChapter.figs_4_5`,
:meth:`~GanChapter.table_1`, :meth:`~GanChapter.table_2`, :meth:`~GanChapter.fig_6`,
:meth:`~GanChapter.figs_8_9`, :meth:`~GanChapter.listen`, :meth:`~GanChapter.beyond`, called in
that order) records its scorecard numbers on ``study.records`` and returns a :class:`Section`:
what to display and what to glue.

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
from scipy import stats
from torch import nn

from advlib.attacks.eot import random_playback
from advlib.attacks.gan import gan_attack
from advlib.attacks.registry import code_revision, make_attack
from advlib.cache import Cache
from advlib.data import class_count
from advlib.metrics import pesq_score, snr_db, stoi_score
from advlib.run.runner import eval_clips, run_attack
from advlib.stats import wilson_interval
from advlib.study.paper_numbers import load_paper_numbers
from advlib.study.profile import check_keys, fail, positive_int
from advlib.study.section import Section
from advlib.study.units import Unit, as_page_parameters, data_spec, study_args, unit_slug, victim_id
from advlib.tables import UNDEFINED, decibels, number, percent
from advlib.train.classifier import predict_logits
from advlib.train.generator import FittedGenerator, GanConfig, fit_generator

__all__ = [
    "ABLATION",
    "ROLE",
    "GanChapter",
    "Section",
    "baseline_run",
    "compare_table",
    "error_rates",
    "gan_examples",
    "playback_table",
    "plot_ablation",
    "plot_error_boxes",
    "plot_success_matrix",
    "protocol_notes",
    "quality_table",
    "speed_test",
    "success_matrix",
    "transfer_table",
    "units",
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


def baseline_run(
    cache: Cache,
    victim_fit: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    target: int,
    label: str,
    cfg: Mapping[str, Any],
    *,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """One baseline of Table 1 (``cfg``: ``{attack, settings}``) toward ``target`` on the clips
    of ``x`` of another class, cached: the run's per-clip table (its seconds from the run that
    filled the cache)."""
    keep = torch.nonzero(y != target).flatten()
    params = {"victim": victim_fit.cache_key, "x": x[keep], "target": target, "attack": dict(cfg),
              "revision": code_revision(cfg["attack"]), "seed": seed}  # fmt: skip

    def compute() -> dict[str, Any]:
        attack = make_attack(cfg["attack"], cfg.get("settings"), seed=seed)
        run = run_attack(victim_fit.model, x[keep], y[keep], attack, targets=target,
                         progress=progress, desc=f"{label} -> {target}")  # fmt: skip
        return {"table": run.table}

    payload, _ = cache.fetch("gan_baseline", params, compute)
    return payload["table"]


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
    per_example: dict[str, dict[str, np.ndarray]] | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Table 1: the GAN against the baselines on the same clips, targets and victim.

    Every clip of ``x`` is attacked toward every target of ``generators`` other than its own
    class. ``baselines`` maps a label (``genetic``, ``pso``) to ``{attack, settings}``; the
    baselines' runs are cached (their per-clip seconds come from the run that filled the
    cache; the GAN is re-timed here, it takes milliseconds). Returns one row per method:
    success rate, mean SNR (dB), seconds per example, examples; with ``return_seconds`` also
    each method's per-example seconds (for a test of the speed claim). ``per_example``, when
    given, receives each method's per-example SNR (``per_example["snr_db"][method]``, NaN where
    undefined), for the scorecard's intervals.
    """
    victim = victim_fit.model
    snrs = per_example.setdefault("snr_db", {}) if per_example is not None else {}
    table, _ = gan_examples(generators, victim, x, y)
    rows = [{"method": "gan", "success": table["success"].mean(),
             "snr_db": table["snr_db"].mean(), "seconds": table["seconds"].mean(),
             "examples": len(table)}]  # fmt: skip
    seconds = {"gan": table["seconds"].to_numpy()}
    snrs["gan"] = table["snr_db"].replace([np.inf, -np.inf], np.nan).to_numpy(dtype=float)
    for label, cfg in baselines.items():
        parts = []
        for target in generators:
            parts.append(baseline_run(cache, victim_fit, x, y, target, label, cfg, seed=seed,
                                      progress=progress))  # fmt: skip
        t = pd.concat(parts, ignore_index=True)
        t = t[t["attacked"]]
        rows.append({"method": label, "success": t["success"].mean(),
                     "snr_db": t["snr_db"].replace(np.inf, np.nan).mean(),
                     "seconds": t["seconds"].mean(), "examples": len(t)})  # fmt: skip
        seconds[label] = t["seconds"].to_numpy()
        snrs[label] = t["snr_db"].replace([np.inf, -np.inf], np.nan).to_numpy(dtype=float)
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


# ---------------------------------------------------------------------------- the page

# The victims' roles in the paper (the scorecard's claims name them)
ROLE = {"wrn28_10": "speech", "samplecnn": "music"}

# Figs. 8-9: the loss settings of the ablation (gamma weighs the hinge loss, beta the L2 loss)
ABLATION = {"hinge only": {"gamma": 0.0}, "L2 only": {"beta": 0.0}, "hinge and L2": {}}


def _pct(successes: Any, n: Any) -> str:
    """A rate with its 95 % Wilson interval, in percent."""
    k, m = int(round(float(successes))), int(n)
    if m < 1:
        return UNDEFINED
    lo, hi = wilson_interval(k, m)
    return percent(k / m, lo, hi)


def _secs(v: Any) -> str:
    return UNDEFINED if not np.isfinite(float(v)) else f"{float(v):.3g}"


def speed_test(gan_seconds: Any, other_seconds: Any) -> dict[str, Any]:
    """The speed claim on per-example seconds: a one-sided Mann-Whitney U test (the
    generator's times are lower), and whether the generator's median is the lower."""
    a, b = np.asarray(gan_seconds, dtype=float), np.asarray(other_seconds, dtype=float)
    u = stats.mannwhitneyu(a, b, alternative="less")
    return {
        "U": float(u.statistic),
        "p": float(u.pvalue),
        "holds": bool(np.median(a) < np.median(b)),
        "gan_median": float(np.median(a)),
        "other_median": float(np.median(b)),
    }


class GanChapter:
    """The "Generative attacks" page of one study: the profile's ``gan`` section, the
    generators it trains (cached, and kept here so each is fitted once per page), the examples
    each victim's generators make (Figs. 4-5), on which the later sections build; one method per
    section, called in the page's order."""

    def __init__(self, study: Any, gan: Mapping[str, Any]) -> None:
        self.study = study
        self.gan = gan
        self.paper = load_paper_numbers("GAN")
        self._gens: dict[tuple[int, int | None, str], FittedGenerator] = {}
        self.tables: dict[int, pd.DataFrame] = {}
        self.advs: dict[int, dict[int, torch.Tensor]] = {}

    # ------------------------------------------------------------------ the section's victims

    def spec(self, i: int) -> Mapping[str, Any]:
        return self.gan["victims"][i]

    def data(self, i: int) -> Any:
        return self.study.dataset(self.spec(i)["dataset"])

    def fit(self, i: int) -> Any:
        spec = self.spec(i)
        return self.study.victim(spec["dataset"], spec["victim"])

    def targets(self, i: int) -> list[int]:
        t = self.spec(i).get("targets", "all")
        return list(range(self.data(i).n_classes)) if t == "all" else [int(k) for k in t]

    def recipe(self, i: int, config: Mapping[str, Any] | None = None) -> GanConfig:
        """The generator recipe of victim ``i``: the section's, the victim's, then ``config``."""
        spec = self.spec(i)
        merged = {**self.gan["config"], **(spec.get("config") or {}), **(config or {})}
        return GanConfig.from_dict(merged)

    def generators(
        self, i: int, config: Mapping[str, Any] | None = None, targets: Sequence[int] | None = None
    ) -> dict[int, FittedGenerator]:
        """The cached generators of victim ``i`` by target class: one per target (Algorithm 1)
        or, with a conditional recipe, one generator shared by every target."""
        spec = self.spec(i)
        cfg = self.recipe(i, config)
        out = {}
        for t in targets if targets is not None else self.targets(i):
            own = None if cfg.conditional else t
            key = (i, own, repr(cfg))
            if key not in self._gens:
                self._gens[key] = fit_generator(
                    self.study.cache,
                    self.study.victim(spec["dataset"], spec["victim"]),
                    self.study.dataset(spec["dataset"]),
                    own,
                    cfg,
                    progress=self.study.progress,
                )
            out[t] = self._gens[key]
        return out

    def held_out(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return eval_clips(self.data(i), self.gan.get("n_eval"), seed=self.study.seed)

    def role(self, i: int) -> str:
        v = self.spec(i)["victim"]
        return ROLE.get(v, v)

    def label(self, i: int) -> str:
        spec = self.spec(i)
        return spec.get("label", spec["victim"])

    def paper_rows(self, artefact: str, i: int) -> pd.DataFrame:
        """The paper's rows of ``artefact`` for the victim architecture of victim ``i``."""
        p = self.paper
        return p[(p["artefact"] == artefact) & (p["victim"] == self.spec(i)["victim"])]

    @staticmethod
    def trained(gens: Mapping[int, FittedGenerator]) -> str:
        """Each distinct generator of a {target: generator} mapping as "N epochs in S s"."""
        distinct = {id(g): g for g in gens.values()}.values()
        return "; ".join(f"{g.epochs} epochs in {g.seconds:.0f} s" for g in distinct)

    # ------------------------------------------------------------------ Figs. 4-5

    def figs_4_5(self) -> Section:
        """Per victim: every held-out clip through each target's generator; the success matrix
        (source x target), the records ``gan_success_<role>`` and ``gan_snr_<role>``, and the
        paper's Sec. V-B numbers for the same architecture beside ours."""
        study, out = self.study, Section()
        for i, spec in enumerate(self.gan["victims"]):
            data = self.data(i)
            x, y = self.held_out(i)
            gens = self.generators(i)
            fit = study.victim(spec["dataset"], spec["victim"])
            self.tables[i], self.advs[i] = gan_examples(gens, fit.model, x, y)
            table = self.tables[i]
            m = success_matrix(table, data.classes).loc[:, [data.classes[t] for t in gens]]
            rate = table["success"].mean()
            kind = (
                "one conditional generator"
                if self.recipe(i).conditional
                else "one generator per target"
            )
            snr = table["snr_db"].median()
            out.text(
                f"### {self.label(i)} on {study.title(spec['dataset'])}\n\nMean targeted "
                f"success {100 * rate:.1f} % over {len(table)} (clip, target) pairs of "
                f"{len(x)} held-out clips, median SNR {snr:.1f} dB; {kind} "
                f"({self.trained(gens)})."
            )
            out.figure(plot_success_matrix(m, title=f"{self.label(i)}: targeted success %"))
            out.caption(
                f"{self.label(i)}: targeted success (%) per source class (row, the clip's true "
                "class) and target (column); the diagonal is never attacked."
            )
            out.glue[f"gan_success_{i}"] = f"{100 * rate:.1f}"
            out.glue[f"gan_snr_{i}"] = f"{snr:.1f}"
            study.records.record_proportion(
                f"gan_success_{self.role(i)}",
                int(table["success"].sum()),
                len(table),
                scale=100,
                dataset=spec["dataset"],
                label=self.label(i),
            )
            study.records.record_mean(
                f"gan_snr_{self.role(i)}",
                table["snr_db"],
                dataset=spec["dataset"],
                label=self.label(i),
            )
            pub = self.paper_rows("Text Sec. V-B", i)
            pub = pub[pub["metric"] == "success_rate"]
            if len(pub):
                side = pub.assign(ours=[100 * _paper_cell(m, r) for _, r in pub.iterrows()])
                side = side[["table_row", "target", "value", "ours", "note"]].rename(
                    columns={
                        "table_row": "the paper's text",
                        "value": "paper (%)",
                        "ours": "ours (%)",
                    }
                )
                out.table(
                    side,
                    f"{self.label(i)}: the paper's success rates quoted in its text for this "
                    "architecture (Sec. V-B), beside ours computed the same way.",
                    formats={"paper (%)": "{:.2f}", "ours (%)": lambda v: number(v, 2)},
                )
        return out

    # ------------------------------------------------------------------ Table 1

    def table_1(self) -> Section:
        """The GAN against the baselines on the same clips, targets and victim (timed in this
        run); the records ``gan_<baseline>_success`` and ``gan_faster_than_<baseline>`` (one-sided
        Mann-Whitney U on per-example seconds); the paper's Table 1 beside ours."""
        study, out = self.study, Section()
        cmp = self.gan["compare"]
        i = int(cmp["victim"])
        spec = self.spec(i)
        x, y = self.held_out(i)
        n = int(cmp.get("n", len(x)))
        per: dict[str, dict[str, np.ndarray]] = {}
        t1, secs = compare_table(
            study.cache,
            self.generators(i),
            study.victim(spec["dataset"], spec["victim"]),
            x[:n],
            y[:n],
            cmp["baselines"],
            seed=study.seed,
            progress=study.progress,
            return_seconds=True,
            per_example=per,
        )
        ours = pd.DataFrame(
            {
                "method": t1["method"],
                "targeted success % [95 % CI]": [
                    _pct(s * e, e) for s, e in zip(t1["success"], t1["examples"], strict=True)
                ],
                "mean SNR (dB)": t1["snr_db"],
                "seconds per example": t1["seconds"],
                "examples": t1["examples"].astype(int),
            }
        )
        out.table(
            ours,
            f"Ours ({self.label(i)}, this run): the GAN against the baselines on the same "
            f"{n} clips and targets; seconds are wall-clock on this machine's CPU.",
            formats={"mean SNR (dB)": decibels, "seconds per example": _secs},
        )
        p = self.paper
        pub = p[p["artefact"] == "Table 1"].pivot_table(
            index=["dataset", "method"], columns="metric", values="value"
        )
        pub = pub.rename(
            columns={
                "seconds": "seconds per example",
                "snr_db": "SNR (dB)",
                "success_rate": "success (%)",
            }
        )
        out.table(
            pub,
            "The paper's Table 1 (success rate, SNR, seconds per example on a GPU).",
            index=True,
            formats={
                "SNR (dB)": decibels,
                "success (%)": "{:.2f}",
                "seconds per example": _secs,
            },
        )
        cols = ["success", "snr_db", "seconds"]
        mine = t1.assign(success=100 * t1["success"]).set_index("method")[cols]
        rows = self.paper_rows("Table 1", i)
        if len(rows):
            side = rows.pivot_table(index="method", columns="metric", values="value")
            side = side.rename(columns={"success_rate": "success"})[cols]
            both = pd.concat({"ours": mine, "paper": side}, axis=1)
            both.columns = [f"{who}, {_T1_UNITS[c]}" for who, c in both.columns]
            out.table(
                both.reset_index(),
                f"Ours ({self.label(i)}, this run) beside the paper's column "
                "for the same architecture.",
                formats={c: _secs for c in both.columns if "seconds" in c},
            )
        g = t1.set_index("method")
        out.glue["gan_t1_success"] = f"{100 * g.loc['gan', 'success']:.1f}"
        out.glue["gan_t1_snr"] = f"{g.loc['gan', 'snr_db']:.1f}"
        out.glue["gan_t1_ms"] = f"{1000 * g.loc['gan', 'seconds']:.1f}"
        speed = []
        for k in g.index.drop("gan"):
            study.records.record_proportion(
                f"gan_{k}_success",
                int(round(g.loc[k, "success"] * g.loc[k, "examples"])),
                int(g.loc[k, "examples"]),
                scale=100,
                dataset=spec["dataset"],
                label=k,
            )
            t = speed_test(secs["gan"], secs[k])
            study.records.record_test(
                f"gan_faster_than_{k}",
                t["U"],
                t["p"],
                holds=t["holds"],
                method="Mann-Whitney U, one-sided",
                dataset=spec["dataset"],
                n=int(min(len(secs["gan"]), len(secs[k]))),
                label=f"GAN vs {k}",
            )
            speed.append(
                {
                    "against": k,
                    "GAN median (s)": t["gan_median"],
                    "baseline median (s)": t["other_median"],
                    "U": t["U"],
                    "p (one-sided)": t["p"],
                }
            )
        # the spec's other Table 1 headlines: each method's SNR and time per example
        for k in g.index:
            if k != "gan" and np.isfinite(per["snr_db"][k]).any():
                study.records.record_mean(
                    f"gan_{k}_snr", per["snr_db"][k], dataset=spec["dataset"], label=k
                )
            study.records.record_mean(
                f"gan_seconds_{k}", secs[k], dataset=spec["dataset"], label=f"{k}, CPU"
            )
        if speed:
            out.table(
                pd.DataFrame(speed),
                "Is the generator faster? Per-example seconds, one-sided "
                "Mann-Whitney U (the generator's times are lower).",
                formats={
                    "GAN median (s)": _secs,
                    "baseline median (s)": _secs,
                    "U": "{:.1f}",
                    "p (one-sided)": "{:.3g}",
                },
            )
        for k in ("genetic", "pso"):
            if k in g.index:
                out.glue[f"gan_speedup_{k}"] = (
                    f"{g.loc[k, 'seconds'] / g.loc['gan', 'seconds']:.0f}"
                )
        return out

    # ------------------------------------------------------------------ Table 2

    def table_2(self) -> Section:
        """Per victim, SNR, PESQ and STOI per target class (the record ``gan_pesq_<role>``);
        the paper's Table 2."""
        study, out = self.study, Section()
        for i, spec in enumerate(self.gan["victims"]):
            data = self.data(i)
            x, _ = self.held_out(i)
            q = quality_table(
                self.tables[i],
                self.advs[i],
                x,
                data.classes,
                data.sample_rate,
                max_clips=(self.gan.get("quality") or {}).get("max_clips"),
            )
            per_target = q[q["target"] != "average"]
            if "pesq" in q and per_target["pesq"].notna().any():
                study.records.record_mean(
                    f"gan_pesq_{self.role(i)}",
                    per_target["pesq"],
                    dataset=spec["dataset"],
                    label=self.label(i),
                )
            show = pd.DataFrame(
                {
                    "target": q["target"],
                    "clips": q["clips"].astype(int),
                    "targeted success %": [
                        _pct(s * c, c) if t != "average" else percent(s)
                        for t, s, c in zip(q["target"], q["success"], q["clips"], strict=True)
                    ],
                    "mean SNR (dB)": q["snr_db"],
                }
            )
            for col, name in (("pesq", "PESQ (MOS-LQO)"), ("stoi", "STOI")):
                if col in q:
                    show[name] = q[col]
            out.table(
                show,
                f"{self.label(i)}: quality of the adversarial clips per target class (PESQ "
                "and STOI over the first clips of each target; the last row averages the "
                "targets).",
                formats={
                    "mean SNR (dB)": decibels,
                    "PESQ (MOS-LQO)": lambda v: number(v, 2),
                    "STOI": lambda v: number(v, 3),
                },
            )
            avg = q[q["target"] == "average"].iloc[0]
            out.glue[f"gan_q_snr_{i}"] = decibels(avg["snr_db"])
            out.glue[f"gan_q_stoi_{i}"] = number(avg["stoi"], 2)
        p = self.paper
        pub2 = p[p["artefact"] == "Table 2"].pivot_table(
            index=["victim", "metric"], columns="target", values="value"
        )
        pub2 = pub2.rename(index={"snr_db": "SNR (dB)", "pesq": "PESQ"}, level="metric")
        out.table(
            pub2,
            "The paper's Table 2: SNR and PESQ per target class and victim.",
            index=True,
            formats={c: (lambda v: number(v, 2)) for c in pub2.columns},
        )
        return out

    # ------------------------------------------------------------------ Fig. 6

    def fig_6(self) -> Section:
        """The error rate (1 - targeted success) of every (source, target) pair, per victim."""
        out = Section()
        err = error_rates({self.label(i): t for i, t in self.tables.items()})
        out.figure(plot_error_boxes(err, title="attack error rate per (source, target) pair"))
        out.caption("Attack error rate (%) of every (source, target) pair, one box per victim.")
        summary = (
            100 * err.groupby("victim", sort=False)["error_rate"].agg(["mean", "std", "min", "max"])
        ).reset_index()
        summary.columns = ["victim", "mean error_rate (%)", "std (%)", "min (%)", "max (%)"]
        out.table(
            summary,
            "Ours: the attack error rate over the (source, target) pairs.",
            formats={c: (lambda v: number(v, 2)) for c in summary.columns[1:]},
        )
        p = self.paper
        pub6 = p[(p["artefact"] == "Text Sec. V-B") & p["metric"].str.startswith("error")]
        pub6 = pub6[["victim", "metric", "value", "note"]].rename(columns={"value": "paper (%)"})
        out.table(
            pub6,
            "The paper's error rates (Sec. V-B, Fig. 6; over 90 pairs).",
            formats={"paper (%)": "{:.2f}"},
        )
        for i in range(len(summary)):
            out.glue[f"gan_err_{i}"] = number(summary["mean error_rate (%)"].iloc[i], 1)
        return out

    # ------------------------------------------------------------------ Figs. 8-9

    def figs_8_9(self) -> Section:
        """One generator per loss setting (:data:`ABLATION`) and formulation for one (source,
        target) pair: each one's perturbation of one clip and its training success."""
        out = Section()
        ab = self.gan["ablation"]
        i, src, tgt = int(ab["victim"]), int(ab["source"]), int(ab["target"])
        data = self.data(i)
        x, y = self.held_out(i)
        clip = int(torch.nonzero(y == src).flatten()[0])
        rows = []
        for variant in ab.get("variants", ["paper"]):
            deltas, hist = {}, {}
            for name, over in ABLATION.items():
                g = self.generators(
                    i, {**(ab.get("config") or {}), "variant": variant, **over}, targets=[tgt]
                )[tgt]
                xa = gan_attack(
                    None,
                    x[clip : clip + 1],
                    torch.tensor([tgt]),
                    net=g.generator,
                    net_target=None if g.config.conditional else tgt,
                    variant=variant,
                )
                deltas[name] = (xa - x[clip : clip + 1])[0].numpy()
                hist[name] = g.history
                h = pd.DataFrame(g.history)
                d = deltas[name]
                rows.append(
                    {
                        "formulation": variant,
                        "setting": name,
                        "max training success %": 100 * h["success"].max(),
                        "last-epoch training success %": 100
                        * h.loc[h["epoch"] == h["epoch"].max(), "success"].mean(),
                        "share of |delta| < 1 % of its max": float(
                            (np.abs(d) < 0.01 * np.abs(d).max()).mean()
                        ),
                        "SNR (dB)": float(snr_db(x[clip].numpy(), d)),
                    }
                )
            pair = f"{data.classes[src]} -> {data.classes[tgt]}"
            fig = plot_ablation(
                x[clip].numpy(),
                deltas,
                hist,
                data.sample_rate,
                title=f"{self.label(i)}, {variant} formulation: {pair}",
            )
            out.figure(fig)
            out.caption(
                f"{self.label(i)}, {variant} formulation, {pair}: the clean clip and each loss "
                "setting's perturbation (left); training success per iteration (right)."
            )
        table = pd.DataFrame(rows)
        out.table(
            table,
            "Ours: each loss setting's training success and perturbation.",
            formats={
                "max training success %": "{:.1f}",
                "last-epoch training success %": "{:.1f}",
                "share of |delta| < 1 % of its max": "{:.3f}",
                "SNR (dB)": decibels,
            },
        )
        p = self.paper
        pub9 = p[p["artefact"] == "Text Sec. V-D"][["target", "value", "note"]]
        out.table(
            pub9.rename(columns={"value": "paper's max training success (%)"}),
            "The paper's Fig. 9 (maximum training success, Sec. V-D).",
            formats={"paper's max training success (%)": "{:.2f}"},
        )
        best = table.loc[table["max training success %"].idxmax()]
        out.glue["gan_ab_max"] = number(best["max training success %"], 1)
        out.glue["gan_ab_setting"] = f"{best['setting']} ({best['formulation']} formulation)"
        return out

    # ------------------------------------------------------------------ listen

    def listen(self) -> Section:
        """For each (source, target) pair of the profile, the most successful example: the
        clean clip, the adversarial clip and the perturbation alone, at their true levels."""
        from advlib import plots

        study, out = self.study, Section()
        ls = self.gan["listen"]
        i = int(ls["victim"])
        spec = self.spec(i)
        data = self.data(i)
        x, _ = self.held_out(i)
        lic = study.licence(spec["dataset"])
        t = self.tables[i]
        for src, tgt in ls["pairs"]:
            rows = t[(t["source"] == src) & (t["target"] == tgt)]
            if rows.empty:
                continue
            r = rows.sort_values("success", ascending=False).iloc[0]
            c = int(r["clip"])
            xa = self.advs[i][tgt][c]
            said = data.classes[int(r["adv_pred"])]
            out.text(
                f"**{data.classes[src]} -> {data.classes[tgt]}**: the victim "
                f"hears *{said}*, SNR {r['snr_db']:.1f} dB"
            )
            out.media(
                plots.audio_player(x[c].numpy(), data.sample_rate, title="clean", credit=lic),
                plots.audio_player(xa.numpy(), data.sample_rate, title="adversarial", credit=lic),
                plots.audio_player((xa - x[c]).numpy(), data.sample_rate, title="perturbation"),
            )
        return out

    # ------------------------------------------------------------------ beyond the paper

    def beyond(self) -> Section:
        """The adversarial clips judged by the other victims of the same data set (transfer) and
        after simulated playback."""
        study, out = self.study, Section()
        out.glue.update(gan_pb_before=UNDEFINED, gan_pb_after=UNDEFINED)
        tr = self.gan.get("transfer")
        if tr:
            i = int(tr["victim"])
            spec = self.spec(i)
            others = {v: study.victim(spec["dataset"], v).model for v in tr["others"]}
            t = transfer_table(self.advs[i], self.tables[i], others)
            t = t.assign(
                **{
                    "targeted success %": [
                        _pct(r * e, e)
                        for r, e in zip(t["targeted success"], t["examples"], strict=True)
                    ]
                }
            )
            out.table(
                t[["victim", "targeted success %", "examples"]],
                f"Transfer: the adversarial clips made on {self.label(i)}, judged by other "
                "victims.",
            )
        pb = self.gan.get("playback")
        if pb:
            i = int(pb["victim"])
            spec = self.spec(i)
            p = playback_table(
                self.advs[i],
                self.tables[i],
                study.victim(spec["dataset"], spec["victim"]).model,
                draws=int(pb.get("draws", 4)),
                seed=study.seed,
            )
            n = len(self.tables[i])
            before = self.tables[i]["success"].mean()
            show = pd.DataFrame(
                {
                    "draw": p["draw"],
                    "targeted success % after playback": [
                        _pct(r * n, n) for r in p["targeted success"]
                    ],
                }
            )
            out.table(
                show,
                f"{self.label(i)}: targeted success after simulated playback, per draw "
                f"(without playback {100 * before:.1f} % of the same {n} examples).",
            )
            out.glue["gan_pb_before"] = number(100 * before, 1)
            out.glue["gan_pb_after"] = number(100 * p["targeted success"].mean(), 1)
        return out


_T1_UNITS = {"success": "success (%)", "snr_db": "SNR (dB)", "seconds": "seconds per example"}


def _paper_cell(m: pd.DataFrame, r: pd.Series) -> float:
    """Our counterpart, in the success matrix ``m`` (shares), of a success rate the paper quotes
    in Sec. V-B: its maximum, a target's column mean or a source's row mean (NaN where it has
    none: a single cell named by Speech Commands words, or a class not in ``m``)."""
    note = str(r["note"])
    if note.startswith("maximum"):
        return m.max().max()
    if pd.notna(r["target"]) and "one cell" in note:
        return np.nan  # the paper's class names are Speech Commands words
    if pd.notna(r["target"]):
        return m[r["target"]].mean() if r["target"] in m.columns else np.nan
    src = note.split("source class ")[1].split(":")[0]
    return m.loc[src].mean() if src in m.index else np.nan


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


def protocol_notes() -> Section:
    """Where the GAN paper departs from its data sets' protocols or from itself
    (``data/papers/protocol.csv``): the page's section, one row per finding."""
    from advlib.study.paper_numbers import protocol_section

    return protocol_section("GAN")


# --------------------------------------------------------------------------- units of work


def _unit_generators(gan: Mapping[str, Any], i: int, target: Any, config: Any,
                     study: Any) -> None:  # fmt: skip
    """Generators of victim ``i`` as :meth:`GanChapter.generators` fits them: for ``target``
    (``None``: every target of the victim) with the recipe changed by ``config``."""
    page = GanChapter(study, gan)
    page.generators(i, config, targets=None if target is None else [int(target)])


def _unit_baseline(gan: Mapping[str, Any], label: str, target: Any, study: Any) -> None:
    """One baseline of Table 1 toward ``target`` (``None``: every target), as
    :meth:`GanChapter.table_1` runs it (:func:`compare_table`)."""
    page = GanChapter(study, gan)
    cmp = gan["compare"]
    i = int(cmp["victim"])
    spec = page.spec(i)
    x, y = page.held_out(i)
    n = int(cmp.get("n", len(x)))
    fit = study.victim(spec["dataset"], spec["victim"])
    for t in page.targets(i) if target is None else [int(target)]:
        baseline_run(study.cache, fit, x[:n], y[:n], t, label, cmp["baselines"][label],
                     seed=study.seed, progress=study.progress)  # fmt: skip


def units(params: Mapping[str, Any]) -> list[Any]:
    """The GAN page's units (``params``: the page's parameters): each victim's generator per
    target (one for all targets with a conditional recipe or ``targets: all``), the
    ablation's generators, and each baseline of Table 1 per target (timed: alone on every
    core)."""
    from functools import partial

    p = as_page_parameters(params)
    gan = p["gan"]
    args = study_args(p)
    out: list[Any] = []

    def base(i: int) -> dict[str, Any]:
        v = gan["victims"][i]
        return {"data": data_spec(p, v["dataset"]), "victim": v["victim"],
                "config": p["datasets"][v["dataset"]]["victims"][v["victim"]]}  # fmt: skip

    def vid(i: int) -> str:
        return f"gan/v{i}-{unit_slug(gan['victims'][i]['victim'])}"

    def recipe(i: int, config: Any = None) -> dict[str, Any]:
        return {**gan["config"], **(gan["victims"][i].get("config") or {}), **(config or {})}

    def every(i: int, targets: Any) -> list[Any]:  # one unit per target ([None]: all in one)
        if targets != "all":
            return list(targets)
        d = p["datasets"][gan["victims"][i]["dataset"]]
        k = class_count(d["loader"], d.get("args"))
        return [None] if k is None else list(range(k))

    for i, v in enumerate(gan["victims"]):
        needs = (victim_id(v["dataset"], v["victim"]),)
        targets = v.get("targets", "all")
        conditional = GanConfig.from_dict(recipe(i)).conditional
        each = [None] if conditional else every(i, targets)
        for t in each:
            seg = "conditional" if conditional else ("all" if t is None else unit_slug(t))
            spec = {**base(i), "recipe": recipe(i), "target": t,
                    "targets": targets if t is None else None}  # fmt: skip
            out.append(Unit(f"{vid(i)}/gen/{seg}", "gan", args, spec,
                            partial(_unit_generators, gan, i, t, None), needs,
                            runtime=720))  # fmt: skip
    ab = gan.get("ablation")
    if ab:
        i, tgt = int(ab["victim"]), int(ab["target"])
        v = gan["victims"][i]
        for variant in ab.get("variants", ["paper"]):
            for name, over in ABLATION.items():
                config = {**(ab.get("config") or {}), "variant": variant, **over}
                spec = {**base(i), "recipe": recipe(i, config), "target": tgt}
                out.append(Unit(f"{vid(i)}/ablation/{unit_slug(variant)}/{unit_slug(name)}",
                                "gan", args, spec, partial(_unit_generators, gan, i, tgt, config),
                                (victim_id(v["dataset"], v["victim"]),), runtime=720))  # fmt: skip
    cmp = gan.get("compare")
    if cmp:
        i = int(cmp["victim"])
        v = gan["victims"][i]
        targets = v.get("targets", "all")
        each = every(i, targets)
        for label, cfg in cmp["baselines"].items():
            for t in each:
                spec = {**base(i), "baseline": cfg, "n": cmp.get("n"),
                        "n_eval": gan.get("n_eval"), "target": t,
                        "targets": targets if t is None else None}  # fmt: skip
                seg = "all" if t is None else unit_slug(t)
                out.append(Unit(f"{vid(i)}/compare/{unit_slug(label)}/{seg}", "gan", args, spec,
                                partial(_unit_baseline, gan, label, t),
                                (victim_id(v["dataset"], v["victim"]),), timing=True))  # fmt: skip
    return out
