"""Checkers for the exercises of notebook 04 (UCB and policy-gradient selection of strategies).

Each ``exercise_N(answer, ...)`` prints a verdict and returns a truthy :class:`helpers.check.Verdict`
when the answer is right. Exercises on the replay take the notebook's reward matrix (or its replay
environments), so that the checker and the student use the same numbers; ``inputs_for_exercise_N()``
returns the inputs of exercises on fixed numbers. Expected answers are computed here, never typed
in, and numbers are accepted to 3 significant figures (exercise 2 asks for an exact count).
"""

from __future__ import annotations

import numpy as np

from helpers import bandits, contextual, envs
from helpers.check import Verdict, check_number, report, unanswered


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
    some = matrix.max(axis=1) > 0
    headroom = some & (matrix[:, best] == 0)
    mistakes = [
        (headroom.sum(), "That is a number of visits: give the share of all visits."),
        (headroom.sum() / max(some.sum(), 1), "Divide by all visits, not only those some strategy hits."),
        (some.mean(), "Count only the visits the best fixed strategy misses."),
    ]
    return check_number(share, headroom.mean(), "Exercise 1",
                        "Which strategy is the best fixed one (section 5)? Keep the visits it misses and some other "
                        "strategy hits.", mistakes=mistakes, fraction=True)


def exercise_2(regret, rewards) -> Verdict:
    """Regret (exact), against the best fixed strategy in hindsight, of the round-robin policy that
    plays arm ``v % n_arms`` on visit v (visits in time order, v from 0)."""
    if regret is None:
        return unanswered("Exercise 2")
    matrix = _rewards(rewards)
    if matrix is None:
        return report(False, "Exercise 2", "Pass the replay's reward matrix (env.rewards, at least one visit) as the second argument.")
    n_visits, n_arms = matrix.shape
    visit = np.arange(n_visits)
    played = matrix[visit, visit % n_arms].sum()
    best = matrix.sum(axis=0).max()
    mistakes = [
        (best - matrix[visit, (visit + 1) % n_arms].sum(), "Visit 0 plays arm 0: check the first arm of your cycle."),
        (played, "That is the policy's reward; regret compares it with the best fixed strategy's."),
        (played - best, "Regret is what the best fixed strategy earns minus what the policy earns (check the sign)."),
    ]
    return check_number(regret, best - played, "Exercise 2",
                        "Regret against the best fixed strategy is defined in section 2.", sig_figs=None,
                        mistakes=mistakes)


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
    x, mean = data["x"], float(learner.theta[0, 0] @ data["x"])
    width = float(np.sqrt(x @ np.linalg.solve(data["A"], x)))
    mistakes = [
        (mean, "That is the estimate alone: add the exploration bonus."),
        (mean + width, "The bonus is scaled by alpha."),
        (mean + data["alpha"] * np.sqrt(x @ data["A"] @ x), "The bonus uses the inverse of A (the uncertainty), not A."),
        (float(data["b"] @ x) + data["alpha"] * width, "The estimate is theta = A^-1 b, not b."),
    ]
    return check_number(index, expected, "Exercise 3",
                        "Re-read the LinUCB derivation in section 7: the estimate and its bonus both come from A.",
                        mistakes=mistakes)


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
    onehot = np.eye(len(pi))[data["arm"]]
    advantage = data["reward"] - data["baseline"]
    mistakes = [
        (data["reward"] * (onehot - pi), "Subtract the baseline from the reward."),
        (advantage * (pi - onehot), "Check the sign: the played arm's logit should rise after a reward above the baseline."),
        (advantage * onehot, "The gradient of log pi(a) has a term for every logit, not only the played one."),
        (advantage * (onehot - pi) / pi[data["arm"]], "That is the gradient with respect to the probabilities "
                                                     "(the article's erratum); take it at the logits."),
    ]
    return check_number(gradient, advantage * (onehot - pi), "Exercise 4",
                        "Re-read the REINFORCE derivation in section 7: the gradient of log pi at the logits, "
                        "times the advantage.", mistakes=mistakes)


def _linucb_visits_hit(env: envs.ReplayEnv, alpha: float, seed) -> float:
    """Mean visits hit over the runs of LinUCB (``alpha``, seeded) replayed on ``env``."""
    learner = contextual.LinUCB(env.n_arms, env.n_runs, n_features=env.n_features, alpha=alpha, rng=seed)
    return float(envs.replay(learner, env).rewards.sum(axis=0).mean())


def exercise_5(answer, valid_env, test_env, columns, alphas, seed) -> Verdict:
    """LinUCB on the context ``columns`` only: ``answer`` = (alpha chosen on October, mean visits hit
    on the test visits with that alpha).

    ``valid_env``, ``test_env``: the notebook's October and test replays with full contexts;
    ``columns``: the features kept; ``alphas``: the grid; ``seed``: LinUCB's seed. The checker
    replays every alpha on both months (a few seconds).
    """
    if answer is None:
        return unanswered("Exercise 5")
    if not isinstance(valid_env, envs.ReplayEnv) or not isinstance(test_env, envs.ReplayEnv) \
            or valid_env.contexts is None or test_env.contexts is None:
        return report(False, "Exercise 5", "Pass the October and test replays with contexts (env_valid_ctx, env_ctx).")
    columns = list(columns)
    october = {a: _linucb_visits_hit(valid_env.with_contexts(valid_env.contexts[:, columns]), a, seed) for a in alphas}
    test = {a: _linucb_visits_hit(test_env.with_contexts(test_env.contexts[:, columns]), a, seed) for a in alphas}
    chosen = max(october, key=october.get)  # the first of tied values, as pandas' idxmax
    on_test = max(test, key=test.get)
    mistakes = [
        ((on_test, test[on_test]), "You chose alpha on the test visits: choose it on the October replay, then run "
                                   "it once on test."),
        ((chosen, october[chosen]), "That is October's result: run the chosen alpha once on the test replay."),
    ]
    return check_number(answer, [chosen, test[chosen]], "Exercise 5",
                        "Give (alpha, visits hit): alpha is the argmax of the October table of your sub-context "
                        "LinUCB, the visits hit are the mean over the test runs.", mistakes=mistakes)
