"""The GitHub Actions workflow validates against the GitHub-workflow JSON schema (offline)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_schema(path):
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    res = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_workflow_runs_the_readme_commands():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    steps = " ".join(str(s.get("run", "")) for s in wf["jobs"]["build"]["steps"])
    assert "make test" in steps and "make book PROFILE=ci" in steps
    assert wf[True]["schedule"] and wf[True]["push"]["branches"] == ["main"]  # 'on' parses as True


def test_ci_run_is_executable_and_strict():
    text = (ROOT / ".ci" / "run").read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert "make test" in text and "make book PROFILE=ci" in text


def test_ci_measures_the_no_op_rebuild_and_checks_the_book_in_a_browser():
    text = (ROOT / ".ci" / "run").read_text()
    build = text.index("make book PROFILE=ci\n")
    noop = text.index("make book PROFILE=ci > _build/noop-rebuild.log")
    assert build < noop and "Nothing to be done" in text and "-ge 60" in text
    check = text.index("python -m advlib.tools.browsercheck")
    assert noop < check
    assert "--scorecard book/generated/scorecard.html" in text and "--require-alt" in text
