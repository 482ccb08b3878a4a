import copy

import pytest

from advlib.chapters import load_profile, validate_profile
from advlib.data import GENERATED_LOADERS
from advlib.study.profile import PROFILES, ProfileError


@pytest.mark.parametrize("name", PROFILES)
def test_shipped_profiles_validate(name):
    cfg = load_profile(name)
    assert cfg["profile"] == name


def test_profiles_grow_demo_to_ci():
    demo, ci = load_profile("demo"), load_profile("ci")
    assert set(demo["datasets"]) < set(ci["datasets"])
    assert "fsdd" in ci["datasets"]
    # the demo is offline: only sets that advlib generates
    assert all(ds["loader"] in GENERATED_LOADERS for ds in demo["datasets"].values())
    assert "synthetic_speech" in demo["datasets"]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda c: c.pop("seed"), "missing key"),
        (lambda c: c.update(extra=1), "unknown key"),
        (lambda c: c["datasets"]["synthetic"].update(loader="nope"), "unknown loader"),
        (lambda c: c["datasets"]["synthetic"]["args"].update(colour=1), "unknown argument"),
        (lambda c: c["datasets"]["synthetic"]["victims"].update(nope={}), "unknown victim"),
        (
            lambda c: c["datasets"]["synthetic"]["victims"]["cnn1d_rand"]["knobs"].update(depth=2),
            "unknown knob",
        ),
        (
            lambda c: c["datasets"]["synthetic"]["victims"]["cnn1d_rand"]["train"].update(lr=-1),
            "train",
        ),
        (lambda c: c["datasets"]["synthetic"].update(root="/x"), "takes no root"),
        (lambda c: c["datasets"]["synthetic_speech"].update(root="/x"), "takes no root"),
        (
            lambda c: c["datasets"]["synthetic_speech"]["args"].update(length=8000),
            "unknown argument",
        ),
        (lambda c: c.update(seed=-1), "seed"),
        (lambda c: c["attacks"].update(dataset="fsdd"), "attacks.dataset"),
        (lambda c: c["attacks"].update(victim="vgg16"), "not trained on"),
        (lambda c: c["attacks"].update(n=0), "attacks.n: must be a positive"),
        (lambda c: c["attacks"].update(bench_libraries=["cleverhans"]), "bench_libraries"),
        (lambda c: c["attacks"]["runs"].update(x={"attack": "pgdd"}), "unknown attack 'pgdd'"),
        (lambda c: c["attacks"]["runs"]["fgsm"].update(settings={"epz": 1}), "no setting"),
        (lambda c: c["attacks"]["runs"]["fgsm"].update(colour=1), "runs.fgsm: unknown key"),
        (lambda c: c["attacks"]["runs"]["fgsm"].update(targets="all"), "targets"),
        (lambda c: c["attacks"]["runs"].update(u={"attack": "uap_penalty"}), "is universal"),
        (
            lambda c: c["attacks"]["universal"]["runs"].update(p={"attack": "pgd"}),
            "not a universal attack",
        ),
        (
            lambda c: c["attacks"]["universal"]["runs"]["uap_iterative"].update(targets=1),
            "universal.runs.uap_iterative: unknown key",
        ),
        (lambda c: c["attacks"]["eot"].update(run="nope"), "not a label of attacks.runs"),
    ],
)
def test_bad_profiles_name_the_key(mutate, match):
    cfg = copy.deepcopy(load_profile("demo"))
    mutate(cfg)
    with pytest.raises(ProfileError, match=match):
        validate_profile(cfg)


def test_missing_profile_file():
    with pytest.raises(ProfileError, match="no profile file"):
        load_profile("nonexistent")


# --------------------------------------------------------------------------------------------
# the ``at`` section (the "Adversarial training" chapter)
# --------------------------------------------------------------------------------------------


