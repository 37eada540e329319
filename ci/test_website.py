"""The built website in a real browser: headless Chromium at a phone's width (390 px).

Run after the build (the dev leg of `.ci/run` does both)::

    python website/build.py && python -m pytest ci/test_website.py

Every page is served from 127.0.0.1 and must load with no console error, with every image loaded,
its maths typeset by MathJax (no raw ``$$`` or ``\\(`` left), every internal link and anchor
resolving, and no horizontal scroll of the page at 390 px. The browser resolves no host name, so a
page that needs the network (a CDN's script or font) fails here as it would in a classroom with
none. A screenshot of each page goes to ``build/website/screenshots/`` (CI keeps it, git ignores it).
The notebook pages must also show every stored output: each line the notebook printed, each table
and each figure.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("website_build", REPO / "website" / "build.py")
site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site)

SCREENSHOTS = site.OUT / "screenshots"
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
PAGES = (
    ["index.html"]
    + [staged.rsplit(".", 1)[0] + ".html" for origin, staged in site.staged_paths().items() if origin != site.HOME]
    + ["glossary.html", "genindex.html", "search.html"]
)
NOTEBOOK_PAGES = [f"notebooks/{name}.html" for name in site.NOTEBOOKS]

# Waits for every image (lazy ones too) and for MathJax's first typesetting, then reports what the test checks.
INSPECT = """
const done = arguments[arguments.length - 1];
const images = [...document.images];
images.forEach(image => { image.loading = "eager"; });
const loaded = images.map(image => image.complete ? null
    : new Promise(resolve => { image.onload = image.onerror = resolve; }));
const typeset = window.MathJax && MathJax.startup ? MathJax.startup.promise : null;
Promise.all([...loaded, typeset]).then(() => {
  const prose = document.body.cloneNode(true);
  prose.querySelectorAll("pre, code, script, style, textarea, mjx-assistive-mml").forEach(e => e.remove());
  const width = document.documentElement.clientWidth;
  // What sticks out of the page, not out of a box that scrolls or clips it.
  const free = e => { for (let a = e; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.position === "fixed" || (a !== e && style.overflowX !== "visible")) return false; }
    return true; };
  const wide = [...document.body.querySelectorAll("*")]
    .filter(e => e.getBoundingClientRect().right > width + 1 && free(e))
    .map(e => `<${e.tagName.toLowerCase()} class="${e.getAttribute("class")}"> ${e.textContent.slice(0, 60)}`);
  done({
    brokenImages: images.filter(image => !(image.complete && image.naturalWidth > 0)).map(image => image.src),
    prose: prose.textContent,
    mathErrors: document.querySelectorAll("mjx-merror").length,
    untypeset: [...document.querySelectorAll(".math")].filter(e => !e.querySelector("mjx-container")).length,
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    width: width,
    wide: wide.slice(0, 8),
  });
}, error => done({error: String(error)}));
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        """Keep the test's output for failures."""


