"""Alt text for every figure of the book.

In a notebook kernel, :func:`install` makes each matplotlib figure's PNG output carry an alt
text described from the figure itself (:func:`describe`: its title, each panel's title and axis
labels, the legend entries), as display metadata ``{"image/png": {"alt": ...}}``. After
papermill, ``python -m advlib.tools.nbtools alt-text PAGE`` copies those texts into the cell
metadata that MyST-NB turns into the ``alt`` attribute (``mystnb.image.alt``), and gives any
image still without one a description from the section it sits in. Each page installs the hook
(:func:`install`) in its first code cell.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["describe", "install"]


def _clean(s: str) -> str:
    return " ".join(str(s).replace("$", "").split())


def describe(fig: Any, limit: int = 400) -> str:
    """A one-paragraph description of a matplotlib figure from its own text."""
    parts = []
    sup = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    axes = [
        a
        for a in fig.get_axes()
        if a.get_label() != "<colorbar>" and ((a.get_visible() and a.axison) or a.get_title())
    ]
    kinds = []
    for a in axes:
        t = _clean(a.get_title())
        x, y = _clean(a.get_xlabel()), _clean(a.get_ylabel())
        bits = [t] if t else []
        if x or y:
            bits.append(f"{y or 'value'} against {x or 'index'}")
        leg = a.get_legend()
        if leg is not None:
            labels = [_clean(t.get_text()) for t in leg.get_texts()][:6]
            if labels:
                bits.append("legend: " + ", ".join(labels))
        if a.images:
            kinds.append("heat map")
        if bits:
            parts.append("; ".join(bits))
    n = len(axes)
    kind = "heat map" if kinds and n == len(kinds) else "chart"
    if n <= 1:
        text = f"Figure ({kind})"
        body = "; ".join(p for p in [_clean(sup), *parts] if p)
        if body:
            text += f": {body}"
    else:
        text = f"Figure with {n} panels ({kind})"
        if sup:
            text += f": {_clean(sup)}"
        if parts:
            text += ". Panels: " + " | ".join(parts)
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _png_with_alt(fig: Any) -> tuple[bytes, dict[str, Any]]:
    buf = io.BytesIO()
    fig.canvas.print_figure(buf, format="png", bbox_inches="tight", facecolor="white")
    return buf.getvalue(), {"alt": describe(fig)}


def install() -> bool:
    """Register the PNG formatter that carries alt text (in an IPython kernel; no-op
    elsewhere). Returns whether it was installed."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        return False
    ip = get_ipython()
    if ip is None:
        return False
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    try:  # load the inline backend now: it registers its own PNG formatter when it loads
        plt._get_backend_mod()
    except Exception:  # pragma: no cover - a headless backend is fine too
        pass
    ip.display_formatter.formatters["image/png"].for_type(Figure, _png_with_alt)
    return True
