"""Checkers for the exercises of notebook 06 (off-policy evaluation on the Open Bandit Dataset).

Each checker computes the right answer from the logs and :mod:`helpers.ope` (nothing is stored),
prints a verdict and returns a truthy :class:`helpers.check.Verdict` when the answer is right.
Hints point to a section or an idea, never to the code.
"""

from __future__ import annotations

import numpy as np

from helpers import data, ope
from helpers.check import Verdict, check_number, not_a_function, report, unanswered

CLIP = 5.0  # the weight cap of exercise 3
CLIPS_4 = (2.0, 5.0, np.inf)  # the caps exercise 4 tries


def _bts_target(campaign: str):
    """The random logs of ``campaign`` and the week-averaged BTS slate policy on them, (n, K, 3)."""
    random_logs = data.load_open_bandit("random", campaign)
    bts_logs = data.load_open_bandit("bts", campaign)
    probs = ope.slot_frequencies(bts_logs.actions, bts_logs.positions, bts_logs.n_actions, bts_logs.len_list)
    return random_logs, ope.broadcast_policy(probs, random_logs.n_rounds)


def _bts_target_weights(campaign: str) -> tuple[np.ndarray, np.ndarray]:
    """Importance weights of the week-averaged BTS slate policy on the random logs, and their clicks."""
    random_logs, target = _bts_target(campaign)
    weights = ope.importance_weights(random_logs.actions, random_logs.pscores, target, random_logs.positions)
    return weights, random_logs.rewards


def exercise_1(ess) -> Verdict:
    """Kish effective sample size of the IPS weights for the BTS target on the random 'men' logs, 3 s.f."""
    if ess is None:
        return unanswered("Exercise 1")
    weights, _ = _bts_target_weights("men")
    expected = weights.sum() ** 2 / np.sum(weights**2)
    mistakes = [(expected / len(weights), "That is the share of the 10,000 impressions; the exercise asks for the "
                 "effective sample size itself, a number of impressions."),
                (np.sum(weights**2) / weights.sum() ** 2, "Upside down: the effective sample size is at most the "
                 "number of impressions."),
                (np.sum(weights) ** 2 / np.sum(weights) ** 2 * len(weights), "Equal weights would give 10,000: "
                 "use the BTS target's weights.")]
    return check_number(ess, expected, "Exercise 1",
                        "Build the BTS target for 'men' as in section 6 and its weights on the random logs as in "
                        "section 8; section 9 says what Kish's effective sample size is. The answer is a number of "
                        "impressions below 10,000.", mistakes=mistakes)


def exercise_2(estimate) -> Verdict:
    """IPS estimate (3 s.f.) of the uniform-random policy's click rate from the BTS 'all' logs."""
    if estimate is None:
        return unanswered("Exercise 2")
    logs = data.load_open_bandit("bts", "all")
    expected = np.mean(logs.rewards * (1.0 / logs.n_actions) / logs.pscores)
    mistakes = [(logs.rewards.mean(), "That is BTS's own click rate; reweight its logs towards the uniform target."),
                (data.load_open_bandit("random", "all").rewards.mean(),
                 "That is the random logs' click rate, the truth to compare with; estimate it from the BTS logs."),
                (np.mean(logs.rewards * logs.pscores * logs.n_actions), "The weight is target over logging "
                 "probability, not the other way round.")]
    return check_number(estimate, expected, "Exercise 2",
                        "Now BTS is the logging policy (its pscores are the propensities) and the target shows each "
                        "of the 80 items with probability 1/80 in every slot; section 4 gives IPS.",
                        fraction=True, mistakes=mistakes)


def exercise_3(estimate) -> Verdict:
    """Clipped IPS (weights capped at 5, 3 s.f.) of the BTS target on the random 'all' logs."""
    if estimate is None:
        return unanswered("Exercise 3")
    weights, rewards = _bts_target_weights("all")
    expected = np.mean(np.minimum(weights, CLIP) * rewards)
    mistakes = [(np.mean(weights * rewards), "That is plain IPS: cap the weights first."),
                (np.sum(np.minimum(weights, CLIP) * rewards) / np.sum(np.minimum(weights, CLIP)),
                 "That divides by the sum of the capped weights (a clipped SNIPS); clipped IPS divides by the "
                 "number of impressions.")]
    return check_number(estimate, expected, "Exercise 3",
                        "Cap every weight at 5 (a weight below 5 stays as it is), then estimate as IPS does over "
                        "all 10,000 impressions of the random 'all' logs.", fraction=True, mistakes=mistakes)


