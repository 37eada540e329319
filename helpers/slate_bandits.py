"""Bandits that compose a slate: which strategy fills each of the k slots (notebook 07).

Arrays in, arrays out, no dataset knowledge. A slate learner is ``n_runs`` independent copies
stepped together, with the interface of :mod:`helpers.bandits` lifted to slates:

- ``select(context=None) -> (n_runs, k)`` the strategy of every slot;
- ``update(choices, slot_rewards, context=None)`` with the (n_runs, k) 0/1 reward of every slot
  (semi-bandit feedback; each learner says which part of it it uses);
- ``probs(context=None) -> (n_runs, k, n_strategies)`` the per-slot distribution (exact for the
  softmax policies, Monte Carlo for Thompson sampling), logged as propensities.

Learners:

- :class:`RankedBandit`: Radlinski, Kleinberg and Joachims (2008), one bandit of
  :mod:`helpers.bandits` per slot; a slot is rewarded only when it holds the first bought item.
- :class:`CombinatorialThompson`: a Beta posterior per (slot, strategy), every slot's reward
  used (Kveton et al. 2015 for CombUCB1; Wang and Chen 2018 for combinatorial Thompson sampling).
- :class:`DepthThompson`: a Beta posterior per (strategy, depth) shared by all slots; slots
  filled greedily by the draws of each strategy's next item.
- :class:`SlotSoftmaxPolicy`: a linear softmax policy per slot on the visit's context,
  trained by REINFORCE (Williams 1992) with a per-slot baseline.

Slate estimators for off-policy evaluation of a composition policy from a learner's log:
:func:`slate_ips`, :func:`pseudo_inverse` and :func:`slotwise_ips`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from helpers import bandits
from helpers.validation import check_finite_array, check_int, check_positive

__all__ = ["first_hit_feedback", "RankedBandit", "CombinatorialThompson", "DepthThompson", "SlotSoftmaxPolicy",
           "slate_ips", "pseudo_inverse", "slotwise_ips", "importance_weights"]


def first_hit_feedback(slot_rewards) -> np.ndarray:
    """(..., k) 1 at the first slot whose item was bought, 0 elsewhere (the ranked bandit's reward).

    The visit's reward, ``max_j r_j``, equals the sum of this feedback over the slots, so the
    slots' bandits together maximise visits hit, not items hit.
    """
    hits = np.asarray(slot_rewards) > 0
    return (hits & (np.cumsum(hits, axis=-1) == 1)).astype(float)


class _SlateLearner:
    """Shared checks of the slate learners."""

    name = "slate learner"

    def __init__(self, n_strategies: int, k: int, n_runs: int, rng) -> None:
        self.n_strategies = check_int("n_strategies", n_strategies, 2)
        self.k = check_int("k", k, 1)
        self.n_runs = check_int("n_runs", n_runs, 1)
        self.rng = bandits.make_rng(rng)
        self._rows = np.arange(self.n_runs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_strategies={self.n_strategies}, k={self.k}, n_runs={self.n_runs})"

    def _check_feedback(self, choices, slot_rewards) -> tuple[np.ndarray, np.ndarray]:
        choices = np.asarray(choices)
        if choices.shape != (self.n_runs, self.k) or choices.dtype.kind not in "iu":
            raise ValueError(f"choices must be integers of shape ({self.n_runs}, {self.k}), got {choices.shape}")
        if choices.min() < 0 or choices.max() >= self.n_strategies:
            raise ValueError(f"choices must lie in [0, {self.n_strategies})")
        rewards = check_finite_array("slot_rewards", slot_rewards)
        if rewards.shape != (self.n_runs, self.k):
            raise ValueError(f"slot_rewards must have shape ({self.n_runs}, {self.k}), got {rewards.shape}")
        if rewards.min() < 0 or rewards.max() > 1:
            raise ValueError("slot_rewards must lie in [0, 1]")
        return choices.astype(np.int64), rewards


class RankedBandit(_SlateLearner):
    """Ranked bandits (Radlinski, Kleinberg and Joachims 2008, "Learning diverse rankings with
    multi-armed bandits", ICML): slot j has its own bandit over the strategies.

    Slot j is rewarded 1 only when its item is the **first** bought item of the slate. Then the
    expected reward of slot j's bandit is the probability that strategy s's item is bought on
    visits where slots 1..j-1 missed: the marginal gain of a submodular set function, so the
    per-slot learners together perform the greedy (1 - 1/e)-approximation online.

    Args:
        n_strategies: arms of every slot. k: slots. n_runs: independent copies.
        slot_learner: ``f(n_arms, n_runs, rng) -> helpers.bandits learner`` (default Beta
            Thompson sampling; the paper uses EXP3).
        rng: seed or generator (each slot's learner gets its own stream).
    """

    def __init__(self, n_strategies: int, k: int = 10, n_runs: int = 1, *,
                 slot_learner: Callable | None = None, rng=None) -> None:
        super().__init__(n_strategies, k, n_runs, rng)
        make = slot_learner or (lambda n_arms, n_runs, rng: bandits.BernoulliThompson(n_arms, n_runs, rng=rng))
        seeds = self.rng.spawn(self.k) if hasattr(self.rng, "spawn") else [
            np.random.default_rng(self.rng.integers(2**63)) for _ in range(self.k)]
        self.slots = [make(self.n_strategies, self.n_runs, seed) for seed in seeds]
        self.name = f"ranked bandit ({self.slots[0].name})"

    def reset(self) -> None:
        for learner in self.slots:
            learner.reset()

    def select(self, context=None) -> np.ndarray:
        return np.stack([learner.select() for learner in self.slots], axis=1)

    def probs(self, context=None) -> np.ndarray:
        return np.stack([learner.probs() for learner in self.slots], axis=1)

    def update(self, choices, slot_rewards, context=None) -> None:
        choices, rewards = self._check_feedback(choices, slot_rewards)
        feedback = first_hit_feedback(rewards)
        for j, learner in enumerate(self.slots):
            learner.update(choices[:, j], feedback[:, j])


class CombinatorialThompson(_SlateLearner):
    """Combinatorial semi-bandit with Thompson sampling per (slot, strategy).

    Slot j filled by strategy s yields a Bernoulli reward (its item bought) with unknown mean
    ``mu[j, s]``; the learner keeps a Beta posterior for each pair, draws every mean and fills
    each slot with its best draw (the oracle of a partition matroid: one strategy per slot).
    Every slot's reward updates its pair: semi-bandit feedback (Kveton et al. 2015 for the UCB
    version, CombUCB1; Wang and Chen 2018, "Thompson sampling for combinatorial semi-bandits").

    ``feedback="first-hit"`` uses the ranked bandit's reward instead, which targets visits hit.
    ``prior_a``, ``prior_b``: scalars or (k, n_strategies) Beta priors (e.g. counts from the
    October replay, shrunk).
    """

    def __init__(self, n_strategies: int, k: int = 10, n_runs: int = 1, *, prior_a=1.0, prior_b=1.0,
                 feedback: str = "semi-bandit", rng=None) -> None:
        super().__init__(n_strategies, k, n_runs, rng)
        if feedback not in ("semi-bandit", "first-hit"):
            raise ValueError(f"feedback must be 'semi-bandit' or 'first-hit', got {feedback!r}")
        self.feedback = feedback
        shape = (self.k, self.n_strategies)
        self.prior_a = np.broadcast_to(check_finite_array("prior_a", prior_a), shape).copy()
        self.prior_b = np.broadcast_to(check_finite_array("prior_b", prior_b), shape).copy()
        if self.prior_a.min() <= 0 or self.prior_b.min() <= 0:
            raise ValueError("Beta priors must be positive")
        self.name = f"combinatorial Thompson ({feedback})"
        self.reset()

    def reset(self) -> None:
        self.alpha = np.broadcast_to(self.prior_a, (self.n_runs, *self.prior_a.shape)).copy()
        self.beta = np.broadcast_to(self.prior_b, (self.n_runs, *self.prior_b.shape)).copy()

    def sample(self, size: int | None = None) -> np.ndarray:
        """Posterior draws: (n_runs, k, S), or (size, n_runs, k, S)."""
        if size is None:
            return self.rng.beta(self.alpha, self.beta)
        shape = (size, *self.alpha.shape)
        return self.rng.beta(np.broadcast_to(self.alpha, shape), np.broadcast_to(self.beta, shape))

    def select(self, context=None) -> np.ndarray:
        return self.sample().argmax(axis=2)

    def probs(self, context=None, n_samples: int = 200) -> np.ndarray:
        """Monte Carlo per-slot probabilities (share of ``n_samples`` draws each strategy wins)."""
        best = self.sample(check_int("n_samples", n_samples, 1)).argmax(axis=3)  # (n, R, k)
        return (best[..., None] == np.arange(self.n_strategies)).mean(axis=0)

    def update(self, choices, slot_rewards, context=None) -> None:
        choices, rewards = self._check_feedback(choices, slot_rewards)
        if self.feedback == "first-hit":
            rewards = first_hit_feedback(rewards)
        runs, slots = np.broadcast_arrays(self._rows[:, None], np.arange(self.k)[None, :])
        self.alpha[runs, slots, choices] += rewards
        self.beta[runs, slots, choices] += 1.0 - rewards

    @property
    def means(self) -> np.ndarray:
        """(n_runs, k, S) posterior means."""
        return self.alpha / (self.alpha + self.beta)


class SlotSoftmaxPolicy(_SlateLearner):
    """A linear softmax policy per slot over the strategies, on the visit's context, trained by
    REINFORCE (Williams 1992) with a running-mean baseline per slot.

    ``pi(s | slot j, x) = softmax(W[j] x)_s``; after the slate, each slot's parameters move by
    ``step_size * (g_j - b_j) * (onehot(s_j) - pi_j) x^T`` where ``g_j`` is the slot's feedback
    (the first-hit reward by default, so the policy targets visits hit; ``"semi-bandit"`` uses
    the slot's own hit). Slots are drawn independently, so a slate's probability is the product
    of its slots' probabilities: exact propensities for off-policy evaluation.

    Args:
        n_strategies, k, n_runs: as for every slate learner.
        n_features: d, the context's length (its first column is usually the intercept 1).
        step_size: learning rate of the logits' weights.
        temperature: logits are divided by it (above 1: more exploration).
        weights: optional initial (k, S, d) weights, e.g. learned on the October replay.
        feedback: ``"first-hit"`` or ``"semi-bandit"``.
        epsilon: exploration floor: each slot samples from ``(1 - epsilon) softmax + epsilon / S``,
            so every strategy keeps a probability of at least ``epsilon / S`` in every slot (what a
            log needs to evaluate other policies off-policy); the REINFORCE step is the gradient of
            the log of that mixture.
    """

    def __init__(self, n_strategies: int, k: int = 10, n_runs: int = 1, *, n_features: int,
                 step_size: float = 0.05, temperature: float = 1.0, weights=None, feedback: str = "first-hit",
                 baseline_rate: float = 0.01, epsilon: float = 0.0, rng=None) -> None:
        super().__init__(n_strategies, k, n_runs, rng)
        self.n_features = check_int("n_features", n_features, 1)
        self.epsilon = check_positive("epsilon", epsilon, allow_zero=True, upper=1.0)
        self.step_size = check_positive("step_size", step_size)
        self.temperature = check_positive("temperature", temperature)
        self.baseline_rate = check_positive("baseline_rate", baseline_rate, upper=1.0)
        if feedback not in ("semi-bandit", "first-hit"):
            raise ValueError(f"feedback must be 'semi-bandit' or 'first-hit', got {feedback!r}")
        self.feedback = feedback
        shape = (self.k, self.n_strategies, self.n_features)
        self.initial = np.zeros(shape) if weights is None else check_finite_array("weights", weights).copy()
        if self.initial.shape != shape:
            raise ValueError(f"weights must have shape {shape}, got {self.initial.shape}")
        self.name = "slot softmax (REINFORCE)"
        self.reset()

    def reset(self) -> None:
        self.weights = np.broadcast_to(self.initial, (self.n_runs, *self.initial.shape)).copy()  # (R, k, S, d)
        self.baseline = np.zeros((self.n_runs, self.k))
        self.t = 0

    def _context(self, context) -> np.ndarray:
        x = check_finite_array("context", context)
        if x.ndim == 1:
            x = np.broadcast_to(x, (self.n_runs, x.shape[0]))
        if x.shape != (self.n_runs, self.n_features):
            raise ValueError(f"context must be ({self.n_features},) or ({self.n_runs}, {self.n_features}), "
                             f"got {x.shape}")
        return x

    def probs(self, context=None) -> np.ndarray:
        if context is None:
            raise ValueError("SlotSoftmaxPolicy needs the visit's context")
        x = self._context(context)
        soft = self._softmax(x)
        return (1.0 - self.epsilon) * soft + self.epsilon / self.n_strategies

    def _softmax(self, x: np.ndarray) -> np.ndarray:
        logits = np.einsum("rksd,rd->rks", self.weights, x) / self.temperature
        return bandits.softmax(logits.reshape(-1, self.n_strategies)).reshape(logits.shape)

    def select(self, context=None) -> np.ndarray:
        p = self.probs(context).reshape(-1, self.n_strategies)
        return bandits.sample_categorical(p, self.rng).reshape(self.n_runs, self.k)

    def update(self, choices, slot_rewards, context=None) -> None:
        choices, rewards = self._check_feedback(choices, slot_rewards)
        x = self._context(context)
        feedback = first_hit_feedback(rewards) if self.feedback == "first-hit" else rewards
        soft = self._softmax(x)  # (R, k, S)
        advantage = feedback - self.baseline  # (R, k)
        runs, slots = np.broadcast_arrays(self._rows[:, None], np.arange(self.k)[None, :])
        played = soft[runs, slots, choices]  # softmax probability of the played strategy
        share = (1.0 - self.epsilon) * played / ((1.0 - self.epsilon) * played + self.epsilon / self.n_strategies)
        grad = -soft  # d log p(a) / d logits = share * (onehot(a) - softmax), share = 1 without a floor
        grad[runs, slots, choices] += 1.0
        grad *= share[..., None]
        self.weights += (self.step_size / self.temperature) * (advantage[..., None, None] * grad[..., None]
                                                                * x[:, None, None, :])
        self.baseline += self.baseline_rate * (feedback - self.baseline)
        self.t += 1


# ---------------------------------------------------------------------------------------------
# Off-policy evaluation of slate policies (Swaminathan et al. 2017; notebook 06 for one action)


def importance_weights(target_probs, logging_probs) -> np.ndarray:
    """(n, k) per-slot importance weights ``pi(a_j | x) / mu(a_j | x)`` of the logged slot actions.

    Args:
        target_probs: (n, k) the target policy's probability of each logged slot action.
        logging_probs: (n, k) the logging policy's (positive) probability of it.
    """
    target = check_finite_array("target_probs", target_probs, ndim=2)
    logging = check_finite_array("logging_probs", logging_probs, ndim=2)
    if target.shape != logging.shape:
        raise ValueError(f"target_probs {target.shape} and logging_probs {logging.shape} must match")
    if logging.min() <= 0:
        raise ValueError("logging probabilities must be positive (the logging policy must explore)")
    return target / logging


def slate_ips(rewards, target_probs, logging_probs) -> np.ndarray:
    """Per-round terms of the whole-slate IPS estimator: ``r * prod_j w_j`` (n,).

    Unbiased for any slate reward when slots are drawn independently given x, but its weights
    multiply over the k slots, so its variance explodes with k.
    """
    w = importance_weights(target_probs, logging_probs)
    return check_finite_array("rewards", rewards, ndim=1) * w.prod(axis=1)


def pseudo_inverse(rewards, target_probs, logging_probs) -> np.ndarray:
    """Per-round terms of the pseudo-inverse estimator (Swaminathan et al. 2017, "Off-policy
    evaluation for slate recommendation", NeurIPS), for a logging policy whose slots are drawn
    independently given x: ``r * (sum_j w_j - k + 1)`` (n,).

    Unbiased when the slate's expected reward is a sum of per-(slot, action) terms (the
    linearity assumption); its variance grows linearly, not exponentially, with k.
    """
    w = importance_weights(target_probs, logging_probs)
    return check_finite_array("rewards", rewards, ndim=1) * (w.sum(axis=1) - w.shape[1] + 1.0)


def slotwise_ips(slot_rewards, target_probs, logging_probs) -> np.ndarray:
    """Per-round terms of slot-wise IPS with semi-bandit feedback: ``sum_j r_j w_j`` (n,).

    Estimates the expected sum of slot rewards (items hit) under the target policy, unbiased
    when each slot's reward depends only on the visit and that slot's action (not on what the
    other slots hold).
    """
    w = importance_weights(target_probs, logging_probs)
    r = check_finite_array("slot_rewards", slot_rewards, ndim=2)
    if r.shape != w.shape:
        raise ValueError(f"slot_rewards {r.shape} must match the weights {w.shape}")
    return (r * w).sum(axis=1)


class DepthThompson(_SlateLearner):
    """Thompson sampling per (strategy, depth): a semi-bandit with shared parameters.

    The item a strategy contributes the c-th time it is asked in a slate (depth c = 0, 1, ...) is
    bought with unknown probability ``mu[s, c]`` (its ranked list gets weaker as it goes down).
    Each slate, the learner draws every ``mu[s, c]`` from its Beta posterior and fills the slots
    greedily: slot j goes to the strategy whose **next** item has the largest draw. That merges
    the strategies' lists by estimated purchase probability, a learned interleaving; one
    parameter per (strategy, depth) is shared by all slots, so it learns ``k`` times faster than a
    bandit per (slot, strategy). Every slot's reward updates its (strategy, depth) pair.

    ``prior_a``, ``prior_b``: scalars or (n_strategies, k) Beta priors.
    """

    def __init__(self, n_strategies: int, k: int = 10, n_runs: int = 1, *, prior_a=1.0, prior_b=1.0,
                 rng=None) -> None:
        super().__init__(n_strategies, k, n_runs, rng)
        shape = (self.n_strategies, self.k)
        self.prior_a = np.broadcast_to(check_finite_array("prior_a", prior_a), shape).copy()
        self.prior_b = np.broadcast_to(check_finite_array("prior_b", prior_b), shape).copy()
        if self.prior_a.min() <= 0 or self.prior_b.min() <= 0:
            raise ValueError("Beta priors must be positive")
        self.name = "depth Thompson (semi-bandit)"
        self.reset()

    def reset(self) -> None:
        self.alpha = np.broadcast_to(self.prior_a, (self.n_runs, *self.prior_a.shape)).copy()
        self.beta = np.broadcast_to(self.prior_b, (self.n_runs, *self.prior_b.shape)).copy()

    def fill(self, values: np.ndarray) -> np.ndarray:
        """Greedy slots from (R, S, k) values of each strategy's items by depth: (R, k) strategies."""
        depth = np.zeros((self.n_runs, self.n_strategies), dtype=np.int64)
        choices = np.empty((self.n_runs, self.k), dtype=np.int64)
        strategies = np.arange(self.n_strategies)[None, :]
        for j in range(self.k):
            chosen = values[self._rows[:, None], strategies, depth].argmax(axis=1)
            choices[:, j] = chosen
            depth[self._rows, chosen] += 1
        return choices

    def select(self, context=None) -> np.ndarray:
        return self.fill(self.rng.beta(self.alpha, self.beta))

    def probs(self, context=None, n_samples: int = 200) -> np.ndarray:
        """Monte Carlo per-slot probabilities of each strategy (share of ``n_samples`` draws)."""
        counts = np.zeros((self.n_runs, self.k, self.n_strategies))
        slots = np.arange(self.k)[None, :]
        for _ in range(check_int("n_samples", n_samples, 1)):
            counts[self._rows[:, None], slots, self.select()] += 1
        return counts / n_samples

    @staticmethod
    def depths(choices: np.ndarray) -> np.ndarray:
        """(R, k) depth of each slot: how many earlier slots of the slate named the same strategy."""
        same = choices[:, :, None] == choices[:, None, :]  # (R, k, k)
        return np.tril(same, -1).sum(axis=2)

    def update(self, choices, slot_rewards, context=None) -> None:
        choices, rewards = self._check_feedback(choices, slot_rewards)
        depth = self.depths(choices)
        runs = np.broadcast_to(self._rows[:, None], choices.shape)
        np.add.at(self.alpha, (runs, choices, depth), rewards)
        np.add.at(self.beta, (runs, choices, depth), 1.0 - rewards)

    @property
    def means(self) -> np.ndarray:
        """(n_runs, S, k) posterior means."""
        return self.alpha / (self.alpha + self.beta)

