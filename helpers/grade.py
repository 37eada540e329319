"""Grade a folder of submitted notebooks with the exercise checkers and write a CSV of scores.

Usage, from the repository root::

    python -m helpers.grade submissions/                       # writes scores.csv
    python -m helpers.grade submissions/ --out week2.csv --timeout 120 --executed graded/

A small runner on nbclient rather than otter-grader or nbgrader, because the course's checkers
already print one verdict line per exercise, so grading only needs to run each notebook the way
:mod:`helpers.regenerate` does and read those lines, with no autograder metadata in the notebooks.

Every ``*.ipynb`` under the folder (recursively; ``.ipynb_checkpoints`` skipped) is copied into a
temporary folder, its stored outputs are cleared (a tick saved by the student counts for nothing)
and the copy runs in a fresh kernel whose working directory is the course's ``notebooks/``
folder; the submission itself is never written. Errors do not stop the run, and each cell has a
time limit: a cell that runs past it is interrupted and the next one runs. Which course notebook a
submission is comes from its title (``# 02 · ...``, a solutions notebook's too), else its file
name (``02_...``); its exercises are the course notebook's, so a deleted exercise cell reads
"no answer".

Statuses, per exercise (the last code cell that calls ``check.nbNN.exercise_M(...)`` decides):
``correct`` (score 1), ``not yet`` (the checker said no), ``no answer`` (the stub is still
``None``, the call is missing or printed nothing), ``error`` (the cell raised before a verdict, or
after a tick; or the kernel died before it), ``timeout`` (the cell ran past the limit).

The grade trusts the notebook's code: it runs the student's code with your permissions (grade
in an account or container without secrets), and a ``print`` of a tick looks like a tick (read
the exercise cells of the executed copies, ``--executed``, before a mark matters).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import astuple, dataclass
from pathlib import Path

from helpers.check import NO_ANSWER
from helpers.config import REPO_ROOT
from helpers.regenerate import notebook_client, use_course_profile

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
STATUSES = ("correct", "not yet", "no answer", "error", "timeout")
COLUMNS = ("submission", "notebook", "exercise", "score", "status")
#: A checker call in a cell's source: ``check.nb02.exercise_3(`` or ``nb02.exercise_3(``.
CHECKER_CALL = re.compile(r"\bnb(\d\d)\.exercise_(\d+)\s*\(")
#: A course notebook's title: ``# 02 · The mathematics ...`` (``: solutions`` for a solutions notebook).
TITLE = re.compile(r"\s*#\s+(\d\d)\s*·")
#: A verdict line of :func:`helpers.check.report`: ``✅ Exercise 3: correct.`` or ``❌ Exercise 3: not yet. hint``.
VERDICT = re.compile(r"^(?:✅ Exercise (\d+): correct\.|❌ Exercise (\d+): not yet\.\s*(.*))$", re.MULTILINE)
TIMEOUT_ERROR = "CellTimeout"


@dataclass(frozen=True)
class Score:
    """One row of the scores table: an exercise of a submission, its score (1 or 0) and why."""

    submission: str
    notebook: str
    exercise: int
    score: int
    status: str


def course_notebooks(folder: Path = NOTEBOOKS_DIR) -> dict[str, Path]:
    """The course notebooks of ``folder`` by number: ``{"02": .../02_bandit_math.ipynb, ...}``."""
    return {path.name[:2]: path for path in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}


def checker_calls(source: str, number: str) -> set[int]:
    """The exercises of notebook ``number`` whose checker ``source`` calls."""
    return {int(m) for n, m in CHECKER_CALL.findall(source) if n == number}


def exercises_of(notebook, number: str) -> list[int]:
    """The exercises of notebook ``number`` that ``notebook``'s code cells check, in order."""
    found: set[int] = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            found |= checker_calls(cell.source, number)
    return sorted(found)


