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


# --------------------------------------------------------------------------- attacks on the device


def _recording_attack(seen):
    from advlib.attacks._utils import on_model_device

    @on_model_device
    def attack(model, x, y, *, targeted=False, eps=0.1, generator=None):
        """A stand-in attack: records what it was given, returns ``x + eps``."""
        seen.update(x=x, y=y, eps=eps, generator=generator)
        return x + 1

    return attack


def test_attacks_on_one_device_are_called_as_they_are():
    seen = {}
    attack = _recording_attack(seen)
    m = nn.Linear(4, 3)
    x, y, eps = torch.zeros(2, 4), torch.tensor([0, 1]), torch.full((2,), 0.1)
    out = attack(m, x, y, eps=eps)
    assert seen["x"] is x and seen["y"] is y and seen["eps"] is eps
    assert torch.equal(out, x + 1)
    assert attack(lambda t: t, x, y)[0, 0] == 1  # a plain callable: nothing to look up


def test_attacks_move_the_batch_to_the_model_once_and_the_result_back(monkeypatch):
    """A victim on another device (here a stand-in "meta" device): the clips, labels and tensor
    settings go there once before the attack, the result comes back once, generators stay."""
    import advlib.attacks._utils as u

    moves = []

    def move(t, device):
        if isinstance(t, torch.Tensor):
            moves.append((tuple(t.shape), torch.device(device)))
        return t

    monkeypatch.setattr(u, "_move", move)
    monkeypatch.setattr(u, "model_device_of", lambda model: torch.device("meta"))
    seen = {}
    attack = _recording_attack(seen)
    gen = torch.Generator()
    x, y, eps = torch.zeros(2, 4), torch.tensor([0, 1]), torch.full((2,), 0.1)
    out = attack(nn.Linear(4, 3), x, y, eps=eps, generator=gen)
    meta, cpu = torch.device("meta"), torch.device("cpu")
    assert sorted(moves[:3]) == sorted([((2, 4), meta), ((2,), meta), ((2,), meta)])
    assert moves[3:] == [((2, 4), cpu)]  # the result, once, to the caller's device
    assert seen["generator"] is gen and torch.equal(out, x + 1)


def test_model_device_of_sees_through_wrappers():
    from advlib.attacks import PassCounter
    from advlib.attacks._utils import model_device_of

    m = nn.Linear(4, 3)
    assert model_device_of(PassCounter(OnDevice(m, torch.device("cpu")))) == torch.device("cpu")
    assert model_device_of(nn.ReLU()) is None and model_device_of(lambda t: t) is None
    meta = nn.Linear(4, 3, device="meta")
    assert model_device_of(PassCounter(meta)) == torch.device("meta")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["fgsm", "pgd", "deepfool", "cw_l2", "ddn", "nes"])
def test_attacks_on_a_gpu_victim_take_cpu_clips_and_run_on_the_gpu(name):
    """The victim on the GPU behind OnDevice (as the book hands it over): the attack gets CPU
    clips, every model call receives tensors already on the GPU (no per-call copies), and the
    result comes back on the CPU, equal to a CPU run's (up to rounding; CW and NES, whose
    thresholds rounding can flip, in what they fool)."""
    from functools import partial

    from advlib import attacks
    from advlib.attacks import PassCounter

    kw = {"pgd": {"eps": 0.05, "random_start": False}, "fgsm": {"eps": 0.05},
          "cw_l2": {"steps": 10, "binary_search_steps": 2}, "ddn": {"steps": 10},
          "nes": {"eps": 0.05, "steps": 3, "samples": 4}}.get(name, {})  # fmt: skip
    attack = partial(getattr(attacks, name), **kw)
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).eval().requires_grad_(False)
    x = 0.5 * (2 * torch.rand(8, 16) - 1)
    y = m(x).argmax(1)
    gen = {"generator": torch.Generator().manual_seed(0)} if name == "nes" else {}
    on_cpu = attack(m, x, y, **gen)
    wrapped = OnDevice(m, torch.device("cuda"))
    devices = []
    wrapped.register_forward_pre_hook(lambda mod, args: devices.append(args[0].device.type))
    gen = {"generator": torch.Generator().manual_seed(0)} if name == "nes" else {}
    out = attack(PassCounter(wrapped), x, y, **gen)
    assert out.device.type == "cpu" and out.shape == x.shape
    assert devices and set(devices) == {"cuda"}
    if name in ("cw_l2", "nes"):  # thresholds (abort, signs of estimates) may flip on rounding
        same = (m(out).argmax(1) != y) == (m(on_cpu).argmax(1) != y)
        assert same.float().mean() >= 0.75
    else:
        torch.testing.assert_close(out, on_cpu, atol=1e-4, rtol=0)
