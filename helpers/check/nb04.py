"""Checkers for the exercises of notebook 04 (UCB and policy-gradient selection of strategies).

Each ``exercise_N(answer, ...)`` prints a verdict and returns a truthy :class:`helpers.check.Verdict`
when the answer is right. Exercises on the replay take the notebook's reward matrix, so that
the checker and the student use the same numbers; ``inputs_for_exercise_N()`` returns the inputs of
exercises on fixed numbers. Expected answers are computed here, never typed in.
"""

from __future__ import annotations

import numpy as np

from helpers import bandits, contextual
from helpers.check import Verdict, is_close, report, unanswered


def _rewards(rewards) -> np.ndarray | None:
    try:
        matrix = np.asarray(getattr(rewards, "rewards", rewards), dtype=float)
    except (TypeError, ValueError):
        return None
    ok = matrix.ndim == 2 and matrix.shape[0] >= 1 and matrix.shape[1] >= 2 and np.isfinite(matrix).all()
    return matrix if ok else None


def exercise_1(share, rewards) -> Verdict:
    """Share (0-1) of visits on which some strategy hits but the best fixed strategy misses.

    ``rewards``: the (n_visits, n_arms) reward matrix of the replay (or the ``ReplayEnv``).
    """
    if share is None:
        return unanswered("Exercise 1")
    matrix = _rewards(rewards)
    if matrix is None:
        return report(False, "Exercise 1", "Pass the replay's reward matrix (env.rewards, at least one visit) as the second argument.")
    best = int(matrix.sum(axis=0).argmax())
    expected = float(np.mean((matrix.max(axis=1) > 0) & (matrix[:, best] == 0)))
    hint = ("Find the best fixed arm (largest column total), then count the rows whose maximum is positive "
            "while that arm's entry is 0, and divide by the number of rows (a fraction, not a percentage).")
    return report(is_close(share, expected, rtol=1e-9), "Exercise 1", hint)


def exercise_2(regret, rewards) -> Verdict:
    """Regret, against the best fixed strategy in hindsight, of the round-robin policy that plays
    arm ``v % n_arms`` on visit v (visits in time order)."""
    if regret is None:
        return unanswered("Exercise 2")
    matrix = _rewards(rewards)
    if matrix is None:
        return report(False, "Exercise 2", "Pass the replay's reward matrix (env.rewards, at least one visit) as the second argument.")
    n_visits, n_arms = matrix.shape
    played = matrix[np.arange(n_visits), np.arange(n_visits) % n_arms].sum()
    expected = float(matrix.sum(axis=0).max() - played)
    hint = ("Regret = total reward of the best single column - total reward of the arms actually played; "
            "visit v plays column v % n_arms (np.arange helps).")
    return report(is_close(regret, expected, rtol=1e-9), "Exercise 2", hint)


def inputs_for_exercise_3() -> dict[str, np.ndarray | float]:
    """Inputs of exercise 3: one LinUCB arm after some plays, and a new context.

    ``A`` (2, 2) = ridge I + sum x x^T, ``b`` (2,) = sum r x, context ``x`` (2,), width ``alpha``.
    """
    return {"A": np.array([[3.0, 1.0], [1.0, 2.0]]), "b": np.array([2.0, 1.0]), "x": np.array([1.0, 0.5]),
            "alpha": 0.5}


def exercise_3(index) -> Verdict:
    """The LinUCB index ``theta . x + alpha sqrt(x^T A^{-1} x)`` of :func:`inputs_for_exercise_3`."""
    if index is None:
        return unanswered("Exercise 3")
    data = inputs_for_exercise_3()
    learner = contextual.LinUCB(2, 1, n_features=2, alpha=data["alpha"], rng=0)
    learner.A[0, 0] = data["A"]
    learner.A_inv[0, 0] = np.linalg.inv(data["A"])
    learner.b[0, 0] = data["b"]
    learner.theta[0, 0] = learner.A_inv[0, 0] @ data["b"]
    expected = float(learner.index(data["x"])[0, 0])
    hint = ("theta = solve(A, b); the bonus is alpha * sqrt(x @ solve(A, x)); the index is theta @ x plus the "
            "bonus (one number).")
    return report(is_close(index, expected, rtol=1e-9), "Exercise 3", hint)


def inputs_for_exercise_4() -> dict[str, np.ndarray | float | int]:
    """Inputs of exercise 4: a softmax policy's logits over 4 strategies, the arm played, its reward
    and the baseline."""
    return {"logits": np.array([0.5, -0.2, 1.0, 0.0]), "arm": 2, "reward": 1.0, "baseline": 0.35}


def exercise_4(gradient) -> Verdict:
    """The REINFORCE gradient at the logits, ``(reward - baseline) * (onehot(arm) - pi)``, shape (4,)."""
    if gradient is None:
        return unanswered("Exercise 4")
    data = inputs_for_exercise_4()
    pi = bandits.softmax(data["logits"][None, :])[0]
    expected = (data["reward"] - data["baseline"]) * (np.eye(len(pi))[data["arm"]] - pi)
    hint = ("pi = softmax(logits); d log pi(a) / d logits = onehot(a) - pi; multiply by the advantage "
            "reward - baseline. The answer sums to zero.")
    return report(is_close(gradient, expected, rtol=1e-9), "Exercise 4", hint)
