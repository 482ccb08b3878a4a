"""Open the built book in headless Chromium and check what a reader sees.

``python -m advlib.tools.browsercheck --html _build/html --out _build/screenshots`` opens the
index and one executed chapter per paper, and for each page checks that every ``<img>`` has loaded
(``complete`` and ``naturalWidth > 0``), that every ``<audio>`` element plays a source (muted
``play()`` resolves, or the browser has read the source's metadata and can play its type), and,
on the page given by ``--scorecard``, that there is a ``<table>``. Images without a real alt text
(none, empty, or the file name Sphinx puts there by default) are reported as a separate finding;
they fail the run only with ``--require-alt``. One PNG screenshot per page and a JSON report
(``report.json``) go to ``--out``. Exit status: 0 all checks pass, 1 a check failed, 2 no browser.

Playwright drives the system's Chromium (``executable_path``; no browser is downloaded): any
Chromium or Chrome of the last years works (``--browser`` or ``$CHROMIUM`` picks one, else
``chromium``, ``chromium-browser``, ``google-chrome`` on ``PATH``). The page's network and
JavaScript events come from a DevTools session (``new_cdp_session``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any

from advlib.cli import ArgumentParser, run

__all__ = [
    "DEFAULT_PAGES",
    "BrowserError",
    "alt_missing",
    "check_book",
    "find_browser",
    "main",
    "page_failures",
    "page_findings",
    "summarise_page",
]

#: The index and the executed chapter of each paper (UAP, AT, GAN).
DEFAULT_PAGES = (
    "index.html",
    "book/generated/uap.html",
    "book/generated/at.html",
    "book/generated/gan.html",
)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
VIEWPORT = (1280, 900)
_IMAGE_FILE = re.compile(r"\S+\.(png|jpe?g|gif|svg|webp|bmp)", re.IGNORECASE)


#: JavaScript errors of the pinned toolchain, not of the book: reported, never failing.
#: jupyter-book 1.0.4 writes sphinx-thebe's ``const THEBE_JS_URL = ...`` script twice into
#: every page with notebook cells, and the second copy throws.
KNOWN_JS_ERRORS = (r"Identifier 'THEBE_JS_URL' has already been declared",)


class BrowserError(RuntimeError):
    """Chromium could not be started, died, or did not answer in time."""


#: Chromium's flags. The pages are our own local files; the sandbox needs user namespaces,
#: which containers and CI runners (root, AppArmor) often do not allow.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--autoplay-policy=no-user-gesture-required",
)
#: The DevTools events :func:`_event_messages` reads.
EVENTS = (
    "Network.requestWillBeSent",
    "Network.loadingFailed",
    "Runtime.exceptionThrown",
    "Runtime.consoleAPICalled",
)


# --------------------------------------------------------------------------------------------
# Verdict logic (no browser needed)
# --------------------------------------------------------------------------------------------


def _short(url: str, n: int = 80) -> str:
    return url if len(url) <= n else url[: n - 3] + "..."


def alt_missing(alt: str | None, src: str) -> bool:
    """True when an image has no real alt text: none, blank, or a file name.

    Sphinx and MyST-NB put the image's path in ``alt`` when nothing else is given, so an alt
    that equals the source, ends like it, or is itself an image file name counts as missing.
    """
    if alt is None or not alt.strip():
        return True
    alt = alt.strip()
    if alt == src or (src and PurePosixPath(alt).name == PurePosixPath(src.split("?")[0]).name):
        return True
    return bool(_IMAGE_FILE.fullmatch(alt))


def _audio_playable(audio: dict[str, Any]) -> bool:
    if not audio.get("currentSrc") or audio.get("error") is not None:
        return False
    if audio.get("played"):
        return True
    # No audio output (some CI machines): the browser read the metadata and knows the type.
    return audio.get("readyState", 0) >= 1 and any(audio.get("canPlay") or [])


def summarise_page(page: str, raw: dict[str, Any], *, expect_table: bool = False) -> dict:
    """One page's report from what the in-page script returned (see ``_PAGE_SCRIPT``)."""
    images = raw.get("images", [])
    audios = raw.get("audios", [])
    broken = [_short(i.get("src") or "") for i in images if not i.get("loaded")]
    no_alt = [
        _short(i.get("src") or "") for i in images if alt_missing(i.get("alt"), i.get("src") or "")
    ]
    silent = []
    for k, a in enumerate(audios):
        if not _audio_playable(a):
            why = a.get("playError") or (
                f"media error {a['error']}" if a.get("error") is not None else "no source"
            )
            srcs = ", ".join(_short(s.get("src") or "", 60) for s in a.get("sources", []))
            silent.append(f"audio #{k + 1} ({srcs or 'no <source>'}): {why}")
    return {
        "page": page,
        "exists": True,
        "title": raw.get("title", ""),
        "url": raw.get("url", ""),
        "images": len(images),
        "images_loaded": len(images) - len(broken),
        "images_without_alt": len(no_alt),
        "audio": len(audios),
        "audio_with_source": len(audios) - len(silent),
        "audio_played": sum(bool(a.get("played")) for a in audios),
        "tables": int(raw.get("tables", 0)),
        "expect_table": expect_table,
        "broken_images": broken,
        "images_without_alt_list": no_alt,
        "silent_audio": silent,
        "errors": list(raw.get("errors", [])),
        "warnings": list(raw.get("warnings", [])),
    }


