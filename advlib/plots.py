"""Figures and players the book repeats, so notebooks stay thin."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "audio_player",
    "plot_confusion",
    "plot_frontends",
    "plot_success_curves",
    "plot_training_curves",
    "plot_waveforms",
]


def plot_confusion(
    cm: np.ndarray,
    classes: Sequence[str],
    *,
    ax: plt.Axes | None = None,
    normalize: bool = True,
    title: str | None = None,
) -> plt.Axes:
    """A confusion-matrix heatmap (rows: true class, columns: prediction), with counts."""
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * len(classes) + 2.5, 0.5 * len(classes) + 1.8))
    with np.errstate(invalid="ignore", divide="ignore"):
        shown = cm / cm.sum(axis=1, keepdims=True) if normalize else cm
    sns.heatmap(
        np.nan_to_num(shown),
        annot=cm,
        fmt="d",
        cmap="Blues",
        vmin=0,
        vmax=1 if normalize else None,
        xticklabels=classes,
        yticklabels=classes,
        cbar_kws={"label": "share of true class" if normalize else "clips"},
        ax=ax,
        annot_kws={"fontsize": 7},
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.tick_params(axis="x", labelrotation=45)
    if title:
        ax.set_title(title)
    return ax


def plot_training_curves(
    histories: Mapping[str, Sequence[Mapping[str, float]]], *, best: Mapping[str, int] | None = None
) -> plt.Figure:
    """Loss and accuracy per epoch (train and validation) for one or more runs."""
    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(10, 3.4))
    for i, (label, hist) in enumerate(histories.items()):
        color = f"C{i}"
        ep = [h["epoch"] for h in hist]
        ax_l.plot(ep, [h["train_loss"] for h in hist], color=color, ls="--", label=f"{label} train")
        ax_l.plot(ep, [h["valid_loss"] for h in hist], color=color, label=f"{label} valid")
        ax_a.plot(ep, [h["train_acc"] for h in hist], color=color, ls="--", label=f"{label} train")
        ax_a.plot(ep, [h["valid_acc"] for h in hist], color=color, label=f"{label} valid")
        if best and label in best:
            ax_a.axvline(best[label], color=color, ls=":", lw=1)
    ax_l.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_a.set(
        xlabel="epoch", ylabel="accuracy", title="accuracy (dotted: selected epoch)", ylim=(0, 1)
    )
    ax_a.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_waveforms(
    clips: Sequence[np.ndarray],
    sample_rate: int,
    titles: Sequence[str],
    *,
    spectrogram: bool = True,
) -> plt.Figure:
    """Waveform (and log-spectrogram) panels, one column per clip."""
    rows = 2 if spectrogram else 1
    fig, axes = plt.subplots(
        rows, len(clips), figsize=(2.6 * len(clips), 2.2 * rows), squeeze=False
    )
    for j, (clip, title) in enumerate(zip(clips, titles, strict=True)):
        clip = np.asarray(clip, dtype=float)
        t = np.arange(len(clip)) / sample_rate
        axes[0, j].plot(t, clip, lw=0.5)
        axes[0, j].set(title=title, ylim=(-1, 1), xlabel="s")
        if spectrogram:
            axes[1, j].specgram(clip + 1e-9, Fs=sample_rate, NFFT=256, noverlap=192, cmap="magma")
            axes[1, j].set(xlabel="s", ylabel="Hz" if j == 0 else None)
    fig.tight_layout()
    return fig


class _HTML:
    """Minimal object with an HTML repr (avoids importing IPython at module import)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return "<audio player>"


def audio_player(
    clip: np.ndarray, sample_rate: int, *, title: str = "", credit: str | None = None
) -> Any:
    """An HTML ``<audio>`` element with the clip embedded as WAV, a title and a licence credit.

    The clip is written at its true level (no normalisation), so players of a clean clip and
    its perturbed version can be compared by ear.
    """
    from IPython.display import Audio

    clip = np.asarray(clip, dtype=float)
    if clip.ndim != 1 or not np.all(np.isfinite(clip)):
        raise ValueError("audio_player needs one finite 1-D clip")
    audio = Audio(np.clip(clip, -1, 1), rate=sample_rate, normalize=False)
    caption = f"<strong>{html.escape(title)}</strong>" if title else ""
    credit_html = f"<br><small>{html.escape(credit)}</small>" if credit else ""
    return _HTML(
        f'<figure class="advlib-audio" style="margin:0.4em 0">'
        f"<figcaption>{caption}</figcaption>{audio._repr_html_()}{credit_html}</figure>"
    )


