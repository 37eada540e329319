"""Exercise checkers: tell a student whether an answer is right and, if not, give a hint.

Each notebook has its own module (``helpers.check.nb01`` ...). A checker prints one line
(a tick or a cross, plus a hint that does not give the answer away) and returns ``True`` or
``False`` so that the solutions' tests can assert on it. Correct answers are computed by the
checker from the data or the package, never stored as constants where the data decides.
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


def same_items(answer: Sequence, expected: Sequence) -> bool:
    """True when ``answer`` holds exactly the items of ``expected`` (order ignored)."""
    try:
        return sorted(answer) == sorted(expected)
    except TypeError:
        return False
