"""The Slurm profile (workflow/profiles/slurm): its keys are options Snakemake and the
snakemake-executor-plugin-slurm accept, its resources are ones the plugin reads, and a dry run
of the paper profile resolves with it."""

import dataclasses
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
HAS_PLUGIN = importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None
needs_plugin = pytest.mark.skipif(
    not HAS_PLUGIN,
    reason="snakemake-executor-plugin-slurm not installed (pip install -e '.[cluster]')",
)

#: Resources the Slurm plugin (2.x) turns into sbatch flags, plus Snakemake's standard ones.
RESOURCES = {
    "slurm_partition", "slurm_account", "slurm_extra", "slurm_cluster", "clusters",
    "runtime", "mem_mb", "mem_mb_per_cpu", "cpus_per_task", "cpus_per_gpu",
    "gpu", "gpu_model", "gres", "constraint", "qos", "nodes", "tasks", "tasks_per_gpu",
    "mem", "disk_mb", "tmpdir",
}  # fmt: skip


def _profile():
    return yaml.safe_load((PROFILE / "config.yaml").read_text())


def test_profile_uses_the_slurm_executor_with_gpu_defaults():
    cfg = _profile()
    assert cfg["executor"] == "slurm"
    assert cfg["jobs"] >= 1 and cfg["latency-wait"] >= 30 and cfg["retries"] >= 1
    assert cfg["max-threads"] <= cfg["cores"]
    res = cfg["default-resources"]
    assert res["slurm_partition"] and res["gpu"] >= 1
    assert res["runtime"] >= 60 and res["mem_mb"] >= 8000
    # The plugin refuses GPU flags in slurm_extra: they belong in gpu/gres.
    for rule_res in [res, *cfg.get("set-resources", {}).values()]:
        assert not re.search(r"--(gres|gpus)\b", str(rule_res.get("slurm_extra", "")))


def test_resources_are_ones_the_plugin_reads():
    cfg = _profile()
    used = set(cfg["default-resources"])
    for rule_res in cfg.get("set-resources", {}).values():
        used |= set(rule_res)
    assert used <= RESOURCES, f"unknown resources: {sorted(used - RESOURCES)}"


def test_set_resources_name_rules_of_the_snakefile():
    rules = set(re.findall(r"^\s*rule (\w+):", (ROOT / "workflow" / "Snakefile").read_text(), re.M))
    named = set(_profile().get("set-resources", {}))
    assert named <= rules, f"no such rule: {sorted(named - rules)}"


def test_keys_are_snakemake_options():
    from snakemake.cli import get_argument_parser

    options = set(get_argument_parser()._option_string_actions)
    keys = set(_profile())
    general = {k for k in keys if not k.startswith("slurm-")}
    assert {f"--{k}" for k in general} <= options, sorted(
        k for k in general if f"--{k}" not in options
    )
    if HAS_PLUGIN:  # the plugin registers its settings as --slurm-* options
        assert {f"--{k}" for k in keys - general} <= options


@needs_plugin
def test_executor_settings_are_plugin_fields():
    from snakemake_executor_plugin_slurm import ExecutorSettings

    fields = {f.name for f in dataclasses.fields(ExecutorSettings)}
    settings = {
        k.removeprefix("slurm-").replace("-", "_") for k in _profile() if k.startswith("slurm-")
    }
    assert settings <= fields, f"not plugin settings: {sorted(settings - fields)}"


@needs_plugin
def test_paper_profile_dry_run_with_the_slurm_profile():
    exe = Path(sys.executable).parent / "snakemake"
    cmd = (
        "--snakefile workflow/Snakefile --profile workflow/profiles/slurm --config profile=paper"
        " --dry-run --forceall --quiet rules"
    )
    res = subprocess.run(
        [str(exe), *cmd.split(), "--directory", str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-6000:]
    assert "Using profile workflow/profiles/slurm" in out
    for rule in ("victims", "uap", "at"):
        assert re.search(rf"^{rule}\s+\d+", out, re.M), f"no {rule} job in:\n{out[-3000:]}"
