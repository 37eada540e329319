"""Build the course website from the notebooks' stored outputs: ``python website/build.py``.

The site is Sphinx with MyST-NB and the Sphinx Book Theme (``website/conf.py``). Nothing is
executed: each page shows what the notebook stores. This script stages the sources into
``build/website/src`` (git-ignored), then runs Sphinx with warnings as errors into
``build/website/html``:

- ``README.md`` becomes the home page; the course notebooks, the instructor guide, the offline
  install guide and the data pages keep their paths, so their relative links still resolve;
- a link to a file of the repository that is not on the site (CONTRIBUTING.md, the solutions)
  points at it on GitHub, and a link to a file that does not exist stops the build; images and the
  Colab badge are local, so pages load with no network;
- each notebook's Colab badge line becomes a banner: Open in Colab, download the ``.ipynb``,
  and the run time read from the notebook's own "Expected run time" line;
- the glossary section of notebook 00 is also a page of its own.

The solutions are not on the site. ``tests/test_site.py`` checks the lists below against the
notebooks folder; ``ci/test_website.py`` opens every built page in headless Chromium.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from helpers.config import BRANCH, REPOSITORY, colab_url  # noqa: E402

WEBSITE = REPO / "website"
OUT = REPO / "build" / "website"
SRC = OUT / "src"
HTML = OUT / "html"

#: The course notebooks, in course order: the sidebar's "Course" part. A test keeps it equal to
#: notebooks/NN_*.ipynb, so a new notebook cannot be left off the site.
NOTEBOOKS = (
    "00_setup_and_roadmap",
    "01_data_cleaning",
    "02_bandit_math",
    "03_bert_mlp_scorer",
    "04_ucb_policy_gradient",
    "05_diversity_evaluation",
    "06_off_policy_evaluation",
    "07_slate_composition_bandits",
)
#: Markdown pages of the repository on the site: repository path -> sidebar title.
GUIDES = {
    "docs/teaching.md": "Instructor guide",
    "docs/offline.md": "Installing with no network",
}
REFERENCE = {
    "glossary.md": "Glossary · 术语表",
    "data/README.md": "Data",
    "data/open_bandit_dataset/SOURCE.md": "Open Bandit Dataset sample",
}
HOME = "README.md"
GLOSSARY_SOURCE = "notebooks/00_setup_and_roadmap.ipynb"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
LOCAL_BADGE = "_assets/colab-badge.svg"
GITHUB = f"https://github.com/{REPOSITORY}"
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".svg")

MARKDOWN_LINK = re.compile(r"(\]\()([^)\s]+)(\))")
RUN_TIME = re.compile(r"\*\*Expected run time[.:]?\*\*[.:]?\s*(.+?)(?:\n\s*\n|$)", re.DOTALL)


def staged_paths() -> dict[str, str]:
    """Repository path -> path of the page in the site's sources (the home page is index.md)."""
    pages = {HOME: "index.md"}
    pages |= {f"notebooks/{name}.ipynb": f"notebooks/{name}.ipynb" for name in NOTEBOOKS}
    pages |= {path: path for path in (*GUIDES, *REFERENCE) if path != "glossary.md"}
    return pages


def site_link(target: str, origin: str, staged: str, pages: dict[str, str]) -> str:
    """Where a relative link ``target`` of the repository file ``origin`` points on the site.

    ``staged`` is where ``origin`` lies in the site's sources. A page of the site gets a relative
    link to it; any other file of the repository a link to GitHub; web addresses and in-page
    anchors stay as they are. An image of the repository is copied into the sources beside its page;
    a link to a file that does not exist stops the build.
    """
    if target == COLAB_BADGE:
        return posixpath.relpath(LOCAL_BADGE, posixpath.dirname(staged) or ".")
    if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):
        return target
    path, hash_, fragment = target.partition("#")
    in_repo = posixpath.normpath(posixpath.join(posixpath.dirname(origin), path))
    if not (REPO / in_repo).exists():
        raise ValueError(f"{origin}: the link {target} points at {in_repo}, which does not exist")
    if in_repo in pages:
        return posixpath.relpath(pages[in_repo], posixpath.dirname(staged) or ".") + hash_ + fragment
    if in_repo.lower().endswith(IMAGES):
        (SRC / in_repo).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / in_repo, SRC / in_repo)
        return posixpath.relpath(in_repo, posixpath.dirname(staged) or ".")
    kind = "tree" if path.endswith("/") or (REPO / in_repo).is_dir() else "blob"
    return f"{GITHUB}/{kind}/{BRANCH}/{in_repo}" + hash_ + fragment


def rewrite_links(text: str, origin: str, staged: str, pages: dict[str, str]) -> str:
    """``text`` (markdown) with every link and image target passed through :func:`site_link`."""
    return MARKDOWN_LINK.sub(lambda m: m[1] + site_link(m[2], origin, staged, pages) + m[3], text)


