"""Checkers for the exercises of notebook 06 (off-policy evaluation on the Open Bandit Dataset)."""

from __future__ import annotations

import numpy as np

from helpers import data, ope
from helpers.check import Verdict, is_close, report, unanswered

CLIP = 5.0  # the weight cap of exercise 3


def _bts_target_weights(campaign: str) -> tuple[np.ndarray, np.ndarray]:
    """Importance weights of the week-averaged BTS slate policy on the random logs, and their clicks."""
    random_logs = data.load_open_bandit("random", campaign)
    bts_logs = data.load_open_bandit("bts", campaign)
    probs = ope.slot_frequencies(bts_logs.actions, bts_logs.positions, bts_logs.n_actions, bts_logs.len_list)
    target = ope.broadcast_policy(probs, random_logs.n_rounds)
    weights = ope.importance_weights(random_logs.actions, random_logs.pscores, target, random_logs.positions)
    return weights, random_logs.rewards


def exercise_1(ess) -> Verdict:
    """Kish effective sample size of the IPS weights for the BTS target on the random 'men' logs."""
    if ess is None:
        return unanswered("Exercise 1")
    weights, _ = _bts_target_weights("men")
    expected = weights.sum() ** 2 / np.sum(weights**2)
    hint = ("Build the BTS target for 'men' as in section 6, get the weights with ope.importance_weights, "
            "then (sum w)^2 / sum w^2; the answer is a number of impressions below 10,000.")
    return report(is_close(ess, expected, rtol=1e-6), "Exercise 1", hint)


def exercise_2(estimate) -> Verdict:
    """IPS estimate of the uniform-random policy's click rate from the BTS 'all' logs."""
    if estimate is None:
        return unanswered("Exercise 2")
    logs = data.load_open_bandit("bts", "all")
    expected = np.mean(logs.rewards * (1.0 / logs.n_actions) / logs.pscores)
    hint = ("Now BTS is the logging policy (its pscores are the propensities) and the target shows each of "
            "the 80 items with probability 1/80 in every slot.")
    return report(is_close(estimate, expected, rtol=1e-6), "Exercise 2", hint)


def exercise_3(estimate) -> Verdict:
    """Clipped IPS (weights capped at 5) of the BTS target on the random 'all' logs."""
    if estimate is None:
        return unanswered("Exercise 3")
    weights, rewards = _bts_target_weights("all")
    expected = np.mean(np.minimum(weights, CLIP) * rewards)
    hint = "Cap each importance weight with np.minimum(w, 5.0) and then average w * r over all 10,000 impressions."
    return report(is_close(estimate, expected, rtol=1e-6), "Exercise 3", hint)
