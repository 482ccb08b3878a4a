"""advlib: data, victims, attacks, metrics and statistics for adversarial audio studies.

The layers (each importing only those below it): ``advlib.data`` -> ``advlib.models`` ->
``advlib.attacks`` -> ``advlib.metrics`` / ``advlib.stats``; ``advlib.train``, ``advlib.cache``
and ``advlib.report`` around them; notebooks and the workflow on top.
"""

__version__ = "0.1.0"


def _install_alt_text() -> None:
    """Figures shown in a notebook carry alt text (see :mod:`advlib.alttext`)."""
    import sys

    if "ipykernel" in sys.modules:
        from .alttext import install

        install()


_install_alt_text()
