"""Checkers for the exercises of notebook 02 (the mathematics of multi-armed bandits).

Each ``exercise_N(answer)`` prints a verdict and returns a truthy :class:`helpers.check.Verdict`
when the answer is right. ``inputs_for_exercise_N()`` returns the inputs of exercises that work on a
fixed table, so the notebook and the checker use the same numbers. Expected answers are computed
here from the package or the data, never typed in.
"""

from __future__ import annotations

import math

import numpy as np

from helpers import bandits, data, metrics
from helpers.check import Verdict, as_number, is_close, report, unanswered

CAMPAIGN = "men"  # exercise 4 works on all items of this campaign


def inputs_for_exercise_1() -> tuple[np.ndarray, np.ndarray, int]:
    """``(means, counts, t)`` of exercise 1: four arms after t = 770 rounds, one never played.

    Clicks 3, 2, 0 and 4 in 250, 120, 0 and 400 impressions (empirical mean 0 where unplayed).
    """
    clicks = np.array([3, 2, 0, 4])
    counts = np.array([250, 120, 0, 400])
    means = clicks / np.maximum(counts, 1)
    return means, counts, int(counts.sum())


def exercise_1(index) -> Verdict:
    """The UCB1 index (alpha = 1) of every arm of ``inputs_for_exercise_1()``, shape (4,)."""
    if index is None:
        return unanswered("Exercise 1")
    means, counts, t = inputs_for_exercise_1()
    expected = bandits.ucb1_index(means, counts, t)
    hint = ("The bonus is sqrt(2 ln t / n) with the natural log, t the total number of plays and n the arm's "
            "count; an arm never played gets an infinite index (np.inf), so that it is tried first.")
    return report(is_close(index, expected, rtol=1e-9), "Exercise 1", hint)


def inputs_for_exercise_2() -> tuple[np.ndarray, np.ndarray]:
    """``(arms, clicks)`` of exercise 2: twelve rounds of a three-armed bandit, in order."""
    arms = np.array([0, 1, 2, 0, 0, 1, 2, 2, 2, 0, 1, 2])
    clicks = np.array([0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0])
    return arms, clicks


def exercise_2(posterior) -> Verdict:
    """Beta posterior parameters ``(a, b)`` of each arm, each of shape (3,), uniform prior Beta(1, 1)."""
    if posterior is None:
        return unanswered("Exercise 2")
    arms, clicks = inputs_for_exercise_2()
    successes = np.bincount(arms, weights=clicks, minlength=3)
    failures = np.bincount(arms, weights=1 - clicks, minlength=3)
    expected = np.stack([1.0 + successes, 1.0 + failures])
    hint = ("Start every arm at Beta(1, 1); each click adds 1 to that arm's first parameter, each shown-but-"
            "not-clicked round adds 1 to its second. Answer a pair (a, b) of arrays of shape (3,).")
    try:
        got = np.asarray(posterior, dtype=float)
    except (TypeError, ValueError):
        got = None
    return report(got is not None and is_close(got, expected), "Exercise 2", hint)


def inputs_for_exercise_3() -> dict:
    """Inputs of exercise 3: preferences H (4,), the arm played, its reward, the baseline, the step size."""
    return {"preferences": np.array([0.5, -0.2, 0.0, 0.1]), "arm": 2, "reward": 1.0, "baseline": 0.25,
            "step_size": 0.4}


def exercise_3(new_preferences) -> Verdict:
    """One gradient-bandit step (Sutton and Barto 2018, eq. 2.12) from ``inputs_for_exercise_3()``, shape (4,)."""
    if new_preferences is None:
        return unanswered("Exercise 3")
    d = inputs_for_exercise_3()
    pi = bandits.softmax(d["preferences"][None, :])[0]
    onehot = np.eye(4)[d["arm"]]
    expected = d["preferences"] + d["step_size"] * (d["reward"] - d["baseline"]) * (onehot - pi)
    hint = ("H_b <- H_b + step_size * (reward - baseline) * (1[b = arm] - pi(b)), with pi the softmax of the "
            "preferences *before* the step. Every arm moves, not only the one played; the changes sum to 0.")
    return report(is_close(new_preferences, expected, rtol=1e-9), "Exercise 3", hint)


def _crossover_horizon(means: np.ndarray) -> int:
    """Smallest integer T >= 2 with C ln T < T * mean gap (C: the Lai-Robbins constant)."""
    c = metrics.lai_robbins_constant(means)
    gap = float(np.mean(means.max() - means))

    def below(t: int) -> bool:
        return c * math.log(t) < gap * t

    if below(2):
        return 2
    # g T - C ln T decreases until T = C / g and increases after, so the crossing lies beyond C / g.
    lo = max(2, math.ceil(c / gap))
    hi = 2 * lo
    while not below(hi):
        hi *= 2
    while hi - lo > 1:  # invariant: not below(lo), below(hi)
        mid = (lo + hi) // 2
        if below(mid):
            hi = mid
        else:
            lo = mid
    return hi


def exercise_4(horizon) -> Verdict:
    """Smallest horizon at which the Lai-Robbins bound of the 34-item 'men' problem drops below the
    regret of uniform play (click rates of the random logs as the arm means)."""
    if horizon is None:
        return unanswered("Exercise 4")
    logs = data.load_open_bandit("random", CAMPAIGN)
    shown = np.bincount(logs.actions, minlength=logs.n_actions)
    clicked = np.bincount(logs.actions, weights=logs.rewards, minlength=logs.n_actions)
    expected = _crossover_horizon(clicked / shown)
    hint = ("Use metrics.lai_robbins_constant on the 34 per-item click rates (clicks / impressions); uniform "
            "play loses T times the average gap. Find where C ln T first falls below that (natural log); "
            "the answer is in the hundreds of thousands.")
    value = as_number(horizon)
    ok = value is not None and abs(value - expected) <= 0.005 * expected
    return report(ok, "Exercise 4", hint)
