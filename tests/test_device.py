"""The device path: names checked, CPU runs untouched, OnDevice keeps callers on the CPU."""

import pytest
import torch
from torch import nn

from advlib.device import ENV, OnDevice, get_device, model_device, on_device, unwrap


def test_default_and_environment(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert get_device() == torch.device("cpu")
    monkeypatch.setenv(ENV, " cpu ")
    assert get_device() == torch.device("cpu")
    assert get_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "CUDA", "cpu0", "tpu"])
def test_malformed_names_are_refused(name):
    with pytest.raises(ValueError, match="unknown device"):
        get_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_missing_gpu_is_a_clear_error(monkeypatch):
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        get_device("cuda")
    monkeypatch.setenv(ENV, "cuda:1")
    with pytest.raises(RuntimeError, match="ADVLIB_DEVICE"):
        get_device()


class _Cond(nn.Module):
    n_classes = 3

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3)
        self.emb = nn.Embedding(3, 3)

    def forward(self, x, t=None):
        out = self.lin(x)
        return out if t is None else out + self.emb(t)


def test_on_device_is_the_model_itself_on_the_cpu():
    m = _Cond()
    assert on_device(m) is m and unwrap(m) is m and model_device(m) == torch.device("cpu")
    assert model_device(nn.ReLU()) == torch.device("cpu")


def test_wrapper_moves_inputs_keeps_gradients_and_attributes():
    torch.manual_seed(0)
    m = _Cond()
    w = OnDevice(m, torch.device("cpu"))
    x = torch.randn(5, 4, requires_grad=True)
    t = torch.tensor([0, 1, 2, 0, 1])
    assert torch.equal(w(x), m(x)) and torch.equal(w(x, t), m(x, t))
    assert torch.equal(w(x, t=t), m(x, t=t))
    w(x, t).sum().backward()
    g = x.grad.clone()
    x.grad = None
    m(x, t).sum().backward()
    assert torch.equal(g, x.grad)  # autograd follows the copies
    assert w.n_classes == 3 and unwrap(w) is m and model_device(w) == torch.device("cpu")
    assert set(w.state_dict()) == {f"module.{k}" for k in m.state_dict()}


def test_training_on_the_cpu_is_unchanged_by_the_device_path(tmp_path, monkeypatch):
    """fit_victim on the CPU hands back the plain model (no wrapper), weights on the CPU."""
    from advlib.cache import Cache
    from advlib.data.synthetic import make_synthetic
    from advlib.train.classifier import cpu_state_dict, fit_victim

    monkeypatch.setenv(ENV, "cpu")
    data = make_synthetic(seed=1, clips_per_class=5, sample_rate=8000, duration=0.5)
    fit = fit_victim(Cache(tmp_path), data, "cnn1d_rand",
                     knobs={"width": 0.25, "pools": [4, 4, 1]}, train={"epochs": 1},
                     progress=False)  # fmt: skip
    assert not isinstance(fit.model, OnDevice)
    sd = cpu_state_dict(fit.model)
    assert all(v.device.type == "cpu" for v in sd.values())
    assert sd.keys() == fit.model.state_dict().keys()
