"""advlib.tools.browsercheck: the verdict logic (no browser), then headless Chromium on a tiny
site."""

import json

import numpy as np
import pytest

from advlib.tools import browsercheck as bc

# -- verdict logic, no browser ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("alt", "src", "missing"),
    [
        (None, "a.png", True),
        ("", "a.png", True),
        ("   ", "a.png", True),
        ("../../_images/abc.png", "../../_images/abc.png", True),  # Sphinx's default alt
        ("abc.png", "../../_images/abc.png", True),
        ("figure.svg", "data:image/png;base64,xyz", True),
        ("Fooling rate against the L-inf radius", "../../_images/abc.png", False),
        ("A spectrogram", "", False),
    ],
)
def test_alt_missing(alt, src, missing):
    assert bc.alt_missing(alt, src) is missing


def _raw(**kw):
    raw = {
        "title": "t",
        "url": "file:///x/index.html",
        "images": [{"src": "a.png", "alt": "A plot", "loaded": True}],
        "audios": [
            {
                "sources": [{"src": "a.wav", "type": "audio/wav"}],
                "played": True,
                "playError": "",
                "currentSrc": "file:///x/a.wav",
                "canPlay": ["maybe"],
                "readyState": 4,
                "error": None,
            }
        ],
        "tables": 1,
        "errors": [],
        "warnings": [],
    }
    raw.update(kw)
    return raw


def test_good_page_passes_and_counts():
    rep = bc.summarise_page("index.html", _raw(), expect_table=True)
    assert (rep["images"], rep["images_loaded"], rep["images_without_alt"]) == (1, 1, 0)
    assert (rep["audio"], rep["audio_with_source"], rep["audio_played"], rep["tables"]) == (
        1,
        1,
        1,
        1,
    )
    assert bc.page_failures(rep) == [] and bc.page_findings(rep) == []


def test_broken_image_silent_audio_and_missing_table_fail():
    raw = _raw(
        images=[
            {"src": "gone.png", "alt": "A plot", "loaded": False},
            {"src": "ok.png", "alt": "ok.png", "loaded": True},
        ],
        audios=[
            {"sources": [], "played": False, "playError": "play() did not start", "currentSrc": ""},
            {
                "sources": [{"src": "gone.wav", "type": "audio/wav"}],
                "played": False,
                "playError": "play() failed: NotSupportedError",
                "currentSrc": "file:///x/gone.wav",
                "canPlay": ["maybe"],
                "readyState": 0,
                "error": 4,
            },
        ],
        tables=0,
    )
    rep = bc.summarise_page("card.html", raw, expect_table=True)
    assert (rep["images_loaded"], rep["images_without_alt"], rep["audio_with_source"]) == (1, 1, 0)
    fails = bc.page_failures(rep)
    assert len(fails) == 4, fails
    assert any("image did not load: gone.png" in f for f in fails)
    assert any("no <source>" in f for f in fails) and any("gone.wav" in f for f in fails)
    assert any("no <table>" in f for f in fails)
    # A missing alt text is a finding, and a failure only on request.
    assert bc.page_findings(rep) == ["card.html: 1 of 2 images without alt text"]
    assert len(bc.page_failures(rep, require_alt=True)) == 5


def test_audio_without_output_device_counts_when_metadata_loaded():
    audio = {
        "sources": [{"src": "a.wav", "type": "audio/wav"}],
        "played": False,
        "playError": "play() failed: NotAllowedError",
        "currentSrc": "file:///x/a.wav",
        "canPlay": ["maybe"],
        "readyState": 1,
        "error": None,
    }
    assert bc.summarise_page("p", _raw(audios=[audio]))["audio_with_source"] == 1
    audio["canPlay"] = [""]  # the browser cannot play the type
    assert bc.summarise_page("p", _raw(audios=[audio]))["audio_with_source"] == 0


def test_missing_page_is_a_clear_failure(tmp_path):
    rep = bc.missing_page("book/generated/gan.html", tmp_path / "book/generated/gan.html")
    (fail,) = bc.page_failures(rep)
    assert fail.startswith("book/generated/gan.html: page not found: ")
    assert "MISSING" in bc.format_table([rep])


def test_table_is_expected_only_on_the_scorecard():
    rep = bc.summarise_page("index.html", _raw(tables=0))
    assert bc.page_failures(rep) == []


def _sent(rid, url):
    return {
        "method": "Network.requestWillBeSent",
        "params": {"requestId": rid, "request": {"url": url}},
    }


def _failed(rid, **params):
    return {"method": "Network.loadingFailed", "params": {"requestId": rid, **params}}


def _thrown(description):
    details = {"exception": {"description": description}}
    return {"method": "Runtime.exceptionThrown", "params": {"exceptionDetails": details}}


