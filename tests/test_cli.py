import pytest

from advlib.__main__ import main


def test_profile_command_validates(capsys):
    assert main(["profile", "ci"]) == 0
    out = capsys.readouterr().out
    assert "profile ci (seed 0): valid" in out and "fsdd [fsdd]" in out


def test_listing_commands(capsys):
    assert main(["victims"]) == 0
    assert "cnn1d_rand" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "urbansound8k" in out and "licence" in out


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="no profile file"):
        main(["profile", "nope"])


def test_fetch_refuses_generated_set(tmp_path):
    with pytest.raises(ValueError):
        main(["fetch", "synthetic_env", str(tmp_path)])


def test_page_command_refuses_a_misspelt_parameter(tmp_path):
    with pytest.raises(ValueError, match="no key 'n_evl'"):
        main(["page", "uap", "--set", "uap.n_evl=3", "-o", str(tmp_path / "x.ipynb")])
    with pytest.raises(ValueError, match="unknown page"):
        main(["page", "nope", "-o", str(tmp_path / "x.ipynb")])
    assert not (tmp_path / "x.ipynb").exists()


@pytest.mark.slow
def test_page_command_executes_a_page_with_changed_parameters(tmp_path, capsys):
    """A reader's one command: a page's text source, the profile's parameters, one change."""
    import nbformat

    out = tmp_path / "frontends.ipynb"
    assert main(["page", "frontends", "--profile", "demo", "--set", "clip=1", "-o", str(out)]) == 0
    assert "executed frontends (demo)" in capsys.readouterr().out
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "clip = 1" in injected[0].source
    assert "image/png" in str(nb)
