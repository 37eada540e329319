"""Sphinx configuration of the course website (build it with ``python website/build.py``).

MyST-NB renders the notebooks' stored outputs (nothing is executed); the Sphinx Book Theme gives
the sidebar in course order, the in-page contents and search. MathJax comes from the
django-static-mathjax wheel and is copied into the site, so pages typeset maths with no network.
"""

from __future__ import annotations

import shutil
import sys
from importlib.resources import files
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.config import BRANCH, REPOSITORY  # noqa: E402

project = "Bandits and BERT for diverse e-commerce recommendation"
author = "The course's authors"
copyright = "the course's authors; code MIT, data CC BY 4.0"
html_title = "Bandits and BERT"
language = "en"

# githubpages writes .nojekyll, without which GitHub Pages hides _static/ and _images/.
extensions = ["myst_nb", "sphinx.ext.githubpages"]
root_doc = "index"
# The original notebooks behind each page's download link are files, not pages.
exclude_patterns = ["notebooks/_ipynb"]

# Pages show the outputs stored by `python -m helpers.regenerate`, never a new run.
nb_execution_mode = "off"
# stderr holds progress bars and library warnings, which nbval does not compare either.
nb_output_stderr = "remove"
myst_enable_extensions = ["dollarmath", "amsmath"]
# Jupyter also reads $$...$$ inside a paragraph as display maths (notebook 06 writes it so).
myst_dmath_double_inline = True
myst_heading_anchors = 3

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": f"https://github.com/{REPOSITORY}",
    "repository_branch": BRANCH,
    "use_repository_button": True,
    # each notebook page's banner links the original .ipynb; the theme's button would offer the staged copy
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
# Light or dark as the reader's phone or computer is set (an empty mode is a console error).
html_context = {"default_mode": "auto"}
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_js_files = ["sidebar-toggle.js"]
html_show_sourcelink = False

# MathJax 3.2.2 from the django-static-mathjax wheel, served from the site itself (no CDN).
MATHJAX = files("mathjax") / "static" / "mathjax" / "es5"
mathjax_path = "mathjax/tex-mml-chtml.js"


def _copy_mathjax(app, exception):
    """After a build, copy MathJax's CHTML bundle, its fonts and extensions into ``_static/mathjax``."""
    if exception is None and app.builder.format == "html":
        unused = shutil.ignore_patterns("sre", "*svg*", "mml-*", "tex-chtml*", "node-main.js", "latest.js")
        shutil.copytree(str(MATHJAX), Path(app.outdir) / "_static" / "mathjax", ignore=unused, dirs_exist_ok=True)


def setup(app):
    """Sphinx hook: copy MathJax when the build finishes."""
    app.connect("build-finished", _copy_mathjax)
