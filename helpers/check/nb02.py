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
from helpers.check import Verdict, check_number, not_a_function, report, unanswered

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
    """The UCB1 index (alpha = 1) of every arm of ``inputs_for_exercise_1()``, shape (4,), 3 s.f."""
    if index is None:
        return unanswered("Exercise 1")
    means, counts, t = inputs_for_exercise_1()
    with np.errstate(divide="ignore"):
        def bonus_index(bonus):
            return np.where(counts > 0, means + bonus, np.inf)
        mistakes = [
            (bonus_index(np.sqrt(2 * np.log10(t) / counts)), "Use the natural logarithm (np.log), not log10."),
            (bonus_index(np.sqrt(np.log(t) / counts)), "Look again at the size of the bonus in section 6: "
             "a factor is missing."),
            (bonus_index(np.sqrt(2 * np.log(t) / counts)) - means, "The index is the estimate plus the bonus, "
             "not the bonus alone."),
        ]
    return check_number(index, bandits.ucb1_index(means, counts, t), "Exercise 1",
                        "Section 6 defines the index: what is t, what is n, and what does an arm never played "
                        "get? Answer one number per arm.", mistakes=mistakes)


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
    mistakes = [(np.stack([successes, failures]), "Start from the prior Beta(1, 1): both parameters begin at 1."),
                (expected[::-1], "The first parameter counts clicks, the second the rounds without one."),
                (np.stack([1.0 + successes, 1.0 + successes + failures]),
                 "The second parameter counts the rounds without a click, not all the rounds.")]
    return check_number(posterior, expected, "Exercise 2",
                        "Section 7: learning is counting. Answer a pair (a, b) of arrays of shape (3,), "
                        "one entry per arm.", sig_figs=None, mistakes=mistakes)


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
    played_only = d["preferences"] + d["step_size"] * (d["reward"] - d["baseline"]) * onehot * (1 - pi)
    no_baseline = d["preferences"] + d["step_size"] * d["reward"] * (onehot - pi)
    mistakes = [(played_only, "Every arm's preference moves, not only the one played."),
                (no_baseline, "Subtract the baseline from the reward."),
                (2 * d["preferences"] - expected, "Wrong sign: the arm played moves up when the reward beats the "
                 "baseline.")]
    return check_number(new_preferences, expected, "Exercise 3",
                        "Section 9 derives the update: which probabilities enter it, before or after the step? "
                        "The changes must sum to 0.", mistakes=mistakes)


def _crossover_horizon(means: np.ndarray, log=math.log, gap: float | None = None) -> int:
    """Smallest integer T >= 2 with C log(T) < T * gap (C: the Lai-Robbins constant; gap: the mean gap)."""
    c = metrics.lai_robbins_constant(means)
    gap = float(np.mean(means.max() - means)) if gap is None else gap

    def below(t: int) -> bool:
        return c * log(t) < gap * t

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


def _men_click_rates() -> np.ndarray:
    logs = data.load_open_bandit("random", CAMPAIGN)
    shown = np.bincount(logs.actions, minlength=logs.n_actions)
    clicked = np.bincount(logs.actions, weights=logs.rewards, minlength=logs.n_actions)
    return clicked / shown


def exercise_4(horizon) -> Verdict:
    """Smallest horizon at which the Lai-Robbins bound of the 34-item 'men' problem drops below the
    regret of uniform play (click rates of the random logs as the arm means), 3 s.f."""
    if horizon is None:
        return unanswered("Exercise 4")
    rates = _men_click_rates()
    mistakes = [(_crossover_horizon(rates, log=math.log10), "Use the natural logarithm, as the bound does."),
                (_crossover_horizon(rates, gap=float(np.max(rates.max() - rates))),
                 "Uniform play loses the average gap per round, not the largest one.")]
    return check_number(horizon, _crossover_horizon(rates), "Exercise 4",
                        "Section 4 has both curves for all 34 items (left panel): find where they cross. "
                        "The answer is in the hundreds of thousands.", mistakes=mistakes)


def _kl_lower(mean: float, count: int, t: float) -> float:
    """The lower KL confidence bound, from the package's upper one: kl(p, q) = kl(1 - p, 1 - q)."""
    return 1.0 - float(bandits.klucb_index([1.0 - mean], [count], t)[0])


def inputs_for_exercise_5(n_cases: int = 200, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(means, counts, ts)`` of exercise 5's test cases, each of shape (n_cases,): click-like and
    larger means (a tenth of them exactly 0, a few exactly 1), counts 1 to 5,000, t from the count to 10^6."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 5_001, n_cases)
    clicks = rng.binomial(counts, rng.choice([0.0, 0.005, 0.02, 0.3, 0.7, 1.0], n_cases,
                                             p=[0.1, 0.3, 0.3, 0.15, 0.1, 0.05]))
    ts = counts + rng.integers(0, 1_000_000, n_cases)
    return clicks / counts, counts, ts


def exercise_5(kl_interval) -> Verdict:
    """A function ``kl_interval(mean, count, t) -> (lower, upper)``: the smallest and the largest q in
    [0, 1] with ``count * kl(mean, q) <= ln t``. Checked on the cases of ``inputs_for_exercise_5()``
    against the package's KL-UCB index (upper) and its mirror image (lower), 3 s.f."""
    name = "Exercise 5"
    if (verdict := not_a_function(kl_interval, name)) is not None:
        return verdict
    means, counts, ts = inputs_for_exercise_5()
    got = []
    for mean, count, t in zip(means, counts, ts, strict=True):
        try:
            out = kl_interval(float(mean), int(count), float(t))
            if out is None and not got:  # the stub as given
                return unanswered(name)
            got.append(np.asarray(out, dtype=float).reshape(-1))
        except Exception as exc:  # a student's function may fail in any way: say how, and on which case
            return report(False, name, f"kl_interval({mean:.4g}, {count}, {t:.0f}) raised {type(exc).__name__}: {exc}")
        if got[-1].shape != (2,):
            return report(False, name, "Return two numbers, (lower, upper).")
    got = np.array(got)
    upper = np.array([bandits.klucb_index([m], [n], t)[0] for m, n, t in zip(means, counts, ts, strict=True)])
    lower = np.array([_kl_lower(m, n, t) for m, n, t in zip(means, counts, ts, strict=True)])
    expected = np.stack([lower, upper], axis=1)
    hoeffding = np.sqrt(np.log(ts) / (2 * counts))
    mistakes = [(expected[:, ::-1], "Return (lower, upper), the lower end first."),
                (np.stack([np.clip(means - hoeffding, 0, 1), np.clip(means + hoeffding, 0, 1)], axis=1),
                 "Those are Hoeffding's bounds; the exercise asks for the KL ones."),
                (np.stack([means, upper], axis=1), "The upper end is right; the lower end is the smallest q below "
                 "the mean that is still plausible, not the mean itself.")]
    bad = ~np.isclose(got, expected, rtol=5e-3, atol=1e-12).all(axis=1)
    hint = ("Bisection needs an interval where the condition changes once: on which side of the mean is "
            "kl(mean, q) increasing in q, and where is it decreasing? Look at the cases mean = 0 and mean = 1 too.")
    if bad.any():
        i = int(np.argmax(bad))
        hint += (f" First wrong case: mean = {means[i]:.4g}, count = {counts[i]}, t = {ts[i]:.0f}; "
                 f"you returned ({got[i, 0]:.4g}, {got[i, 1]:.4g}).")
    return check_number(got, expected, name, hint, mistakes=mistakes)
