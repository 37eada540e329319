"""Every notebook is valid and stored as a real, clean, in-order run; course notebooks have the course shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.config import REPO_ROOT, colab_setup_source, colab_url

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").rglob("*.ipynb"))
COURSE_NOTEBOOKS = [p for p in NOTEBOOKS if "solutions" not in p.parts and ".ipynb_checkpoints" not in p.parts]
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|tmp|root|content|home/\w+|Users/\w+)/|[A-Z]:\\\\Users\\\\")


def _ids(paths):
    return [str(p.relative_to(REPO_ROOT)) for p in paths]


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_there_are_notebooks():
    assert any(p.name.startswith("00_") for p in COURSE_NOTEBOOKS), "notebook 00 is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_a_clean_in_order_run(path: Path):
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code_cells = [c for c in notebook.cells if c.cell_type == "code" and _source(c).strip()]
    counts = [c.get("execution_count") for c in code_cells]
    assert counts == list(range(1, len(counts) + 1)), f"execution counts {counts} are not 1..n: run it afresh"
    assert "widgets" not in notebook.metadata, "saved widget state: regenerate with python -m helpers.regenerate"
    for index, cell in enumerate(notebook.cells):
        assert not MACHINE_PATH.search(_source(cell)), f"cell {index} source holds a machine path"
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"cell {index} stores an error: {output.get('ename')}"
            text = json.dumps(output.get("text", "")) + json.dumps(output.get("data", {}).get("text/plain", ""))
            assert not MACHINE_PATH.search(text), f"cell {index} output holds a machine path"


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=_ids(COURSE_NOTEBOOKS))
def test_course_notebook_shape(path: Path):
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    head = _source(first)
    assert first.cell_type == "markdown" and head.lstrip().startswith("# "), "first cell must be a markdown title"
    assert colab_url(path.name) in head, f"no Open-in-Colab badge for this file ({colab_url(path.name)})"
    assert "learning objectives" in head.lower(), "the first cell states no learning objectives"
    tags = [t for c in notebook.cells for t in c.metadata.get("tags", [])]
    assert "parameters" in tags, "no cell tagged 'parameters'"
    tail = " ".join(_source(c).lower() for c in notebook.cells[-6:] if c.cell_type == "markdown")
    assert "exercise" in tail, "the notebook does not end with exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_colab_setup_cell_is_current_and_skipped_by_nbval(path: Path):
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    first = code_cells[0]
    assert "colab-setup" in first.metadata.get("tags", []), "the first code cell is not the Colab set-up"
    assert "nbval-skip" in first.metadata.get("tags", [])
    assert first.source == colab_setup_source(), "stale Colab set-up: run python -m helpers.regenerate --links"
    own = colab_url(path.relative_to(REPO_ROOT / "notebooks").as_posix())
    assert own in _source(notebook.cells[0]), f"the title cell has no Open-in-Colab badge for this file ({own})"


def test_every_colab_link_is_current_and_opens_a_notebook_that_exists():
    from helpers.regenerate import COLAB_LINK

    documents = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")), *NOTEBOOKS]
    links = [(doc, m.group(0), m.group(1)) for doc in documents
             for m in COLAB_LINK.finditer(doc.read_text(encoding="utf-8"))]
    assert len(links) >= 2 * len(COURSE_NOTEBOOKS), "the README should have a Colab badge per notebook"
    stale = [f"{doc.name}: {url}" for doc, url, target in links if url != colab_url(target)]
    assert not stale, f"links to another repository or branch; run python -m helpers.regenerate --links: {stale}"
    missing = sorted({target for _, _, target in links if not (REPO_ROOT / "notebooks" / target).is_file()})
    assert not missing, f"Colab links to notebooks that do not exist: {missing}"
