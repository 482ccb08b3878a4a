"""What every command line of advlib does with a user's mistake.

``python -m advlib`` and the ``python -m advlib.tools.*`` commands share one rule: a user error
(a misspelt argument, an unknown page, profile or data set, a bad ``--set``, a missing file, a
failed checksum) prints one line, ``error: ...``, to stderr and exits with status 2; ``--debug``
(anywhere on the line) shows the full traceback instead. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

__all__ = ["USER_ERRORS", "ArgumentParser", "UsageError", "one_line", "run"]


class UsageError(Exception):
    """The command line itself is wrong (argparse's complaint)."""


#: Exceptions that report a user's mistake: bad values (``ValueError`` and its kin:
#: ``ProfileError``, ``ChecksumError``, ``AudioError``), missing or unreadable files (``OSError``).
USER_ERRORS: tuple[type[BaseException], ...] = (UsageError, ValueError, OSError)


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` whose complaints raise :class:`UsageError` (one line)
    instead of printing the usage and exiting; subparsers inherit the class. Every parser lists
    ``--debug`` (which :func:`run` takes off the line wherever it stands)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.add_argument(
            "--debug", action="store_true", help="show the full traceback of an error"
        )

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def one_line(exc: BaseException) -> str:
    """The exception's message on one line (a list of problems is joined with "; ")."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    for ln in lines[1:]:
        text += (" " if text.endswith(":") else "; ") + ln
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text = f"{exc.filename}: {text}"
    return text


def run(main: Callable[[list[str]], int | None], argv: Sequence[str] | None = None) -> int:
    """Call ``main(argv)`` (``--debug`` removed); return its status, or 2 after printing
    ``error: ...`` for a user error. With ``--debug`` the exception propagates (traceback)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        return int(main(args) or 0)
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