def _at(c):
    return c["at"]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda c: _at(c).pop("attacks"), r"at: missing key\(s\) \['attacks'\]"),
        (lambda c: _at(c).pop("cap"), r"at: missing key\(s\) \['cap'\]"),
        (lambda c: _at(c).update(colour=1), r"at: unknown key\(s\) \['colour'\]"),
        (
            lambda c: _at(c)["datasets"].update(fsdd={"folds": [[5, 4]]}),
            "at.datasets.fsdd: 'fsdd' is not a data set of the profile",
        ),
        (
            lambda c: _at(c)["datasets"]["synthetic"].update(folds=[5, 4]),
            "at.datasets.synthetic.folds",
        ),
        (
            lambda c: _at(c)["datasets"]["synthetic"].update(folds=[[5, 4, 3]]),
            "at.datasets.synthetic.folds",
        ),
        (
            lambda c: _at(c)["datasets"]["synthetic"].update(folds=[[5, 5]]),
            "at.datasets.synthetic.folds",
        ),
        (lambda c: _at(c)["datasets"]["synthetic"].update(folds=[]), "at.datasets.synthetic.folds"),
        (
            lambda c: _at(c)["datasets"]["synthetic"].update(fold=[[5, 4]]),
            "at.datasets.synthetic: unknown key",
        ),
        (
            lambda c: _at(c)["datasets"]["synthetic"].update(cells=[["alexnet", "mel"]]),
            "at.datasets.synthetic.cells: .*not among at.archs x at.representations",
        ),
        (
            lambda c: _at(c)["datasets"]["synthetic"].update(cells=[["lenet", "stft"]]),
            "at.datasets.synthetic.cells",
        ),
        (
            lambda c: _at(c)["datasets"]["synthetic"].update(cells=[]),
            "at.datasets.synthetic.cells: must be a non-empty list",
        ),
        (
            lambda c: _at(c)["datasets"]["synthetic"].update(
                cells=[["alexnet", "stft"], ["alexnet", "stft"]]
            ),
            "at.datasets.synthetic.cells: lists a cell twice",
        ),
        (lambda c: _at(c).update(representations=["stft", "mel"]), "at.representations"),
        (lambda c: _at(c).update(representations=[]), "at.representations"),
        (lambda c: _at(c)["archs"].update(lenet={}), "at.archs: must map names"),
        (
            lambda c: _at(c)["archs"]["resnet56"].update(widht=0.5),
            r"at.archs.resnet56: unknown knob\(s\) \['widht'\]",
        ),
        (
            lambda c: _at(c)["archs"]["alexnet"].update(depth=20),  # resnet56's knob only
            r"at.archs.alexnet: unknown knob\(s\) \['depth'\]",
        ),
        (
            lambda c: _at(c)["archs"]["alexnet"].update(representation="stft"),
            "at.archs.alexnet: .*the representation comes from at.representations",
        ),
        (lambda c: _at(c)["frontend"].update(nfft=256), r"at.archs.\w+: unknown knob.*nfft"),
        (lambda c: _at(c)["train"].update(epochz=3), "at.train"),
        (lambda c: _at(c)["train"].update(lr=-1), "at.train"),
        (lambda c: _at(c)["fgsm"].update(eps=0), "at.fgsm.eps"),
        (lambda c: _at(c)["fgsm"].update(eps=1.5), "at.fgsm.eps"),
        (lambda c: _at(c)["fgsm"].update(eps="0.01"), "at.fgsm.eps"),
        (lambda c: _at(c)["fgsm"].pop("eps"), r"at.fgsm: missing key\(s\) \['eps'\]"),
        (lambda c: _at(c)["fgsm"].update(epz=0.1), r"at.fgsm: unknown key\(s\) \['epz'\]"),
        (
            lambda c: _at(c)["fgsm"].update(cell=["resnet56", "stft"]),  # pgd's key only
            r"at.fgsm: unknown key\(s\) \['cell'\]",
        ),
        (lambda c: _at(c).update(cap=0), "at.cap"),
        (lambda c: _at(c).update(n_attack=0), "at.n_attack"),
        (lambda c: _at(c).update(batch_size=1.5), "at.batch_size"),
        (
            lambda c: _at(c)["attacks"]["bim_a"].update(settings={"stepz": 1}),
            r"at.attacks.bim_a: attack 'bim' has no setting\(s\) \['stepz'\]",
        ),
        (
            lambda c: _at(c)["attacks"]["bim_a"].update(colour=1),
            r"at.attacks.bim_a: unknown key\(s\) \['colour'\]",
        ),
        (
            lambda c: _at(c)["attacks"]["jsma"].update(attack="jsmaa"),
            "at.attacks.jsma: unknown attack 'jsmaa'",
        ),
        (lambda c: _at(c)["attacks"]["jsma"].pop("attack"), "at.attacks.jsma: missing key"),
        (lambda c: _at(c)["attacks"].update(fgsm={"attack": "fgsm"}), "at.attacks: must map names"),
        (
            lambda c: _at(c)["attacks"]["bim_a"].update(budgets=[1.0, 0.1]),
            "at.attacks.bim_a.budgets: must be increasing",
        ),
        (lambda c: _at(c)["attacks"]["pia"].update(budgets=[0, 0.05]), "at.attacks.pia.budgets"),
        (lambda c: _at(c)["attacks"]["pia"].update(budgets=[]), "at.attacks.pia.budgets"),
        (lambda c: _at(c).update(attack_cells=[["vgg16", "dwt_tonnetz"]]), "at.attack_cells"),
        (lambda c: _at(c).update(attack_cells=[["resnet56", "mel"]]), "at.attack_cells"),
        (lambda c: _at(c).update(attack_cells=[["resnet56"]]), "at.attack_cells"),
        (lambda c: _at(c).update(attack_cells=[]), "at.attack_cells"),
        (lambda c: _at(c)["figure"].update(cell=["vgg16", "stft"]), "at.figure.cell"),
        (lambda c: _at(c)["figure"].update(clips=0), "at.figure: unknown key"),
        (lambda c: _at(c)["waveform"]["attacks"].update(fgsm={}), "at.waveform.attacks: must"),
        (
            lambda c: (_at(c)["attacks"].pop("deepfool"), _at(c)["waveform"]["attacks"]),
            "at.waveform.attacks: must map names of at.attacks",
        ),
        (
            lambda c: _at(c)["waveform"]["attacks"].update(bim_a={"settings": {"stepz": 1}}),
            "at.waveform.attacks.bim_a: .*stepz",
        ),
        (
            lambda c: _at(c)["waveform"]["attacks"].update(bim_a={"budgets": [0.3, 0.1]}),
            "at.waveform.attacks.bim_a.budgets",
        ),
        (lambda c: _at(c)["waveform"].update(cells=[["alexnet", "mel"]]), "at.waveform.cells"),
        (lambda c: _at(c)["waveform"].pop("cap"), "at.waveform: missing key"),
        (lambda c: _at(c)["pgd"].update(cell=["vgg16", "dwt_tonnetz"]), "at.pgd.cell"),
        (lambda c: _at(c)["pgd"].update(cell="resnet56"), "at.pgd.cell"),
        (lambda c: _at(c)["pgd"].update(eps=2), "at.pgd.eps"),
        (lambda c: _at(c)["pgd"].update(stepz=5), r"at.pgd: unknown key\(s\) \['stepz'\]"),
        (lambda c: _at(c)["fgsm"].update(init="x"), "at.fgsm.init"),
        (lambda c: _at(c)["fgsm"].update(alpha=2), "at.fgsm.alpha"),
        (lambda c: _at(c)["fgsm"].update(method="pgd"), "at.fgsm.method"),
        (lambda c: _at(c)["fgsm"].update(epochs=0), "at.fgsm.epochs"),
        (lambda c: _at(c)["pgd"]["monitor"].update(stepz=1), "at.pgd.monitor"),
        (lambda c: _at(c)["pgd"]["monitor"].update(n=0), "at.pgd.monitor.n"),
        (lambda c: _at(c)["waveform"].update(cap=0), "at.waveform.cap"),
        (lambda c: _at(c)["figure"].update(clip=-1), "at.figure.clip"),
        (lambda c: _at(c)["attacks"]["bim_a"].update(targeted="yes"), "bim_a.targeted"),
        (lambda c: _at(c)["attacks"]["pia"].update(step_fraction=-1), "pia.step_fraction"),
        (lambda c: _at(c).update(attacks={}), "at.attacks"),
    ],
)
def test_bad_at_sections_name_the_key(mutate, match):
    cfg = copy.deepcopy(load_profile("demo"))
    mutate(cfg)
    with pytest.raises(ProfileError, match=match):
        validate_profile(cfg)


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_has_an_at_section(name):
    from advlib.chapters.at import ATTACK_TITLES

    at = load_profile(name)["at"]
    assert at["archs"] and at["representations"] and at["attack_cells"]
    assert set(at["attacks"]) <= set(ATTACK_TITLES)
    assert set(at["datasets"]) <= set(load_profile(name)["datasets"])