def identify(path: Path, notebook, known: dict[str, Path]) -> str | None:
    """Which course notebook ``notebook`` (read from ``path``) is: its number, or None.

    Its title first (the first non-empty cell, ``# NN · ...``), then its file name (``NN_...``),
    then the notebook whose checkers it calls most.
    """
    first = next((cell for cell in (notebook.cells if notebook else []) if cell.source.strip()), None)
    title = TITLE.match(first.source) if first is not None and first.cell_type == "markdown" else None
    name = re.match(r"(\d\d)_", path.name)
    calls = Counter(n for cell in (notebook.cells if notebook else []) if cell.cell_type == "code"
                    for n, _ in CHECKER_CALL.findall(cell.source))
    for candidate in (title and title.group(1), name and name.group(1), *[n for n, _ in calls.most_common()]):
        if candidate in known:
            return candidate
    return None


def score_exercise(notebook, number: str, exercise: int, cell_errors: dict[int, str], stopped_at: int | None) -> str:
    """The status of ``exercise`` in an executed ``notebook`` (see the module's docstring).

    ``cell_errors``: cell index -> ``"error"`` or ``"timeout"`` for the cells whose run failed;
    ``stopped_at``: the index of the cell at which the run stopped (the kernel died), or None.
    """
    cells = [i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and exercise in checker_calls(cell.source, number)]
    if not cells:
        return "no answer"
    index = cells[-1]
    if stopped_at is not None and index >= stopped_at:
        return "error"
    text = "".join(out.get("text", "") for out in notebook.cells[index].get("outputs", [])
                   if out.get("output_type") == "stream")
    verdict = None
    for match in VERDICT.finditer(text):
        if int(match.group(1) or match.group(2)) == exercise:
            verdict = "correct" if match.group(1) else ("no answer" if match.group(3).strip() == NO_ANSWER
                                                        else "not yet")
    failure = cell_errors.get(index)
    if failure == "timeout":
        return "timeout"
    if failure == "error":
        return verdict if verdict in ("not yet", "no answer") else "error"
    return verdict or "no answer"


def run_copy(path: Path, folder: Path, timeout: int):
    """Run a copy of the notebook at ``path`` with its outputs cleared; return it, failed cells, stop cell.

    The kernel starts in ``folder``; errors are allowed and a cell past ``timeout`` seconds is
    interrupted. Returns ``(notebook, cell_errors, stopped_at)`` as :func:`score_exercise` takes them.
    """
    import nbformat

    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        notebook = nbformat.read(copy, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    cell_errors: dict[int, str] = {}
    started = {"index": None}

    def on_start(cell, cell_index):
        started["index"] = cell_index

    def on_executed(cell, cell_index, execute_reply):
        content = (execute_reply or {}).get("content", {})
        if content.get("status") == "error":
            timed_out = content.get("ename") == TIMEOUT_ERROR
            cell_errors[cell_index] = "timeout" if timed_out else "error"
            if timed_out:
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename=TIMEOUT_ERROR, evalue=content["evalue"], traceback=[content["evalue"]]))

    message = f"the cell ran past the {timeout} s limit and was interrupted"
    client = notebook_client(notebook, folder, timeout, allow_errors=True, interrupt_on_timeout=True,
                             error_on_timeout={"ename": TIMEOUT_ERROR, "evalue": message, "traceback": [message]},
                             on_cell_start=on_start, on_cell_executed=on_executed)
    try:
        client.execute()
    except Exception as exc:  # the kernel died or did not start: what ran so far still counts
        stopped_at = started["index"] if started["index"] is not None else 0
        print(f"  the run stopped at cell {stopped_at + 1} of {len(notebook.cells)}: {type(exc).__name__}: {exc}",
              flush=True)
        return notebook, cell_errors, stopped_at
    return notebook, cell_errors, None


def grade_notebook(path: Path, name: str, course: Path, expected: list[int], folder: Path, timeout: int,
                   executed: Path | None = None) -> list[Score]:
    """Scores of the submission at ``path`` (shown as ``name``) on the ``expected`` exercises of ``course``.

    ``course`` is the course notebook's path (``notebooks/02_bandit_math.ipynb``); the kernel starts
    in ``folder``, with ``timeout`` seconds per cell; ``executed``: a folder to keep the run copy in.
    """
    number = course.name[:2]
    notebook, cell_errors, stopped_at = run_copy(path, folder, timeout)
    if executed is not None:
        import nbformat

        target = executed / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
    rows = []
    for exercise in expected:
        status = score_exercise(notebook, number, exercise, cell_errors, stopped_at)
        rows.append(Score(name, course.stem, exercise, int(status == "correct"), status))
    return rows