def missing_page(page: str, path: Path, *, expect_table: bool = False) -> dict:
    """The report of a page that is not in the build."""
    return {
        "page": page,
        "exists": False,
        "expect_table": expect_table,
        "errors": [f"page not found: {path}"],
    }


def page_failures(rep: dict, *, require_alt: bool = False) -> list[str]:
    """Readable reasons why a page fails; empty when it passes."""
    out = [f"{rep['page']}: {e}" for e in rep.get("errors", [])]
    if not rep.get("exists", False):
        return out
    out += [f"{rep['page']}: image did not load: {s}" for s in rep.get("broken_images", [])]
    out += [f"{rep['page']}: {s}" for s in rep.get("silent_audio", [])]
    if rep.get("expect_table") and rep.get("tables", 0) == 0:
        out.append(f"{rep['page']}: no <table> on the scorecard page")
    if require_alt:
        out += [
            f"{rep['page']}: image without alt text: {s}"
            for s in rep.get("images_without_alt_list", [])
        ]
    return out


def page_findings(rep: dict) -> list[str]:
    """Things worth fixing that do not fail the check (missing alt texts, remote loads)."""
    out = []
    if rep.get("images_without_alt"):
        out.append(
            f"{rep['page']}: {rep['images_without_alt']} of {rep['images']} images without alt text"
        )
    out += [f"{rep['page']}: {w}" for w in rep.get("warnings", [])]
    return out


