"""The Snakemake workflow schedules every page of each profile (dry run, nothing executed)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advlib.config import PROFILES, load_profile

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(profile, tmp_path):
    snakemake = shutil.which("snakemake") or str(Path(sys.executable).parent / "snakemake")
    res = subprocess.run(
        [
            snakemake,
            "--snakefile",
            str(ROOT / "workflow" / "Snakefile"),
            "--cores",
            "1",
            "--config",
            f"profile={profile}",
            "--dry-run",
            "--forceall",
            "--quiet",
            "rules",
            "--directory",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout + res.stderr


@pytest.mark.parametrize("profile", PROFILES)
def test_dry_run_lists_every_page(profile, tmp_path):
    out = _dry_run(profile, tmp_path)
    n = len(load_profile(profile)["datasets"])
    lines = {
        line.split()[0]: line.split()[-1]
        for line in out.splitlines()
        if line.split()[:1]
        and line.split()[0] in ("victims", "frontends", "bench", "reproducibility", "uap", "all")
    }
    assert lines.get("victims") == str(n), out
    assert lines.get("reproducibility") == "1", out
    assert lines.get("frontends") == "1", out
    assert lines.get("bench") == "1", out
    assert lines.get("uap") == "1", out  # the "Universal perturbations" chapter
