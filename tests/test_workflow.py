"""The Snakemake workflow schedules every page of each profile (dry run, nothing executed)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advlib.chapters import load_profile
from advlib.study.profile import PROFILES

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
        and line.split()[0]
        in (
            "victims",
            "frontends",
            "bench",
            "reproducibility",
            "uap",
            "at",
            "gan",
            "scorecard",
            "all",
        )
    }
    assert lines.get("victims") == str(n), out
    assert lines.get("reproducibility") == "1", out
    assert lines.get("frontends") == "1", out
    assert lines.get("bench") == "1", out
    assert lines.get("uap") == "1", out  # the "Universal perturbations" chapter
    assert lines.get("at") == "1", out  # the "Adversarial training" chapter
    assert lines.get("gan") == "1", out  # the "Generative attacks" chapter
    assert lines.get("scorecard") == "1", out


def test_paper_profile_at_job_covers_the_paper():
    """The paper profile's AT job: both data sets with every official fold, the six
    classifiers at full width on the four representations and the published image size, and
    the six attacks on every (classifier, representation) cell."""
    from advlib.models.spectrogram import ARCHITECTURES, REPRESENTATIONS

    at = load_profile("paper")["at"]
    folds = {name: [f[0] for f in d["folds"]] for name, d in at["datasets"].items()}
    assert sorted(folds["urbansound8k_at"]) == list(range(1, 11))
    assert sorted(folds["esc50_at"]) == list(range(1, 6))
    assert set(at["archs"]) == set(ARCHITECTURES) and set(at["representations"]) == set(
        REPRESENTATIONS
    )
    assert all(k.get("width") == 1.0 for k in at["archs"].values())
    assert at["archs"]["resnet56"]["depth"] == 56
    assert at["frontend"]["image_size"] == [768, 1568] and at["frontend"]["tonnetz_rows"] == 540
    assert {tuple(c) for c in at["attack_cells"]} == {
        (a, r) for a in ARCHITECTURES for r in REPRESENTATIONS
    }
    assert set(at["attacks"]) == {"bim_a", "bim_b", "jsma", "deepfool", "cw_l2", "pia"}
    assert at["attacks"]["pia"]["settings"]["steps"] == 500  # spec: NES, 500 iterations
    assert at["cap"] == 3.0 and at["fgsm"]["alpha"] == 0.0


def test_paper_profile_gan_job_covers_the_paper():
    """The paper profile's GAN job: WideResNet-28-10 on Speech Commands' ten words and SampleCNN
    on GTZAN at full size, one generator per target for every class with the paper's recipe
    (Sec. V-A-2), Table 1's baselines with the spec's settings, the ablation in both
    formulations on yes -> right."""
    from advlib.data.speech_commands import GAN_WORDS
    from advlib.train.generator import GanConfig

    cfg = load_profile("paper")
    gan = cfg["gan"]
    victims = [(v["dataset"], v["victim"]) for v in gan["victims"]]
    assert victims == [("speech_commands_gan", "wrn28_10"), ("gtzan", "samplecnn")]
    ds = cfg["datasets"]
    assert ds["speech_commands_gan"]["args"]["words"] == list(GAN_WORDS)
    assert ds["gtzan"]["args"]["length"] == 16_384 == ds["speech_commands_gan"]["args"]["length"]
    assert ds["speech_commands_gan"]["victims"]["wrn28_10"]["knobs"]["depth"] == 28
    assert ds["gtzan"]["victims"]["samplecnn"]["knobs"]["width"] == 1.0
    assert all(v.get("targets", "all") == "all" for v in gan["victims"])
    recipe = GanConfig.from_dict(gan["config"])
    assert recipe == GanConfig()  # the paper's defaults, per-target generators
    assert not recipe.conditional and recipe.epochs == 50 and recipe.gamma == 100.0
    base = gan["compare"]["baselines"]
    assert base["genetic"]["attack"] == "genetic" and base["pso"]["attack"] == "pso"
    assert base["genetic"]["settings"]["steps"] == 500  # spec: up to 500 generations
    assert base["pso"]["settings"]["particles"] == 25 and base["pso"]["settings"]["eps"] == 0.002
    ab = gan["ablation"]
    words = list(GAN_WORDS)
    assert (words[ab["source"]], words[ab["target"]]) == ("yes", "right")
    assert ab["variants"] == ["paper", "code"]


def test_paper_profile_dry_run_schedules_every_artefact_of_the_spec(tmp_path):
    """The spec's experiment matrix (section 1): at the paper profile every artefact is
    computed in full, and the page that computes it is among the dry run's jobs."""
    from advlib.study.artefacts import ARTEFACTS, scheduled

    out = _dry_run("paper", tmp_path)
    jobs = {line.split()[0] for line in out.splitlines() if line.split()[:1]}
    missing = [k for k, ok in scheduled(load_profile("paper")).items() if not ok]
    assert not missing, f"the paper profile does not compute {missing}"
    for key, (page, _) in ARTEFACTS.items():
        assert page in jobs, f"{key}: page {page!r} not scheduled"
    assert len(ARTEFACTS) == 17  # the rows of the spec's table


def test_every_job_command_is_valid_shell():
    """Each job's shell command (as snakemake would run it) parses: a quoting or ordering
    mistake in a rule fails here, not an hour into a build."""
    snakemake = shutil.which("snakemake") or str(Path(sys.executable).parent / "snakemake")
    res = subprocess.run(
        [snakemake, "--snakefile", str(ROOT / "workflow" / "Snakefile"), "--cores", "1",
         "--config", "profile=demo", "--dry-run", "--forceall", "--printshellcmds",
         "--directory", str(ROOT)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    commands = [
        ln.split("Shell command:", 1)[1].strip()
        for ln in (res.stdout + res.stderr).splitlines()
        if "Shell command:" in ln
    ]
    assert any("--title" in c for c in commands), "the victims page's command was not found"
    for c in set(commands):
        chk = subprocess.run(["bash", "-n", "-c", c], capture_output=True, text=True)
        assert chk.returncode == 0, f"{c[:200]}: {chk.stderr}"
        if "nbtools execute" in c:
            before_redirect = c.split(">")[0]
            assert "--parameters" in before_redirect, c[:200]
            if "--title" in c:
                assert "--title" in before_redirect, f"--title after the redirect: {c[:300]}"


def test_the_at_artefacts_need_the_papers_four_representations_and_allow_more():
    """AT-T1..T3 hold with the Morlet CWT added to the paper's four images, not with one of
    the four missing (or one of its cells left unattacked)."""
    import copy

    from advlib.study.artefacts import scheduled

    cfg = load_profile("paper")
    assert {"cwt", "cwt_tonnetz"} <= set(cfg["at"]["representations"])
    assert scheduled(cfg)["AT-T1"] and scheduled(cfg)["AT-T2"]
    less = copy.deepcopy(cfg)
    less["at"]["representations"].remove("dwt")
    assert not scheduled(less)["AT-T1"]
    fewer = copy.deepcopy(cfg)
    fewer["at"]["attack_cells"] = [c for c in fewer["at"]["attack_cells"] if c[1] != "stft"]
    assert not scheduled(fewer)["AT-T2"]