def format_table(reports: list[dict], require_alt: bool = False) -> str:
    """A fixed-width summary, one row per page."""
    head = ("page", "images", "loaded", "no alt", "audio", "plays", "tables", "result")
    rows = [head]
    for r in reports:
        fails = page_failures(r, require_alt=require_alt)
        if not r.get("exists"):
            rows.append((r["page"], "-", "-", "-", "-", "-", "-", "MISSING"))
            continue
        rows.append(
            (
                r["page"],
                *(
                    str(r[k])
                    for k in (
                        "images",
                        "images_loaded",
                        "images_without_alt",
                        "audio",
                        "audio_with_source",
                        "tables",
                    )
                ),
                f"FAIL ({len(fails)})" if fails else "ok",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in rows
    )


# --------------------------------------------------------------------------------------------
# Chromium, driven by Playwright
# --------------------------------------------------------------------------------------------


def find_browser(explicit: str | None = None) -> str | None:
    """``explicit``, else ``$CHROMIUM``, else the first of ``BROWSERS`` on ``PATH``."""
    for name in (explicit, os.environ.get("CHROMIUM"), *BROWSERS):
        if name and (path := shutil.which(name)):
            return path
    return None


# True when the page redirects itself (meta refresh; the book's index.html does) or a redirect
# has begun but not loaded yet: wait for the next load event then.
_REFRESH_SCRIPT = (
    "document.readyState !== 'complete' || "
    "(!!document.querySelector('meta[http-equiv=\"refresh\" i]') && "
    "document.location.protocol === 'file:')"
)

# Wait for web fonts and two frames, so the screenshot shows the laid-out page.
_SETTLE_SCRIPT = (
    "document.fonts.ready.then(() => new Promise((r) => "
    "requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 100)))))"
)

# The in-page check. Lazy images are made eager and awaited; each <audio> is muted and played.
_PAGE_SCRIPT = r"""
(async (mediaTimeout) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const race = (p, ms) => Promise.race([p, sleep(ms).then(() => "timeout")]);
  const imgs = Array.from(document.images);
  for (const img of imgs) { if (img.loading === "lazy") img.loading = "eager"; }
  await race(Promise.all(imgs.map((img) => img.complete ? null : new Promise((r) => {
    img.addEventListener("load", r, {once: true});
    img.addEventListener("error", r, {once: true});
  }))), mediaTimeout);
  const images = imgs.map((img) => ({
    src: img.getAttribute("src") || "",
    alt: img.getAttribute("alt"),
    loaded: img.complete && img.naturalWidth > 0,
  }));
  const audios = [];
  for (const a of document.querySelectorAll("audio")) {
    const sources = Array.from(a.querySelectorAll("source")).map((s) => ({
      src: s.getAttribute("src") || "", type: s.getAttribute("type") || "",
    }));
    if (a.getAttribute("src")) sources.unshift({src: a.getAttribute("src"), type: ""});
    a.muted = true;
    let played = false, playError = "";
    try {
      const r = await race(a.play(), mediaTimeout);
      if (r === "timeout") playError = "play() did not start within " + mediaTimeout + " ms";
      else played = true;
    } catch (e) {
      playError = "play() failed: " + (e && e.name ? e.name + ": " + e.message : String(e));
    }
    a.pause();
    audios.push({
      sources, played, playError,
      currentSrc: a.currentSrc ? a.currentSrc.slice(0, 200) : "",
      canPlay: sources.map((s) => s.type ? a.canPlayType(s.type) : ""),
      readyState: a.readyState,
      error: a.error ? a.error.code : null,
    });
  }
  window.scrollTo(0, 0);
  return {
    title: document.title,
    url: location.href,
    images, audios,
    tables: document.querySelectorAll("table").length,
    height: Math.ceil(document.documentElement.scrollHeight),
  };
})
"""


def _event_messages(events: list[dict], allowed_js=KNOWN_JS_ERRORS) -> tuple[list[str], list[str]]:
    """(errors, warnings) from a page's DevTools events: JS exceptions and failed loads of
    local files are errors; failed remote loads, console errors and JS exceptions matching
    ``allowed_js`` (regular expressions) are warnings (the book is meant to read offline, but a
    CDN hiccup should not fail the build)."""
    errors, warnings, urls = [], [], {}
    for ev in events:
        m, p = ev["method"], ev.get("params", {})
        if m == "Network.requestWillBeSent":
            urls[p["requestId"]] = p["request"]["url"]
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            url = urls.get(p["requestId"], "?")
            text = f"failed to load {_short(url)}: {p.get('errorText', '')}"
            (warnings if url.startswith(("http:", "https:")) else errors).append(text)
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = (d.get("exception") or {}).get("description") or d.get("text", "")
            text = f"JavaScript exception: {desc.splitlines()[0] if desc else '?'}"
            known = any(re.search(rx, text) for rx in allowed_js)
            (warnings if known else errors).append(text + (" (known, allowed)" if known else ""))
        elif m == "Runtime.consoleAPICalled" and p.get("type") == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            warnings.append(f"console error: {_short(args, 200)}")
    return errors, warnings


def check_page(
    context,
    root: Path,
    page: str,
    shot: Path | None,
    *,
    expect_table: bool = False,
    timeout: float = 60.0,
    media_timeout: float = 5.0,
    max_height: int = 8000,
    allowed_js=KNOWN_JS_ERRORS,
) -> dict:
    """Open ``root/page`` in a new tab of the Playwright browser ``context``, run the checks,
    save a screenshot to ``shot``; the page's report."""
    from playwright.sync_api import Error

    path = (root / page).resolve()
    if not path.is_file():
        return missing_page(page, path, expect_table=expect_table)
    t0 = time.monotonic()
    tab = context.new_page()
    tab.set_default_timeout(timeout * 1000)
    events: list[dict] = []
    cdp = context.new_cdp_session(tab)
    for method in EVENTS:
        cdp.on(method, lambda params, m=method: events.append({"method": m, "params": params}))
    cdp.send("Network.enable")
    cdp.send("Runtime.enable")
    try:
        try:
            tab.goto(path.as_uri(), wait_until="load")
        except Error as exc:
            msg = str(exc).splitlines()[0]
            return {"page": page, "exists": True, "expect_table": expect_table, "errors": [msg]}
        for _ in range(5):
            try:
                if not tab.evaluate(_REFRESH_SCRIPT):
                    break
            except Error as exc:  # the redirect won the race: wait for its load
                if "navigat" not in str(exc) and "context" not in str(exc):
                    raise
            tab.wait_for_load_state("load")
            tab.wait_for_timeout(200)
        raw = tab.evaluate(f"{_PAGE_SCRIPT}({int(media_timeout * 1000)})")
        raw["errors"], raw["warnings"] = _event_messages(events, allowed_js)
        rep = summarise_page(page, raw, expect_table=expect_table)
        if shot is not None:
            height = max(VIEWPORT[1], min(int(raw.get("height") or 0), max_height))
            tab.set_viewport_size({"width": VIEWPORT[0], "height": height})
            tab.evaluate(_SETTLE_SCRIPT)
            shot.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=shot)
            rep["screenshot"] = str(shot)
        rep["seconds"] = round(time.monotonic() - t0, 2)
        return rep
    except Error as exc:
        raise BrowserError(f"{page}: {str(exc).splitlines()[0]}") from exc
    finally:
        tab.close()


