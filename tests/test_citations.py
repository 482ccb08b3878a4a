"""The three papers are named by their real titles wherever the sources cite them by author."""

import re
from pathlib import Path

import pytest

from tests.helpers import paper_text

ROOT = Path(__file__).resolve().parents[1]
PAPERS = paper_text("")


def _bib_titles():
    text = (ROOT / "references.bib").read_text()
    entries = re.findall(r"@\w+\{(\w+),(.*?)\n\}", text, flags=re.S)
    out = {}
    for key, body in entries:
        m = re.search(r"title\s*=\s*\{(.*)\},?\s*$", body, flags=re.M)
        if m:
            out[key] = re.sub(r"[{}]", "", m.group(1))
    return out


AUTHOR_KEY = {"Abdoli": "abdoli2019uap", "Sallo": "sallo2021at", "Wang": "wang2020speechadvgan"}


def _norm(s):
    s = re.sub(r"\n\s*#:?", " ", s)  # a title wrapped across comment lines
    return re.sub(r"\s+", " ", s).strip().lower()


def test_every_author_citation_uses_the_papers_title():
    titles = _bib_titles()
    pattern = re.compile(r"(Abdoli|Sallo|Wang) et al\.,?\s+[*\"]([^*\"]+)[*\"]")
    files = [*ROOT.glob("advlib/**/*.py"), *ROOT.glob("notebooks/*.md"), *ROOT.glob("book/*.md")]
    found = 0
    for f in files:
        for author, title in pattern.findall(f.read_text()):
            found += 1
            want = titles[AUTHOR_KEY[author]]
            assert _norm(title) == _norm(want), f"{f.relative_to(ROOT)}: {title!r} is not {want!r}"
    assert found >= 3  # the three chapters cite their paper by title


def test_bibliography_titles_are_the_papers_own():
    """Each paper's title in references.bib is the title printed on the paper (the plain-text
    copies in $ADVLIB_PAPER_TEXTS, where set)."""
    if not PAPERS.is_dir():
        pytest.skip("the papers' text is not found (set ADVLIB_PAPER_TEXTS)")
    titles = _bib_titles()
    text = " ".join(_norm(p.read_text()[:3000]) for p in PAPERS.glob("0*.txt"))
    for key in AUTHOR_KEY.values():
        assert _norm(titles[key]) in text, f"{key}: {titles[key]!r} is not a paper's title"
