"""The study: profiles (:mod:`advlib.study.profile`), the :class:`Study` session a page works
in, the scorecard's records and verdicts, provenance and the papers' numbers."""

from advlib.study.section import Section
from advlib.study.session import Study

__all__ = ["Section", "Study"]
