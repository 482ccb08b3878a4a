"""Transfer matrix on hand-made victims whose predictions are known exactly."""

import numpy as np
import pytest
import torch
from scipy.stats import binomtest

from advlib.run.transfer import plot_transfer, transfer_matrix


class SignOf(torch.nn.Module):
    """Two-class victim that looks at one coordinate: class 1 when x[:, k] > 0."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def forward(self, x):
        s = x[:, self.k]
        return torch.stack([-s, s], dim=1)


def _setup():
    x = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    y = torch.tensor([1, 1, 0, 0])  # victim a (coordinate 0) is right on all; b on rows 0, 3
    models = {"a": SignOf(0), "b": SignOf(1)}
    adv = {"a": x * torch.tensor([-1.0, 1.0]), "b": x * torch.tensor([1.0, -1.0])}
    return models, x, y, adv


def test_untargeted_counts_only_clips_each_victim_gets_right():
    models, x, y, adv = _setup()
    t = transfer_matrix(models, x, y, adv).set_index(["source", "victim"])
    # a's examples flip coordinate 0: all of a's 4 clips fooled; b ignores coordinate 0.
    assert (t.loc[("a", "a"), "successes"], t.loc[("a", "a"), "n"]) == (4, 4)
    assert (t.loc[("a", "b"), "successes"], t.loc[("a", "b"), "n"]) == (0, 2)
    assert (t.loc[("b", "b"), "successes"], t.loc[("b", "b"), "n"]) == (2, 2)
    assert t.loc[("b", "a"), "rate"] == 0.0
    assert t.loc[("a", "a"), "diagonal"] and not t.loc[("a", "b"), "diagonal"]
    ci = binomtest(4, 4).proportion_ci(method="wilson")
    np.testing.assert_allclose(
        [t.loc[("a", "a"), "ci_low"], t.loc[("a", "a"), "ci_high"]], [ci.low, ci.high]
    )
    all_clips = transfer_matrix(models, x, y, adv, only_correct=False)
    assert all_clips.set_index(["source", "victim"]).loc[("a", "b"), "n"] == 4


def test_targeted_excludes_the_target_class():
    models, x, y, adv = _setup()
    t = transfer_matrix(models, x, y, adv, targets=1).set_index(["source", "victim"])
    # clips of class 1 (rows 0, 1) are excluded; a's examples of rows 2, 3 have x0 = +1 -> 1
    assert (t.loc[("a", "a"), "successes"], t.loc[("a", "a"), "n"]) == (2, 2)
    assert t.loc[("a", "b"), "successes"] == 1  # row 2 has x1 = +1


def test_bad_inputs_raise_and_plot_draws():
    models, x, y, adv = _setup()
    with pytest.raises(ValueError, match="shape"):
        transfer_matrix(models, x, y, {"a": x[:2]})
    with pytest.raises(ValueError, match="targets"):
        transfer_matrix(models, x, y, adv, targets=torch.tensor([1, 0]))
    fig = plot_transfer(transfer_matrix(models, x, y, adv))
    assert len(fig.axes[0].texts) == 4
