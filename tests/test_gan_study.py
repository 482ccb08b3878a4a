"""The GAN chapter's tables on a tiny victim: per-(target, clip) examples, the success matrix,
quality per target, the GAN against GA and PSO on the same clips, error rates, transfer and
playback."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from advlib.cache import Cache
from advlib.chapters import gan as gs
from advlib.data import load_dataset
from advlib.train.generator import fit_generator

TINY = dict(width=0.25, depth=3, d_width=0.25, d_depth=3, batch_size=16, lr=1e-3, seed=3,
            epochs=3, warmup=1, gamma=0.0, beta=0.0)  # fmt: skip


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    data = load_dataset("synthetic", clips_per_class=8, sample_rate=8000, duration=0.5)
    torch.manual_seed(0)
    victim = torch.nn.Sequential(torch.nn.Linear(data.length, data.n_classes)).eval()
    fit = SimpleNamespace(model=victim, cache_key="tiny-linear")
    cache = Cache(tmp_path_factory.mktemp("cache"))
    gens = {t: fit_generator(cache, fit, data, t, TINY, progress=False) for t in (1, 4)}
    test = data.part("test")
    return data, fit, cache, gens, test.x, test.y


def test_examples_leave_out_the_target_class(setup):
    _data, fit, _, gens, x, y = setup
    table, adv = gs.gan_examples(gens, fit.model, x, y)
    for t in gens:
        rows = table[table["target"] == t]
        assert len(rows) == int((y != t).sum()) and (rows["source"] != t).all()
        # rows of the target class keep the clean clip
        assert torch.equal(adv[t][y == t], x[y == t])
    with torch.no_grad():
        clips = torch.as_tensor(table.loc[table["target"] == 1, "clip"].to_numpy().copy())
        pred = fit.model(adv[1][clips]).argmax(1)
    assert np.array_equal(pred.numpy(), table.loc[table["target"] == 1, "adv_pred"].to_numpy())
    assert table["success"].equals(table["adv_pred"] == table["target"])
    assert (table["seconds"] > 0).all() and np.isfinite(table["snr_db"]).all()


def test_success_matrix_rows_are_sources(setup):
    data, fit, _, gens, x, y = setup
    table, _ = gs.gan_examples(gens, fit.model, x, y)
    m = gs.success_matrix(table, data.classes)
    assert m.shape == (data.n_classes, data.n_classes)
    assert list(m.columns) == list(data.classes)
    c1, c4 = data.classes[1], data.classes[4]
    assert np.isnan(m.loc[c1, c1]) and np.isnan(m.loc[c4, c4])
    src = data.classes[0]
    want = table[(table["source"] == 0) & (table["target"] == 4)]["success"].mean()
    assert m.loc[src, c4] == pytest.approx(want)
    assert m[data.classes[2]].isna().all()  # no generator for target 2
    fig = gs.plot_success_matrix(m.loc[:, [c1, c4]], title="tiny")
    assert fig.axes


def test_quality_table_per_target_and_average(setup):
    data, fit, _, gens, x, y = setup
    table, adv = gs.gan_examples(gens, fit.model, x, y)
    q = gs.quality_table(table, adv, x, data.classes, data.sample_rate, max_clips=3)
    assert list(q["target"]) == [data.classes[1], data.classes[4], "average"]
    assert {"snr_db", "pesq", "stoi", "success"} <= set(q.columns)
    first = table[table["target"] == 1]
    assert q.loc[0, "snr_db"] == pytest.approx(first["snr_db"].mean())
    assert q.loc[2, "snr_db"] == pytest.approx(q.loc[:1, "snr_db"].mean())
    assert q.loc[2, "clips"] == len(table)


def test_compare_table_runs_every_method_on_the_same_clips(setup):
    _data, fit, cache, gens, x, y = setup
    base = {
        "genetic": {"attack": "genetic", "settings": {"eps": 0.05, "steps": 3, "population": 6}},
        "pso": {"attack": "pso", "settings": {"eps": 0.05, "steps": 3, "particles": 5,
                                              "epochs": 1}},
    }  # fmt: skip
    t = gs.compare_table(cache, gens, fit, x, y, base, progress=False)
    assert list(t["method"]) == ["gan", "genetic", "pso"]
    n = sum(int((y != k).sum()) for k in gens)
    assert (t["examples"] == n).all()
    assert ((t["success"] >= 0) & (t["success"] <= 1)).all() and (t["seconds"] > 0).all()
    events = len(cache.events)
    gs.compare_table(cache, gens, fit, x, y, base, progress=False)
    new = cache.events[events:]
    assert new and all(e.hit for e in new if e.kind == "gan_baseline")


def test_error_rates_transfer_and_playback(setup):
    _data, fit, _, gens, x, y = setup
    table, adv = gs.gan_examples(gens, fit.model, x, y)
    err = gs.error_rates({"a": table, "b": table})
    pairs = table.groupby(["source", "target"]).ngroups
    assert (err["victim"] == "a").sum() == pairs
    assert err["error_rate"].between(0, 1).all()
    assert gs.plot_error_boxes(err).axes
    tr = gs.transfer_table(adv, table, {"same": fit.model})
    assert tr.loc[0, "targeted success"] == pytest.approx(table["success"].mean())
    pb = gs.playback_table(adv, table, fit.model, draws=2, seed=1)
    assert list(pb["draw"]) == [0, 1] and pb["targeted success"].between(0, 1).all()
    again = gs.playback_table(adv, table, fit.model, draws=2, seed=1)
    pd.testing.assert_frame_equal(pb, again)


def test_plot_ablation(setup):
    data, _fit, _, gens, x, _y = setup
    g = gens[1]
    fig = gs.plot_ablation(x[0].numpy(), {"both": x[0].numpy() * 0.01}, {"both": g.history},
                           data.sample_rate, title="ablation")  # fmt: skip
    assert len(fig.axes) == 3


def test_speed_test_is_scipys_one_sided_mann_whitney():
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = rng.exponential(0.01, 12), rng.exponential(1.0, 9)
    t = gs.speed_test(a, b)
    u = stats.mannwhitneyu(a, b, alternative="less")
    assert t["U"] == pytest.approx(u.statistic) and t["p"] == pytest.approx(u.pvalue)
    assert t["holds"] and t["gan_median"] == pytest.approx(np.median(a))
    assert not gs.speed_test(b, a)["holds"]


# the page's tiny defaults (notebooks/gan.md's parameters cell)
PAGE_DATASETS = {
    "synthetic": {"loader": "synthetic", "root": None, "title": "Synthetic environmental sounds",
                  "args": {"seed": 0, "clips_per_class": 8, "sample_rate": 8000, "duration": 0.5},
                  "licence": "Generated by advlib (CC0).",
                  "victims": {"cnn1d_rand": {"knobs": {"width": 0.25, "pools": [4, 4, 1]},
                                             "train": {"epochs": 2}}}},
}  # fmt: skip
PAGE_GAN = {
    "victims": [{"dataset": "synthetic", "victim": "cnn1d_rand", "targets": [0, 1],
                 "label": "1D CNN (tiny)"}],
    "config": {"width": 0.25, "depth": 3, "d_width": 0.25, "d_depth": 3, "batch_size": 16,
               "epochs": 3, "warmup": 1, "lr": 0.001},
    "n_eval": 20,
    "compare": {"victim": 0, "n": 6,
                "baselines": {"genetic": {"attack": "genetic",
                                          "settings": {"eps": 0.05, "steps": 3, "population": 6}},
                              "pso": {"attack": "pso", "settings": {"eps": 0.05, "steps": 3,
                                                                    "particles": 5, "epochs": 1}}}},
    "quality": {"max_clips": 4},
    "ablation": {"victim": 0, "source": 1, "target": 0},
    "listen": {"victim": 0, "pairs": [[1, 0]]},
    "transfer": None,
    "playback": {"victim": 0, "draws": 2},
}  # fmt: skip


def test_chapter_sections_record_and_glue(tmp_path, one_thread):
    """The page's sections in order on its tiny defaults: the scorecard's keys, the glue keys
    book/gan.md uses, numbered tables and captions, and each generator fitted once."""
    from advlib.study import Study

    study = Study("test", 0, PAGE_DATASETS, notebook="gan", cache=Cache(tmp_path / "cache"))
    page = gs.GanChapter(study, PAGE_GAN)
    glue, kinds = {}, []
    for section in ("figs_4_5", "table_1", "table_2", "fig_6", "figs_8_9", "listen", "beyond"):
        s = getattr(page, section)()
        assert s.items
        glue.update(s.glue)
        kinds += [kind for kind, _, _ in s.items]
    keys = [r["key"] for r in study.records.as_list()]
    assert keys == [
        "gan_success_cnn1d_rand", "gan_snr_cnn1d_rand", "gan_genetic_success",
        "gan_faster_than_genetic", "gan_pso_success", "gan_faster_than_pso",
        "gan_seconds_gan", "gan_genetic_snr", "gan_seconds_genetic", "gan_pso_snr",
        "gan_seconds_pso", "gan_pesq_cnn1d_rand",
    ]  # fmt: skip
    fast = {r["key"]: r for r in study.records.as_list()}["gan_faster_than_genetic"]
    genetic = {r["key"]: r for r in study.records.as_list()}["gan_seconds_genetic"]
    assert fast["n"] == genetic["n"] >= 1  # the decisive n scales from the examples timed
    rec = study.records.as_list()[0]
    table = page.tables[0]
    assert rec["n"] == len(table) and rec["value"] == pytest.approx(100 * table["success"].mean())
    assert {"gan_success_0", "gan_snr_0", "gan_t1_success", "gan_t1_snr", "gan_t1_ms",
            "gan_speedup_genetic", "gan_speedup_pso"} <= set(glue)  # fmt: skip
    assert glue["gan_success_0"] == f"{100 * table['success'].mean():.1f}"
    assert all(isinstance(v, str) for v in glue.values())
    # two generators for the two targets, two more for the ablation's hinge-only and L2-only
    assert len(page._gens) == 4
    assert sum(e.kind == "gan_generator" and not e.hit for e in study.cache.events) == 4
    # tables and captioned figures, numbered by the page when it shows them
    assert kinds.count("table") >= 9 and kinds.count("caption") == kinds.count("figure") == 3