def submissions_in(folder: Path) -> list[Path]:
    """Every ``*.ipynb`` under ``folder``, recursively, checkpoints and hidden folders skipped."""
    return sorted(path for path in folder.rglob("*.ipynb")
                  if not any(part.startswith(".") for part in path.relative_to(folder).parts))


def grade_folder(submissions: Path, timeout: int = 120, folder: Path = NOTEBOOKS_DIR,
                 executed: Path | None = None) -> list[Score]:
    """Grade every notebook under ``submissions``; the kernels start in ``folder`` (the course's notebooks).

    A file that is no course notebook (unreadable, or no title, name or checker call says which)
    is reported and skipped.
    """
    import nbformat

    known = course_notebooks(folder)
    expected = {number: exercises_of(nbformat.read(path, as_version=4), number) for number, path in known.items()}
    scores: list[Score] = []
    for path in submissions_in(submissions):
        name = path.relative_to(submissions).as_posix()
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception as exc:  # not JSON, not a notebook: graded as an error if the name says which
            print(f"{name}: cannot be read ({type(exc).__name__}: {exc})", flush=True)
            notebook = None
        number = identify(path, notebook, known)
        if number is None:
            print(f"{name}: skipped, not a course notebook (no '# NN · ' title, 'NN_' name or checker call)", flush=True)
            continue
        if notebook is None:
            course = known[number].stem
            scores += [Score(name, course, exercise, 0, "error") for exercise in expected[number]]
            continue
        print(f"grading {name} as {known[number].stem} ...", flush=True)
        start = time.perf_counter()
        rows = grade_notebook(path, name, known[number], expected[number], folder, timeout, executed)
        print(f"  {sum(row.score for row in rows)} / {len(rows)} in {time.perf_counter() - start:.0f} s", flush=True)
        scores += rows
    return scores


def write_csv(scores: list[Score], out: Path) -> None:
    """Write ``scores`` to ``out``: one row per (submission, exercise), columns :data:`COLUMNS`."""
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(astuple(score) for score in scores)


def summary(scores: list[Score]) -> str:
    """A table with one line per submission: its notebook, total / possible and the count of each status."""
    header = ["submission", "notebook", "score", *STATUSES[1:]]
    lines = []
    for name in dict.fromkeys(score.submission for score in scores):
        rows = [score for score in scores if score.submission == name]
        counts = Counter(row.status for row in rows)
        lines.append([name, rows[0].notebook, f"{sum(r.score for r in rows)} / {len(rows)}",
                      *(str(counts[status]) for status in STATUSES[1:])])
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) if i < 2 else cell.rjust(width)
                               for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
                     for row in [header, *lines])


def _seconds(text: str) -> int:
    """``--timeout``: a whole number of seconds, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: grade a folder, write the CSV, print the summary. Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of submitted notebooks (searched recursively)")
    parser.add_argument("--out", type=Path, default=Path("scores.csv"), help="CSV to write (default: scores.csv)")
    parser.add_argument("--timeout", type=_seconds, default=120, help="seconds allowed per cell (default: 120)")
    parser.add_argument("--executed", type=Path, default=None,
                        help="folder to write the executed copies into, to read the students' cells")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"submissions folder {str(args.submissions)!r} does not exist or is not a folder: "
                     "pass the folder that holds the students' .ipynb files (they may sit in sub-folders)")
    if not submissions_in(args.submissions):
        parser.error(f"no .ipynb file under {str(args.submissions)!r}: pass the folder that holds the submissions")
    if not args.out.parent.is_dir():
        parser.error(f"--out {str(args.out)!r}: folder {str(args.out.parent)!r} does not exist; create it first")
    use_course_profile()
    scores = grade_folder(args.submissions, args.timeout, executed=args.executed)
    write_csv(scores, args.out)
    print(summary(scores) if scores else "no course notebook found", f"scores written to {args.out}", sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
