import copy

import pytest

from advlib.config import PROFILES, ProfileError, load_profile, validate_profile
from advlib.data import GENERATED_LOADERS


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