def inputs_for_exercise_4() -> dict:
    """The random 'all' logs, the BTS target and a fixed reward model on them, as keyword arguments of
    the exercise's function: ``actions, rewards, pscores, positions`` (n,), ``action_dist`` (n, 80, 3),
    ``qhat`` (n, 80) at each impression's logged slot (item click rate times a slot factor)."""
    logs, target = _bts_target("all")
    shown = np.bincount(logs.actions, minlength=logs.n_actions)
    clicked = np.bincount(logs.actions, weights=logs.rewards, minlength=logs.n_actions)
    item_rate = (clicked + 1.0) / (shown + 250.0)  # (80,) shrunk towards 0.4%, never 0 or 1
    slot_factor = np.array([1.1, 1.0, 0.9])[logs.positions]  # (n,)
    return {"actions": logs.actions, "rewards": logs.rewards, "pscores": logs.pscores, "action_dist": target,
            "positions": logs.positions, "qhat": slot_factor[:, None] * item_rate[None, :]}


def _clipped_dr(actions, rewards, pscores, action_dist, positions, qhat, clip) -> float:
    """Reference: V_DM + mean(min(w, clip) * (r - qhat(x, a))), from the package's pieces."""
    weights = ope.importance_weights(actions, pscores, action_dist, positions)
    residual = rewards - qhat[np.arange(len(actions)), actions]
    return ope.direct_method(action_dist, qhat, positions) + float(np.mean(np.minimum(weights, clip) * residual))


def exercise_4(clipped_dr) -> Verdict:
    """A function ``clipped_dr(actions, rewards, pscores, action_dist, positions, qhat, clip) -> float``,
    doubly robust with weights capped at ``clip``; checked on ``inputs_for_exercise_4()`` for the caps
    2, 5 and infinity (where it must equal ``ope.doubly_robust``), 3 s.f."""
    name = "Exercise 4"
    if (verdict := not_a_function(clipped_dr, name)) is not None:
        return verdict
    inputs = inputs_for_exercise_4()
    got = []
    for clip in CLIPS_4:
        try:
            got.append(clipped_dr(**{k: v.copy() for k, v in inputs.items()}, clip=clip))
            if got[-1] is None:  # the stub as given
                return unanswered(name)
        except Exception as exc:  # a student's function may fail in any way: say how
            return report(False, name, f"With clip = {clip} your function raised {type(exc).__name__}: {exc}")
    expected = [_clipped_dr(**inputs, clip=clip) for clip in CLIPS_4]
    weights = ope.importance_weights(inputs["actions"], inputs["pscores"], inputs["action_dist"], inputs["positions"])
    dm = ope.direct_method(inputs["action_dist"], inputs["qhat"], inputs["positions"])
    rewards = inputs["rewards"]
    mistakes = [
        ([float(np.mean(np.minimum(weights, c) * rewards)) for c in CLIPS_4],
         "That is clipped IPS: where does the reward model come in?"),
        ([dm + float(np.mean(np.minimum(weights, c) * rewards)) for c in CLIPS_4],
         "The correction reweights the model's error on the logged item, not the click itself."),
        ([expected[-1]] * len(CLIPS_4), "Right with no cap; the cap does not act yet."),
        ([float(np.mean(np.minimum(weights, c) * (rewards - inputs["qhat"][np.arange(len(rewards)), inputs["actions"]])))
          for c in CLIPS_4], "That is the correction term alone: add the direct method's estimate."),
    ]
    return check_number(got, expected, name,
                        "Section 4 writes DR as the direct method plus an IPS correction of the model's error; cap "
                        "only the weights of the correction. The model's error is taken at each impression's logged "
                        "item.", mistakes=mistakes)
