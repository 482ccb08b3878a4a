"""The victims, front-ends and attacks pages take the chapter shape: profile, seed, datasets
(:func:`advlib.tools.pages.chapter_datasets`) and the page's own keys."""

import pytest

from advlib.chapters import load_profile
from advlib.paths import REPO_ROOT
from advlib.study import Study
from advlib.tools.nbtools import parameter_defaults
from advlib.tools.pages import SOURCES, page_parameters


@pytest.fixture(scope="module")
def cfg():
    return load_profile("demo")


def test_victims_page(cfg):
    p = page_parameters(cfg, "victims", dataset="synthetic")
    assert set(p) == {"profile", "seed", "datasets", "dataset"}
    assert p["dataset"] == "synthetic" and list(p["datasets"]) == ["synthetic"]
    assert p["datasets"]["synthetic"]["victims"] == cfg["datasets"]["synthetic"]["victims"]
    with pytest.raises(ValueError, match="needs a data set"):
        page_parameters(cfg, "victims")


def test_frontends_and_attacks_pages(cfg):
    fe = page_parameters(cfg, "frontends")
    assert set(fe) == {"profile", "seed", "datasets", "dataset"}
    assert "victims" not in fe["datasets"][fe["dataset"]]
    at = page_parameters(cfg, "attacks")
    att = cfg["attacks"]
    assert at["runs"] == att["runs"] and at["victim"] == att["victim"]
    assert list(at["datasets"]) == [att["dataset"]] == [at["dataset"]]
    # the attacks page's victim is the victims page's cache entry (one key)
    v = page_parameters(cfg, "victims", dataset=att["dataset"])
    a_key = Study(at["profile"], at["seed"], at["datasets"]).victim_key(at["dataset"], at["victim"])
    v_key = Study(v["profile"], v["seed"], v["datasets"]).victim_key(v["dataset"], at["victim"])
    assert a_key == v_key


@pytest.mark.parametrize("page", ["victims", "frontends", "attacks"])
def test_every_parameter_the_pipeline_gives_is_one_the_page_has(cfg, page):
    kw = {"dataset": "synthetic"} if page == "victims" else {}
    given = set(page_parameters(cfg, page, **kw))
    assert given <= set(parameter_defaults(REPO_ROOT / SOURCES[page]))
