"""Exercise checkers: tell a student whether an answer is right and, if not, give a hint.

Each notebook has its own module (``helpers.check.nb01`` ...). A checker prints one line
(a tick or a cross, plus a hint that does not give the answer away) and returns ``True`` or
``False`` so that the solutions' tests can assert on it. Correct answers are computed by the
checker from the data or the package, never stored as constants where the data decides.

Numeric answers go through :func:`check_number`: accepted to :data:`SIG_FIGS` significant figures
unless the exercise says otherwise (a count is exact), numpy scalars and arrays wherever lists and
tuples are, NaN never; a wrong answer that matches a known mistake (a percentage for a fraction,
an off-by-one, the wrong denominator) gets a message about that mistake instead of the general hint.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Verdict:
    """A checker's result: truthy when the answer is right.

    The checker has already printed the verdict, so in a notebook this object displays nothing
    (no stray ``True``/``False`` under the exercise); tests use ``bool(verdict)``.
    """

    def __init__(self, ok: bool, exercise: str):
        self.ok = bool(ok)
        self.exercise = exercise

    def __bool__(self) -> bool:
        return self.ok

    def __eq__(self, other) -> bool:
        return self.ok == bool(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Verdict({self.exercise!r}, ok={self.ok})"

    def _ipython_display_(self) -> None:
        """Show nothing in IPython: the verdict line was printed already."""


def report(ok: bool, exercise: str, hint: str = "") -> Verdict:
    """Print the verdict for ``exercise``; on a wrong answer print ``hint``. Returns a truthy Verdict."""
    if ok:
        print(f"✅ {exercise}: correct.")
    else:
        print(f"❌ {exercise}: not yet. {hint}".rstrip())
    return Verdict(ok, exercise)


NO_ANSWER = "No answer given yet."


def unanswered(exercise: str) -> Verdict:
    """The verdict for an exercise whose stub is still ``None``: no hint before a first attempt."""
    return report(False, exercise, NO_ANSWER)


def not_a_function(answer, exercise: str, how: str = "Pass your function itself (no call): the checker "
                                                         "calls it on its own cases.") -> Verdict | None:
    """The verdict for an exercise whose answer is a function, when there is nothing to call.

    ``None`` (the stub) gets :func:`unanswered`; anything else that is not callable gets ``how``.
    Returns ``None`` when ``answer`` is callable, so the checker goes on:
    ``if (verdict := not_a_function(f, "Exercise 3")) is not None: return verdict``.
    """
    if answer is None:
        return unanswered(exercise)
    if not callable(answer):
        return report(False, exercise, how)
    return None


def is_close(answer, expected, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when ``answer`` is numeric, has the shape of ``expected`` and is close to it.

    Lists, tuples, numpy arrays and numpy scalars are all accepted; a one-element array counts
    as the number it holds (``metrics.ndcg_at_k(...)`` returns shape (1,) for one slate). A NaN
    is never a right answer, and a NaN expected value (an empty input) accepts nothing.
    Infinities match infinities of the same sign.
    """
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False
    want = np.asarray(expected, dtype=float)
    if want.ndim == 0 and got.size == 1:
        got = got.reshape(())
    if got.shape != want.shape or np.isnan(got).any() or np.isnan(want).any():
        return False
    return bool(np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=False))


def as_number(answer) -> float | None:
    """``answer`` as one finite float (a number, a numpy scalar or a one-element array), else None."""
    try:
        values = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None
    if values.size != 1 or not np.isfinite(values).all():
        return None
    return float(values.reshape(()))


#: Numeric answers are accepted to this many significant figures unless an exercise says otherwise.
SIG_FIGS = 3


def within_sig_figs(answer, expected, sig_figs: int = SIG_FIGS) -> bool:
    """True when ``answer`` equals ``expected`` to ``sig_figs`` significant figures, element by element.

    Each element may differ from its expected value by half a unit in its ``sig_figs``-th
    significant figure (so 0.123 and 0.1235 both pass for 0.12349); an expected 0 must be
    answered 0 (to 1e-12). Shapes follow :func:`is_close`; NaN is never right.
    """
    if isinstance(answer, (str, bytes)):
        return False
    want = np.asarray(expected, dtype=float)
    magnitude = np.floor(np.log10(np.abs(np.where(want == 0, 1.0, want))))
    tolerance = np.where(want == 0, 1e-12, 0.5 * 10.0 ** (magnitude - sig_figs + 1) * (1 + 1e-9))
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False
    if want.ndim == 0 and got.size == 1:
        got = got.reshape(())
    if got.shape != want.shape or np.isnan(got).any() or np.isnan(want).any():
        return False
    finite = np.isfinite(want)
    if not np.array_equal(got[~finite], want[~finite]):
        return False
    return bool(np.all(np.abs(got[finite] - want[finite]) <= tolerance[finite]))


def check_number(answer, expected, exercise: str, hint: str, *, sig_figs: int | None = SIG_FIGS,
                 mistakes: Sequence[tuple[object, str]] = (), fraction: bool = False,
                 close: tuple[float, float] | None = None) -> Verdict:
    """Report whether a numeric ``answer`` (a number, a sequence or an array) is ``expected``.

    ``sig_figs=None`` asks for an exact answer (a count, an index). ``mistakes`` lists
    ``(wrong_value, message)`` pairs, each a known wrong result (the value an off-by-one or
    the wrong denominator gives) and what to say when the answer matches it. With
    ``fraction=True`` an answer 100 times too large is told to give a fraction, not a percentage.
    ``close=(rtol, atol)`` compares arrays of computed floats (embeddings, scores) within those
    tolerances instead, where float32 rounding makes significant figures of near-zero entries
    meaningless. An answer of the wrong shape, non-numeric or NaN is told so; anything else gets ``hint``.
    """
    def matches(value, target) -> bool:
        if close is not None:
            return is_close(value, target, rtol=close[0], atol=close[1])
        if sig_figs is None:
            return is_close(value, target, rtol=0, atol=0)
        return within_sig_figs(value, target, sig_figs)

    if matches(answer, expected):
        return report(True, exercise)
    try:
        got = None if isinstance(answer, (str, bytes)) else np.asarray(answer, dtype=float)
    except (TypeError, ValueError, RuntimeError):  # RuntimeError: a torch tensor that requires grad
        got = None
    want = np.asarray(expected, dtype=float)
    if got is None:
        return report(False, exercise, f"Give a number{'s' if want.ndim else ''}, not {type(answer).__name__}.")
    if np.isnan(got).any():
        return report(False, exercise, "NaN is never right: look for an empty selection or a division by zero.")
    if want.ndim > 1 and got.shape != want.shape:
        return report(False, exercise, f"Give an array of shape {want.shape}; yours has shape {got.shape}.")
    if got.size != want.size:
        wanted = "one number" if want.ndim == 0 else f"{want.size} numbers"
        return report(False, exercise, f"Give {wanted}; your answer has {got.size}.")
    for wrong, message in mistakes:
        if matches(answer, wrong):
            return report(False, exercise, message)
    if fraction and matches(answer, 100 * want):
        return report(False, exercise, "Give a fraction between 0 and 1, not a percentage.")
    return report(False, exercise, hint)


def same_items(answer: Sequence, expected: Sequence) -> bool:
    """True when ``answer`` holds exactly the items of ``expected`` (order ignored)."""
    try:
        return sorted(answer) == sorted(expected)
    except TypeError:
        return False