def test_event_classification():
    events = [
        _sent("1", "file:///x/s.css"),
        _failed("1", errorText="net::ERR_FILE_NOT_FOUND"),
        _sent("2", "https://cdn/x.js"),
        _failed("2", errorText="net::ERR_NAME_NOT_RESOLVED"),
        _sent("3", "file:///x/a.wav"),
        _failed("3", canceled=True),
        _thrown("TypeError: boom\n  at x"),
        _thrown("SyntaxError: Identifier 'THEBE_JS_URL' has already been declared"),
        {
            "method": "Runtime.consoleAPICalled",
            "params": {"type": "error", "args": [{"value": "x"}]},
        },
    ]
    errors, warnings = bc._event_messages(events)
    assert errors == [
        "failed to load file:///x/s.css: net::ERR_FILE_NOT_FOUND",
        "JavaScript exception: TypeError: boom",
    ]
    assert len(warnings) == 3 and "https://cdn/x.js" in warnings[0] and "(known" in warnings[1]
    errors, _ = bc._event_messages(events, allowed_js=(r"boom", *bc.KNOWN_JS_ERRORS))
    assert errors == ["failed to load file:///x/s.css: net::ERR_FILE_NOT_FOUND"]


def test_screenshot_names_are_flat():
    assert bc._shot_name("book/generated/uap.html") == "book_generated_uap.png"
    assert bc._shot_name("index.html") == "index.png"


def test_no_browser_is_exit_status_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CHROMIUM", raising=False)
    assert bc.find_browser() is None
    assert bc.main(["--html", str(tmp_path), "--out", str(tmp_path / "shots")]) == 2
    assert "no Chromium found" in capsys.readouterr().err


# -- headless Chromium on a tiny static site (about 5 s each: marked slow, CI runs them) -----

BROWSER = bc.find_browser()
needs_chromium = pytest.mark.skipif(
    BROWSER is None, reason="Chromium not installed (apt-get install chromium)"
)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _site(root, *, broken):
    import matplotlib.image
    import soundfile as sf

    root.mkdir()
    (root / "_images").mkdir()
    matplotlib.image.imsave(root / "_images" / "plot.png", np.eye(8))
    t = np.arange(4000) / 8000
    sf.write(root / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * t), 8000)
    img = '<img src="{}" alt="{}">'
    audio = '<audio controls><source src="{}" type="audio/wav"></audio>'
    if broken:
        index = img.format("_images/gone.png", "A plot") + "<audio controls></audio>"
        chapter = audio.format("gone.wav")
        card = "<p>no table yet</p>"
    else:
        index = img.format("_images/plot.png", "The identity matrix") + audio.format("tone.wav")
        chapter = img.format("_images/plot.png", "_images/plot.png") + audio.format("tone.wav")
        card = "<table><tr><th>claim</th><th>holds</th></tr><tr><td>x</td><td>yes</td></tr></table>"
    # Like Jupyter Book's, the index redirects to the first chapter.
    (root / "index.html").write_text(
        '<meta http-equiv="Refresh" content="0; url=book/intro.html" />'
    )
    (root / "book").mkdir()
    (root / "book" / "intro.html").write_text(
        PAGE.format(title="Intro", body=index.replace('src="', 'src="../'))
    )
    (root / "book" / "chapter.html").write_text(
        PAGE.format(title="Chapter", body=chapter.replace('src="', 'src="../'))
    )
    (root / "book" / "scorecard.html").write_text(PAGE.format(title="Scorecard", body=card))
    return root


def _run(html, out, *extra):
    return bc.main(
        [
            "--html",
            str(html),
            "--out",
            str(out),
            "--pages",
            "index.html",
            "book/chapter.html",
            "--scorecard",
            "book/scorecard.html",
            "--media-timeout",
            "1",
            *extra,
        ]
    )


@pytest.mark.slow
@needs_chromium
def test_tiny_book_passes(tmp_path, capsys):
    html, out = _site(tmp_path / "good", broken=False), tmp_path / "shots"
    assert _run(html, out) == 0, capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["ok"] and report["failures"] == []
    pages = {p["page"]: p for p in report["pages"]}
    index = pages["index.html"]
    assert index["url"].endswith("/book/intro.html")  # the redirect was followed
    assert (index["images"], index["images_loaded"], index["images_without_alt"]) == (1, 1, 0)
    assert (index["audio"], index["audio_with_source"]) == (1, 1)
    assert pages["book/chapter.html"]["images_without_alt"] == 1  # alt is the file name
    assert report["findings"] == ["book/chapter.html: 1 of 1 images without alt text"]
    assert pages["book/scorecard.html"]["tables"] == 1
    for name in ("index.png", "book_chapter.png", "book_scorecard.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "all checks passed" in capsys.readouterr().out
    # The missing alt text fails the run only when asked.
    assert _run(html, out, "--require-alt") == 1


@pytest.mark.slow
@needs_chromium
def test_tiny_broken_book_fails(tmp_path, capsys):
    html, out = _site(tmp_path / "bad", broken=True), tmp_path / "shots"
    assert _run(html, out, "--pages", "index.html", "book/chapter.html", "book/gan.html") == 1
    text = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert not report["ok"]
    fails = "\n".join(report["failures"])
    assert "index.html: image did not load: ../_images/gone.png" in fails
    assert "index.html: audio #1 (no <source>)" in fails
    assert "book/chapter.html: audio #1 (../gone.wav)" in fails
    assert "book/scorecard.html: no <table>" in fails
    assert "book/gan.html: page not found" in fails
    assert "FAIL: book/gan.html: page not found" in text and "MISSING" in text
