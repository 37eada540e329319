"""Run times agree everywhere: README, notebook headers and instructor guide quote one measurement.

The measurement is ``docs/run_times.json``, written by ``python -m helpers.regenerate
--record-times`` (see :mod:`helpers.regenerate`); every quote goes through
:func:`helpers.regenerate.run_time_text`, so a new measurement fails this test until the texts follow.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from helpers.config import REPO_ROOT
from helpers.regenerate import recorded_run_times, run_time_text

COURSE = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))


def test_every_course_notebook_has_one_measured_time():
    assert sorted(recorded_run_times()) == COURSE


@pytest.mark.parametrize(("seconds", "text"), [(4, "about 10 s"), (44, "about 40 s"), (54, "about 50 s"), (65, "about 1 min"), (89, "about 1.5 min"),
                                               (100, "about 1.5 min"), (135, "about 2.5 min"), (301, "about 5 min")])
def test_run_time_text_rounds_to_what_a_reader_needs(seconds, text):
    assert run_time_text(seconds) == text


@pytest.mark.parametrize("name", COURSE)
def test_the_notebook_header_quotes_the_measurement(name):
    notebook = nbformat.read(REPO_ROOT / "notebooks" / name, as_version=4)
    header = "\n".join(cell.source for cell in notebook.cells[:4] if cell.cell_type == "markdown")
    quoted = re.search(r"\*\*Expected run time\*\*:\s*(.*?)(?:\. |;| \(|\n\n)", header, re.S)
    assert quoted, f"{name}: no **Expected run time** line in its header"
    assert run_time_text(recorded_run_times()[name]) in quoted.group(1), quoted.group(0)


def test_the_readme_and_the_guide_quote_the_measurement():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    guide = (REPO_ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    guide_times = re.search(r"\*\*Run times\*\*(.*?)\n\n", guide, re.S).group(1)
    for name, seconds in recorded_run_times().items():
        number, text = name[:2], run_time_text(seconds)
        row = re.search(rf"^\| {number} \|.*$", readme, re.M).group(0)
        assert f"| {text} |" in row, f"README row {number} should give {text}"
        assert re.search(rf"\b{number} {re.escape(text)}\b", " ".join(guide_times.split())), \
            f"docs/teaching.md should say '{number} {text}'"


def test_solutions_quote_no_run_time_of_their_own():
    """A solutions notebook points to its course notebook's measured time instead of a copy that drifts."""
    for path in sorted((REPO_ROOT / "notebooks" / "solutions").glob("*.ipynb")):
        assert "Expected run time" not in nbformat.read(path, as_version=4).cells[0].source, path.name
