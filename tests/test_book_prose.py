"""Nothing typed: every number in the book's prose is glued from an executed page, or stands in a
sentence that names its source (the paper, the spec, a profile, the authors' code, advlib's own
definition). A result measured once and typed into the prose fails here."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# words that name where a number comes from
SOURCE = re.compile(
    r"paper|spec\b|profile|`demo`|`ci`|`paper`|\{cite|authors|advlib|Table|Fig\.|Eqs?\.|Sec\.|"
    r"App\.|Algorithm|published|official|licen[cs]e|CC BY|CC0|definition|convention",
    re.I,
)
NUMBER = re.compile(r"(?<![\w.`/-])[-+±]?\d+(?:[.,]\d+)*(?![\w`])")


def _prose(text):
    """The markdown's prose: code, math, glue roles, citations, links and tables removed."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\{glue:\w+\}`[^`]*`", " GLUED ", text)
    text = re.sub(r"\{cite(:\w+)?\}`[^`]*`", " {cite} ", text)
    text = re.sub(r"`(demo|ci|paper)`", r"PROFILE_\1 profile", text)
    text = re.sub(r"`[^`]*`", " CODE ", text)
    text = re.sub(r"\$[^$]*\$", " MATH ", text)
    text = re.sub(r"^\|.*\|$", " ", text, flags=re.M)
    text = re.sub(r"\[[^\]]*\]\([^)]*\)", " LINK ", text)
    text = re.sub(r"95 % (Wilson |confidence |t )?interval", "interval", text)
    text = re.sub(r"\[-?\d+(\.\d+)?, ?-?\d+(\.\d+)?\]", "BOX", text)  # a box, [0, 1]
    return text


def unsourced(text):
    """Sentences of ``text`` with a number (other than a year) and no named source."""
    out = []
    for para in re.split(r"\n\s*\n", _prose(text)):
        for sentence in re.split(r"(?<=[.;:])\s+(?=[A-Z(*])", para.replace("\n", " ")):
            nums = [n for n in NUMBER.findall(sentence) if not re.fullmatch(r"(19|20)\d\d", n)]
            if nums and not SOURCE.search(sentence):
                out.append((nums, sentence.strip()))
    return out


def test_no_number_is_typed_into_the_books_prose():
    bad = [
        f"{f.name}: {nums} in: {s[:150]}"
        for f in sorted((ROOT / "book").glob("*.md"))
        for nums, s in unsourced(f.read_text())
    ]
    assert not bad, "\n".join(bad)


def test_the_scan_catches_a_typed_result():
    typed = "With one batch the steps cancel: a targeted UAP reached 0.6 % test ASR."
    assert unsourced(typed)
    assert not unsourced("In this build the ASR is {glue:text}`generated/uap.ipynb::asr:s` %.")
    assert not unsourced("The paper reports 92.33 % (Table 1).")
    assert not unsourced("Each rate carries its 95 % Wilson interval.")
