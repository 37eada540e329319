"""Off-policy evaluation (OPE): estimate a new policy's value from another policy's logs.

Notebook 06. Logged bandit feedback is a set of rounds ``(x_i, a_i, r_i, p_i)``: a context, the
action the *logging* policy took, the reward it got and the logging propensity
``p_i = pi_b(a_i | x_i)``. A *target* policy is given as its action distribution
``pi_e(a | x_i)`` on every logged context. The estimators of its value
``V(pi_e) = E_x E_{a ~ pi_e(.|x)} E[r | x, a]`` are:

==============  =====================================================================  ===========
estimator       formula (mean over the ``n`` logged rounds)                            reference
==============  =====================================================================  ===========
IPS             ``mean(w_i r_i)``, ``w_i = pi_e(a_i|x_i) / p_i``                       Horvitz and Thompson 1952
SNIPS           ``sum(w_i r_i) / sum(w_i)``                                            Swaminathan and Joachims 2015
DM              ``mean(sum_a pi_e(a|x_i) qhat(x_i, a))``                               Dudik, Langford and Li 2011
DR              ``DM + mean(w_i (r_i - qhat(x_i, a_i)))``                              Dudik, Langford and Li 2011
==============  =====================================================================  ===========

Shapes. ``actions``, ``rewards``, ``pscores`` and ``positions`` are ``(n_rounds,)``. A target
policy's ``action_dist`` is either ``(n_rounds, n_actions)`` or, when the logs record a *slot*
(position) for each action as the Open Bandit Dataset does, ``(n_rounds, n_actions, len_list)``:
``action_dist[i, a, k] = pi_e(a | x_i, slot k)``, the convention of the Open Bandit Pipeline
(Saito et al. 2021). With three axes the estimators work *slot by slot*: round ``i`` is compared
with the target's distribution at the slot ``positions[i]`` it was logged in, and the value is
the expected reward per impression (per slot). ``estimated_rewards`` (the reward model's
``qhat``) has the same shape as ``action_dist`` or, with a slot axis, ``(n_rounds, n_actions)``
holding ``qhat(x_i, a, positions[i])`` (the estimators only ever use the logged slot, so this
is all they need, at a third of the cost). A context-free policy can be passed as a
read-only broadcast view (:func:`broadcast_policy`), which costs no memory.

Bootstrap intervals resample logged rounds with replacement (Efron and Tibshirani 1993,
percentile method); they treat the reward model as fixed, so they do not include the variance
of fitting it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.validation import check_int, check_no_missing, check_positive

ESTIMATORS = ("ips", "snips", "dm", "dr")
_ATOL = 1e-6  # tolerance on probabilities summing to one
_NEED_MODEL = "estimated_rewards is required for DM and DR (fit a reward model, e.g. with cross_fit_rewards)"


# ---------------------------------------------------------------------------------------------
# Validation


def _as_1d(name: str, values, dtype=float) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of shape (n_rounds,), got shape {array.shape}")
    if dtype is int:
        if array.size and not np.issubdtype(array.dtype, np.integer):
            if not np.issubdtype(array.dtype, np.floating) or not np.all(np.isfinite(array)) or np.any(array % 1):
                raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
        return array.astype(np.int64)
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds {int(np.sum(~np.isfinite(array)))} missing or infinite value(s)")
    return array


def _check_action_dist(action_dist, n_rounds: int, positions: np.ndarray | None) -> np.ndarray:
    dist = np.asarray(action_dist, dtype=float)
    if dist.ndim not in (2, 3):
        raise ValueError(
            "action_dist must have shape (n_rounds, n_actions) or (n_rounds, n_actions, len_list), "
            f"got {dist.shape}"
        )
    if dist.shape[0] != n_rounds:
        raise ValueError(f"action_dist has {dist.shape[0]} rounds but the logs have {n_rounds}")
    if dist.ndim == 3 and positions is None:
        raise ValueError("action_dist has a slot axis (n_rounds, n_actions, len_list): pass positions too")
    if not np.all(np.isfinite(dist)) or np.any(dist < 0):
        raise ValueError("action_dist must hold finite, non-negative probabilities")
    sums = dist.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=_ATOL):
        worst = float(np.max(np.abs(sums - 1.0)))
        raise ValueError(f"action_dist must sum to 1 over actions (axis 1); the worst row is off by {worst:.3g}")
    return dist


def _check_logs(actions, rewards, pscores, action_dist, positions=None, estimated_rewards=None,
                reward_range: tuple[float, float] | None = (0.0, 1.0), need_pscores: bool = True):
    """Validate logged arrays against each other; return them as numpy arrays."""
    actions = _as_1d("actions", actions, int)
    n = len(actions)
    if n == 0:
        raise ValueError("the logs are empty (0 rounds)")
    if rewards is not None:
        rewards = _as_1d("rewards", rewards)
        if len(rewards) != n:
            raise ValueError(f"rewards has {len(rewards)} rounds but actions has {n}")
    if rewards is not None and reward_range is not None:
        low, high = reward_range
        if np.any(rewards < low) or np.any(rewards > high):
            raise ValueError(
                f"rewards must lie in reward_range=[{low}, {high}], found values in "
                f"[{rewards.min():.4g}, {rewards.max():.4g}] (pass reward_range=None to skip this check)"
            )
    if need_pscores:
        pscores = _as_1d("pscores", pscores)
        if len(pscores) != n:
            raise ValueError(f"pscores has {len(pscores)} rounds but actions has {n}")
        if np.any(pscores <= 0) or np.any(pscores > 1):
            bad = int(np.sum((pscores <= 0) | (pscores > 1)))
            raise ValueError(
                f"pscores must be logging probabilities in (0, 1]; {bad} are not (a zero propensity means the "
                "logging policy could not have taken the logged action: check the logs)"
            )
    if positions is not None:
        positions = _as_1d("positions", positions, int)
        if len(positions) != n:
            raise ValueError(f"positions has {len(positions)} rounds but actions has {n}")
    dist = _check_action_dist(action_dist, n, positions)
    n_actions = dist.shape[1]
    if np.any(actions < 0) or np.any(actions >= n_actions):
        raise ValueError(f"actions must be integers in [0, {n_actions}) (action_dist has {n_actions} actions)")
    if positions is not None and dist.ndim == 3:
        len_list = dist.shape[2]
        if np.any(positions < 0) or np.any(positions >= len_list):
            raise ValueError(f"positions must be integers in [0, {len_list}) (action_dist has {len_list} slots)")
    if estimated_rewards is not None:
        qhat = np.asarray(estimated_rewards, dtype=float)
        if qhat.shape != dist.shape and qhat.shape != dist.shape[:2]:
            raise ValueError(
                f"estimated_rewards has shape {qhat.shape}; it must be {dist.shape} like action_dist"
                + (f" or {dist.shape[:2]} (the reward at each round's logged slot)" if dist.ndim == 3 else ""))
        if not np.all(np.isfinite(qhat)):
            raise ValueError("estimated_rewards holds missing or infinite values")
        estimated_rewards = qhat
    return actions, rewards, pscores, dist, positions, estimated_rewards


def _at_slot(matrix: np.ndarray, positions: np.ndarray | None) -> np.ndarray:
    """(n, n_actions[, len_list]) -> (n, n_actions): each round's row at its logged slot."""
    if matrix.ndim == 2:
        return matrix
    return matrix[np.arange(matrix.shape[0]), :, positions]


