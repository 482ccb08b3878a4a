import os

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """An empty cache folder, also exported for notebooks run in a subprocess."""
    root = tmp_path / "cache"
    monkeypatch.setenv("ADVLIB_CACHE", str(root))
    return root


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models run fastest single-threaded (and do not fight a concurrent CI run); the
    global RNG state is restored afterwards, so other test modules see no difference.
    Use it per module: ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    with torch.random.fork_rng():
        yield
    torch.set_num_threads(n)
