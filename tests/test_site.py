"""The course website's sources (website/build.py) agree with the repository; no build needed.

The built site is checked in a browser by ci/test_website.py (the dev leg of .ci/run).
"""

from __future__ import annotations

import importlib.util
import re

import nbformat
import pytest

from helpers.config import REPO_ROOT, colab_url
from helpers.regenerate import recorded_run_times, run_time_text

_spec = importlib.util.spec_from_file_location("website_build", REPO_ROOT / "website" / "build.py")
site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site)

COURSE = sorted(p.stem for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_site_lists_every_course_notebook_in_order_and_nothing_else():
    missing = sorted(set(COURSE) - set(site.NOTEBOOKS))
    extra = sorted(set(site.NOTEBOOKS) - set(COURSE))
    assert not missing, f"notebooks the site does not list (add them to NOTEBOOKS in website/build.py): {missing}"
    assert not extra, f"the site lists notebooks that do not exist: {extra}"
    assert list(site.NOTEBOOKS) == COURSE, "the sidebar lists the notebooks in course order"


def test_every_page_source_exists_and_no_solution_is_on_the_site():
    for origin in site.staged_paths():
        assert (REPO_ROOT / origin).is_file(), origin
        assert "solutions" not in origin
    assert set(site.staged_paths().values()) | {"glossary.md"} >= {*site.GUIDES, *site.REFERENCE}


@pytest.mark.parametrize("name", COURSE)
def test_each_notebook_page_says_its_run_time_and_links_colab_and_the_file(name):
    notebook = nbformat.read(REPO_ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    said = site.run_time(notebook)
    assert said.startswith(run_time_text(recorded_run_times()[f"{name}.ipynb"])) and len(said) < 80, said
    banner = site.banner(name, notebook, f"notebooks/{name}.ipynb")
    assert colab_url(f"{name}.ipynb") in banner
    assert f"<_ipynb/{name}.ipynb>" in banner and said in banner


def test_the_run_time_is_the_first_clause_of_the_notebooks_own_line():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# 09 · x\n\n**Expected run time**: about 3 minutes on a laptop CPU (2 cores); the same\non Colab.\n")])
    assert site.run_time(notebook) == "about 3 minutes on a laptop CPU"
    notebook.cells[0].source = "# 09 · x\n\n**Expected run time.** Under a minute. Details."
    assert site.run_time(notebook) == "under a minute"
    notebook.cells[0].source = "# 09 · x\n\nNo run time here."
    with pytest.raises(ValueError, match="Expected run time"):
        site.run_time(notebook)


def test_links_point_at_site_pages_or_at_github():
    pages = site.staged_paths()
    link = site.site_link
    assert link("notebooks/03_bert_mlp_scorer.ipynb", "README.md", "index.md", pages) == \
        "notebooks/03_bert_mlp_scorer.ipynb"
    assert link("docs/teaching.md#grading", "README.md", "index.md", pages) == "docs/teaching.md#grading"
    assert link("open_bandit_dataset/SOURCE.md", "data/README.md", "data/README.md", pages) == \
        "open_bandit_dataset/SOURCE.md"
    assert link("../docs/offline.md", "notebooks/00_setup_and_roadmap.ipynb",
                "notebooks/00_setup_and_roadmap.ipynb", pages) == "../docs/offline.md"
    github = f"https://github.com/{site.REPOSITORY}"
    assert link("CONTRIBUTING.md", "README.md", "index.md", pages) == f"{github}/blob/{site.BRANCH}/CONTRIBUTING.md"
    assert link("notebooks/solutions/", "README.md", "index.md", pages) == \
        f"{github}/tree/{site.BRANCH}/notebooks/solutions"
    assert link("https://example.org/a.md", "README.md", "index.md", pages) == "https://example.org/a.md"
    assert link("#quick-start", "README.md", "index.md", pages) == "#quick-start"
    assert link(site.COLAB_BADGE, "notebooks/x.ipynb", "notebooks/x.ipynb", pages) == "../_assets/colab-badge.svg"


def test_a_link_to_a_missing_file_stops_the_build():
    with pytest.raises(ValueError, match="does not exist"):
        site.site_link("docs/no_such_guide.md", "README.md", "index.md", site.staged_paths())
    with pytest.raises(ValueError, match="does not exist"):
        site.rewrite_links("![a figure](figures/missing.png)", "docs/teaching.md", "docs/teaching.md",
                           site.staged_paths())


def test_the_glossary_page_has_every_row_of_notebook_00s_glossary():
    notebook = nbformat.read(REPO_ROOT / site.GLOSSARY_SOURCE, as_version=4)
    cell = next(c.source for c in notebook.cells if c.cell_type == "markdown" and "Glossary" in c.source)
    section = cell[cell.index("Glossary"):].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    page = site.glossary_page(site.staged_paths())
    assert page.startswith("# Glossary")
    assert [line for line in page.splitlines() if line.startswith("| ")] == rows
    assert len(rows) > 50 and re.search(r"[\u4e00-\u9fff]", page)


def test_readme_and_ci_build_the_site_and_check_it_in_a_browser():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Website" in readme and "python website/build.py" in readme
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "website/build.py" in ci and "ci/test_website.py" in ci
    dev = (REPO_ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    for tool in ("sphinx", "myst-nb", "sphinx-book-theme", "django-static-mathjax", "selenium"):
        assert re.search(rf"^{tool}==", dev, re.MULTILINE), f"pin {tool} in requirements-dev.txt"
    ignored = (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "build/" in ignored and site.OUT.relative_to(REPO_ROOT).parts[0] == "build"
