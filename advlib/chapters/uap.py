"""The "Universal perturbations" chapter: every table and figure of the UAP paper, computed.

Abdoli et al., "Universal adversarial audio perturbations" (arXiv 1908.03173). This module
holds what the chapter's notebooks would otherwise repeat: one crafted-and-evaluated UAP
(:func:`uap_result`), the paper's tables built from many of them (Tables 1-2: :func:`main_table`;
Table 5: :func:`significance_table`; Tables 6-11: :func:`per_target_table`), the sweeps of
Figs. 1-3 (:func:`sweep_table`, :func:`plot_sweep`), the transfer matrix of Table 4
(:func:`uap_transfer`), the playback robustness study (:func:`playback_rows`) and the
side-by-side with the paper's published numbers (:func:`beside_paper`). The page
(``notebooks/uap.md``) is a view: one call per section (:func:`main_tables`, :func:`ranges`,
:func:`significance`, :func:`kappa_sweep`, :func:`n_craft_sweep`, :func:`single_clip`,
:func:`transfer_figures`, :func:`playback`, :func:`penalty_variants`, :func:`per_target`,
:func:`listen`), each computing
on the page's :class:`advlib.study.Study` and recording the scorecard's numbers on its records.

Conventions (study spec, section 2). Untargeted success is the paper's Eq. 3: the prediction on
``x + v`` differs from the clean prediction, over every clip (clips the victim gets wrong are
kept). Targeted success: the prediction equals the target, clips of the target class excluded.
A scenario's targeted ASR pools every (target, clip) pair of the targets the profile lists, so
its Wilson interval is over those pairs (with equal clips per target this equals the paper's
mean over target classes). SNR and l_dB_x are means over the evaluated clips, as in the paper
(SNR = 20 log10(rms(x) / rms(delta)), l_dB_x = l_dB(delta) - l_dB(x) with delta the perturbation
actually added after clipping to [-1, 1]); a clip whose perturbation is exactly zero (a UAP that
stayed at v = 0) has no finite SNR and is left out of those means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from advlib.attacks.uap import apply_uap
from advlib.data import class_count
from advlib.metrics import Proportion, ldb_x, snr_db
from advlib.run.playback import playback_success
from advlib.run.runner import AttackRun
from advlib.run.transfer import transfer_matrix
from advlib.run.universal import craft_uap, evaluate_uap, uap_settings, uap_space
from advlib.stats import holm, mcnemar_exact, stratified_mcnemar, two_proportion_z
from advlib.study.profile import check_keys, fail, positive_int
from advlib.study.section import Section
from advlib.study.units import Unit, as_page_parameters, data_spec, study_args, unit_slug, victim_id

__all__ = [
    "METHODS",
    "PAPER_TABLE5_COLUMNS",
    "VARIANTS",
    "TableResult",
    "UapResult",
    "adam_steps",
    "beside_paper",
    "kappa_sweep",
    "listen",
    "main_table",
    "main_tables",
    "main_variant",
    "n_craft_sweep",
    "penalty_variants",
    "per_target",
    "per_target_table",
    "playback",
    "playback_rows",
    "plot_perturbation",
    "plot_sweep",
    "protocol_notes",
    "ranges",
    "resolve_targets",
    "scenario_results",
    "scenario_summary",
    "sign_test",
    "significance",
    "significance_sentence",
    "significance_table",
    "single_clip",
    "sweep_table",
    "table_setup",
    "transfer_figures",
    "uap_result",
    "uap_settings",
    "uap_transfer",
    "units",
    "variant_parts",
    "variant_results",
    "variant_settings",
    "variants_sentence",
    "variants_table",
]

METHODS = ("uap_iterative", "uap_penalty")
_LABEL = {"uap_iterative": "iterative", "uap_penalty": "penalty"}


@dataclass
class UapResult:
    """One universal perturbation: how it was crafted and how it did.

    ``train`` is its evaluation on the crafting clips (the paper's "training set" ASR),
    ``test`` on the held-out clips; both are :class:`~advlib.run.runner.AttackRun` tables, so each
    clip's success is kept for paired tests.
    """

    victim: str
    method: str
    target: int | None
    v: torch.Tensor
    space: str
    record: dict[str, Any]
    train: AttackRun
    test: AttackRun
    settings: dict[str, Any] = field(default_factory=dict)
    dataset: str = ""

    @property
    def scenario(self) -> str:
        return "untargeted" if self.target is None else "targeted"

    def deltas(self, x: torch.Tensor) -> torch.Tensor:
        """The perturbation actually added to each clip of ``x`` (after clipping)."""
        return self.test.x_adv - x

    def metrics(self, x_test: torch.Tensor, y_test: torch.Tensor) -> dict[str, Any]:
        """ASR on crafting and test clips, mean SNR and l_dB_x on the test clips, accuracy
        under the UAP, crafting seconds and model passes."""
        t = self.test.table
        keep = t["attacked"].to_numpy()
        delta = self.deltas(x_test).numpy()[keep]
        xs = x_test.numpy()[keep]
        acc = float((t["adv_pred"].to_numpy() == y_test.numpy()).mean())
        x01, d01 = (xs + 1) / 2, delta / 2  # the paper's [0, 1] arrays
        return {
            "asr_train": self.train.success,
            "asr_test": self.test.success,
            "snr_db": _mean(snr_db(xs, delta)),
            "ldb_x": _mean(ldb_x(delta, xs)),
            "snr_db_01": _mean(snr_db(x01, d01)),
            "ldb_x_01": _mean(ldb_x(d01, x01)),
            "model_acc": acc,
            "seconds": float(self.record["seconds"]),
            "passes": int(self.record["forward_samples"] + self.record["backward_samples"]),
        }


def _mean(values: Any) -> float:
    """Mean over the finite values (an undefined value, NaN, such as the SNR of a zero
    perturbation or a silent clip, is left out of the mean); NaN when none is finite."""
    a = np.asarray(values, dtype=float).ravel()
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else float("nan")


def resolve_targets(targets: str | Sequence[int | str], classes: Sequence[str]) -> list[int]:
    """``"all"`` or a list of class indices / names -> class indices, checked."""
    if isinstance(targets, str):
        if targets != "all":
            raise ValueError(f"targets must be 'all' or a list of classes, got {targets!r}")
        return list(range(len(classes)))
    out = []
    for t in targets:
        if isinstance(t, str):
            if t not in classes:
                raise ValueError(f"unknown target class {t!r}; classes are {list(classes)}")
            out.append(classes.index(t))
        elif isinstance(t, int) and 0 <= t < len(classes):
            out.append(int(t))
        else:
            raise ValueError(f"target {t!r} is not a class index below {len(classes)}")
    if not out:
        raise ValueError("targets is empty")
    return out


def uap_result(
    cache: Any,
    fit: Any,
    data: Any,
    method: str,
    settings: Mapping[str, Any],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    n_craft: int,
    target: int | None = None,
    classes: list[int] | None = None,
    seed: int = 0,
    judge: torch.nn.Module | None = None,
) -> UapResult:
    """Craft one UAP on ``n_craft`` training clips (cached) and evaluate it on them and on
    ``(x_test, y_test)``, judged by ``judge`` (default ``fit.model``; a UAP crafted through
    :func:`~advlib.run.runner.eot_victim` is judged by the plain victim)."""
    settings = dict(settings)
    v, rec, _ = craft_uap(
        cache, fit, data, method, settings, n=n_craft, target=target, classes=classes, seed=seed
    )
    space = uap_space(method, settings)
    sub = data.part("train")
    idx = torch.as_tensor(rec["clips"], dtype=torch.long)
    model = (fit.model if judge is None else judge).eval()
    train = evaluate_uap(model, sub.x[idx], sub.y[idx], v, space=space, target=target)
    test = evaluate_uap(model, x_test, y_test, v, space=space, target=target)
    return UapResult(fit.name, method, target, v, space, rec, train, test, settings, data.name)


def scenario_results(
    cache: Any,
    fit: Any,
    data: Any,
    methods: Mapping[str, Mapping[str, Any]],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    n_craft: int,
    targets: Sequence[int] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> list[UapResult]:
    """Both methods on one victim: the untargeted UAP and one targeted UAP per target (the
    rows of Tables 1-2 and the columns of Tables 6-11)."""
    from tqdm.auto import tqdm

    jobs = [(m, t) for m in METHODS for t in (None, *targets)]
    out = []
    for method, target in tqdm(jobs, desc=f"UAPs on {fit.name}", disable=not progress):
        scenario = "untargeted" if target is None else "targeted"
        settings = uap_settings(methods, method, scenario, table_overrides=overrides)
        out.append(
            uap_result(cache, fit, data, method, settings, x_test, y_test, n_craft=n_craft,
                       target=target, seed=seed)
        )  # fmt: skip
    return out


# --------------------------------------------------------------------------- tables


def _pool(props: Iterable[Proportion]) -> Proportion:
    props = list(props)
    return Proportion(sum(p.successes for p in props), sum(p.n for p in props))


def _fmt(p: Proportion) -> str:
    lo, hi = p.interval()
    return f"{p.rate:.3f} [{lo:.2f}, {hi:.2f}]"


def _group(results: Iterable[UapResult]) -> dict[tuple[str, str, str, str], list[UapResult]]:
    """UAPs by (data set, victim, method, scenario): one victim name trained on two data sets
    is two victims."""
    out: dict[tuple[str, str, str, str], list[UapResult]] = {}
    for r in results:
        out.setdefault((r.dataset, r.victim, r.method, r.scenario), []).append(r)
    return out


def scenario_summary(
    results: Iterable[UapResult], x_test: torch.Tensor, y_test: torch.Tensor
) -> pd.DataFrame:
    """One row per (data set, victim, method, scenario), its UAPs pooled (one per target, or the one
    untargeted UAP): ``asr_train`` and ``asr_test`` as :class:`~advlib.metrics.Proportion`
    over every (target, clip) pair, mean ``snr_db``, ``ldb_x`` and their ``_01`` versions (on
    the paper's [0, 1] arrays), mean ``model_acc`` under the UAP, summed crafting ``seconds``
    and ``passes``, and the number of ``uaps``. Every table and sweep of the chapter is built
    from it."""
    groups = _group(results)
    if not groups:
        raise ValueError("no UAP results to summarise")
    rows = []
    for (dataset, victim, method, scenario), group in groups.items():
        ms = [r.metrics(x_test, y_test) for r in group]
        row = {"dataset": dataset, "victim": victim, "method": method, "scenario": scenario}
        for k in ("asr_train", "asr_test"):
            row[k] = _pool(m[k] for m in ms)
        for k in ("snr_db", "ldb_x", "snr_db_01", "ldb_x_01"):
            row[k] = _mean([m[k] for m in ms])  # over the UAPs that perturb at all
        row["model_acc"] = float(np.mean([m["model_acc"] for m in ms]))
        row["seconds"] = float(np.sum([m["seconds"] for m in ms]))
        row["passes"] = int(np.sum([m["passes"] for m in ms]))
        row["uaps"] = len(ms)
        rows.append(row)
    return pd.DataFrame(rows)


def main_table(
    results: Iterable[UapResult],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    model_accuracy: bool = False,
) -> pd.DataFrame:
    """The paper's Table 1 (Table 2 with ``model_accuracy``): one row per (method, victim),
    for each scenario the ASR on crafting and test clips with 95 % Wilson intervals, mean SNR
    and l_dB_x on the test clips (zero-mean, the study's definition; and ``[0,1]``: on the
    paper's [0, 1] arrays, as the authors' code computes them), and the crafting time and
    passes (summed over targets)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for a in scenario_summary(results, x_test, y_test).to_dict("records"):
        scenario = a["scenario"]
        row = rows.setdefault((_LABEL.get(a["method"], a["method"]), a["victim"]), {})
        row[(scenario, "ASR train")] = _fmt(a["asr_train"])
        row[(scenario, "ASR test")] = _fmt(a["asr_test"])
        row[(scenario, "SNR (dB)")] = round(a["snr_db"], 2)
        row[(scenario, "l_dB_x")] = round(a["ldb_x"], 2)
        row[(scenario, "SNR [0,1]")] = round(a["snr_db_01"], 2)
        row[(scenario, "l_dB_x [0,1]")] = round(a["ldb_x_01"], 2)
        if model_accuracy and scenario == "untargeted":
            row[(scenario, "model acc.")] = round(a["model_acc"], 3)
        row[(scenario, "craft s")] = round(a["seconds"], 1)
        row[(scenario, "passes")] = a["passes"]
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index = pd.MultiIndex.from_tuples(df.index, names=["method", "victim"])
    df.columns = pd.MultiIndex.from_tuples(df.columns)
    order = [s for s in ("targeted", "untargeted") if s in df.columns.get_level_values(0)]
    return df[[c for s in order for c in df.columns if c[0] == s]].sort_index()


def per_target_table(
    results: Iterable[UapResult],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    classes: Sequence[str],
) -> pd.DataFrame:
    """Appendix D (Tables 6-11): per target class, ASR on crafting and test clips, mean SNR
    and l_dB_x, for every (victim, method) of the targeted scenario."""
    rows = []
    for r in results:
        if r.target is None:
            continue
        m = r.metrics(x_test, y_test)
        rows.append(
            {
                "victim": r.victim,
                "method": _LABEL.get(r.method, r.method),
                "target": classes[r.target],
                "ASR train": round(m["asr_train"].rate, 3),
                "ASR test": _fmt(m["asr_test"]),
                "SNR (dB)": round(m["snr_db"], 2),
                "l_dB_x": round(m["ldb_x"], 2),
            }
        )
    return pd.DataFrame(rows)


def _paired(results: Sequence[UapResult]) -> np.ndarray:
    """Success per (target, clip) pair, in a fixed order, over the attacked pairs."""
    parts = []
    for r in sorted(results, key=lambda r: -1 if r.target is None else r.target):
        t = r.test.table
        parts.append(t["success"].to_numpy()[t["attacked"].to_numpy()])
    return np.concatenate(parts).astype(bool)


def significance_table(results: Iterable[UapResult], alpha: float = 0.05) -> pd.DataFrame:
    """Table 5 (App. C): iterative vs penalty on the same test clips, per victim and scenario.

    The paper's two-proportion Z (unpaired, one-sided: the method with the lower ASR is worse)
    beside McNemar's exact test on the paired outcomes (the right test: both methods attack
    the same clips), each with Holm-corrected p-values across the table's family.
    """
    groups = _group(results)
    rows = []
    for dataset, victim, scenario in sorted({(d, v, s) for d, v, _, s in groups}):
        it = groups.get((dataset, victim, "uap_iterative", scenario))
        pe = groups.get((dataset, victim, "uap_penalty", scenario))
        if not it or not pe:
            continue
        a, b = _paired(it), _paired(pe)
        if a.shape != b.shape:
            raise ValueError(f"{victim}/{scenario}: the methods were evaluated on different clips")
        m = len(a)
        xi, xp = int(a.sum()), int(b.sum())
        high = "penalty" if xi <= xp else "iterative"
        z = two_proportion_z(min(xi, xp), max(xi, xp), m)
        mc = mcnemar_exact(a, b)
        rows.append(
            {
                "scenario": scenario,
                "data set": dataset,
                "victim": victim,
                "m": m,
                "p_l": round(min(xi, xp) / m, 3),
                "p_h": round(max(xi, xp) / m, 3),
                "higher": high,
                "Z": round(z.z, 3),
                "p (Z, one-sided)": z.p_value,
                "iter. only": mc.b,
                "pen. only": mc.c,
                "p (McNemar)": mc.p_value,
            }
        )
    df = pd.DataFrame(rows)
    if len(df):
        df["p Holm (Z)"] = holm(df["p (Z, one-sided)"].to_numpy(), alpha).p_adjusted
        df["p Holm (McNemar)"] = holm(df["p (McNemar)"].to_numpy(), alpha).p_adjusted
    return df


def significance_sentence(table: pd.DataFrame, alpha: float = 0.05) -> str:
    """What Table 5's data support, in one paragraph."""
    if not len(table):
        return "No victim was attacked by both methods, so there is nothing to test."
    k = len(table)
    z_paper = int((table["Z"] < -1.58).sum())
    z_holm = int((table["p Holm (Z)"] < alpha).sum())
    mc_holm = table[table["p Holm (McNemar)"] < alpha]
    pen = int((mc_holm["higher"] == "penalty").sum())
    it = int((mc_holm["higher"] == "iterative").sum())
    return (
        f"Of {k} comparisons, {z_paper} pass the paper's criterion (Z < -1.58) and {z_holm} "
        f"stay significant at {alpha} after Holm's correction of the one-sided Z-test. The "
        f"paired test (McNemar, two-sided, Holm-corrected) finds a difference in {len(mc_holm)}: "
        f"the penalty method higher in {pen}, the iterative method in {it}; in the other "
        f"{k - len(mc_holm)} the data do not distinguish the methods at this sample size."
    )


# --------------------------------------------------------------------------- sweeps


def sweep_table(
    results: Mapping[Any, Sequence[UapResult]],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    name: str = "value",
) -> pd.DataFrame:
    """Figs. 1-3 and Table 3: one row per (swept value, victim, method, scenario) with the
    pooled test ASR and its interval, mean SNR and l_dB_x (zero-mean and on [0, 1] arrays)."""
    parts = []
    for value, rs in results.items():
        a = scenario_summary(rs, x_test, y_test)
        ci = [p.interval() for p in a["asr_test"]]
        parts.append(
            pd.DataFrame(
                {
                    name: value,
                    "victim": a["victim"],
                    "method": [_LABEL.get(m, m) for m in a["method"]],
                    "scenario": a["scenario"],
                    "ASR": [p.rate for p in a["asr_test"]],
                    "ci_low": [lo for lo, _ in ci],
                    "ci_high": [hi for _, hi in ci],
                    "SNR (dB)": a["snr_db"],
                    "l_dB_x": a["ldb_x"],
                    "SNR [0,1] (dB)": a["snr_db_01"],
                    "l_dB_x [0,1]": a["ldb_x_01"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _yerr(g: pd.DataFrame) -> list[np.ndarray]:
    """Error-bar lengths from the interval columns (never negative: the Wilson bound can sit a
    rounding error inside a rate of 0 or 1)."""
    asr = g["ASR"].to_numpy(float)
    return [np.clip(asr - g["ci_low"].to_numpy(float), 0, None),
            np.clip(g["ci_high"].to_numpy(float) - asr, 0, None)]  # fmt: skip


def _finish(
    fig: plt.Figure, axes: Sequence[plt.Axes], title: str, grid: str = "both"
) -> plt.Figure:
    """The three panels' common labels, grid, limits, legend and title."""
    for ax, ylabel in zip(axes, ("test ASR", "mean SNR (dB)", "mean l_dB_x (dB)"), strict=True):
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, axis=grid)
    axes[0].set_ylim(0, 1)
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_sweep(table: pd.DataFrame, name: str, *, logx: bool = False, title: str = ""):
    """Three panels (test ASR with 95 % intervals, mean SNR, mean l_dB_x) against ``name``,
    one line per (victim, method, scenario)."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for key, g in table.groupby(["victim", "method", "scenario"]):
        g = g.sort_values(name)
        label = " / ".join(key)
        x = g[name].to_numpy(float)
        axes[0].errorbar(
            x, g["ASR"], yerr=_yerr(g),
            marker="o", capsize=3, label=label,
        )  # fmt: skip
        axes[1].plot(x, g["SNR (dB)"], marker="o", label=label)
        axes[2].plot(x, g["l_dB_x"], marker="o", label=label)
    for ax in axes:
        ax.set_xlabel(name)
        if logx:
            ax.set_xscale("log")
    return _finish(fig, axes, title)


def plot_per_class(table: pd.DataFrame, classes: Sequence[str], title: str = ""):
    """Fig. 3 / Table 3: test ASR (with intervals), SNR and l_dB_x per class."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    for key, g in table.groupby(["scenario"]):
        g = g.set_index("class").reindex(classes)
        x = np.arange(len(classes))
        off = -0.2 if key[0] == "untargeted" else 0.2
        axes[0].bar(x + off, g["ASR"], width=0.4, label=key[0],
                    yerr=_yerr(g), capsize=2)  # fmt: skip
        axes[1].bar(x + off, g["SNR (dB)"], width=0.4, label=key[0])
        axes[2].bar(x + off, g["l_dB_x"], width=0.4, label=key[0])
    for ax in axes:
        ax.set_xticks(np.arange(len(classes)), classes, rotation=45, ha="right", fontsize=7)
    return _finish(fig, axes, title, grid="y")


# --------------------------------------------------------------------------- transfer


def uap_transfer(
    models: Mapping[str, torch.nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    uaps: Mapping[str, Sequence[UapResult]],
) -> pd.DataFrame:
    """Table 4: the UAPs crafted on each source victim applied to ``x`` and judged by every
    victim of ``models``; a source's targeted UAPs (one per target) are pooled. Untargeted
    success counts every clip (Eq. 3: prediction differs from that victim's clean one)."""
    by_target: dict[int | None, dict[str, torch.Tensor]] = {}
    for src, rs in uaps.items():
        for r in rs:
            adv = by_target.setdefault(r.target, {})
            if src in adv:
                raise ValueError(f"two UAPs of {src!r} for target {r.target}")
            adv[src] = apply_uap(x, r.v.to(x.dtype), space=r.space)
    # one call per target: each victim's clean predictions are computed once per call
    parts = [
        transfer_matrix(models, x, y, adv, targets=t, only_correct=False)
        for t, adv in by_target.items()
    ]
    if not parts:
        raise ValueError("no UAPs to transfer")
    df = pd.concat(parts).groupby(["source", "victim"], as_index=False)[["successes", "n"]].sum()
    lohi = [
        Proportion(int(s), int(n)).interval() for s, n in zip(df["successes"], df["n"], strict=True)
    ]
    df["rate"] = df["successes"] / df["n"]
    df["ci_low"] = [a for a, _ in lohi]
    df["ci_high"] = [b for _, b in lohi]
    df["diagonal"] = df["source"] == df["victim"]
    return df


# --------------------------------------------------------------------------- robustness


def playback_rows(
    model: torch.nn.Module,
    results: Mapping[str, UapResult],
    x_test: torch.Tensor,
    *,
    draws: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Each UAP judged on ``model``: test ASR played directly and under random playback
    (gain, shift, noise, band-pass; over clip-plays), mean SNR, crafting time and passes
    (calls on the crafting model: through an EOT wrapper each costs ``samples`` victim passes).
    The first row is the baseline: clean clips played the same way, whose predictions change
    too; a UAP's playback success is only meaningful above it."""
    rows = []
    if results:  # the baseline: playback alone changes some predictions of clean clips
        t = next(iter(results.values())).test.table
        clean = torch.as_tensor(t["clean_pred"].to_numpy().copy())
        every = torch.ones_like(clean, dtype=torch.bool)
        base = playback_success(model, x_test, clean, every, draws=draws, seed=seed)
        rows.append({"UAP": "none (clean clips played)", "played directly": "0 (by definition)",
                     "random playback": str(base), "kept under playback": float("nan"),
                     "mean SNR (dB)": float("nan"), "craft s": 0.0, "passes": 0})  # fmt: skip
    for label, r in results.items():
        t = r.test.table
        attacked = torch.as_tensor(t["attacked"].to_numpy().copy())
        clean = torch.as_tensor(t["clean_pred"].to_numpy().copy())
        targets = None if r.target is None else torch.full_like(clean, r.target)
        played = playback_success(
            model, r.test.x_adv, clean, attacked, draws=draws, seed=seed, targets=targets
        )
        keep = attacked.numpy()
        delta = (r.test.x_adv - x_test).numpy()[keep]
        rows.append(
            {
                "UAP": label,
                "played directly": str(r.test.success),
                "random playback": str(played),
                "kept under playback": played.rate / r.test.success.rate
                if r.test.success.rate
                else float("nan"),
                "mean SNR (dB)": round(_mean(snr_db(x_test.numpy()[keep], delta)), 2),
                "craft s": round(float(r.record["seconds"]), 1),
                "passes": int(r.record["forward_samples"] + r.record["backward_samples"]),
            }
        )
    return pd.DataFrame(rows).set_index("UAP")


# --------------------------------------------------------------------------- paper numbers


def beside_paper(
    table: pd.DataFrame, paper: pd.DataFrame, *, artefact: str, metrics: Sequence[str] = ()
) -> pd.DataFrame:
    """Our Table 1/2 values beside the paper's (as data, with their table and row).

    ``table`` is :func:`main_table`'s output; ``paper`` the rows of
    :func:`advlib.study.paper_numbers.load_paper_numbers` for ``artefact``. One row per (method,
    victim, scenario, quantity): ours, the paper's (empty where the paper has no such victim)
    and where the paper's number is printed."""
    names = {  # the paper's SNR and l_dB_x are on [0, 1] arrays (the authors' code)
        "ASR train": ("asr", "train"),
        "ASR test": ("asr", "test"),
        "SNR [0,1]": ("snr_db", "test"),
        "l_dB_x [0,1]": ("ldb_x", "test"),
        "model acc.": ("model_acc", "test"),
    }
    paper = paper[paper["artefact"] == artefact]
    rows = []
    for (method, victim), row in table.iterrows():
        for (scenario, col), ours in row.items():
            if col not in names or (metrics and col not in metrics) or pd.isna(ours):
                continue
            metric, split = names[col]
            hit = paper[
                (paper["method"] == method)
                & (paper["victim"] == victim)
                & (paper["scenario"] == scenario)
                & (paper["metric"] == metric)
                & (paper["split"] == split)
            ]
            rows.append(
                {
                    "method": method,
                    "victim": victim,
                    "scenario": scenario,
                    "quantity": col,
                    "ours": ours,
                    "paper": float(hit["value"].iloc[0]) if len(hit) else None,
                    "source": f"{artefact}, {hit['table_row'].iloc[0]}" if len(hit) else "",
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- listening


def plot_perturbation(v: np.ndarray, sample_rate: int, *, title: str = ""):
    """Waveform and log-spectrogram of a universal perturbation (waveform units)."""
    v = np.asarray(v, dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(10, 2.6))
    t = np.arange(len(v)) / sample_rate
    axes[0].plot(t, v, lw=0.4)
    axes[0].set(xlabel="time (s)", ylabel="amplitude", title=f"{title}: waveform")
    axes[1].specgram(v + 1e-12, Fs=sample_rate, NFFT=256, noverlap=192, cmap="magma")
    axes[1].set(xlabel="time (s)", ylabel="Hz", title=f"{title}: spectrogram")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the page
#
# The page (notebooks/uap.md) is a view: each section makes one call below, which computes on
# the page's :class:`advlib.study.Study`, records the scorecard's numbers on ``study.records``
# and returns what the page shows.


@dataclass
class TableResult:
    """One of the profile's ``uap.tables`` (Table 1 or 2): its UAPs and what the page shows."""

    index: int
    spec: dict[str, Any]
    data: Any
    x: torch.Tensor
    y: torch.Tensor
    targets: list[int]
    results: list[UapResult]
    table: pd.DataFrame  # :func:`main_table`
    display: pd.DataFrame  # the same numbers, one row per (method, victim, scenario)
    beside_paper: pd.DataFrame  # ours beside the paper's, rows the paper has
    heading: str
    beside_note: str
    title: str = ""

    @property
    def artefact(self) -> str:
        return str(self.spec.get("artefact", f"Table {self.index + 1}"))


def table_setup(study: Any, uap: Mapping[str, Any], i: int) -> tuple[Any, Any, Any, Any, list]:
    """Spec, data, held-out clips and resolved targets of ``uap["tables"][i]``."""
    from advlib.run.runner import eval_clips

    tab = uap["tables"][i]
    data = study.dataset(tab["dataset"])
    x, y = eval_clips(data, uap.get("n_eval"), seed=study.seed)
    return tab, data, x, y, resolve_targets(tab.get("targets", "all"), data.classes)


def _pct(p: Proportion) -> str:
    from advlib.tables import percent

    return percent(p.rate, *p.interval())


def display_table(
    results: Iterable[UapResult], x: torch.Tensor, y: torch.Tensor, *, model_accuracy: bool
) -> pd.DataFrame:
    """:func:`main_table`'s numbers for reading: one row per (method, victim, scenario), rates
    in percent with their 95 % Wilson interval, levels in dB (formatted by the page)."""
    rows = []
    for a in scenario_summary(results, x, y).to_dict("records"):
        row = {
            "method": _LABEL.get(a["method"], a["method"]),
            "victim": a["victim"],
            "scenario": a["scenario"],
            "ASR train (%)": _pct(a["asr_train"]),
            "ASR test (%)": _pct(a["asr_test"]),
            "SNR (dB)": a["snr_db"],
            "l_dB_x (dB)": a["ldb_x"],
            "SNR [0,1] (dB)": a["snr_db_01"],
            "l_dB_x [0,1] (dB)": a["ldb_x_01"],
        }
        if model_accuracy:
            row["model acc. (%)"] = (
                f"{100 * a['model_acc']:.1f}" if a["scenario"] == "untargeted" else None
            )
        row["craft (s)"] = a["seconds"]
        row["passes"] = a["passes"]
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["method", "victim", "scenario"], ignore_index=True)


DB_FORMATS = {
    c: "{:.1f}"
    for c in ("SNR (dB)", "l_dB_x (dB)", "SNR [0,1] (dB)", "l_dB_x [0,1] (dB)", "craft (s)")
}


def _main_tables(study: Any, uap: Mapping[str, Any]) -> list[TableResult]:
    """Tables 1 and 2: both methods' UAPs on every victim of each of the profile's tables
    (crafted and cached), each table beside the paper's numbers."""
    from advlib.study.paper_numbers import load_paper_numbers

    paper = load_paper_numbers("UAP")
    out = []
    for i in range(len(uap["tables"])):
        tab, data, x, y, targets = table_setup(study, uap, i)
        res: list[UapResult] = []
        for name in tab["victims"]:
            res += scenario_results(
                study.cache,
                study.victim(tab["dataset"], name),
                data,
                uap["methods"],
                x,
                y,
                n_craft=uap["n_craft"],
                targets=targets,
                overrides=tab.get("overrides"),
                seed=study.seed,
                progress=study.progress,
            )
        model_acc = tab.get("model_accuracy", False)
        t = main_table(res, x, y, model_accuracy=model_acc)
        art = tab.get("artefact", f"Table {i + 1}")
        heading = (
            f"### {art}: {study.title(tab['dataset'])}\n\n"
            f"{len(x)} held-out clips, {uap['n_craft']} crafting clips per UAP, targets: "
            f"{', '.join(data.classes[k] for k in targets)}."
        )
        side = beside_paper(t, paper, artefact=art)
        if len(side) and side["paper"].notna().any():
            side = side[side["paper"].notna()].reset_index(drop=True)
            note = (
                f"Ours beside the paper's {art} (SNR and l_dB_x in the paper's [0, 1] "
                "convention, ASR as defined above)."
            )
        else:
            side = side.iloc[0:0]
            note = (
                f"*The paper's {art} has none of this profile's victims; its numbers are in "
                "the summary below.*"
            )
        disp = display_table(res, x, y, model_accuracy=model_acc)
        title = f"{art}, ours: both methods on {study.title(tab['dataset'])}."
        out.append(
            TableResult(i, tab, data, x, y, targets, res, t, disp, side, heading, note, title)
        )
    return out


def main_tables(study: Any, uap: Mapping[str, Any]) -> Section:
    """Tables 1 and 2 (see :func:`_main_tables`) as the page's section; ``data``: the
    :class:`TableResult` of each table, which the later sections read."""
    tables = _main_tables(study, uap)
    out = Section(data=tables)
    for tr in tables:
        out.text(tr.heading).table(tr.display, tr.title, formats=DB_FORMATS)
        if len(tr.beside_paper):
            out.table(tr.beside_paper, tr.beside_note, formats={"paper": "{:g}"})
        else:
            out.text(tr.beside_note)
    return out


@dataclass
class Ranges:
    """Ranges over victims of Tables 1-2, ours and the paper's, and the glued sentences."""

    summary: pd.DataFrame
    ours: pd.DataFrame
    paper: pd.DataFrame
    glue: dict[str, str]
    formats: dict[str, str] = field(default_factory=dict)  # one decimal: percent and dB


def _ranges(study: Any, tables: Sequence[TableResult]) -> Ranges:
    """Every scenario's test ASR and SNR, recorded for the scorecard (``{method}_asr`` with its
    Wilson interval, ``uap_snr01_db`` on [0, 1] arrays), and their ranges over victims beside
    the paper's."""
    from advlib.study.paper_numbers import load_paper_numbers

    paper = load_paper_numbers("UAP")
    summary = []
    for tr in tables:
        a = scenario_summary(tr.results, tr.x, tr.y)
        loader = study.loader(tr.spec["dataset"])
        for _, r in a.iterrows():  # the scorecard: test ASR with its interval, SNR on [0, 1]
            what = f"{r['victim']}, {r['scenario']}"
            study.records.record_proportion(
                f"{r['method']}_asr",
                r["asr_test"].successes,
                r["asr_test"].n,
                dataset=loader,
                label=what,
            )
            if np.isfinite(r["snr_db_01"]):  # undefined (NaN / inf) for a zero perturbation
                study.records.record(
                    "uap_snr01_db",
                    float(r["snr_db_01"]),
                    dataset=loader,
                    label=f"{r['method'].removeprefix('uap_')}, {what}",
                )
        summary.append(
            pd.DataFrame(
                {
                    "table": tr.spec.get("artefact", tr.index),
                    "victim": a["victim"],
                    "method": a["method"].str.removeprefix("uap_"),
                    "scenario": a["scenario"],
                    "ASR test": [p.rate for p in a["asr_test"]],
                    "SNR (dB)": a["snr_db"],
                    "SNR [0,1] (dB)": a["snr_db_01"],
                    "l_dB_x": a["ldb_x"],
                    "l_dB_x [0,1]": a["ldb_x_01"],
                }
            )
        )
    summary = pd.concat(summary, ignore_index=True)
    pub = paper[(paper["artefact"].isin(["Table 1", "Table 2"])) & (paper["split"] == "test")]
    pub = pub.pivot_table(
        index=["method", "scenario"], columns="metric", values="value", aggfunc=["min", "max"]
    )
    cols = ["ASR test", "SNR [0,1] (dB)", "l_dB_x [0,1]", "SNR (dB)"]
    ours = summary.groupby(["method", "scenario"])[cols].agg(["min", "max"]).round(3)
    pen = summary[(summary["method"] == "penalty")]["ASR test"]
    itr = summary[(summary["method"] == "iterative")]["ASR test"]
    glue = {
        "uap_pen_range": f"{pen.min():.2f}-{pen.max():.2f}",
        "uap_it_range": f"{itr.min():.2f}-{itr.max():.2f}",
        "uap_snr01_range": f"{summary['SNR [0,1] (dB)'].min():.0f}-"
        f"{summary['SNR [0,1] (dB)'].max():.0f} dB",
        "uap_snr_range": f"{summary['SNR (dB)'].min():.0f} to {summary['SNR (dB)'].max():.0f} dB",
    }
    # for reading: rates in percent, levels in dB, the paper's metrics named like ours
    ours_view = ours.copy()
    for c in ("min", "max"):
        ours_view[("ASR test (%)", c)] = 100 * ours_view[("ASR test", c)]
    ours_view = ours_view.drop(columns="ASR test", level=0)
    ours_view = ours_view[["ASR test (%)", "SNR [0,1] (dB)", "l_dB_x [0,1]", "SNR (dB)"]]
    ours_view = ours_view.rename(columns={"l_dB_x [0,1]": "l_dB_x [0,1] (dB)"}, level=0)
    pub_view = pub.swaplevel(axis=1).sort_index(axis=1)
    pub_view = pub_view.rename(
        columns={"asr": "ASR test (%)", "snr_db": "SNR [0,1] (dB)", "ldb_x": "l_dB_x [0,1] (dB)"},
        level=0,
    )
    for c in ("min", "max"):
        if ("ASR test (%)", c) in pub_view.columns:
            pub_view[("ASR test (%)", c)] = 100 * pub_view[("ASR test (%)", c)]
    first = [
        (a, b)
        for a in ours_view.columns.get_level_values(0).unique()
        for b in ("min", "max")
        if (a, b) in pub_view.columns
    ]
    rest = sorted(
        (c for c in pub_view.columns if c not in first), key=lambda c: (c[0], c[1] != "min")
    )
    pub_view = pub_view[first + rest]
    one = {f"{a}, {b}": "{:.1f}" for a, b in [*ours_view.columns, *pub_view.columns]}
    return Ranges(summary, ours_view, pub_view, glue, one)


def ranges(study: Any, tables: Sequence[TableResult]) -> Section:
    """The ranges over victims (:func:`_ranges`, which records the scorecard's numbers) as the
    page's section."""
    r = _ranges(study, tables)
    out = Section(glue=dict(r.glue), data=r)
    out.table(r.ours, "Ranges over victims, ours (Tables 1-2, test set).", index=True,
              formats=r.formats)  # fmt: skip
    out.table(r.paper, "Ranges over victims, the paper's (Tables 1-2, test set).", index=True,
              formats=r.formats)  # fmt: skip
    return out


def sign_test(k: int, n: int) -> float:
    """One-sided sign test: the p-value of ``k`` or more successes of ``n`` fair coin flips."""
    from scipy import stats

    return float(stats.binomtest(int(k), int(n), 0.5, alternative="greater").pvalue)


@dataclass
class Significance:
    """Table 5: ours (both tests per comparison), the sentence, and the paper's."""

    table: pd.DataFrame
    sentence: str
    paper: pd.DataFrame


def _significance(study: Any, tables: Sequence[TableResult]) -> Significance:
    """Table 5 over every victim and scenario of Tables 1-2; records for the scorecard whether
    the penalty method beats the iterative one: McNemar's exact test over every clip, pooled
    across victims and scenarios (:func:`advlib.stats.stratified_mcnemar`), with the paper's
    criterion (every Z below -1.58) and a sign test over the comparisons in its label."""
    from advlib.study.paper_numbers import load_paper_numbers, table5_recomputed

    allres = [r for tr in tables for r in tr.results]
    sig = significance_table(allres)
    sentence = significance_sentence(sig)
    if len(sig):
        # every clip counts: McNemar over the clips of all victims and scenarios (pooled
        # discordant pairs, exact, one-sided); the paper's criterion and a sign test beside it
        mc = stratified_mcnemar(sig["iter. only"], sig["pen. only"])
        differ = sig[sig["p_l"] != sig["p_h"]]
        k_pen = int((differ["higher"] == "penalty").sum())
        study.records.record_test(
            "uap_penalty_beats_iterative",
            mc.c - mc.b,
            mc.p_value,
            holds=mc.c > mc.b,
            method="McNemar over clips, stratified by victim and scenario (exact, one-sided)",
            n=mc.b + mc.c,
            dataset=",".join(sorted({study.loader(d) for d in sig["data set"]})),
            label=f"penalty alone fooled {mc.c} clips, iterative alone {mc.b}, over "
            f"{mc.strata} comparisons; paper's test: Z < -1.58 in "
            f"{int((sig['Z'] < -1.58).sum())} of {len(sig)}; sign test over comparisons: "
            f"penalty higher in {k_pen} of {len(differ)}, p = "
            f"{sign_test(k_pen, len(differ)) if len(differ) else 1.0:.3g}",
        )
    t5 = table5_recomputed(load_paper_numbers("UAP"))[list(PAPER_TABLE5_COLUMNS)]
    return Significance(sig, sentence, t5)


def significance(study: Any, tables: Sequence[TableResult]) -> Section:
    """Table 5 (:func:`_significance`, which records the scorecard's test) as the page's
    section; ``data``: the :class:`Significance`."""
    sig = _significance(study, tables)
    out = Section(glue={"uap_sig_sentence": sig.sentence}, data=sig)
    out.table(sig.table, "Table 5, ours: Z-test and McNemar's test per comparison.",
              formats=SIGNIFICANCE_FORMATS)  # fmt: skip
    out.table(sig.paper, "The paper's Table 5 (from `data/papers/uap.csv`), Z recomputed beside "
              "the printed one.", index=True, formats=PAPER_TABLE5_COLUMNS)  # fmt: skip
    return out


#: The columns of the paper's Table 5 as the page shows it: the printed p_l, p_h and Z beside
#: Z recomputed from them with the m of Sec. 4, its one-sided p-value, the verdict at 0.05 alone
#: and after Holm, and the range of the paired statistic the printed numbers allow
#: (:func:`advlib.study.paper_numbers.table5_recomputed`).
PAPER_TABLE5_COLUMNS = {
    "p_l": "{:.3f}",
    "p_h": "{:.3f}",
    "Z (paper)": "{:.3f}",
    "m": "{:,}",
    "Z": "{:.3f}",
    "p (one-sided)": "{:.2g}",
    "significant at 0.05": "{}",
    "significant at 0.05, Holm": "{}",
    "McNemar z min": "{:.2f}",
    "McNemar z max": "{:.2f}",
}


def protocol_notes() -> Section:
    """Where the UAP paper departs from its data sets' protocols or from itself
    (``data/papers/protocol.csv``): the page's section, one row per finding."""
    from advlib.study.paper_numbers import protocol_section

    return protocol_section("UAP")


SIGNIFICANCE_FORMATS = {
    "Z": "{:.2f}",
    "p (Z, one-sided)": "{:.4f}",
    "p (McNemar)": "{:.4f}",
    "p Holm (Z)": "{:.4f}",
    "p Holm (McNemar)": "{:.4f}",
    "p_l": "{:.3f}",
    "p_h": "{:.3f}",
}


@dataclass
class Sweep:
    """A swept knob: its table (rates as fractions, for the figure), the table for reading
    and the figure."""

    table: pd.DataFrame
    display: pd.DataFrame
    figure: Any
    formats: dict[str, Any] = field(default_factory=dict)


def _sweep_view(table: pd.DataFrame, name: str) -> pd.DataFrame:
    from advlib.tables import percent

    out = table[[name, "victim", "method", "scenario"]].copy()
    out["ASR test (%)"] = [
        percent(a, lo, hi)
        for a, lo, hi in zip(table["ASR"], table["ci_low"], table["ci_high"], strict=True)
    ]
    out["SNR (dB)"] = table["SNR (dB)"]
    out["l_dB_x (dB)"] = table["l_dB_x"]
    out["SNR [0,1] (dB)"] = table["SNR [0,1] (dB)"]
    out["l_dB_x [0,1] (dB)"] = table["l_dB_x [0,1]"]
    return out


def _closed(fig: Any) -> Any:
    plt.close(fig)  # the page displays it, with its caption
    return fig


def _kappa_sweep(study: Any, uap: Mapping[str, Any]) -> Sweep | None:
    """Fig. 1: the penalty method's confidence κ, untargeted and targeted (``None`` when the
    profile has no ``confidence`` sweep)."""
    if not uap.get("confidence"):
        return None
    c = uap["confidence"]
    tab, data, x, y, _ = table_setup(study, uap, c["table"])
    t = resolve_targets([c["target"]], data.classes)[0] if "target" in c else None
    sweep: dict[Any, list[UapResult]] = {}
    for kappa in c["values"]:
        sweep[kappa] = []
        for name in c["victims"]:
            fit = study.victim(tab["dataset"], name)
            for target in (None, t) if t is not None else (None,):
                s = "untargeted" if target is None else "targeted"
                st = uap_settings(
                    uap["methods"],
                    "uap_penalty",
                    s,
                    table_overrides=tab.get("overrides"),
                    confidence=float(kappa),
                )
                sweep[kappa].append(
                    uap_result(
                        study.cache,
                        fit,
                        data,
                        "uap_penalty",
                        st,
                        x,
                        y,
                        n_craft=uap["n_craft"],
                        target=target,
                        seed=study.seed,
                    )
                )
    table = sweep_table(sweep, x, y, name="kappa")
    fig = plot_sweep(table, "kappa", title="Effect of the confidence (penalty method)")
    return Sweep(table, _sweep_view(table, "kappa"), _closed(fig), {**DB_FORMATS, "kappa": "{:g}"})


def kappa_sweep(study: Any, uap: Mapping[str, Any]) -> Section:
    """Fig. 1 (:func:`_kappa_sweep`) as the page's section."""
    s = _kappa_sweep(study, uap)
    if s is None:
        return Section().text("*No confidence sweep in this profile.*")
    out = Section(data=s)
    out.table(s.display, "Fig. 1: the confidence kappa (penalty method).", formats=s.formats)
    return out.figure(s.figure, "Effect of the confidence kappa: ASR, SNR, l_dB_x.")


def _n_craft_sweep(study: Any, uap: Mapping[str, Any]) -> Sweep | None:
    """Fig. 2: the number of crafting clips, both methods, untargeted on one victim and
    targeted on another (``None`` when the profile has no ``n_craft_sweep``)."""
    if not uap.get("n_craft_sweep"):
        return None
    c = uap["n_craft_sweep"]
    tab, data, x, y, _ = table_setup(study, uap, c["table"])
    t = resolve_targets([c["target"]], data.classes)[0]
    sweep: dict[Any, list[UapResult]] = {}
    for n in c["values"]:
        sweep[n] = []
        for method in METHODS:
            for name, target in ((c["untargeted"], None), (c["targeted"], t)):
                s = "untargeted" if target is None else "targeted"
                st = uap_settings(uap["methods"], method, s, table_overrides=tab.get("overrides"))
                sweep[n].append(
                    uap_result(
                        study.cache,
                        study.victim(tab["dataset"], name),
                        data,
                        method,
                        st,
                        x,
                        y,
                        n_craft=int(n),
                        target=target,
                        seed=study.seed,
                    )
                )
    table = sweep_table(sweep, x, y, name="crafting clips")
    fig = plot_sweep(
        table, "crafting clips", logx=True, title="Effect of the number of crafting clips"
    )
    return Sweep(table, _sweep_view(table, "crafting clips"), _closed(fig), dict(DB_FORMATS))


def n_craft_sweep(study: Any, uap: Mapping[str, Any]) -> Section:
    """Fig. 2 (:func:`_n_craft_sweep`) as the page's section."""
    s = _n_craft_sweep(study, uap)
    if s is None:
        return Section().text("*No crafting-set sweep in this profile.*")
    out = Section(data=s)
    out.table(s.display, "Fig. 2: the number of crafting clips.", formats=s.formats)
    return out.figure(s.figure, "Effect of the number of crafting clips (log scale).")


@dataclass
class SingleClip:
    """Table 3 and Fig. 3: per class, and the means over classes."""

    table: pd.DataFrame  # :func:`sweep_table` by class
    per_class: pd.DataFrame  # for reading
    means: pd.DataFrame
    figure: Any
    glue: dict[str, str]
    formats: dict[str, Any] = field(default_factory=dict)


NO_SINGLE_GLUE = {"uap_single_u": "n/a", "uap_single_t": "n/a"}  # no ``single`` study
SINGLE_MEANS_TITLE = (
    "Means over classes (the paper, 1D CNN Gamma on UrbanSound8K: ASR 69.8 % untargeted / "
    "60.2 % targeted, SNR 18.489 / 19.690 dB, l_dB_x -15.844 / 15.571 dB as printed)."
)


def _single_clip(study: Any, uap: Mapping[str, Any]) -> SingleClip | None:
    """Table 3 (untargeted: a UAP from one clip of each class) and Fig. 3 (targeted to each
    class: one clip of every other class), by the penalty method; records the mean ASR over
    classes with its t interval (``None`` when the profile has no ``single`` study)."""
    if not uap.get("single"):
        return None
    c = uap["single"]
    tab, data, x, y, _ = table_setup(study, uap, c["table"])
    fit = study.victim(tab["dataset"], c["victim"])
    per_class = {}
    for k in range(data.n_classes):
        per_class[data.classes[k]] = [
            # untargeted: crafted from one clip of class k; targeted to k: one clip per class
            uap_result(
                study.cache,
                fit,
                data,
                "uap_penalty",
                uap_settings(uap["methods"], "uap_penalty", s, **c.get("settings", {})),
                x,
                y,
                n_craft=1 if target is None else data.n_classes,
                target=target,
                classes=[k] if target is None else None,
                seed=study.seed,
            )
            for s, target in (("untargeted", None), ("targeted", k))
        ]
    single = sweep_table(per_class, x, y, name="class")
    means = single.groupby("scenario")[
        ["ASR", "SNR [0,1] (dB)", "l_dB_x [0,1]", "SNR (dB)", "l_dB_x"]
    ].mean()
    glue = {
        "uap_single_u": f"{means.loc['untargeted', 'ASR']:.3f}",
        "uap_single_t": f"{means.loc['targeted', 'ASR']:.3f}",
    }
    for s in ("untargeted", "targeted"):  # the scorecard: mean over classes, t interval
        study.records.record_mean(
            f"uap_single_{s}_asr",
            single.loc[single["scenario"] == s, "ASR"],
            dataset=study.loader(tab["dataset"]),
            label=c["victim"],
        )
    fig = plot_per_class(single, data.classes, title=f"One clip per class: {c['victim']}")
    view = _sweep_view(single, "class").drop(columns=["victim", "method"])
    view = view.pivot(index="class", columns="scenario").reindex(data.classes)
    view = view[[c for c in ("ASR test (%)", "SNR [0,1] (dB)", "l_dB_x [0,1] (dB)")]]
    mean_view = means.reset_index().rename(
        columns={
            "ASR": "mean ASR (%)",
            "SNR [0,1] (dB)": "SNR [0,1] (dB)",
            "l_dB_x [0,1]": "l_dB_x [0,1] (dB)",
            "l_dB_x": "l_dB_x (dB)",
        }
    )
    mean_view["mean ASR (%)"] = 100 * mean_view["mean ASR (%)"]
    one = {f"{a}, {b}": "{:.1f}" for a, b in view.columns if a != "ASR test (%)"}
    one.update({c: "{:.1f}" for c in mean_view.columns if c != "scenario"})
    return SingleClip(single, view, mean_view, _closed(fig), glue, one)


def single_clip(study: Any, uap: Mapping[str, Any]) -> Section:
    """Table 3 and Fig. 3 (:func:`_single_clip`, which records the scorecard's means) as the
    page's section."""
    s = _single_clip(study, uap)
    if s is None:
        return Section(glue=dict(NO_SINGLE_GLUE))
    out = Section(glue=dict(s.glue), data=s)
    out.table(s.per_class, "Table 3 and Fig. 3: one clip per class.", index=True,
              formats=s.formats)  # fmt: skip
    out.table(s.means, SINGLE_MEANS_TITLE, formats=s.formats)
    return out.figure(s.figure, "One clip per class: test ASR, SNR and l_dB_x per class.")


def _transfer_figures(study: Any, uap: Mapping[str, Any], tables: Sequence[TableResult]) -> list:
    """Table 4: for each table the profile lists, the ASR of each victim's UAPs on every other
    victim (one panel per method and scenario); a note instead where a table has one victim."""
    from advlib.run.transfer import plot_transfer

    out: list[tuple[Any, str]] = []
    for i in (uap.get("transfer") or {}).get("tables", []):
        tr = tables[i]
        tab, x, y = tr.spec, tr.x, tr.y
        if len(tab["victims"]) < 2:
            out.append((None, f"*{tab.get('artefact', i)} has one victim: nothing to transfer.*"))
            continue
        models = {n: study.victim(tab["dataset"], n).model for n in tab["victims"]}
        fig, axes = plt.subplots(2, 2, figsize=(4 + 2.4 * len(models), 2.2 * len(models) + 3.5))
        for row, method in enumerate(METHODS):
            for col, scenario in enumerate(("untargeted", "targeted")):
                uaps = {
                    n: [
                        r
                        for r in tr.results
                        if r.victim == n and r.method == method and r.scenario == scenario
                    ]
                    for n in tab["victims"]
                }
                tt = uap_transfer(models, x, y, uaps)
                plot_transfer(
                    tt, ax=axes[row, col], title=f"{method.removeprefix('uap_')}, {scenario}"
                )
        fig.suptitle(f"Transfer, {tab.get('artefact', i)} victims: ASR of row's UAP on column")
        fig.tight_layout()
        out.append((_closed(fig), f"Transfer between the victims of {tab.get('artefact', i)}."))
    return out


def transfer_figures(study: Any, uap: Mapping[str, Any], tables: Sequence[TableResult]) -> Section:
    """Table 4 (:func:`_transfer_figures`) as the page's section."""
    out = Section()
    for fig, text in _transfer_figures(study, uap, tables):
        out.text(text) if fig is None else out.figure(fig, text)
    return out


def _playback(study: Any, uap: Mapping[str, Any]) -> list[tuple[str, pd.DataFrame]]:
    """Each untargeted UAP of the playback victims, crafted plainly and through EOT, played
    through random transforms (:func:`playback_rows`); one table per victim."""
    from advlib.run.runner import eot_victim

    if not uap.get("playback"):
        return []
    c = uap["playback"]
    tab, data, x, y, _ = table_setup(study, uap, c["table"])
    out = []
    for name in c["victims"]:
        fit = study.victim(tab["dataset"], name)
        eot = eot_victim(fit, samples=c.get("eot_samples", 4), seed=study.seed)
        rows = {}
        for method in METHODS:
            st = uap_settings(
                uap["methods"], method, "untargeted", table_overrides=tab.get("overrides")
            )
            label = f"{name} / {method.removeprefix('uap_')}"
            for key, crafter in ((label, fit), (f"{label} + EOT", eot)):
                # both judged by the plain victim
                rows[key] = uap_result(
                    study.cache,
                    crafter,
                    data,
                    method,
                    st,
                    x,
                    y,
                    n_craft=uap["n_craft"],
                    seed=study.seed,
                    judge=fit.model,
                )
        t = playback_rows(fit.model, rows, x, draws=c.get("draws", 8), seed=study.seed)
        t = t.reset_index().rename(
            columns={"kept under playback": "kept under playback (%)", "craft s": "craft (s)"}
        )
        t["kept under playback (%)"] = 100 * t["kept under playback (%)"]
        out.append((f"Playback robustness of the untargeted UAPs on {name}.", t))
    return out


def playback(study: Any, uap: Mapping[str, Any]) -> Section:
    """Survival under playback (:func:`_playback`) as the page's section."""
    played = _playback(study, uap)
    out = Section()
    for title, table in played:
        out.table(table, title, formats=PLAYBACK_FORMATS)
    return out if played else out.text("*No playback study in this profile.*")


PLAYBACK_FORMATS = {
    "kept under playback (%)": "{:.1f}",
    "mean SNR (dB)": "{:.1f}",
    "craft (s)": "{:.1f}",
}


# --------------------------------------------------------------------------- the two gradients

VARIANTS = ("paper", "code")


def variant_settings(
    methods: Mapping[str, Mapping[str, Any]],
    scenario: str,
    variant: str,
    *,
    table_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The penalty method's settings for ``scenario`` with gradient ``variant``, otherwise the
    main tables' settings: returned unchanged when they already use ``variant`` (left unset it is
    the attack's default, ``"paper"``), so the UAP Tables 1-2 cached is the same cache entry."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    st = uap_settings(methods, "uap_penalty", scenario, table_overrides=table_overrides)
    if st.get("variant", "paper") != variant:
        st["variant"] = variant
    return st


def variant_results(
    cache: Any,
    fit: Any,
    data: Any,
    methods: Mapping[str, Mapping[str, Any]],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    n_craft: int,
    targets: Sequence[int] = (),
    scenarios: Sequence[str] = ("untargeted", "targeted"),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int = 0,
) -> dict[str, list[UapResult]]:
    """The penalty UAPs of one victim in both gradient variants (:data:`VARIANTS`), on the same
    crafting clips, targets and held-out clips: ``{variant: [UapResult, ...]}``, the untargeted
    UAP and one targeted UAP per target for each scenario asked."""
    out: dict[str, list[UapResult]] = {}
    for variant in VARIANTS:
        out[variant] = []
        for scenario in scenarios:
            st = variant_settings(methods, scenario, variant, table_overrides=overrides)
            for target in (None,) if scenario == "untargeted" else tuple(targets):
                out[variant].append(
                    uap_result(cache, fit, data, "uap_penalty", st, x_test, y_test,
                               n_craft=n_craft, target=target, seed=seed)
                )  # fmt: skip
    return out


def adam_steps(record: Mapping[str, Any], settings: Mapping[str, Any]) -> int:
    """The Adam steps a penalty UAP took, from its crafting record: each step back-propagates
    one mini-batch of ``batch_size`` of the ``n`` crafting clips (the last of an epoch
    possibly smaller), so ``backward_samples`` gives full epochs plus the steps of a last
    partial one. At most the ``steps`` setting: fewer when the fooling rate was reached."""
    import math

    n = len(record["clips"])
    b = min(int(settings.get("batch_size", 100)), n)
    epochs, rest = divmod(int(record["backward_samples"]), n)
    return epochs * math.ceil(n / b) + math.ceil(rest / b)


def variant_parts(uap: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The profile's ``variants`` part as a list of ``{table, victims, scenarios}`` (it may be
    one mapping or a list of them, one per table of ``uap.tables``); empty when absent."""
    c = uap.get("variants")
    if not c:
        return []
    return [dict(p) for p in (c if isinstance(c, list) else [c])]


def variants_table(
    parts: Sequence[tuple[Mapping[str, Sequence[UapResult]], torch.Tensor, torch.Tensor]],
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The penalty method's two gradients side by side. ``parts``: for each of the profile's
    tables compared, :func:`variant_results`' output (its victims' lists concatenated) with the
    held-out clips ``(x_test, y_test)`` they were evaluated on.

    One row per (data set, victim, scenario, variant): the test ASR in percent with its 95 %
    Wilson interval (pooled over targets), mean SNR on the paper's [0, 1] arrays and on
    zero-mean waveforms, mean l_dB_x (zero-mean), the Adam steps taken and the model passes
    (summed over the scenario's UAPs). The first row of each (data set, victim, scenario)
    carries McNemar's exact test, paper against code, on the same (target, clip) pairs: the
    pairs only one variant fools, the two-sided p-value and Holm's correction across every
    comparison of the table; the second row leaves those cells empty. Helper columns ``_p``
    (the raw p-value) and ``_asr`` (the rate) are for :func:`variants_sentence`."""
    rows, tests = [], []
    for results, x_test, y_test in parts:
        missing = [v for v in VARIANTS if not results.get(v)]
        if missing:
            raise ValueError(f"no UAP results for the variant(s) {missing}")
        groups = {v: _group(results[v]) for v in VARIANTS}
        if set(groups["paper"]) != set(groups["code"]):
            raise ValueError("the variants were crafted for different victims or scenarios")
        for key in sorted(groups["paper"]):
            dataset, victim, _, scenario = key
            pair = {v: groups[v][key] for v in VARIANTS}
            a, b = _paired(pair["paper"]), _paired(pair["code"])
            if a.shape != b.shape:
                raise ValueError(f"{victim}/{scenario}: variants evaluated on different clips")
            mc = mcnemar_exact(a, b)
            tests.append(mc.p_value)
            for variant in VARIANTS:
                rs = pair[variant]
                s = scenario_summary(rs, x_test, y_test).iloc[0]
                first = variant == VARIANTS[0]
                rows.append(
                    {
                        "data set": dataset,
                        "victim": victim,
                        "scenario": scenario,
                        "variant": variant,
                        "ASR test (%)": _pct(s["asr_test"]),
                        "SNR [0,1] (dB)": s["snr_db_01"],
                        "SNR (dB)": s["snr_db"],
                        "l_dB_x (dB)": s["ldb_x"],
                        "Adam steps": int(sum(adam_steps(r.record, r.settings) for r in rs)),
                        "passes": int(s["passes"]),
                        "paper only": str(mc.b) if first else "",
                        "code only": str(mc.c) if first else "",
                        "p (McNemar)": f"{mc.p_value:.3g}" if first else "",
                        "_p": mc.p_value,
                        "_asr": s["asr_test"].rate,
                    }
                )
    if not rows:
        raise ValueError("no UAP results to compare")
    df = pd.DataFrame(rows)
    adj = holm(np.asarray(tests, float), alpha).p_adjusted
    df["p Holm (McNemar)"] = [f"{adj[i // 2]:.3g}" if i % 2 == 0 else "" for i in range(len(df))]
    return df


def variants_sentence(table: pd.DataFrame, alpha: float = 0.05) -> str:
    """What the comparison of the two variants found (:func:`variants_table`), with its
    numbers: the range of the ASR and SNR differences, and the verdict of McNemar's test."""
    paper = table[table["variant"] == "paper"].reset_index(drop=True)
    code = table[table["variant"] == "code"].reset_index(drop=True)
    k = len(paper)
    diff = 100 * (code["_asr"] - paper["_asr"])
    snr = (code["SNR [0,1] (dB)"] - paper["SNR [0,1] (dB)"]).to_numpy(float)
    snr = snr[np.isfinite(snr)]
    sig = holm(paper["_p"].to_numpy(float), alpha).p_adjusted < alpha
    higher = int((sig & (diff.to_numpy() > 0)).sum())
    lower = int((sig & (diff.to_numpy() < 0)).sum())
    snr_text = (
        f"its mean SNR (the paper's [0, 1] convention) by {snr.min():+.1f} to {snr.max():+.1f} dB"
        if snr.size
        else "its SNR is undefined (a perturbation stayed zero)"
    )
    return (
        f"Over {k} comparison{'s' if k != 1 else ''} (victim and scenario), the code variant's "
        f"test ASR differs from the paper variant's by {diff.min():+.1f} to {diff.max():+.1f} "
        f"percentage points and {snr_text}. McNemar's exact test on the same clips, "
        f"Holm-corrected at {alpha}, finds the code variant higher in {higher} and lower in "
        f"{lower} of the {k}; in the other {k - higher - lower} the data do not distinguish the "
        "two gradients at this sample size."
    )


VARIANTS_FORMATS = {c: "{:.1f}" for c in ("SNR [0,1] (dB)", "SNR (dB)", "l_dB_x (dB)")}


def main_variant(uap: Mapping[str, Any]) -> str:
    """The gradient variant of the penalty UAPs of the profile's Tables 1-2 (and sweeps):
    ``"paper"`` unless its settings (or a table's overrides) set ``variant``; each distinct
    setting named with where it applies when they differ."""
    used = {
        (tab.get("artefact", f"Table {i + 1}"), s): uap_settings(
            uap["methods"], "uap_penalty", s, table_overrides=tab.get("overrides")
        ).get("variant", "paper")
        for i, tab in enumerate(uap["tables"])
        for s in ("untargeted", "targeted")
    }
    if len(set(used.values())) == 1:
        return next(iter(used.values()))
    return "; ".join(f"{v} ({art}, {s})" for (art, s), v in used.items())


def penalty_variants(study: Any, uap: Mapping[str, Any]) -> Section:
    """The penalty UAP crafted with the exact gradient of the paper's loss (``variant="paper"``)
    and with the authors' code's gradient (``variant="code"``) on the victims and scenarios of
    the profile's ``variants`` part, all else as in Tables 1-2 (their cached UAPs are reused for
    the variant they use). The glue says which variant this profile's Tables 1-2 use
    (``uap_variant_main``) and what the comparison found (``uap_variants_sentence``)."""
    glue = {"uap_variant_main": main_variant(uap)}
    parts = variant_parts(uap)
    if not parts:
        glue["uap_variants_sentence"] = "This profile runs no comparison of the two variants."
        return Section(glue=glue).text("*No comparison of the two variants in this profile.*")
    computed, where = [], []
    for c in parts:
        tab, data, x, y, targets = table_setup(study, uap, c["table"])
        results: dict[str, list[UapResult]] = {v: [] for v in VARIANTS}
        for name in c["victims"]:
            got = variant_results(
                study.cache,
                study.victim(tab["dataset"], name),
                data,
                uap["methods"],
                x,
                y,
                n_craft=uap["n_craft"],
                targets=targets,
                scenarios=c.get("scenarios", ["untargeted", "targeted"]),
                overrides=tab.get("overrides"),
                seed=study.seed,
            )
            for v in VARIANTS:
                results[v] += got[v]
        computed.append((results, x, y))
        art = tab.get("artefact", f"Table {c['table'] + 1}")
        where.append(f"{study.title(tab['dataset'])} ({art}'s settings, {len(x)} held-out clips)")
    table = variants_table(computed)
    glue["uap_variants_sentence"] = variants_sentence(table)
    title = (
        f"The penalty method's two gradients on {'; '.join(where)}: McNemar's exact test, "
        "paper against code, on the same clips, Holm-corrected across the comparisons."
    )
    shown = table.drop(columns=["_p", "_asr"])
    return Section(glue=glue, data=table).table(shown, title, formats=dict(VARIANTS_FORMATS))


def _per_target(tables: Sequence[TableResult]) -> list[tuple[str, pd.DataFrame]]:
    """Appendix D (Tables 6-11): each table's per-target rows, for reading."""
    out = []
    for tr in tables:
        per = per_target_table(tr.results, tr.x, tr.y, tr.data.classes)
        if len(per):
            per = per.rename(
                columns={
                    "ASR train": "ASR train (%)",
                    "ASR test": "ASR test (%)",
                    "l_dB_x": "l_dB_x (dB)",
                }
            )
            per["ASR train (%)"] = 100 * per["ASR train (%)"]
            per["ASR test (%)"] = [
                _pct(r.metrics(tr.x, tr.y)["asr_test"]) for r in tr.results if r.target is not None
            ]
            out.append((f"{tr.spec.get('artefact', tr.index)}, per target class.", per))
    return out


def per_target(tables: Sequence[TableResult]) -> Section:
    """Tables 6-11 (:func:`_per_target`) as the page's section."""
    out = Section()
    for title, table in _per_target(tables):
        out.table(table, title, formats=PER_TARGET_FORMATS)
    return out


PER_TARGET_FORMATS = {"ASR train (%)": "{:.1f}", "SNR (dB)": "{:.1f}", "l_dB_x (dB)": "{:.1f}"}


@dataclass
class Heard:
    """One victim's untargeted penalty UAP: its figure and caption, a line, three players."""

    figure: Any
    caption: str
    text: str
    players: list[Any]


def _listen(study: Any, tables: Sequence[TableResult]) -> list[Heard]:
    """For each victim of Tables 1-2, its untargeted penalty UAP: waveform and spectrogram, and
    the clean held-out clip it fools best, the perturbation alone and the perturbed clip."""
    from advlib import plots

    out = []
    for tr in tables:
        tab, data, x = tr.spec, tr.data, tr.x
        lic = study.licence(tab["dataset"])
        for name in tab["victims"]:
            r = next(
                r
                for r in tr.results
                if r.victim == name and r.method == "uap_penalty" and r.target is None
            )
            j = int(np.argmax(r.test.table["success"].to_numpy()))
            row = r.test.table.iloc[j]
            delta = (r.test.x_adv[j] - x[j]).numpy()
            fig = plot_perturbation(delta, data.sample_rate, title=f"{name}, penalty UAP")
            text = (
                f"**{name}** ({study.title(tab['dataset'])}): "
                f"{data.classes[int(row['clean_pred'])]} -> "
                f"{data.classes[int(row['adv_pred'])]}, SNR {row['snr_db']:.1f} dB"
            )
            players = [
                plots.audio_player(clip, data.sample_rate, title=f"{name}: {title}", credit=lic)
                for title, clip in (
                    ("clean", x[j].numpy()),
                    ("perturbation", delta),
                    ("perturbed", r.test.x_adv[j].numpy()),
                )
            ]
            cap = f"The untargeted penalty UAP of {name}: waveform and spectrogram."
            out.append(Heard(_closed(fig), cap, text, players))
    return out


def listen(study: Any, tables: Sequence[TableResult]) -> Section:
    """The listening section (:func:`_listen`): each UAP's figure, caption, text and players."""
    out = Section()
    for h in _listen(study, tables):
        out.figure(h.figure, h.caption).text(h.text).media(*h.players)
    return out


# The profile's ``uap`` section: checked when the profile is loaded
# (advlib.chapters.load_profile).
_UAP = {"n_craft", "n_eval", "methods", "tables", "confidence", "n_craft_sweep", "single",
        "transfer", "playback", "variants"}  # fmt: skip
_UAP_TABLE = {"artefact", "dataset", "victims", "targets", "overrides", "model_accuracy"}
_UAP_PARTS = {
    "confidence": ({"table", "victims", "values", "target"}, {"table", "victims", "values"}),
    "n_craft_sweep": (
        {"table", "values", "untargeted", "targeted", "target"},
        {"table", "values", "untargeted", "targeted"},
    ),
    "single": ({"table", "victim", "settings"}, {"table", "victim"}),
    "transfer": ({"tables"}, {"tables"}),
    "playback": ({"table", "victims", "draws", "eot_samples"}, {"table", "victims"}),
}
_UAP_VARIANTS = {"table", "victims", "scenarios"}


def validate_section(uap: Any, datasets: dict[str, Any], source: str) -> None:
    """The ``uap`` section: data sets and victims of the profile, settings each method
    accepts in each scenario (after each table's overrides), targets, and the sweeps'
    references to a table."""
    from advlib.attacks.registry import make_attack
    from advlib.run.universal import SCENARIOS, uap_settings

    where = "uap"
    check_keys(source, where, uap, _UAP, {"n_craft", "methods", "tables"})
    positive_int(source, f"{where}.n_craft", uap["n_craft"])
    if uap.get("n_eval") is not None:
        positive_int(source, f"{where}.n_eval", uap["n_eval"])
    methods = uap["methods"]
    if not isinstance(methods, dict) or set(methods) != {"uap_iterative", "uap_penalty"}:
        fail(source, f"{where}.methods", "must give settings for uap_iterative and uap_penalty")
    for method, block in methods.items():
        if not isinstance(block, dict):
            fail(source, f"{where}.methods.{method}", "must be a mapping")

    def check(method: str, at: str, **settings_of: Any) -> None:
        for scenario in SCENARIOS:
            try:
                make_attack(method, uap_settings(methods, method, scenario, **settings_of))
            except ValueError as exc:
                fail(source, at, str(exc))

    for method in methods:
        check(method, f"{where}.methods.{method}")
    tables = uap["tables"]
    if not isinstance(tables, list) or not tables:
        fail(source, f"{where}.tables", "must be a non-empty list")
    for i, tab in enumerate(tables):
        twhere = f"{where}.tables[{i}]"
        check_keys(source, twhere, tab, _UAP_TABLE, {"dataset", "victims"})
        if tab["dataset"] not in datasets:
            fail(
                source, f"{twhere}.dataset", f"{tab['dataset']!r} is not a data set of the profile"
            )
        trained = datasets[tab["dataset"]]["victims"]
        if not isinstance(tab["victims"], list) or not tab["victims"]:
            fail(source, f"{twhere}.victims", "must be a non-empty list")
        for v in tab["victims"]:
            if v not in trained:
                fail(source, f"{twhere}.victims", f"{v!r} is not trained on {tab['dataset']!r}")
        targets = tab.get("targets", "all")
        if targets != "all" and (not isinstance(targets, list) or not targets):
            fail(source, f"{twhere}.targets", "must be 'all' or a non-empty list of classes")
        overrides = tab.get("overrides") or {}
        for method in overrides:
            if method not in methods:
                fail(source, f"{twhere}.overrides", f"unknown method {method!r}")
            check(method, f"{twhere}.overrides.{method}", table_overrides=overrides)
    for part, (allowed, required) in _UAP_PARTS.items():
        if part not in uap:
            continue
        sec = uap[part]
        pwhere = f"{where}.{part}"
        check_keys(source, pwhere, sec, allowed, required)
        refs = sec["tables"] if part == "transfer" else [sec["table"]]
        for t in refs:
            if not isinstance(t, int) or not 0 <= t < len(tables):
                fail(source, pwhere, f"table {t!r} is not an index of uap.tables")
        if part in ("confidence", "playback", "variants") and (
            not isinstance(sec["victims"], list) or not sec["victims"]
        ):
            fail(source, f"{pwhere}.victims", "must be a non-empty list")
        trained = tables[refs[0]]["victims"]
        named = [
            *sec.get("victims", []),
            *(sec[k] for k in ("victim", "untargeted", "targeted") if k in sec),
        ]
        for v in named:
            if v not in trained:
                fail(source, pwhere, f"{v!r} is not a victim of uap.tables[{refs[0]}]")
        if "values" in sec and (not isinstance(sec["values"], list) or not sec["values"]):
            fail(source, f"{pwhere}.values", "must be a non-empty list")
        if part == "single":
            check("uap_penalty", f"{pwhere}.settings", **(sec.get("settings") or {}))
    if "variants" in uap:
        _check_variants(uap["variants"], tables, source, check)


def _check_variants(c: Any, tables: list, source: str, check: Any) -> None:
    """``uap.variants``: one ``{table, victims, scenarios}`` mapping, or a list of them (one per
    table of ``uap.tables``, each table at most once)."""
    from advlib.run.universal import SCENARIOS

    parts = c if isinstance(c, list) else [c]
    if not parts:
        fail(source, "uap.variants", "must be a mapping or a non-empty list of mappings")
    seen = set()
    for i, sec in enumerate(parts):
        pwhere = f"uap.variants[{i}]" if isinstance(c, list) else "uap.variants"
        check_keys(source, pwhere, sec, _UAP_VARIANTS, {"table", "victims"})
        t = sec["table"]
        if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < len(tables):
            fail(source, f"{pwhere}.table", f"table {t!r} is not an index of uap.tables")
        if t in seen:
            fail(source, f"{pwhere}.table", f"table {t} is compared twice")
        seen.add(t)
        victims = sec["victims"]
        if not isinstance(victims, list) or not victims:
            fail(source, f"{pwhere}.victims", "must be a non-empty list")
        for v in victims:
            if v not in tables[t]["victims"]:
                fail(source, f"{pwhere}.victims", f"{v!r} is not a victim of uap.tables[{t}]")
        if len(set(victims)) != len(victims):
            fail(source, f"{pwhere}.victims", "lists a victim twice")
        scen = sec.get("scenarios", list(SCENARIOS))
        if (
            not isinstance(scen, list)
            or not scen
            or not all(isinstance(s, str) and s in SCENARIOS for s in scen)
            or len(set(scen)) != len(scen)
        ):
            fail(
                source,
                f"{pwhere}.scenarios",
                f"must be a non-empty list of distinct scenarios among {list(SCENARIOS)}",
            )
        overrides = tables[t].get("overrides")
        for v in VARIANTS:  # both gradients must be valid settings of the table
            check("uap_penalty", f"{pwhere} (variant {v})", table_overrides=overrides, variant=v)


# --------------------------------------------------------------------------- units of work


def _unit_main(uap: Mapping[str, Any], i: int, victim: str, method: str, target: Any,
               study: Any) -> None:  # fmt: skip
    """UAPs of Tables 1-2 as :func:`scenario_results` crafts them: ``target`` ``None``
    (untargeted), ``"*"`` (every target of the table) or one target of the table."""
    tab, data, x, y, targets = table_setup(study, uap, i)
    fit = study.victim(tab["dataset"], victim)
    scenario = "untargeted" if target is None else "targeted"
    settings = uap_settings(uap["methods"], method, scenario, table_overrides=tab.get("overrides"))
    ts = [None] if target is None else targets
    if target not in (None, "*"):
        ts = [resolve_targets([target], data.classes)[0]]
    for t in ts:
        uap_result(study.cache, fit, data, method, settings, x, y, n_craft=uap["n_craft"],
                   target=t, seed=study.seed)  # fmt: skip


def _unit_variants(uap: Mapping[str, Any], part: int, victim: str, scenario: str,
                   study: Any) -> None:  # fmt: skip
    """One victim and scenario of a ``variants`` part, as :func:`penalty_variants` crafts it."""
    c = variant_parts(uap)[part]
    tab, data, x, y, targets = table_setup(study, uap, c["table"])
    variant_results(study.cache, study.victim(tab["dataset"], victim), data, uap["methods"], x,
                    y, n_craft=uap["n_craft"], targets=targets, scenarios=[scenario],
                    overrides=tab.get("overrides"), seed=study.seed)  # fmt: skip


def _unit_section(section: str, uap: Mapping[str, Any], study: Any) -> None:
    """One of the page's sweeps, computed by its own section function."""
    {"confidence": kappa_sweep, "n_craft_sweep": n_craft_sweep, "single": single_clip,
     "playback": playback}[section](study, uap)  # fmt: skip
    plt.close("all")


#: The sections crafted as one unit each, and the victims (keys of the part) each uses.
_SECTION_UNITS = {
    "confidence": ("kappa", ("victims",)),
    "n_craft_sweep": ("n-craft", ("untargeted", "targeted")),
    "single": ("single", ("victim",)),
    "playback": ("playback", ("victims",)),
}


def _all_targets(p: Mapping[str, Any], ds: str) -> list[Any]:
    """Every class of data set ``ds`` as targets (one unit each), or ``["*"]`` (one unit for
    all) where the class count is only known from the data."""
    d = p["datasets"][ds]
    k = class_count(d["loader"], d.get("args"))
    return ["*"] if k is None else list(range(k))


def units(params: Mapping[str, Any]) -> list[Any]:
    """The UAP page's units (``params``: the page's parameters): for Tables 1-2, each victim's
    UAP per method and scenario (a targeted one per target: every class with ``targets: all``,
    one unit for all where the class count needs the data); the penalty variants per victim
    and scenario; each
    sweep (Fig. 1, Fig. 2, Table 3 / Fig. 3, playback) as one unit. Crafting is timed, so
    each runs alone on every core."""
    from functools import partial

    p = as_page_parameters(params)
    uap = p["uap"]
    args = study_args(p)
    common = {k: uap.get(k) for k in ("methods", "n_craft", "n_eval")}
    out: list[Any] = []

    def victim_spec_of(ds: str, name: str) -> dict[str, Any]:
        return {"victim": name, "config": p["datasets"][ds]["victims"][name]}

    for i, tab in enumerate(uap["tables"]):
        ds = tab["dataset"]
        base = {"data": data_spec(p, ds), "overrides": tab.get("overrides"),
                "n_craft": uap["n_craft"], "n_eval": uap.get("n_eval")}  # fmt: skip
        spelled = tab.get("targets", "all")
        targets: list[Any] = list(spelled) if spelled != "all" else _all_targets(p, ds)
        for name in tab["victims"]:
            for method in METHODS:
                for target in (None, *targets):
                    scenario = "untargeted" if target is None else "targeted"
                    seg = scenario if target in (None, "*") else f"target-{unit_slug(target)}"
                    spec = {**base, **victim_spec_of(ds, name), "method": method,
                            "settings": uap["methods"][method], "scenario": scenario,
                            "target": target}  # fmt: skip
                    out.append(Unit(f"uap/t{i}/{unit_slug(name)}/{method}/{seg}", "uap", args,
                                    spec, partial(_unit_main, uap, i, name, method, target),
                                    (victim_id(ds, name),), timing=True))  # fmt: skip
    for j, c in enumerate(variant_parts(uap)):
        tab = uap["tables"][c["table"]]
        ds = tab["dataset"]
        for name in c["victims"]:
            for scenario in c.get("scenarios", ["untargeted", "targeted"]):
                spec = {"data": data_spec(p, ds), **victim_spec_of(ds, name), **common,
                        "overrides": tab.get("overrides"), "targets": tab.get("targets", "all"),
                        "scenario": scenario}  # fmt: skip
                out.append(Unit(f"uap/variants/{j}/{unit_slug(name)}/{scenario}", "uap", args,
                                spec, partial(_unit_variants, uap, j, name, scenario),
                                (victim_id(ds, name),), timing=True))  # fmt: skip
    for key, (slug, roles) in _SECTION_UNITS.items():
        c = uap.get(key)
        if not c:
            continue
        tab = uap["tables"][c["table"]]
        ds = tab["dataset"]
        names: list[str] = []
        for r in roles:
            v = c[r]
            names += [n for n in ([v] if isinstance(v, str) else v) if n not in names]
        configs = {n: p["datasets"][ds]["victims"][n] for n in names}
        spec = {"data": data_spec(p, ds), **common, "overrides": tab.get("overrides"),
                "section": c, "victims": configs}  # fmt: skip
        out.append(Unit(f"uap/{slug}", "uap", args, spec, partial(_unit_section, key, uap),
                        tuple(victim_id(ds, n) for n in names), timing=True,
                        runtime=720))  # fmt: skip
    return out
