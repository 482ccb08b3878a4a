"""What one section of a page shows, in order, and the values its prose glues.

A chapter function builds a :class:`Section` (tables, figures with their captions, Markdown,
audio players, glue values); the page shows it with one call, :meth:`advlib.study.Study.show`,
which numbers the tables and figures in page order. Figures are closed when added, so they show
once, where the page displays them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Section"]


@dataclass
class Section:
    """``items``: ``(kind, object, options)`` in display order, kind one of ``table``,
    ``figure``, ``caption``, ``text``, ``media``; ``glue``: name -> text for the prose;
    ``data``: what later sections of the page compute from (results, not display)."""

    items: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    glue: dict[str, str] = field(default_factory=dict)
    data: Any = None

    def table(self, df: Any, title: str, *, why: str = "", **kw: Any) -> Section:
        """A table (rendered by :meth:`advlib.study.Study.table` with ``kw``); ``why``: a note
        on what its "—" cells mean here, kept only when it has any."""
        if why and df.isna().to_numpy().any():
            kw["notes"] = [*kw.get("notes", []), why]
        self.items.append(("table", df, {"title": title, **kw}))
        return self

    def figure(self, fig: Any, caption: str | None = None) -> Section:
        """A matplotlib figure, with its caption when given (numbered on display)."""
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.items.append(("figure", fig, {}))
        if caption is not None:
            self.caption(caption)
        return self

    def caption(self, text: str) -> Section:
        """The caption of the figure before it (``Figure n. text``)."""
        self.items.append(("caption", text, {}))
        return self

    def text(self, markdown: str) -> Section:
        self.items.append(("text", markdown, {}))
        return self

    def media(self, *objects: Any) -> Section:
        """Display objects shown as they are (audio players, HTML)."""
        self.items.extend(("media", o, {}) for o in objects)
        return self

    @property
    def tables(self) -> list[dict[str, Any]]:
        """The tables' :meth:`advlib.study.Study.table` arguments (``df``, ``title``, ...)."""
        return [{"df": o, **kw} for kind, o, kw in self.items if kind == "table"]

    @property
    def figures(self) -> list[Any]:
        return [o for kind, o, _ in self.items if kind == "figure"]
