"""helpers.grade: submissions are graded from copies, a student's error or hung cell stops nothing.

The fake submissions call notebook 02's real checkers on exercises 1-3, which compute their answers
from small fixed inputs (no dataset), so the whole test runs two short kernels.
"""

from __future__ import annotations

import csv

import nbformat
import pytest

from helpers import grade

SETUP = "import helpers.check.nb02\nfrom helpers import bandits, check"
CORRECT_1 = ("means, counts, t = check.nb02.inputs_for_exercise_1()\n"
             "index = bandits.ucb1_index(means, counts, t)\ncheck.nb02.exercise_1(index)")


def _notebook(title: str, *sources: str):
    cells = [nbformat.v4.new_markdown_cell(title)] if title else []
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    return nbformat.v4.new_notebook(cells=cells)


@pytest.fixture
def submissions(tmp_path):
    folder = tmp_path / "submissions"
    (folder / "bob").mkdir(parents=True)
    # Named like the course notebook; exercise 4's cell hangs, an error cell comes before exercise 3.
    nbformat.write(_notebook(
        "# 02 · The mathematics of multi-armed bandits",
        SETUP,
        "import time\ntime.sleep(60)\ncheck.nb02.exercise_4(177_998)",  # past the 2 s limit: interrupted
        CORRECT_1,  # runs after the timeout
        "posterior = None  # your code here\ncheck.nb02.exercise_2(posterior)",
        "raise RuntimeError('a student error')",  # the rest still runs
        "new_preferences = undefined_name\ncheck.nb02.exercise_3(new_preferences)",  # raises before the checker
    ), folder / "alice_02_bandit_math.ipynb")
    # Known by its title only; a wrong answer, and a stored tick that must not count.
    wrong = _notebook("# 02 · The mathematics of multi-armed bandits: solutions", SETUP,
                      "check.nb02.exercise_1([0.0, 0.0, 0.0, 0.0])", "check.nb02.exercise_3(None)")
    wrong.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="✅ Exercise 3: correct.\n")]
    nbformat.write(wrong, folder / "bob" / "homework.ipynb")
    (folder / "notes.ipynb").write_text("not a notebook")  # no number anywhere: skipped
    return folder


def test_grading_a_folder_writes_scores_and_leaves_submissions_alone(submissions, tmp_path, capsys):
    before = {path: path.read_bytes() for path in submissions.rglob("*") if path.is_file()}
    out = tmp_path / "scores.csv"

    assert grade.main([str(submissions), "--out", str(out), "--timeout", "2"]) == 0

    with open(out, newline="", encoding="utf-8") as handle:
        rows = [tuple(row.values()) for row in csv.DictReader(handle)]
    assert rows == [
        ("alice_02_bandit_math.ipynb", "02_bandit_math", "1", "1", "correct"),
        ("alice_02_bandit_math.ipynb", "02_bandit_math", "2", "0", "no answer"),
        ("alice_02_bandit_math.ipynb", "02_bandit_math", "3", "0", "error"),
        ("alice_02_bandit_math.ipynb", "02_bandit_math", "4", "0", "timeout"),
        ("alice_02_bandit_math.ipynb", "02_bandit_math", "5", "0", "no answer"),
        ("bob/homework.ipynb", "02_bandit_math", "1", "0", "not yet"),
        ("bob/homework.ipynb", "02_bandit_math", "2", "0", "no answer"),  # no cell calls it
        ("bob/homework.ipynb", "02_bandit_math", "3", "0", "no answer"),  # the stored tick is ignored
        ("bob/homework.ipynb", "02_bandit_math", "4", "0", "no answer"),
        ("bob/homework.ipynb", "02_bandit_math", "5", "0", "no answer"),
    ]
    assert {path: path.read_bytes() for path in submissions.rglob("*") if path.is_file()} == before
    printed = capsys.readouterr().out
    assert "notes.ipynb: skipped" in printed
    assert "alice_02_bandit_math.ipynb  02_bandit_math  1 / 5" in printed


def test_score_reads_verdicts_and_failures_without_a_kernel():
    notebook = _notebook("# 02 · x", "check.nb02.exercise_1(a)", "assert check.nb02.exercise_2(b)")
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="✅ Exercise 1: correct.\n")]
    notebook.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="❌ Exercise 2: not yet. Hint.\n")]
    assert grade.score_exercise(notebook, "02", 1, {}, None) == "correct"
    assert grade.score_exercise(notebook, "02", 1, {1: "error"}, None) == "error"  # a tick, then an error
    assert grade.score_exercise(notebook, "02", 2, {2: "error"}, None) == "not yet"  # the assert after a cross
    assert grade.score_exercise(notebook, "02", 1, {}, 1) == "error"  # the kernel died there
    assert grade.score_exercise(notebook, "03", 1, {}, None) == "no answer"  # another notebook's checker


def test_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        grade.main([str(tmp_path / "nowhere")])
    assert exit_.value.code != 0
    message = capsys.readouterr().err
    assert "nowhere" in message and "does not exist" in message and "pass the folder" in message


def test_the_guides_points_table_follows_the_notebooks_exercise_labels():
    """docs/teaching.md weights each exercise by its label (easy 1, medium 2, hard 3) in the notebook."""
    import re

    import nbformat

    from helpers.config import REPO_ROOT

    weights = {"easy": 1, "medium": 2, "hard": 3}
    guide = (REPO_ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    for path in sorted((REPO_ROOT / "notebooks").glob("0*.ipynb")):
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        labels = [(int(n), weights[w]) for n, w in re.findall(r"\*\*Exercise (\d+) \((easy|medium|hard)", text)]
        row = f"| {', '.join(f'{n} ({w})' for n, w in labels)} | {sum(w for _, w in labels)} |"
        assert re.search(rf"^\| {path.name[:2]} [^|]+ {re.escape(row)}$", guide, re.M), (path.name, row)