@pytest.fixture(scope="module")
def server():
    """The built site on a free port of 127.0.0.1; yields its address."""
    if not (site.HTML / "index.html").is_file():
        pytest.fail("no built site: run `python website/build.py` first")
    handler = functools.partial(_QuietHandler, directory=str(site.HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's, with its chromedriver) emulating a 390-px phone, offline."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=390,844", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    chrome.set_page_load_timeout(60)
    chrome.set_script_timeout(60)
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield chrome
    chrome.quit()


@functools.cache
def _anchors(path: Path) -> set[str]:
    return set(re.findall(r'\b(?:id|name)="([^"]+)"', path.read_text(encoding="utf-8")))


def _broken_links(links: list[str], base: str) -> list[str]:
    """The links to the site among ``links`` whose file or anchor does not exist."""
    broken = []
    for link in sorted(set(links)):
        if not link.startswith(base):
            continue
        parts = urllib.parse.urlsplit(link)
        path = site.HTML / urllib.parse.unquote(parts.path).lstrip("/")
        if parts.path.endswith("/"):
            path = path / "index.html"
        fragment = urllib.parse.unquote(parts.fragment)
        if not path.is_file():
            broken.append(link)
        elif fragment and path.suffix == ".html" and fragment not in _anchors(path):
            broken.append(link)
    return broken


def test_the_site_has_exactly_the_expected_pages():
    built = {str(p.relative_to(site.HTML)) for p in site.HTML.rglob("*.html") if "_static" not in p.parts}
    assert built == set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_works_on_a_phone(page, server, browser):
    browser.get_log("browser")  # empties the log of the previous page
    browser.get(server + page)
    seen = browser.execute_async_script(INSPECT)
    browser.save_screenshot(str(SCREENSHOTS / (page[:-5].replace("/", "__") + ".png")))
    assert "error" not in seen, seen
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"console errors: {errors}"
    assert not seen["brokenImages"], f"images that did not load: {seen['brokenImages']}"
    raw = [token for token in ("$$", "\\(", "\\)", "\\[", "\\begin{") if token in seen["prose"]]
    assert not raw and not re.search(r"\$[^$\n]{1,200}?\\[A-Za-z]+", seen["prose"]), f"maths left as TeX: {raw}"
    assert seen["untypeset"] == 0 and seen["mathErrors"] == 0, seen
    assert not _broken_links(seen["links"], server), f"broken internal links: {_broken_links(seen['links'], server)}"
    assert seen["scrollWidth"] <= seen["width"], (
        f"the page scrolls sideways at 390 px ({seen['scrollWidth']} px wide); too wide: {seen['wide']}")


def test_search_finds_a_notebook(server, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "search.html?q=Thompson")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements("css selector", "#search-results li"))
    results = [a.get_attribute("href") for a in browser.find_elements("css selector", "#search-results li a")]
    assert any("notebooks/02_bandit_math.html" in link for link in results), results


def _text(markup: str) -> str:
    """Visible text of HTML, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.mark.parametrize("name", site.NOTEBOOKS)
def test_notebook_page_shows_the_stored_outputs(name):
    """Every line the notebook printed, every table and every figure is on its page, as stored."""
    page = (site.HTML / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
    text = _text(page)
    notebook = nbformat.read(site.REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    figures = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            figures += "image/png" in data
            if "text/html" in data:
                lines = [_text(line) for line in re.sub(r"<style.*?</style>", "", data["text/html"],
                                                        flags=re.DOTALL).splitlines()]
            elif "image/png" in data or "text/markdown" in data:
                continue
            else:
                printed = output.text if output.output_type == "stream" else data.get("text/plain", "")
                if output.get("name") == "stderr":
                    continue
                lines = [" ".join(re.sub(r"\x1b\[[0-9;]*m", "", line).split()) for line in printed.splitlines()]
            for line in lines:
                assert line in text, f"{name}: a stored output is not on the page: {line!r}"
    assert len(re.findall(r'<img [^>]*src="\.\./_images/[0-9a-f]+\.png"', page)) == figures


def test_a_phone_opens_the_sidebar_in_course_order_and_the_page_contents(server, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "notebooks/02_bandit_math.html")
    for toggle, dialog in (("primary-toggle", "pst-primary-sidebar-modal"),
                           ("secondary-toggle", "pst-secondary-sidebar-modal")):
        button = next(b for b in browser.find_elements("css selector", f"button.{toggle}") if b.is_displayed())
        button.click()
        WebDriverWait(browser, 10).until(lambda b, d=dialog: b.execute_script(f"return document.getElementById('{d}').open"))
        links = [a.get_attribute("href") for a in browser.find_elements("css selector", f"#{dialog} a")
                 if a.is_displayed()]
        if toggle == "primary-toggle":
            paths = [urllib.parse.urlsplit(link).path for link in links]
            shown = [name for path in paths for name in site.NOTEBOOKS if path.endswith(f"notebooks/{name}.html")]
            assert shown == list(site.NOTEBOOKS), links
        else:
            assert any("#" in link and "02_bandit_math.html" in link for link in links), links
        browser.execute_script(f"document.getElementById('{dialog}').close()")
