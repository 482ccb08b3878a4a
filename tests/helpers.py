"""Small test-only tools shared by the attack tests."""

from torch import nn


class Recorder(nn.Module):
    """Wraps a model and records every batch it is shown, with the logits it returned."""

    def __init__(self, model):
        super().__init__()
        self.model, self.seen = model, []

    def forward(self, x):
        out = self.model(x)
        self.seen.append((x.detach().clone(), out.detach().clone()))
        return out
