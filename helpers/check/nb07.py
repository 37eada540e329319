"""Checkers for the exercises of notebook 07 (bandits that compose the slate).

Each ``exercise_N(answer, ...)`` prints a verdict and returns a truthy :class:`helpers.check.Verdict`
when the answer is right. ``inputs_for_exercise_N()`` returns the inputs of exercises on fixed
numbers; exercises on the replay take the notebook's :class:`helpers.slate_replay.SlateReplay`.
Expected answers are computed here, never typed in.
"""

from __future__ import annotations

import numpy as np

from helpers import slate_bandits, slate_replay
from helpers.check import Verdict, check_number, report, unanswered


def inputs_for_exercise_1() -> dict[str, np.ndarray]:
    """One visit, three strategies' ranked lists of four items, and a composition of four slots.

    ``lists`` (3, 4) item ids, best first; ``choices`` (4,) the strategy of each slot.
    """
    return {"lists": np.array([[10, 11, 12, 13], [11, 20, 10, 21], [30, 10, 31, 11]]),
            "choices": np.array([0, 1, 1, 2])}


def exercise_1(slate) -> Verdict:
    """The items of the slate that ``choices`` composes from ``lists`` (exercise 1's inputs)."""
    if slate is None:
        return unanswered("Exercise 1")
    ex = inputs_for_exercise_1()
    env = slate_replay.SlateReplay(ex["lists"][None], [np.array([], dtype=np.int64)], k=len(ex["choices"]))
    expected = env.fixed(ex["choices"])[0][0]
    hint = ("Fill the slots in order; each slot takes its strategy's highest-ranked item that is not "
            "already in the slate (skip duplicates). The answer is 4 item ids, slot 1 first.")
    try:
        got = np.asarray(slate, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        return report(False, "Exercise 1", hint)
    return report(got.shape == expected.shape and np.array_equal(got, expected), "Exercise 1", hint)


def inputs_for_exercise_2() -> dict[str, np.ndarray]:
    """A small log of 3 slates of 2 slots: visit rewards, the logging policy's per-slot propensities
    of the logged strategies, and the target policy's probabilities of the same strategies."""
    return {"rewards": np.array([1.0, 0.0, 1.0]),
            "logging": np.array([[0.5, 0.25], [0.5, 0.5], [0.25, 0.5]]),
            "target": np.array([[1.0, 0.5], [0.0, 1.0], [0.5, 0.0]])}


def exercise_2(estimate) -> Verdict:
    """The pseudo-inverse estimate (mean over the 3 rounds) of the target policy's visit reward."""
    if estimate is None:
        return unanswered("Exercise 2")
    ex = inputs_for_exercise_2()
    expected = float(slate_bandits.pseudo_inverse(ex["rewards"], ex["target"], ex["logging"]).mean())
    rewards, target, logging = ex["rewards"], ex["target"], ex["logging"]
    k = target.shape[1]
    ratio = target / logging
    mistakes = [(float(np.mean(rewards * ratio.sum(axis=1))), "Each slot's ratio counts once, but the slate's "
                 "reward must not be counted k times: look again at the constant term."),
                (float(np.mean(rewards * (ratio.sum(axis=1) - k))), "Off by one in the constant term.")]
    return check_number(estimate, expected, "Exercise 2",
                        "Section 8 writes the estimator: one ratio per slot, target over logging probability, then "
                        "one term per round; average the three rounds (one number).", mistakes=mistakes)


def _greedy_value(env: slate_replay.SlateReplay) -> int:
    chosen: list[int] = []
    visits = np.arange(env.n_visits)
    for _ in range(env.k):
        best, best_value = 0, -1
        for s in range(env.n_strategies):
            trial = chosen + [s]
            positions = env.compose(visits, np.array(trial + [s] * (env.k - len(trial))))[:, :len(trial)]
            value = int(env.slot_rewards(visits, positions).any(axis=1).sum())
            if value > best_value:
                best, best_value = s, value
        chosen.append(best)
    return best_value


def exercise_3(sequence, env) -> Verdict:
    """A composition (k,) built greedily, slot by slot, to maximise visits hit on ``env`` (the
    October replay): it must hit at least as many visits as the checker's own greedy composition."""
    if sequence is None:
        return unanswered("Exercise 3")
    if not isinstance(env, slate_replay.SlateReplay):
        return report(False, "Exercise 3", "Pass the October replay (valid_replay) as the second argument.")
    hint = ("Greedy means slot by slot: for each slot, keep the strategy that adds the most visits hit to the "
            "slots already chosen (section 5 composes a slate slot by slot). Answer: k strategy indices.")
    try:
        got = np.asarray(sequence, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        return report(False, "Exercise 3", hint)
    if got.shape != (env.k,) or got.min() < 0 or got.max() >= env.n_strategies:
        return report(False, "Exercise 3", hint)
    return report(env.visits_hit_by_composition(got) >= _greedy_value(env), "Exercise 3", hint)