def _shot_name(page: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", page.removesuffix(".html")).strip("_") + ".png"


def check_book(
    html: Path,
    out: Path | None,
    pages=DEFAULT_PAGES,
    *,
    scorecard: str | None = None,
    browser: str | None = None,
    timeout: float = 60.0,
    media_timeout: float = 5.0,
    max_height: int = 8000,
    allowed_js=KNOWN_JS_ERRORS,
) -> list[dict]:
    """Check ``pages`` (and ``scorecard``, which must hold a table) of the book in ``html``."""
    from playwright.sync_api import Error, sync_playwright

    exe = find_browser(browser)
    if exe is None:
        raise BrowserError(
            f"no Chromium found (tried {browser or '$CHROMIUM'}, {', '.join(BROWSERS)}); "
            "install it, e.g. apt-get install chromium"
        )
    todo = list(dict.fromkeys(pages))
    if scorecard and scorecard not in todo:
        todo.append(scorecard)
    reports = []
    with sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, timeout=timeout * 1000)
        except Error as exc:
            raise BrowserError(f"Chromium did not start: {exc}") from exc
        context = b.new_context(viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]})
        for page in todo:
            reports.append(
                check_page(
                    context,
                    html,
                    page,
                    out / _shot_name(page) if out is not None else None,
                    expect_table=page == scorecard,
                    timeout=timeout,
                    media_timeout=media_timeout,
                    max_height=max_height,
                    allowed_js=allowed_js,
                )
            )
        version = b.version
        b.close()
    for r in reports:
        r["browser"] = version
    return reports


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(
        prog="python -m advlib.tools.browsercheck", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--html", type=Path, default=Path("_build/html"), help="the built book")
    ap.add_argument(
        "--out", type=Path, default=Path("_build/screenshots"), help="screenshots and report.json"
    )
    ap.add_argument(
        "--pages",
        nargs="+",
        default=list(DEFAULT_PAGES),
        metavar="PAGE",
        help="pages relative to --html (default: %(default)s)",
    )
    ap.add_argument("--scorecard", metavar="PAGE", help="a page that must contain a <table>")
    ap.add_argument("--require-alt", action="store_true", help="fail on images without alt text")
    ap.add_argument(
        "--allow-js-error",
        action="append",
        default=[],
        metavar="REGEX",
        help="a JavaScript exception to report without failing (repeatable; added to "
        "KNOWN_JS_ERRORS)",
    )
    ap.add_argument("--browser", help="Chromium executable (default $CHROMIUM, then PATH)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per page load")
    ap.add_argument(
        "--media-timeout", type=float, default=5.0, help="seconds per image batch / audio play"
    )
    ap.add_argument(
        "--max-height", type=int, default=8000, help="screenshot height cap in CSS pixels"
    )
    args = ap.parse_args(argv)
    if not args.html.is_dir():
        raise FileNotFoundError(f"{args.html}: no built book here (build it first: make book)")

    try:
        reports = check_book(
            args.html,
            args.out,
            args.pages,
            scorecard=args.scorecard,
            browser=args.browser,
            timeout=args.timeout,
            media_timeout=args.media_timeout,
            max_height=args.max_height,
            allowed_js=(*KNOWN_JS_ERRORS, *args.allow_js_error),
        )
    except BrowserError as exc:
        print(f"browsercheck: error: {exc}", file=sys.stderr)
        return 2
    failures = [f for r in reports for f in page_failures(r, require_alt=args.require_alt)]
    findings = [f for r in reports for f in page_findings(r)]
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "html": str(args.html),
        "ok": not failures,
        "require_alt": args.require_alt,
        "failures": failures,
        "findings": findings,
        "pages": reports,
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(format_table(reports, require_alt=args.require_alt))
    for f in findings:
        print(f"note: {f}")
    for f in failures:
        print(f"FAIL: {f}")
    print(
        f"browsercheck: {len(reports)} pages, "
        + (f"{len(failures)} failed checks" if failures else "all checks passed")
        + f"; screenshots and report.json in {args.out}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(run(main))