def run_time(notebook: nbformat.NotebookNode) -> str:
    """The short form of the notebook's "**Expected run time**" line, e.g. "about 2 minutes on a laptop CPU".

    Read from the notebook's first markdown cell, so the banner never disagrees with the notebook;
    the first clause is kept (the header itself gives the details).
    """
    match = RUN_TIME.search(notebook.cells[0].source)
    if match is None:
        raise ValueError("the notebook's first cell has no '**Expected run time**' line")
    clause = re.split(r" \(|;|\. |\.$", " ".join(match[1].split()), maxsplit=1)[0]
    return clause[0].lower() + clause[1:]


def banner(name: str, notebook: nbformat.NotebookNode, staged: str) -> str:
    """The line under a notebook page's title: Colab, the .ipynb file, the run time."""
    badge = posixpath.relpath(LOCAL_BADGE, posixpath.dirname(staged))
    return (
        f"[![Open In Colab]({badge})]({colab_url(name + '.ipynb')}) "
        f"{{download}}`Download the notebook (.ipynb) <_ipynb/{name}.ipynb>` · "
        f"**Run time**: {run_time(notebook)}."
    )


def stage_notebook(name: str, pages: dict[str, str]) -> None:
    """Copy a course notebook into the sources with its links rewritten and the banner; outputs as stored."""
    origin = f"notebooks/{name}.ipynb"
    staged = pages[origin]
    notebook = nbformat.read(REPO / origin, as_version=4)
    first = notebook.cells[0]
    if "colab-badge" not in first.source:
        raise ValueError(f"{origin}: the first cell has no Open-in-Colab badge line to turn into the banner")
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source, origin, staged, pages)
    first.source = "\n".join(
        banner(name, notebook, staged) if "colab-badge" in line else line for line in first.source.splitlines()
    )
    nbformat.write(notebook, SRC / staged)
    shutil.copy2(REPO / origin, SRC / "notebooks" / "_ipynb" / f"{name}.ipynb")


def glossary_page(pages: dict[str, str]) -> str:
    """The glossary section of notebook 00 (English, Chinese, meaning) as a page of its own."""
    notebook = nbformat.read(REPO / GLOSSARY_SOURCE, as_version=4)
    cell = next(c.source for c in notebook.cells if c.cell_type == "markdown" and "Glossary" in c.source)
    lines = cell.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and "Glossary" in line)
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("#") and len(lines[i]) - len(lines[i].lstrip("#")) <= level), len(lines))
    body = "\n".join(lines[start + 1:end])
    source = f"[notebook 00]({posixpath.basename(GLOSSARY_SOURCE)})"
    return rewrite_links(
        f"# {REFERENCE['glossary.md']}\n\nThe glossary of {source}, on a page of its own.\n{body}\n",
        GLOSSARY_SOURCE, "glossary.md", pages,
    )


def toctree(caption: str, entries: list[tuple[str, str | None]]) -> str:
    """A hidden MyST toctree: the sidebar lists it, the home page does not repeat it."""
    lines = [f"{title} <{page}>" if title else page for page, title in entries]
    return "\n```{toctree}\n:hidden:\n:caption: " + caption + "\n\n" + "\n".join(lines) + "\n```\n"


def stage() -> None:
    """Write the site's sources into ``SRC`` (emptied first)."""
    pages = staged_paths()
    shutil.rmtree(SRC, ignore_errors=True)
    (SRC / "notebooks" / "_ipynb").mkdir(parents=True)
    (SRC / "_assets").mkdir()
    shutil.copy2(WEBSITE / "colab-badge.svg", SRC / LOCAL_BADGE)
    for name in NOTEBOOKS:
        stage_notebook(name, pages)
    for origin, staged in pages.items():
        if origin.endswith(".md"):
            (SRC / staged).parent.mkdir(parents=True, exist_ok=True)
            text = rewrite_links((REPO / origin).read_text(encoding="utf-8"), origin, staged, pages)
            if origin == HOME:
                text += toctree("Course", [(f"notebooks/{name}", None) for name in NOTEBOOKS])
                text += toctree("For teachers", [(path[:-3], title) for path, title in GUIDES.items()])
                text += toctree("Reference", [(path[:-3], title) for path, title in REFERENCE.items()])
            (SRC / staged).write_text(text, encoding="utf-8")
    (SRC / "glossary.md").write_text(glossary_page(pages), encoding="utf-8")


def build() -> int:
    """Stage and build the site with warnings as errors; returns Sphinx's exit status."""
    from sphinx.cmd.build import build_main

    start = time.perf_counter()
    stage()
    shutil.rmtree(HTML, ignore_errors=True)
    status = build_main(["-W", "--keep-going", "-q", "-b", "html", "-c", str(WEBSITE),
                         "-d", str(OUT / "doctrees"), str(SRC), str(HTML)])
    print(f"website: {'built' if status == 0 else 'FAILED'} in {time.perf_counter() - start:.0f} s -> {HTML}")
    return status


if __name__ == "__main__":
    sys.exit(build())