# ---------------------------------------------------------------------------------------------
# Estimators


def target_probabilities(actions, action_dist, positions=None) -> np.ndarray:
    """``pi_e(a_i | x_i[, k_i])`` for each logged round: the target's probability of the logged action.

    Args:
        actions: (n_rounds,) int, logged actions.
        action_dist: (n_rounds, n_actions) or (n_rounds, n_actions, len_list), the target policy.
        positions: (n_rounds,) int slots, needed when ``action_dist`` has a slot axis.

    Returns:
        (n_rounds,) float in [0, 1].
    """
    actions = _as_1d("actions", actions, int)
    if positions is not None:
        positions = _as_1d("positions", positions, int)
    dist = _check_action_dist(action_dist, len(actions), positions)
    if np.any(actions < 0) or np.any(actions >= dist.shape[1]):
        raise ValueError(f"actions must be integers in [0, {dist.shape[1]})")
    return _at_slot(dist, positions)[np.arange(len(actions)), actions]


def importance_weights(actions, pscores, action_dist, positions=None) -> np.ndarray:
    """Importance weights ``w_i = pi_e(a_i | x_i) / pi_b(a_i | x_i)`` (unitless, >= 0).

    Args:
        actions: (n_rounds,) int, logged actions.
        pscores: (n_rounds,) float in (0, 1], the logging policy's probability of each logged action
            (at its slot, for slate logs).
        action_dist: (n_rounds, n_actions) or (n_rounds, n_actions, len_list), the target policy.
        positions: (n_rounds,) int slots, needed when ``action_dist`` has a slot axis.

    Returns:
        (n_rounds,) float. Their mean is 1 in expectation when the target's support is covered by
        the logging policy; a mean far from 1 signals a mismatch (Swaminathan and Joachims 2015).
    """
    actions, _, pscores, dist, positions, _ = _check_logs(actions, None, pscores, action_dist, positions)
    return _at_slot(dist, positions)[np.arange(len(actions)), actions] / pscores


