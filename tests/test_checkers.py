"""Every exercise has a checker, and every checker accepts its solution.

nbval re-runs the solution notebooks, where each checker call is asserted (checked here); this test checks
the stored runs: each course notebook's exercises are answered in its solution notebook and
every verdict there is a tick.
"""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from helpers.config import REPO_ROOT

COURSE = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECKER_CALL = re.compile(r"check\.(nb\d\d)\.(exercise_\d+)\(")


def _calls(notebook) -> list[tuple[str, str]]:
    return [m.groups() for c in notebook.cells if c.cell_type == "code" for m in CHECKER_CALL.finditer(c.source)]


@pytest.mark.parametrize("path", COURSE, ids=[p.name for p in COURSE])
def test_solution_answers_every_exercise(path):
    course = nbformat.read(path, as_version=4)
    calls = _calls(course)
    assert len(calls) >= 3, f"{path.name} has {len(calls)} checked exercises; the course asks for at least 3"
    solution_path = REPO_ROOT / "notebooks" / "solutions" / path.name.replace(".ipynb", "_solutions.ipynb")
    assert solution_path.is_file(), f"no solution notebook {solution_path.name}"
    solution = nbformat.read(solution_path, as_version=4)
    assert _calls(solution) == calls, "the solution does not call the same checkers in the same order"
    unasserted = [line.strip() for c in solution.cells if c.cell_type == "code" for line in c.source.splitlines()
                  if CHECKER_CALL.search(line) and not line.lstrip().startswith("assert ")]
    assert not unasserted, f"assert every checker call, so that nbval fails when a solution goes wrong: {unasserted}"
    verdicts = [line for c in solution.cells if c.cell_type == "code" for o in c.get("outputs", [])
                for line in o.get("text", "").splitlines() if line.startswith(("✅", "❌"))]
    assert len(verdicts) == len(calls) and all(v.startswith("✅") for v in verdicts), verdicts


def _cells(notebook) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in notebook.cells]


@pytest.mark.parametrize("path", COURSE, ids=[p.name for p in COURSE])
def test_a_copied_solution_has_not_drifted(path):
    """A solution notebook is either slim (only what the answers need) or a faithful copy.

    A copy holds every cell of the course notebook, in order, except the title and the
    exercise stubs ("your code here"), so a change to the course notebook must reach it.
    """
    course = nbformat.read(path, as_version=4)
    solution = nbformat.read(REPO_ROOT / "notebooks" / "solutions" / path.name.replace(".ipynb", "_solutions.ipynb"),
                             as_version=4)
    expected = [cell for cell in _cells(course)[1:] if "your code here" not in cell[1]]
    present = set(_cells(solution))
    shared = sum(cell in present for cell in expected)
    if shared <= len(expected) // 2:
        return  # a slim solution notebook
    remaining = iter(_cells(solution))
    missing = [cell[1][:60] for cell in expected if cell not in remaining]  # in-order subsequence check
    assert not missing, f"the solution copy lacks or reorders these cells of {path.name}: {missing}"


def test_a_checker_rejects_a_wrong_answer(capsys):
    from helpers.check import nb00

    assert not nb00.exercise_2(0.5)
    assert "not yet" in capsys.readouterr().out
    assert not nb00.exercise_2("a string")


def test_a_checker_says_only_that_no_answer_was_given(capsys):
    from helpers.check import nb00

    assert not nb00.exercise_1(None)
    assert capsys.readouterr().out.strip() == "❌ Exercise 1: not yet. No answer given yet."