def plot_frontends(clip: np.ndarray, sample_rate: int, *, title: str = "") -> plt.Figure:
    """The study's front-ends on one clip: waveform, gammatone bank, sinc band-pass responses,
    STFT log-magnitude, DWT scalogram, tonnetz and MFCC (each the torch module the victims use,
    at its default setting scaled to the clip's sample rate)."""
    import torch

    from advlib.models import frontends as fe

    x = torch.as_tensor(np.asarray(clip, dtype=np.float32))[None]
    sr = int(sample_rate)
    nyq = sr / 2
    panels = []
    with torch.no_grad():
        gt = fe.GammatoneBank(
            n_filters=64,
            kernel_size=min(512, x.shape[1] // 4),
            sample_rate=sr,
            f_low=100,
            f_high=0.9 * nyq,
        )
        panels.append(("gammatone bank (64 ERB-spaced filters), |output|", gt(x)[0].abs()))
        sinc = fe.SincConv(out_channels=40, kernel_size=251, sample_rate=sr)
        freqs, resp = sinc.frequency_responses(1024)
        stft = fe.STFTLogMagnitude(n_fft=512, hop_length=128)
        panels.append(("STFT log-magnitude", stft(x)[0]))
        levels = min(5, int(np.log2(x.shape[1])) - 3)
        dwt = fe.DWTScalogram(wavelet="db4", levels=levels, frames=64, log=True)
        panels.append((f"DWT scalogram (db4, {levels} levels, log)", dwt(x)[0]))
        tz = fe.Tonnetz(sample_rate=sr, n_fft=min(2048, x.shape[1] // 2), hop_length=256)
        panels.append(("tonnetz (6-D)", tz(x)[0]))
        mf = fe.MFCC(
            sample_rate=sr, frame_length=256, hop_length=256, n_fft=512, n_mels=32, n_mfcc=32
        )
        panels.append(("MFCC (32 coefficients)", mf(x)[0]))
    fig, axes = plt.subplots(4, 2, figsize=(11, 11))
    axes = axes.ravel()
    t = np.arange(x.shape[1]) / sr
    axes[0].plot(t, x[0].numpy(), lw=0.5)
    axes[0].set(title="waveform", xlabel="s", ylim=(-1, 1))
    axes[1].plot(freqs.numpy(), resp.numpy().T, lw=0.6)
    axes[1].set(title="sinc band-pass responses (SincNet init.)", xlabel="Hz", ylabel="|H|")
    for ax, (name, img) in zip(axes[2:], panels, strict=False):
        ax.imshow(np.asarray(img), aspect="auto", origin="lower", cmap="magma")
        ax.set(title=name, xlabel="sample" if name.startswith("gammatone") else "frame")
    axes[-1].axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


#: Colours of the libraries in the benchmark's figures (ours first, in red).
LIBRARY_COLORS = {"advlib": "tab:red", "torchattacks": "tab:blue", "foolbox": "tab:green",
                  "art": "tab:purple"}  # fmt: skip


def plot_success_curves(curves: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]):
    """Success against time of the minimal-norm attacks, one column per attack: success rate
    (top) and median L2 of the successful clips (bottom) against wall time (log scale), one
    curve per library, a point per step budget (the attack benchmark's ``curves``:
    ``{attack: {library: [{"seconds", "asr", "median_l2", "settings"}, ...]}}``; points that
    failed, with an ``"error"``, are left out)."""
    attacks = [a for a, libs in curves.items() if any(libs.values())]
    fig, axes = plt.subplots(
        2, max(len(attacks), 1), figsize=(4.2 * max(len(attacks), 1), 5.6), squeeze=False
    )
    if not attacks:
        axes[0, 0].text(0.5, 0.5, "no curves", ha="center")
        return fig
    for j, attack in enumerate(attacks):
        top, bottom = axes[0, j], axes[1, j]
        for lib, points in curves[attack].items():
            ok = sorted((p for p in points if "seconds" in p), key=lambda p: p["seconds"])
            if not ok:
                continue
            t = [p["seconds"] for p in ok]
            style = {"color": LIBRARY_COLORS.get(lib), "marker": "o", "ms": 4, "label": lib,
                     "lw": 2.2 if lib == "advlib" else 1.2}  # fmt: skip
            top.plot(t, [p["asr"] for p in ok], **style)
            med = [np.nan if p["median_l2"] is None else p["median_l2"] for p in ok]
            bottom.plot(t, med, **style)
        top.set(title=attack, xscale="log", ylim=(-0.02, 1.02), ylabel="success rate")
        bottom.set(xscale="log", xlabel="wall time (s)", ylabel="median L2 (successful)")
        top.grid(alpha=0.3)
        bottom.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Minimal-norm attacks: success and size against time (a point per step budget)")
    fig.tight_layout()
    return fig