def test_paper_profile_covers_the_papers_grid():
    from advlib.models.spectrogram import ARCHITECTURES, REPRESENTATIONS

    at = load_profile("paper")["at"]
    assert set(at["archs"]) == set(ARCHITECTURES)
    assert set(at["representations"]) == set(REPRESENTATIONS)
    assert list(at["attacks"]) == ["bim_a", "bim_b", "jsma", "deepfool", "cw_l2", "pia"]


def test_merge_attack_merges_settings_key_by_key():
    from advlib.study.profile import merge_attack

    base = {"attack": "bim", "targeted": True, "budgets": [0.1, 1.0],
            "settings": {"steps": 10, "norm": 2, "variant": "a"}}  # fmt: skip
    frozen = copy.deepcopy(base)
    merged = merge_attack(base, {"budgets": [0.01], "settings": {"steps": 3}})
    assert merged == {"attack": "bim", "targeted": True, "budgets": [0.01],
                      "settings": {"steps": 3, "norm": 2, "variant": "a"}}  # fmt: skip
    assert base == frozen  # the base is left alone
    assert merge_attack(base, None) == base and merge_attack(base, {}) == base
    assert merge_attack(base, None)["settings"] is not base["settings"]
    assert merge_attack({"attack": "deepfool"}, None) == {"attack": "deepfool", "settings": {}}
    assert merge_attack({"attack": "deepfool"}, {"settings": {"steps": 5}})["settings"] == {
        "steps": 5
    }