def test_rounded_answers_pass_and_wrong_ones_do_not(capsys):
    from helpers import data, tables
    from helpers.check import nb00, nb01

    share = data.load_online_retail(download=False)[data.COUNTRY].value_counts(normalize=True).iloc[0]
    assert nb00.exercise_3(round(share, 3))
    assert not nb00.exercise_3(round(share, 1))
    assert not nb00.exercise_3(100 * share)
    assert "percentage" in capsys.readouterr().out
    mean_new = tables.discovery_visits(tables.load_course_tables(), "valid")[tables.N_TARGETS].mean()
    assert nb01.exercise_3(round(mean_new, 1))
    assert not nb01.exercise_3(round(mean_new, 1) + 0.5)
    assert not nb01.exercise_3(tables.discovery_visits(tables.load_course_tables(), "test")[tables.N_TARGETS].mean())
    assert "test month" in capsys.readouterr().out


@pytest.mark.parametrize("notebook", ["nb02", "nb03", "nb04", "nb05", "nb06", "nb07"])
def test_an_unanswered_stub_gets_no_hint(notebook, capsys):
    """Before a first attempt a checker says only that no answer is given: a hint would give it away."""
    import importlib

    module = importlib.import_module(f"helpers.check.{notebook}")
    for name in sorted(n for n in dir(module) if n.startswith("exercise_")):
        checker = getattr(module, name)
        extra = checker.__code__.co_argcount - len(checker.__defaults__ or ()) - 1
        verdict = checker(None, *([None] * extra))
        assert not verdict, f"{notebook}.{name}"
        assert capsys.readouterr().out.strip().endswith("not yet. No answer given yet."), f"{notebook}.{name}"


def test_numbers_are_accepted_to_three_significant_figures(capsys):
    from helpers.check import check_number, within_sig_figs

    assert within_sig_figs(0.123, 0.12349) and within_sig_figs(0.1235, 0.12349)
    assert not within_sig_figs(0.122, 0.12349)
    assert within_sig_figs(np.float32(4370), 4372) and not within_sig_figs(4360, 4372)
    assert within_sig_figs(np.array([0.5, 1.23e-5]), [0.5004, 1.234e-5])
    assert within_sig_figs((1, 2), np.array([1.0, 2.0])) and not within_sig_figs([1, 2, 3], [1, 2])
    assert not within_sig_figs(1e-13 + 1e-12, 0.0) and within_sig_figs(0, 0.0)
    assert not within_sig_figs(float("nan"), float("nan"))
    assert check_number(np.array([0.1235]), 0.12349, "Exercise 9", "hint")
    assert not check_number(4370, 4372, "Exercise 9", "hint", sig_figs=None)
    capsys.readouterr()


@pytest.mark.parametrize(("answer", "message"), [
    (12.349, "percentage"), (0.1, "off by one"), ("0.12", "not str"), (float("nan"), "NaN"),
    ([0.1, 0.2], "one number"), (0.5, "the general hint"),
])
def test_a_wrong_number_gets_the_message_of_its_mistake(answer, message, capsys):
    from helpers.check import check_number

    assert not check_number(answer, 0.12349, "Exercise 9", "the general hint", fraction=True,
                            mistakes=[(0.1, "off by one")])
    assert message in capsys.readouterr().out


def test_a_function_exercise_says_what_to_pass(capsys):
    from helpers.check import not_a_function

    assert not not_a_function(None, "Exercise 9") and "No answer given yet." in capsys.readouterr().out
    assert not not_a_function(0.5, "Exercise 9") and "Pass your function itself" in capsys.readouterr().out
    assert not_a_function(len, "Exercise 9") is None and capsys.readouterr().out == ""


def test_arrays_of_computed_floats_are_checked_within_tolerances(capsys):
    from helpers.check import check_number

    want = np.array([[0.5, 1e-7], [0.25, -3e-8]])
    assert check_number(want + 1e-6, want, "Exercise 9", "hint", close=(1e-4, 1e-5))
    assert not check_number(want + 1e-3, want, "Exercise 9", "hint", close=(1e-4, 1e-5))
    assert not check_number(want.reshape(1, 4), want, "Exercise 9", "hint", close=(1e-4, 1e-5))
    assert "shape (2, 2)" in capsys.readouterr().out