def ips(actions, rewards, pscores, action_dist, positions=None, *,
        reward_range: tuple[float, float] | None = (0.0, 1.0)) -> float:
    """Inverse propensity scoring: ``V_IPS = (1/n) sum_i w_i r_i``, ``w_i = pi_e(a_i|x_i) / p_i``.

    Unbiased for ``V(pi_e)`` whenever ``p_i > 0`` wherever ``pi_e`` puts mass (Horvitz and Thompson
    1952; for bandits, Dudik, Langford and Li 2011), because
    ``E_{a ~ pi_b}[pi_e(a|x) / pi_b(a|x) r] = E_{a ~ pi_e}[r]``. Its variance grows with the weights.

    Args:
        actions: (n_rounds,) int; rewards: (n_rounds,) float in ``reward_range``;
        pscores: (n_rounds,) float in (0, 1]; action_dist: (n_rounds, n_actions[, len_list]);
        positions: (n_rounds,) int, needed with a slot axis.

    Returns:
        The estimated expected reward per round (per impression for slate logs), in reward units.
    """
    actions, rewards, pscores, dist, positions, _ = _check_logs(
        actions, rewards, pscores, action_dist, positions, reward_range=reward_range)
    weights = _at_slot(dist, positions)[np.arange(len(actions)), actions] / pscores
    return float(np.mean(weights * rewards))


def snips(actions, rewards, pscores, action_dist, positions=None, *,
          reward_range: tuple[float, float] | None = (0.0, 1.0)) -> float:
    """Self-normalised IPS: ``V_SNIPS = sum_i w_i r_i / sum_i w_i`` (Swaminathan and Joachims 2015).

    Dividing by ``sum w_i`` instead of ``n`` makes the weights a distribution over the logged rounds:
    the estimate is a weighted average of observed rewards, so it stays within the reward range.
    Slightly biased (a ratio of means), consistent, often with much lower variance than IPS.
    Same arguments and units as :func:`ips`; raises ``ValueError`` when every weight is zero.
    """
    actions, rewards, pscores, dist, positions, _ = _check_logs(
        actions, rewards, pscores, action_dist, positions, reward_range=reward_range)
    weights = _at_slot(dist, positions)[np.arange(len(actions)), actions] / pscores
    total = weights.sum()
    if total <= 0:
        raise ValueError("every importance weight is zero: the target never takes a logged action, SNIPS is undefined")
    return float(np.sum(weights * rewards) / total)


def direct_method(action_dist, estimated_rewards, positions=None) -> float:
    """Direct method: ``V_DM = (1/n) sum_i sum_a pi_e(a|x_i) qhat(x_i, a)`` (Dudik, Langford and Li 2011).

    Uses only the logged contexts and a reward model ``qhat``; no propensities. Low variance, but
    biased wherever the model is wrong, and the bias does not shrink with more rounds.

    Args:
        action_dist: (n_rounds, n_actions) or (n_rounds, n_actions, len_list), the target policy.
        estimated_rewards: same shape, ``qhat(x_i, a[, k])`` in reward units.
        positions: (n_rounds,) int slots, needed with a slot axis (each round uses its logged slot).

    Returns:
        The estimated expected reward per round (per impression for slate logs).
    """
    if estimated_rewards is None:
        raise ValueError(_NEED_MODEL)
    dist = np.asarray(action_dist, dtype=float)
    if dist.ndim not in (2, 3):
        raise ValueError(f"action_dist must have 2 or 3 axes, got shape {dist.shape}")
    _, _, _, dist, positions, qhat = _check_logs(
        np.zeros(dist.shape[0], dtype=np.int64), None, None, dist, positions, estimated_rewards,
        need_pscores=False)
    return float(np.mean(np.sum(_at_slot(dist, positions) * _at_slot(qhat, positions), axis=1)))


def doubly_robust(actions, rewards, pscores, action_dist, estimated_rewards, positions=None, *,
                  reward_range: tuple[float, float] | None = (0.0, 1.0)) -> float:
    """Doubly robust: ``V_DR = V_DM + (1/n) sum_i w_i (r_i - qhat(x_i, a_i))`` (Dudik, Langford and Li 2011).

    The reward model gives a baseline and IPS corrects its error on the logged actions. Unbiased
    when the propensities are right and ``qhat`` does not depend on the rounds it corrects (fixed
    in advance, or cross-fitted with :func:`cross_fit_rewards`), whatever the model; when ``qhat``
    is exact the correction has mean zero and DR keeps the low variance of DM. With ``qhat = 0``
    it is exactly IPS.

    Args:
        actions, rewards, pscores, positions: as in :func:`ips`.
        action_dist: (n_rounds, n_actions[, len_list]), the target policy.
        estimated_rewards: same shape as ``action_dist``, the reward model's ``qhat``.

    Returns:
        The estimated expected reward per round (per impression for slate logs).
    """
    if estimated_rewards is None:
        raise ValueError(_NEED_MODEL)
    actions, rewards, pscores, dist, positions, qhat = _check_logs(
        actions, rewards, pscores, action_dist, positions, estimated_rewards, reward_range=reward_range)
    rows = np.arange(len(actions))
    dist, qhat = _at_slot(dist, positions), _at_slot(qhat, positions)
    weights = dist[rows, actions] / pscores
    baseline = np.sum(dist * qhat, axis=1)
    return float(np.mean(baseline + weights * (rewards - qhat[rows, actions])))