# --------------------------------------------------------------------------------------------
# the ``gan`` section (the "Generative attacks" chapter)
# --------------------------------------------------------------------------------------------


def _gan(c):
    return c["gan"]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda c: _gan(c).pop("victims"), r"gan: missing key\(s\) \['victims'\]"),
        (lambda c: _gan(c).pop("config"), r"gan: missing key\(s\) \['config'\]"),
        (lambda c: _gan(c).update(colour=1), r"gan: unknown key\(s\) \['colour'\]"),
        (lambda c: _gan(c).update(victims=[]), "gan.victims"),
        (lambda c: _gan(c)["victims"][0].update(dataset="fsdd"), r"gan.victims\[0\].dataset"),
        (lambda c: _gan(c)["victims"][0].update(victim="resnet56"), r"gan.victims\[0\].victim"),
        (lambda c: _gan(c)["victims"][1].update(targets=[1, 1]), r"gan.victims\[1\].targets"),
        (lambda c: _gan(c)["victims"][1].update(targets="some"), r"gan.victims\[1\].targets"),
        (lambda c: _gan(c)["victims"][1].update(targets=[-1]), r"gan.victims\[1\].targets"),
        (lambda c: _gan(c)["victims"][0].update(colour=1), r"gan.victims\[0\]: unknown key"),
        (lambda c: _gan(c)["victims"][0].update(config={"gamma": -1}), r"victims\[0\].config"),
        (lambda c: _gan(c)["config"].update(variant="mine"), "gan.config: variant must be"),
        (lambda c: _gan(c)["config"].update(widht=1), r"gan.config: unknown GAN setting"),
        (lambda c: _gan(c)["config"].update(warmup=9), "gan.config: warmup"),
        (lambda c: _gan(c)["config"].update(lr=0), "gan.config: lr"),
        (lambda c: _gan(c).update(n_eval=0), "gan.n_eval"),
        (lambda c: _gan(c)["compare"].update(victim=5), "gan.compare.victim"),
        (lambda c: _gan(c)["compare"].update(n=0), "gan.compare.n"),
        (lambda c: _gan(c)["compare"].update(baselines={}), "gan.compare.baselines"),
        (
            lambda c: _gan(c)["compare"]["baselines"].update(ga={"attack": "nope"}),
            "gan.compare.baselines.ga",
        ),
        (
            lambda c: _gan(c)["compare"]["baselines"]["pso"]["settings"].update(particlez=3),
            "gan.compare.baselines.pso",
        ),
        (lambda c: _gan(c)["quality"].update(max_clips=0), "gan.quality.max_clips"),
        (lambda c: _gan(c)["ablation"].update(target=1), "gan.ablation: source and target"),
        (lambda c: _gan(c)["ablation"].update(source=-1), "gan.ablation.source"),
        (lambda c: _gan(c)["ablation"].update(variants=["mine"]), "gan.ablation.variants"),
        (lambda c: _gan(c)["ablation"].update(config={"beta": -1}), "gan.ablation.config"),
        (lambda c: _gan(c)["listen"].update(pairs=[[1, 1]]), "gan.listen.pairs"),
        (lambda c: _gan(c)["listen"].update(pairs=[1, 0]), "gan.listen.pairs"),
        (lambda c: _gan(c)["transfer"].update(others=["resnet56"]), "gan.transfer.others"),
        (lambda c: _gan(c)["transfer"].update(victim=2), "gan.transfer.victim"),
        (lambda c: _gan(c)["playback"].update(draws=0), "gan.playback.draws"),
    ],
)
def test_bad_gan_sections_name_the_key(mutate, match):
    cfg = copy.deepcopy(load_profile("demo"))
    mutate(cfg)
    with pytest.raises(ProfileError, match=match):
        validate_profile(cfg)


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_has_a_gan_section_with_both_victims(name):
    """Speech (WideResNet) and music (SampleCNN) victims in every profile; each named victim is
    trained on its data set's page."""
    cfg = load_profile(name)
    gan = cfg["gan"]
    assert [v["victim"] for v in gan["victims"]] == ["wrn28_10", "samplecnn"]
    for v in gan["victims"]:
        assert v["victim"] in cfg["datasets"][v["dataset"]]["victims"]
    assert set(gan["compare"]["baselines"]) == {"genetic", "pso"}


@pytest.mark.parametrize(
    ("bench", "match"),
    [
        ({"batch": 0}, "bench.batch: must be a positive integer"),
        ({"repeats": 1.5}, "bench.repeats"),
        ({"warmup": -1}, "bench.warmup"),
        ({"batchsize": 2}, r"bench: unknown key\(s\) \['batchsize'\]"),
        ([2], "bench: must be a mapping"),
    ],
)
def test_bad_bench_sections_name_the_key(bench, match):
    cfg = copy.deepcopy(load_profile("demo"))
    cfg["bench"] = bench
    with pytest.raises(ProfileError, match=match):
        validate_profile(cfg)


def test_max_steps_is_a_checked_recipe_setting():
    cfg = copy.deepcopy(load_profile("demo"))
    victims = next(iter(cfg["datasets"].values()))["victims"]
    next(iter(victims.values()))["train"] = {"max_steps": 0}
    with pytest.raises(ProfileError, match="max_steps must be a positive integer"):
        validate_profile(cfg)
