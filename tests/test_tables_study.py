"""Readable tables (advlib.tables), the Study session, and page parameters with --set."""

import math

import numpy as np
import pandas as pd
import pytest

from advlib import tables
from advlib.cache import Cache
from advlib.study import Study
from advlib.tools.pages import apply_settings, page_parameters

TINY = {
    "synthetic": {
        "loader": "synthetic",
        "root": None,
        "args": {"seed": 0, "clips_per_class": 5, "sample_rate": 8000, "duration": 1.0},
        "licence": "CC0",
        "title": "Tiny",
        "victims": {"cnn1d_rand": {"knobs": {"width": 0.25, "pools": [8, 4, 1]}}},
    }
}


def test_number_formats():
    assert tables.percent(0.74, 0.604, 0.841) == "74.0 [60.4, 84.1]"
    assert tables.percent(91.1, scale=1) == "91.1"
    assert tables.decibels(12.345) == "12.3"
    for bad in (float("nan"), math.inf, -math.inf, None):
        assert tables.decibels(bad) == tables.UNDEFINED
        assert tables.percent(bad) == tables.UNDEFINED


def test_render_caption_no_index_and_undefined_footnote():
    df = pd.DataFrame({"victim": ["a", "b"], "SNR (dB)": [12.34, np.nan], "n": [3, 4]})
    html = tables.render(df, "SNR per victim.", n=2, formats={"SNR (dB)": tables.decibels}).data
    assert "<caption>Table 2. SNR per victim.</caption>" in html
    assert "<td>12.3</td>" in html and f"<td>{tables.UNDEFINED}</td>" in html
    assert "undefined" in html  # the footnote
    assert "<th>SNR (dB)</th>" in html and "<th></th>" not in html  # no index column
    clean = tables.render(df.dropna(), "x").data
    assert "undefined" not in clean and "inf" not in clean
    with pytest.raises(ValueError, match="row_colours"):
        tables.render(df, "x", row_colours=["red"])


def test_study_loads_once_numbers_tables_and_names_mistakes(tmp_path):
    study = Study("test", 0, TINY, notebook="t", cache=Cache(tmp_path))
    d = study.dataset("synthetic")
    assert study.dataset("synthetic") is d and study.title("synthetic") == "Tiny"
    assert study.loader("synthetic") == "synthetic" and study.licence("synthetic") == "CC0"
    with pytest.raises(KeyError, match="not among"):
        study.dataset("fsdd")
    with pytest.raises(KeyError, match="not trained on"):
        study.victim("synthetic", "wrn28_10")
    assert "Table 1." in study.table(pd.DataFrame({"a": [1]}), "one").data
    assert "Table 2." in study.table(pd.DataFrame({"a": [1]}), "two").data
    assert "Figure 1." in study.caption("fig").data


def test_victim_key_is_the_key_fit_victim_uses(tmp_path):
    tiny = {**TINY["synthetic"], "victims": {"cnn1d_rand": {
        "knobs": {"width": 0.25, "pools": [8, 4, 1]}, "train": {"epochs": 1}}}}  # fmt: skip
    study = Study("test", 0, {"synthetic": tiny}, cache=Cache(tmp_path))
    key = study.victim_key("synthetic", "cnn1d_rand")
    fit = study.victim("synthetic", "cnn1d_rand")
    assert fit.cache_key == key
    study.records.record("k", 1.0)
    block = study.provenance(parameters={"x": 1})
    meta = block.metadata["advlib_provenance"]
    assert meta["results"][0]["key"] == "k" and "synthetic" in meta["parameters"]["data_identity"]
    assert meta["cache"][0]["key"] == key


def test_apply_settings_sets_dotted_keys_and_refuses_unknown_ones():
    p = {"seed": 0, "uap": {"n_eval": 10, "tables": [{"victims": ["a"]}]}}
    q = apply_settings(p, ["seed=1", "uap.n_eval=50", "uap.tables.0.victims=[a, b]"])
    assert q == {"seed": 1, "uap": {"n_eval": 50, "tables": [{"victims": ["a", "b"]}]}}
    assert p["seed"] == 0  # the input is not changed
    with pytest.raises(ValueError, match="no key 'n_evl'.*n_eval"):
        apply_settings(p, ["uap.n_evl=5"])
    with pytest.raises(ValueError, match="index"):
        apply_settings(p, ["uap.tables.3.victims=[]"])
    with pytest.raises(ValueError, match="KEY=VALUE"):
        apply_settings(p, ["seed"])


def test_page_parameters_match_the_profile():
    from advlib.chapters import load_profile

    cfg = load_profile("demo")
    uap = page_parameters(cfg, "uap")
    assert uap["uap"] == cfg["uap"] and uap["seed"] == cfg["seed"]
    assert set(uap["datasets"]) == {t["dataset"] for t in cfg["uap"]["tables"]}
    with pytest.raises(ValueError, match="unknown page"):
        page_parameters(cfg, "nope")


def test_section_shows_in_order_numbers_on_display_and_glues(tmp_path, monkeypatch):
    import IPython.display
    import matplotlib.pyplot as plt
    import myst_nb

    from advlib.study import Section

    shown, glued = [], {}
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    monkeypatch.setattr(myst_nb, "glue", lambda k, v, display=True: glued.__setitem__(k, v))
    fig = plt.figure()
    df = pd.DataFrame({"a": [1.0, np.nan]})
    s = Section(glue={"k": "v"}).text("intro").table(df, "first", why="— is a gap")
    s.figure(fig, "a figure").media("<audio>").table(df.dropna(), "second", why="unused")
    assert plt.fignum_exists(fig.number) is False  # closed: shown once, where displayed
    assert [k for k, _, _ in s.items] == ["text", "table", "figure", "caption", "media", "table"]
    assert s.tables[0]["notes"] == ["— is a gap"] and "notes" not in s.tables[1]
    study = Study("test", 0, TINY, cache=Cache(tmp_path))
    study.table(pd.DataFrame({"a": [1]}), "before")  # the page's own table 1
    study.show(s)
    study.show(s)  # a section can be shown twice: its items are not consumed
    texts = [getattr(o, "data", o) for o in shown]
    assert "Table 2. first" in texts[1] and "Figure 1. a figure" in texts[3]
    assert texts[2] is fig and texts[4] == "<audio>" and "Table 3. second" in texts[5]
    assert "Table 4. first" in texts[7] and glued == {"k": "v"}
