"""The "Universal perturbations" chapter: every table and figure of the UAP paper, computed.

Abdoli et al., "Universal adversarial audio perturbations" (arXiv 1908.03173). This module
holds what the chapter's notebooks would otherwise repeat: one crafted-and-evaluated UAP
(:func:`uap_result`), the paper's tables built from many of them (Tables 1-2: :func:`main_table`;
Table 5: :func:`significance_table`; Tables 6-11: :func:`per_target_table`), the sweeps of
Figs. 1-3 (:func:`sweep_table`, :func:`plot_sweep`), the transfer matrix of Table 4
(:func:`uap_transfer`), the playback robustness study (:func:`playback_rows`) and the
side-by-side with the paper's published numbers (:func:`beside_paper`).

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
from advlib.metrics import Proportion, ldb_x, snr_db
from advlib.run.playback import playback_success
from advlib.run.runner import AttackRun
from advlib.run.transfer import transfer_matrix
from advlib.run.universal import craft_uap, evaluate_uap, uap_settings, uap_space
from advlib.stats import holm, mcnemar_exact, two_proportion_z
from advlib.study.profile import check_keys, fail, positive_int

__all__ = [
    "METHODS",
    "UapResult",
    "beside_paper",
    "main_table",
    "per_target_table",
    "playback_rows",
    "plot_perturbation",
    "plot_sweep",
    "resolve_targets",
    "scenario_results",
    "scenario_summary",
    "significance_sentence",
    "significance_table",
    "sweep_table",
    "uap_result",
    "uap_settings",
    "uap_transfer",
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
    """Mean over the finite values (a zero perturbation has an infinite SNR and l_dB_x of
    -inf: it is left out of the mean); NaN when none is finite."""
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


# The profile's ``uap`` section: checked when the profile is loaded
# (advlib.chapters.load_profile).
_UAP = {"n_craft", "n_eval", "methods", "tables", "confidence", "n_craft_sweep", "single",
        "transfer", "playback"}  # fmt: skip
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
