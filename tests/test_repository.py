"""The repository stands on its own: nothing outside it is named (the real data and the papers'
text are reached through ADVLIB_DATA_ROOT and ADVLIB_PAPER_TEXTS, which only .ci/run fills in),
every data set's licence is listed, the README names what the system must provide, and the book
typesets its formulas without a CDN."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from advlib.data.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]

#: Ways a file could reach the checkout beside the repository (the CI's vendored data).
OUTSIDE = re.compile(r"\.\./shared|/work/(shared)|parents?\b[^\n]*\.parent\s*/\s*\"shared\"")


def _tracked() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout")
    return out.splitlines()


def test_no_file_outside_ci_names_the_checkout_beside_the_repository():
    found = []
    for rel in _tracked():
        if rel.startswith(".ci/") or not (ROOT / rel).is_file():
            continue
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{rel}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not found, "use ADVLIB_DATA_ROOT / ADVLIB_PAPER_TEXTS instead:\n" + "\n".join(found)


def test_the_pattern_catches_the_old_references():
    shared = "shared"  # spelt apart, so that this file does not match itself
    for text in (
        f'"../{shared}/data"',
        f"/work/{shared}/x.wav",
        f'p.parents[1].parent / "{shared}"',
    ):
        assert OUTSIDE.search(text), text


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_registered_data_set_has_its_licence_listed():
    listing = _flat((ROOT / "DATA-LICENSES.md").read_text())
    for name, entry in load_registry()["datasets"].items():
        item = re.search(rf"- \*\*{re.escape(name)}\*\*(.*?)(?= - \*\*|$)", listing)
        assert item, f"DATA-LICENSES.md does not list {name}"
        assert _flat(str(entry["licence"])) in item.group(1), f"{name}: licence differs"
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_readme_names_the_system_prerequisites_and_nothing_outside():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Prerequisites", 1)[1].split("\n## ", 1)[0]
    for needed in ("Python 3.11", "C compiler", "Python headers", "git", "make", "Chromium"):
        assert needed in section, f"README prerequisites: {needed}"
    for var in ("ADVLIB_DATA_ROOT", "python -m advlib fetch fsdd", "requirements.lock"):
        assert var in readme


def test_mathjax_is_served_from_the_book():
    book = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "sphinx-mathjax-offline" in book["sphinx"]["extra_extensions"]
    assert "mathjax_path" not in book["sphinx"].get("config", {})
    assert not re.search(r"https?://\S*mathjax", (ROOT / "_config.yml").read_text(), re.I)