def round_terms(estimator: str, actions, rewards, pscores, action_dist, positions=None, estimated_rewards=None,
                *, reward_range: tuple[float, float] | None = (0.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Per-round numerator and denominator terms: every estimator is ``sum(num) / sum(den)``.

    IPS: ``(w_i r_i, 1)``; SNIPS: ``(w_i r_i, w_i)``; DM: ``(sum_a pi_e qhat, 1)``;
    DR: ``(DM_i + w_i (r_i - qhat_i), 1)``. Resampling these rows is all a bootstrap needs.

    Args:
        estimator: one of ``"ips"``, ``"snips"``, ``"dm"``, ``"dr"``.
        The rest as in :func:`doubly_robust` (``estimated_rewards`` only for DM and DR).

    Returns:
        (numerator (n_rounds,), denominator (n_rounds,)), floats.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    needs_model = estimator in ("dm", "dr")
    if needs_model and estimated_rewards is None:
        raise ValueError(_NEED_MODEL)
    actions, rewards, pscores, dist, positions, qhat = _check_logs(
        actions, rewards, pscores, action_dist, positions, estimated_rewards if needs_model else None,
        reward_range=reward_range, need_pscores=estimator != "dm")
    rows = np.arange(len(actions))
    dist = _at_slot(dist, positions)
    ones = np.ones(len(actions))
    if estimator == "dm":
        return np.sum(dist * _at_slot(qhat, positions), axis=1), ones
    weights = dist[rows, actions] / pscores
    if estimator == "ips":
        return weights * rewards, ones
    if estimator == "snips":
        return weights * rewards, weights
    qhat = _at_slot(qhat, positions)
    return np.sum(dist * qhat, axis=1) + weights * (rewards - qhat[rows, actions]), ones


def effective_sample_size(weights) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of importance weights (rounds).

    ``n`` when all weights are equal; much smaller when a few rounds carry most of the weight,
    which is when IPS is noisy (Kish 1965, Survey Sampling; Owen 2013, Monte Carlo theory, methods
    and examples, chapter 9).

    Args:
        weights: (n_rounds,) non-negative importance weights.
    """
    weights = _as_1d("weights", weights)
    if np.any(weights < 0):
        raise ValueError("weights must be non-negative")
    square_sum = float(np.sum(weights**2))
    if square_sum == 0:
        return 0.0
    return float(np.sum(weights) ** 2 / square_sum)


def exact_binomial_interval(successes: int, trials: int, *, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval for a binomial proportion (e.g. a click rate).

    The interval holds every rate ``p`` that a two-sided test at ``1 - level`` would not reject:
    ``low`` solves ``P(X >= successes | p) = (1 - level) / 2`` and ``high`` solves
    ``P(X <= successes | p) = (1 - level) / 2`` for ``X ~ Binomial(trials, p)``, which gives the
    Beta quantiles ``low = Beta(successes, trials - successes + 1).ppf(alpha / 2)`` and
    ``high = Beta(successes + 1, trials - successes).ppf(1 - alpha / 2)``, ``alpha = 1 - level``
    (Clopper and Pearson 1934, *The use of confidence or fiducial limits illustrated in the case of
    the binomial*, Biometrika 26(4)). Its coverage is at least ``level`` for every ``p``. Unlike
    a bootstrap it stays informative with no success at all: then ``low = 0`` and
    ``high = 1 - (alpha / 2) ** (1 / trials)``, about ``3.7 / trials`` at 95% (the "rule of three",
    ``3 / trials``, is the one-sided 95% version).

    Args:
        successes: number of successes (clicks), an integer in ``[0, trials]``.
        trials: number of independent trials (impressions), an integer ``>= 1``.
        level: coverage in (0, 1).

    Returns:
        (low, high), proportions in [0, 1].
    """
    from scipy.stats import beta

    trials = check_int("trials", trials, 1)
    successes = check_int("successes", successes, 0, trials)
    level = check_positive("level", level)
    if not level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    tail = (1 - level) / 2
    low = 0.0 if successes == 0 else float(beta.ppf(tail, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(beta.ppf(1 - tail, successes + 1, trials - successes))
    return low, high


# ---------------------------------------------------------------------------------------------
# Bootstrap


def bootstrap_interval(numerator, denominator=None, *, rng: np.random.Generator, n_bootstrap: int = 1000,
                       level: float = 0.95, chunk: int = 100, groups=None) -> tuple[float, float]:
    """Percentile bootstrap interval of ``sum(numerator) / sum(denominator)`` over resampled rounds.

    Each replicate draws ``n_rounds`` rounds with replacement (Efron and Tibshirani 1993,
    chapter 13). With ``denominator=None`` the statistic is the mean of ``numerator``. Use
    :func:`round_terms` to get the terms of an estimator.

    With ``groups`` (for example the customer of each visit) the replicate draws whole groups
    with replacement and keeps all their rounds, a cluster bootstrap (Davison and Hinkley 1997,
    section 3.8): rounds of one group are not independent, and resampling them one by one
    understates the uncertainty. For a paired comparison pass per-round differences, so that
    each resampled group brings its rounds of both methods. Groups are numbered in order of first
    appearance, so with one round per group the result equals the plain bootstrap with the same
    ``rng``.

    Args:
        numerator: (n_rounds,) float; denominator: (n_rounds,) float or None.
        rng: the ``numpy.random.Generator`` that draws the resamples.
        n_bootstrap: number of replicates (>= 10); level: coverage in (0, 1).
        chunk: replicates drawn at once (memory ``chunk * n_groups`` integers).
        groups: (n_rounds,) group label of each round (any hashable dtype numpy can sort), or None
            to resample rounds.

    Returns:
        (low, high) in the units of the statistic.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 10)
    chunk = check_int("chunk", chunk, 1)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    numerator = _as_1d("numerator", numerator)
    n = len(numerator)
    if n == 0:
        raise ValueError("cannot bootstrap an empty sample")
    denominator = np.ones(n) if denominator is None else _as_1d("denominator", denominator)
    if len(denominator) != n:
        raise ValueError(f"denominator has {len(denominator)} rounds, numerator has {n}")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"groups must have shape ({n},) like numerator, got {groups.shape}")
        check_no_missing("groups", groups, fix="give every round its group")
        _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
        order = np.argsort(np.argsort(first))  # sorted label -> rank of its first appearance
        index_of_round = order[inverse.reshape(-1)]
        numerator = np.bincount(index_of_round, weights=numerator, minlength=len(first))  # (n_groups,)
        denominator = np.bincount(index_of_round, weights=denominator, minlength=len(first))
    n_units = len(numerator)
    replicates = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, chunk):
        size = min(chunk, n_bootstrap - start)
        index = rng.integers(0, n_units, size=(size, n_units))
        top, bottom = numerator[index].sum(axis=1), denominator[index].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            replicates[start:start + size] = top / bottom
    replicates = replicates[np.isfinite(replicates)]
    if replicates.size == 0:
        raise ValueError("every bootstrap replicate was undefined (all denominators zero)")
    tail = (1 - level) / 2
    low, high = np.quantile(replicates, [tail, 1 - tail])
    return float(low), float(high)


def evaluate(actions, rewards, pscores, action_dist, positions=None, estimated_rewards=None, *,
             rng: np.random.Generator, estimators=ESTIMATORS, n_bootstrap: int = 1000, level: float = 0.95,
             reward_range: tuple[float, float] | None = (0.0, 1.0)) -> pd.DataFrame:
    """Estimate a target policy's value with several estimators, each with a bootstrap interval.

    Args:
        actions, rewards, pscores, action_dist, positions, estimated_rewards: as in :func:`doubly_robust`
            (``estimated_rewards`` is needed only for ``"dm"`` and ``"dr"``).
        rng: Generator for the bootstrap; estimators: names from :data:`ESTIMATORS`;
        n_bootstrap, level: as in :func:`bootstrap_interval`.

    Returns:
        DataFrame indexed by estimator with columns ``estimate``, ``low``, ``high`` (reward units).
    """
    rows = []
    for name in estimators:
        num, den = round_terms(name, actions, rewards, pscores, action_dist, positions, estimated_rewards,
                               reward_range=reward_range)
        low, high = bootstrap_interval(num, den, rng=rng, n_bootstrap=n_bootstrap, level=level)
        rows.append({"estimator": name.upper(), "estimate": float(num.sum() / den.sum()), "low": low, "high": high})
    return pd.DataFrame(rows).set_index("estimator")


# ---------------------------------------------------------------------------------------------
# Target policies as action distributions


def broadcast_policy(probs, n_rounds: int) -> np.ndarray:
    """A context-free policy repeated over rounds, as a read-only view (no copy).

    Args:
        probs: (n_actions,) or (n_actions, len_list), probabilities summing to 1 over actions.
        n_rounds: number of logged rounds.

    Returns:
        (n_rounds, n_actions) or (n_rounds, n_actions, len_list) read-only view.
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim not in (1, 2):
        raise ValueError(f"probs must have shape (n_actions,) or (n_actions, len_list), got {probs.shape}")
    n_rounds = check_int("n_rounds", n_rounds, 1)
    view = np.broadcast_to(probs, (int(n_rounds), *probs.shape))
    _check_action_dist(view, int(n_rounds), np.zeros(1) if probs.ndim == 2 else None)
    return view


def slot_frequencies(actions, positions, n_actions: int, len_list: int) -> np.ndarray:
    """How often a log shows each action in each slot: ``(n_actions, len_list)``, columns sum to 1.

    For a context-free logging policy this estimates its average per-slot action distribution
    ``pi(a | k)`` over the logging period.

    Args:
        actions: (n_rounds,) int in [0, n_actions); positions: (n_rounds,) int in [0, len_list).
    """
    actions = _as_1d("actions", actions, int)
    positions = _as_1d("positions", positions, int)
    if len(actions) != len(positions):
        raise ValueError(f"actions has {len(actions)} rounds, positions has {len(positions)}")
    if np.any(actions < 0) or np.any(actions >= n_actions):
        raise ValueError(f"actions must be in [0, {n_actions})")
    if np.any(positions < 0) or np.any(positions >= len_list):
        raise ValueError(f"positions must be in [0, {len_list})")
    counts = np.zeros((n_actions, len_list))
    np.add.at(counts, (actions, positions), 1.0)
    shown = counts.sum(axis=0)
    if np.any(shown == 0):
        raise ValueError(f"slot(s) {np.flatnonzero(shown == 0).tolist()} never appear in the log")
    return counts / shown


def topk_action_dist(scores, len_list: int) -> np.ndarray:
    """Deterministic slate policy: slot ``k`` shows the item with the ``k``-th highest score.

    Ties go to the lower action index. Returns a one-hot ``(n_rounds, n_actions, len_list)``
    float array (each slot's column has a single 1).

    Args:
        scores: (n_rounds, n_actions) float, higher is better (e.g. predicted click probability).
        len_list: number of slots, at most ``n_actions``.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (n_rounds, n_actions), got {scores.shape}")
    n_rounds, n_actions = scores.shape
    if not 1 <= len_list <= n_actions:
        raise ValueError(f"len_list must be in [1, {n_actions}], got {len_list}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores hold missing or infinite values")
    top = np.argsort(-scores, axis=1, kind="stable")[:, :len_list]
    dist = np.zeros((n_rounds, n_actions, len_list))
    dist[np.arange(n_rounds)[:, None], top, np.arange(len_list)[None, :]] = 1.0
    return dist


def topk_marginals(samples, len_list: int) -> np.ndarray:
    """Per-slot marginals of a sampling slate policy: ``P(action a is ranked k-th)``, ``(n_actions, len_list)``.

    A Thompson-sampling slate draws one score per action from the posterior and shows the
    ``len_list`` best, in order. Given ``n_samples`` such draws, this returns the Monte-Carlo
    estimate of how often each action lands in each slot (columns sum to 1).

    Args:
        samples: (n_samples, n_actions) float, sampled scores.
        len_list: number of slots, at most ``n_actions``.
    """
    samples = np.asarray(samples, dtype=float)
    if samples.ndim != 2 or samples.shape[0] < 1:
        raise ValueError(f"samples must have shape (n_samples, n_actions), got {samples.shape}")
    n_samples, n_actions = samples.shape
    if not 1 <= len_list <= n_actions:
        raise ValueError(f"len_list must be in [1, {n_actions}], got {len_list}")
    top = np.argsort(-samples, axis=1, kind="stable")[:, :len_list]
    counts = np.zeros((n_actions, len_list))
    np.add.at(counts, (top, np.broadcast_to(np.arange(len_list), top.shape)), 1.0)
    return counts / n_samples


# ---------------------------------------------------------------------------------------------
# Reward models for DM and DR


@dataclass(frozen=True)
class ContextActionFeatures:
    """Features of (round, action[, slot]) triples for a reward model: ``[x_i, f(a), onehot(k), g(x_i, a)]``.

    Attributes:
        context: (n_rounds, d_x) float, user features of each logged round.
        action_features: (n_actions, d_a) float, item features (``numpy.eye(n_actions)`` for item ids).
        len_list: number of slots, or None to leave the slot out.
        pair_features: (n_rounds, n_actions) float or None, a feature of each (user, item) pair (for
            example the Open Bandit Dataset's user-item affinity, transformed as you like).
        sparse: return a ``scipy.sparse`` CSR matrix; much faster and smaller for one-hot features
            and linear models (which accept sparse input), not for every scikit-learn model.
    """

    context: np.ndarray
    action_features: np.ndarray
    len_list: int | None = None
    pair_features: np.ndarray | None = None
    sparse: bool = False

    def __post_init__(self):
        if np.ndim(self.context) != 2 or np.ndim(self.action_features) != 2:
            raise ValueError("context must be (n_rounds, d_x) and action_features (n_actions, d_a)")
        if self.pair_features is not None and np.shape(self.pair_features) != (
                np.shape(self.context)[0], np.shape(self.action_features)[0]):
            raise ValueError("pair_features must have shape (n_rounds, n_actions)")
        if self.len_list is not None and self.len_list < 1:
            raise ValueError("len_list must be a positive integer or None")

    @property
    def n_actions(self) -> int:
        """Number of actions."""
        return int(np.shape(self.action_features)[0])

    def __call__(self, rows, actions, positions=None):
        """(m, d) feature matrix for triples ``(rows[j], actions[j], positions[j])``, each (m,) int."""
        rows, actions = np.asarray(rows), np.asarray(actions)
        if self.len_list is not None and positions is None:
            raise ValueError("these features include the slot: pass positions")
        if self.sparse:
            from scipy import sparse

            parts = [_csr(self.context)[rows], _csr(self.action_features)[actions]]
            if self.len_list is not None:
                parts.append(_csr(np.eye(self.len_list))[positions])
            if self.pair_features is not None:
                parts.append(sparse.csr_matrix(np.asarray(self.pair_features, float)[rows, actions][:, None]))
            return sparse.hstack(parts, format="csr")
        parts = [np.asarray(self.context, float)[rows], np.asarray(self.action_features, float)[actions]]
        if self.len_list is not None:
            parts.append(np.eye(self.len_list)[positions])
        if self.pair_features is not None:
            parts.append(np.asarray(self.pair_features, float)[rows, actions][:, None])
        return np.hstack(parts)


def _csr(matrix):
    from scipy import sparse

    return matrix.tocsr() if sparse.issparse(matrix) else sparse.csr_matrix(np.asarray(matrix, dtype=float))


def _predict(model, features: np.ndarray) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        classes = list(getattr(model, "classes_", [0, 1]))
        return model.predict_proba(features)[:, classes.index(1)]
    return model.predict(features)


def cross_fit_rewards(model, features: Callable, actions, rewards, positions=None, *, n_actions: int,
                      len_list: int | None = None, all_slots: bool = False, n_folds: int = 5,
                      rng: np.random.Generator, chunk_rows: int = 2000) -> np.ndarray:
    """Fit a scikit-learn reward model and predict ``qhat`` for every logged round and action, cross-fitted.

    The rounds are split at random into ``n_folds`` folds; the prediction for a round comes from a
    model fitted on the other folds, so DR's correction term is not fooled by a model that
    memorised the round (cross-fitting, Chernozhukov et al. 2018; ``n_folds=1`` fits once on all).

    Args:
        model: an unfitted scikit-learn estimator, cloned per fold: a classifier with
            ``predict_proba`` (binary rewards; column of class 1 is used) or a regressor.
        features: callable ``features(rows, actions, positions) -> (m, d)``, e.g.
            :class:`ContextActionFeatures`.
        actions, rewards: (n_rounds,) logged actions and rewards; positions: (n_rounds,) or None.
        n_actions: number of actions; len_list: number of slots when the features use the slot, else None.
        all_slots: with ``len_list``, predict every slot (``(n, n_actions, len_list)``) instead of only
            each round's logged slot (``(n, n_actions)``, which is all the estimators need).
        n_folds: folds for cross-fitting (>= 1); rng: Generator that assigns folds.
        chunk_rows: rounds predicted at once (memory ``chunk_rows * n_actions * len_list`` rows).

    Returns:
        ``estimated_rewards``: (n_rounds, n_actions), or (n_rounds, n_actions, len_list) with
        ``all_slots``; in reward units (click probabilities for a classifier).
    """
    from sklearn.base import clone

    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n_actions = check_int("n_actions", n_actions, 1)
    chunk_rows = check_int("chunk_rows", chunk_rows, 1)
    actions = _as_1d("actions", actions, int)
    rewards = _as_1d("rewards", rewards)
    n = len(actions)
    if len(rewards) != n:
        raise ValueError(f"rewards has {len(rewards)} rounds, actions has {n}")
    if np.any(actions < 0) or np.any(actions >= n_actions):
        raise ValueError(f"actions must be in [0, {n_actions})")
    if len_list is not None:
        if positions is None:
            raise ValueError("len_list is set: pass the logged positions")
        positions = _as_1d("positions", positions, int)
        if len(positions) != n or np.any(positions < 0) or np.any(positions >= len_list):
            raise ValueError(f"positions must be (n_rounds,) integers in [0, {len_list})")
    n_folds = check_int("n_folds", n_folds, 1, max(n, 1))
    folds = rng.permutation(n) % n_folds
    slots = len_list if (len_list is not None and all_slots) else 1
    out = np.empty((n, n_actions, slots))
    grid_actions = np.repeat(np.arange(n_actions), slots)
    grid_slots = np.tile(np.arange(slots), n_actions)
    for fold in range(n_folds):
        test = np.flatnonzero(folds == fold)
        train = np.flatnonzero(folds != fold) if n_folds > 1 else test
        fitted = clone(model).fit(features(train, actions[train], None if len_list is None else positions[train]),
                                  rewards[train])
        for start in range(0, len(test), chunk_rows):
            rows = test[start:start + chunk_rows]
            rep_rows = np.repeat(rows, n_actions * slots)
            rep_actions = np.tile(grid_actions, len(rows))
            if len_list is None:
                rep_slots = None
            elif all_slots:
                rep_slots = np.tile(grid_slots, len(rows))
            else:
                rep_slots = positions[rep_rows]
            pred = _predict(fitted, features(rep_rows, rep_actions, rep_slots))
            out[rows] = np.asarray(pred, dtype=float).reshape(len(rows), n_actions, slots)
    return out if slots > 1 else out[:, :, 0]


# ---------------------------------------------------------------------------------------------
# Synthetic logged feedback with a known truth (tests and notebook 06)


def policy_value(action_dist, expected_rewards, positions=None) -> float:
    """True value ``(1/n) sum_i sum_a pi_e(a|x_i) q(x_i, a)`` on the logged contexts, given the true ``q``.

    The same formula as :func:`direct_method` with the exact reward function; what an unbiased
    estimator averages to over repeated logs of the same contexts.
    """
    return direct_method(action_dist, expected_rewards, positions)


@dataclass(frozen=True)
class SyntheticFeedback:
    """Synthetic logged bandit feedback with its truth.

    Attributes:
        context: (n_rounds, context_dim) float; expected_rewards: (n_rounds, n_actions) true ``q(x, a)``;
        logging_dist: (n_rounds, n_actions) the logging policy; actions, rewards, pscores: (n_rounds,).
    """

    context: np.ndarray
    expected_rewards: np.ndarray
    logging_dist: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    pscores: np.ndarray


def sample_logs(expected_rewards, logging_dist, *, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Draw ``a_i ~ logging_dist[i]`` and Bernoulli rewards ``r_i ~ q(x_i, a_i)``.

    Args:
        expected_rewards, logging_dist: (n_rounds, n_actions); rng: Generator.

    Returns:
        (actions (n,) int, rewards (n,) float in {0, 1}, pscores (n,) float).
    """
    q = np.asarray(expected_rewards, dtype=float)
    dist = _check_action_dist(logging_dist, q.shape[0], None)
    if q.shape != dist.shape or np.any(q < 0) or np.any(q > 1):
        raise ValueError("expected_rewards must be probabilities with the shape of logging_dist")
    uniform = rng.random(q.shape[0])
    cumulative = np.cumsum(dist, axis=1)
    actions = np.minimum((uniform[:, None] > cumulative).sum(axis=1), q.shape[1] - 1)
    rows = np.arange(q.shape[0])
    rewards = (rng.random(q.shape[0]) < q[rows, actions]).astype(float)
    return actions, rewards, dist[rows, actions]


def make_synthetic_feedback(n_rounds: int = 1000, n_actions: int = 5, *, rng: np.random.Generator,
                            context_dim: int = 3, base_rate: float = 0.1, logging_skew: float = 2.0
                            ) -> SyntheticFeedback:
    """Logged feedback from a contextual logging policy that favours good actions, with the truth known.

    ``q(x, a) = sigmoid(logit(base_rate) + x . theta_a)``, ``x ~ N(0, I)``; the logging policy is
    ``softmax(logging_skew * x . theta_a)`` mixed with 10% uniform (so every propensity is > 0).
    Because logging prefers actions that are good *for that user*, the logged mean over-states
    the value of other policies, and averaging the rounds where a new policy agrees with the log
    is biased: the teaching example of notebook 06.

    Args:
        n_rounds, n_actions, context_dim: sizes; base_rate: typical reward in (0, 1);
        logging_skew: how strongly logging follows the true rewards (0 = uniform); rng: Generator.
    """
    if not 0 < base_rate < 1:
        raise ValueError(f"base_rate must be in (0, 1), got {base_rate}")
    if n_rounds < 1 or n_actions < 2 or context_dim < 1:
        raise ValueError("need n_rounds >= 1, n_actions >= 2 and context_dim >= 1")
    context = rng.standard_normal((n_rounds, context_dim))
    theta = rng.standard_normal((context_dim, n_actions))
    score = context @ theta
    q = 1 / (1 + np.exp(-(np.log(base_rate / (1 - base_rate)) + score)))
    preference = np.exp(logging_skew * (score - score.max(axis=1, keepdims=True)))
    logging = 0.9 * preference / preference.sum(axis=1, keepdims=True) + 0.1 / n_actions
    actions, rewards, pscores = sample_logs(q, logging, rng=rng)
    return SyntheticFeedback(context, q, logging, actions, rewards, pscores)
