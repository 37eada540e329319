"""Bandit learners with one interface, vectorised over many independent runs.

Every learner keeps ``n_runs`` independent copies of its state in arrays of shape
``(n_runs, n_arms)``, so one call to :meth:`~BanditLearner.select` moves all runs one step at
once (no Python loop over runs). The interface, shared with the contextual learners of
notebook 04:

- ``select(context=None) -> arms``: ``(n_runs,)`` int, one arm per run;
- ``update(arms, rewards, context=None)``: feed back the arms played and rewards received;
- ``probs(context=None) -> (n_runs, n_arms)``: the probability of each arm at the next step
  (exact, or a Monte-Carlo estimate for Thompson sampling);
- ``reset()``: forget everything learned (the random generator keeps its stream);
- ``counts`` and ``means``: ``(n_runs, n_arms)`` pull counts and empirical mean rewards.

Randomness comes only from the explicit ``numpy.random.Generator`` given as ``rng`` (a seed
or ``None`` also works). Ties between equally good arms are broken uniformly at random.

References: Lattimore and Szepesvári, *Bandit Algorithms* (2020); Sutton and Barto,
*Reinforcement Learning: An Introduction*, 2nd ed. (2018), chapter 2.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from helpers.validation import check_finite_array, overflow_error
from helpers.validation import check_int as _check_int
from helpers.validation import check_positive as _check_positive

RngLike = np.random.Generator | int | None


# ---------------------------------------------------------------------------------------------
# Shared utilities


def make_rng(rng: RngLike = None) -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``, else a new one seeded with it.

    ``rng`` may be a Generator (used as is, not copied), a non-negative int seed, or ``None``
    (fresh entropy: not reproducible).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator, a non-negative int seed or None, got {rng!r}")


def row_max(values: np.ndarray) -> np.ndarray:
    """Row-wise maximum of ``values`` (n_runs, n_arms) -> (n_runs,).

    Same as ``values.max(axis=1)``, but taken at the row's argmax: numpy reduces a short last
    axis slowly, and this is on the hot path of every learner.
    """
    return values[np.arange(values.shape[0]), values.argmax(axis=1)]


def argmax_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax of ``values`` (n_runs, n_arms), ties broken uniformly at random.

    ``+inf`` entries (unplayed arms in UCB-type indices) tie with each other. Returns
    ``(n_runs,)`` int64. Random tie-breaking matters: with ``argmax``'s first-index rule a
    greedy learner whose estimates are all zero would always play arm 0. One uniform number u per
    run is drawn, and only on steps where some run has a tie; a run with m maxima plays the
    ``floor(u m)``-th of them in arm order (counting from 0). Computed by
    :func:`argmax_ties_by_arm` on the transposed table where some run has a tie.
    """
    choice = values.argmax(axis=1)
    top = values.reshape(-1)[_row_starts(*values.shape) + choice]
    if np.count_nonzero(values == top[:, None]) == values.shape[0]:  # no ties anywhere: one cheap count
        return choice
    return argmax_ties_by_arm(np.ascontiguousarray(values.T), rng)


@functools.lru_cache(maxsize=16)
def _row_starts(n_runs: int, n_arms: int) -> np.ndarray:
    """Flat index of each row's first entry in a C-ordered (n_runs, n_arms) table (read-only)."""
    starts = np.arange(n_runs) * n_arms
    starts.flags.writeable = False
    return starts


@functools.lru_cache(maxsize=16)
def _lower_ones(n: int) -> np.ndarray:
    lower = np.tril(np.ones((n, n)))
    lower.flags.writeable = False
    return lower


def argmax_ties_by_arm(values: np.ndarray, rng: np.random.Generator, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`argmax_ties` of ``values.T``: here ``values`` is arm-major, (n_arms, n_runs).

    Arm-major is faster: every reduction over the arms of a run runs along contiguous rows of
    n_runs values, with no per-run work and no Python loop, tied runs or not. ``out``: an optional
    (n_arms, n_runs) bool buffer. Returns ``(n_runs,)`` int64.
    """
    n_arms, n_runs = values.shape
    is_max = np.equal(values, values.max(axis=0), out=out)
    # rank[k, r]: how many maxima run r has among arms 0..k (a product with a triangle of ones).
    rank = np.dot(_lower_ones(n_arms), is_max)  # (np.dot: less overhead than @ on small tables)
    if np.count_nonzero(is_max) == n_runs:  # no ties anywhere: every run plays its only maximum
        pick = 0.0
    else:
        pick = np.floor(rng.random(n_runs) * rank[-1])  # which maximum, counting from 0
    # The picked maximum is the first arm whose rank exceeds pick: count the arms before it.
    before = np.less_equal(rank, pick, out=is_max)
    return np.dot(_lower_ones(n_arms)[-1], before).astype(np.int64)  # a row of ones: the count


def tie_share(values: np.ndarray) -> np.ndarray:
    """The distribution of :func:`argmax_ties`: 1/m on each of the m maximal arms of a row.

    ``values`` (n_runs, n_arms) -> (n_runs, n_arms) float, rows summing to one.
    """
    is_max = values == row_max(values)[:, None]
    return is_max / is_max.sum(axis=1, keepdims=True)


@functools.lru_cache(maxsize=16)
def _upper_ones(n: int) -> np.ndarray:
    upper = np.triu(np.ones((n, n)))
    upper.flags.writeable = False
    return upper


def sample_categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from the distributions ``probs`` (n_runs, n_arms) by inverse CDF.

    Returns ``(n_runs,)`` int64. Rows must be non-negative with a positive sum (they are
    normalised here). The CDF is a product with a triangular matrix of ones, which is faster
    than ``cumsum`` along a short axis.
    """
    n_arms = probs.shape[1]
    cdf = probs @ _upper_ones(n_arms)
    u = rng.random(probs.shape[0]) * cdf[:, -1]
    arms = (cdf <= u[:, None]).astype(np.float64) @ np.ones(n_arms)
    return np.minimum(arms.astype(np.int64), n_arms - 1)


def softmax(preferences: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``preferences`` (n_runs, n_arms), computed stably."""
    z = preferences - row_max(preferences)[:, None]
    np.exp(z, out=z)
    z /= (z @ np.ones(z.shape[1]))[:, None]
    return z


def kl_bernoulli(p, q) -> np.ndarray:
    """Kullback-Leibler divergence kl(p, q) between Bernoulli(p) and Bernoulli(q), in nats.

    ``p`` and ``q`` broadcast together; values in [0, 1]. Uses 0 log 0 = 0, and returns
    ``inf`` where q is 0 or 1 but p differs from q (Garivier and Cappé 2011, eq. 2).
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if np.any((p < 0) | (p > 1) | (q < 0) | (q > 1)) or np.any(np.isnan(p) | np.isnan(q)):
        raise ValueError("kl_bernoulli needs p and q in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(p / q), 0.0)
        b = np.where(p < 1, (1 - p) * np.log((1 - p) / (1 - q)), 0.0)
    return a + b


def _check_table(means, counts, t) -> tuple[np.ndarray, np.ndarray, float]:
    means = np.asarray(means, dtype=float)
    counts = np.asarray(counts, dtype=float)
    if means.shape != counts.shape:
        raise ValueError(f"means {means.shape} and counts {counts.shape} must have the same shape")
    if not np.all(np.isfinite(means)) or not np.all(np.isfinite(counts)):
        raise ValueError("means and counts must be finite")
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise ValueError("counts must be non-negative integers")
    t = float(t)
    if not math.isfinite(t) or t < counts.sum(axis=-1).max(initial=0):
        raise ValueError(f"t (the number of plays so far) must be finite and at least the sum of counts, got {t}")
    return means, counts, t


def ucb1_index(means, counts, t, alpha: float = 1.0) -> np.ndarray:
    """UCB1 index ``mean + alpha * sqrt(2 ln t / n)`` (Auer, Cesa-Bianchi and Fischer 2002).

    Args:
        means: empirical mean reward of each arm, shape (..., n_arms), rewards in [0, 1].
        counts: number of plays of each arm, same shape, non-negative integers.
        t: total number of plays so far (the sum of counts of a run, scalar).
        alpha: multiplies the exploration bonus; ``alpha=1`` is UCB1 of the paper (Figure 1).

    Returns the index, same shape; ``+inf`` for unplayed arms, so each arm is played once first.
    Raises ``ValueError`` for means outside [0, 1]: Hoeffding's bonus is sized for that range
    (rescale other rewards first, e.g. revenue divided by its maximum).
    """
    means, counts, t = _check_table(means, counts, t)
    if np.any((means < 0) | (means > 1)):
        raise ValueError("UCB1 needs mean rewards in [0, 1]")
    alpha = _check_positive("alpha", alpha, allow_zero=True)
    return _ucb1_index(means, counts, t, alpha)


def _ucb1_index(means: np.ndarray, counts: np.ndarray, t: float, alpha: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        bonus = np.sqrt((2.0 * math.log(max(t, 1.0))) / counts)
    index = means + alpha * bonus
    index[counts == 0] = np.inf
    return index


def klucb_index(means, counts, t, c: float = 0.0, tol: float = 1e-12) -> np.ndarray:
    """KL-UCB index for Bernoulli rewards (Garivier and Cappé 2011).

    ``max { q in [mean, 1] : n * kl(mean, q) <= ln t + c ln ln t }``, solved by Newton's method
    started from an upper bound of the root, so the iterates decrease monotonically to it.

    Args:
        means: empirical mean reward of each arm, shape (..., n_arms), in [0, 1].
        counts: number of plays of each arm, same shape, non-negative integers.
        t: total number of plays so far (scalar).
        c: weight of the ``ln ln t`` term (the paper's regret bound, and with it asymptotic optimality,
            is proved for 3;
            the authors recommend 0 in practice).
        tol: stop when every iterate moved less than this.

    Returns the index, same shape, in [mean, 1]; ``+inf`` for unplayed arms.
    """
    means, counts, t = _check_table(means, counts, t)
    if np.any((means < 0) | (means > 1)):
        raise ValueError("KL-UCB needs mean rewards in [0, 1]")
    c = _check_positive("c", c, allow_zero=True)
    return _klucb_index(means, counts, t, c, tol)


def _klucb_budget(t: float, c: float) -> float:
    log_t = math.log(max(t, 1.0))
    return log_t + c * math.log(log_t) if log_t > 1.0 else log_t


def _neg_entropy(p: np.ndarray) -> np.ndarray:
    """``p ln p + (1 - p) ln(1 - p)`` with 0 ln 0 = 0, for p in [0, 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0) + (1.0 - p) * np.log1p(-p)


def _klucb_upper(p: np.ndarray, d: np.ndarray, h: np.ndarray) -> np.ndarray:
    """A point at or above the root of kl(p, q) = d, from two lower bounds on kl for q >= p:
    kl >= (q - p)^2 / (2 q), and kl >= h - (1 - p) ln(1 - q) (exact when p = 0); h = _neg_entropy(p)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = np.minimum(p + d + np.sqrt(d * (d + 2.0 * p)), -np.expm1(-(d - h) / (1.0 - p)))
    return np.minimum(np.maximum(upper, p), 1.0 - 1e-15)


def _klucb_newton(q, p, d, h):
    """Newton step f(q) / f'(q) for f(q) = kl(p, q) - d, where f'(q) = (q - p) / (q (1 - q))."""
    kl = h - p * np.log(q) - (1.0 - p) * np.log1p(-q)  # callers silence 0/0 and log(0) warnings
    return (kl - d) * q * (1.0 - q) / (q - p)


def _klucb_descend(q_flat, p_flat, d_flat, h_flat, active: np.ndarray, tol: float, max_iter: int = 100) -> None:
    """Newton iterations, in place, on the flat entries ``active`` of q, which lie at or above
    the root: f is convex and increasing on [p, 1), so the iterates decrease to the root."""
    for _ in range(max_iter):
        if active.size == 0:
            return
        qa, pa = q_flat[active], p_flat[active]
        step = np.fmax(_klucb_newton(qa, pa, d_flat[active], h_flat[active]), 0.0)  # fmax: nan (0/0) -> 0
        q_flat[active] = np.maximum(qa - step, pa)
        active = active[step >= tol]


def _klucb_index(means: np.ndarray, counts: np.ndarray, t: float, c: float, tol: float = 1e-12) -> np.ndarray:
    """Unchecked KL-UCB index, solved from scratch (see :func:`klucb_index`)."""
    played = counts > 0
    p = np.clip(means, 0.0, 1.0 - 1e-12)  # arms with mean 1 get index 1 at the end
    d = _klucb_budget(t, c) / np.where(played, counts, 1)
    h = _neg_entropy(p)
    q = np.ascontiguousarray(_klucb_upper(p, d, h))
    flats = [np.ravel(np.ascontiguousarray(a)) for a in (q, p, d, h)]
    with np.errstate(divide="ignore", invalid="ignore"):
        _klucb_descend(*flats, np.arange(q.size), tol)
    q = flats[0].reshape(q.shape)
    q[means >= 1.0] = 1.0
    q[~played] = np.inf
    return q


# ---------------------------------------------------------------------------------------------
# Base class


class BanditLearner:
    """Base class of the course's learners: ``n_runs`` independent copies of one algorithm.

    Subclasses implement ``select``, ``probs`` and, for what they learn beyond pull counts
    and empirical means, ``_learn(arms, rewards, context)`` and ``_reset_state()``.

    Attributes:
        n_arms: K, the number of arms (at least 2).
        n_runs: R, the number of independent runs stepped together.
        rng: the ``numpy.random.Generator`` every random choice is drawn from.
        t: number of rounds played so far (the same in every run).
        counts: (R, K) int64, plays of each arm.
        means: (R, K) float64, empirical mean reward of each arm (0 where unplayed).
    """

    #: True when rewards must lie in [0, 1] (checked at every update).
    unit_rewards: bool = False

    def __init__(self, n_arms: int, n_runs: int = 1, *, rng: RngLike = None) -> None:
        self.n_arms = _check_int("n_arms", n_arms, 2)
        self.n_runs = _check_int("n_runs", n_runs, 1)
        self.rng = make_rng(rng)
        self._rows = np.arange(self.n_runs)
        self._row_offsets = self._rows * self.n_arms
        self.reset()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_arms={self.n_arms}, n_runs={self.n_runs})"

    @property
    def name(self) -> str:
        """A short label for plots and tables."""
        return type(self).__name__

    def reset(self) -> None:
        """Forget all observations (the random generator is not re-seeded)."""
        self.t = 0
        self.counts = np.zeros((self.n_runs, self.n_arms), dtype=np.int64)
        self.means = np.zeros((self.n_runs, self.n_arms))
        self._reset_state()

    def _reset_state(self) -> None:
        """Reset algorithm-specific state (override)."""

    def select(self, context=None) -> np.ndarray:
        """Choose one arm per run: ``(n_runs,)`` int64."""
        raise NotImplementedError

    def probs(self, context=None) -> np.ndarray:
        """Probability of each arm at the next ``select``: ``(n_runs, n_arms)``, rows sum to 1."""
        raise NotImplementedError

    def update(self, arms, rewards, context=None) -> None:
        """Record that run r played ``arms[r]`` and received ``rewards[r]``.

        Args:
            arms: (n_runs,) integers in [0, n_arms).
            rewards: (n_runs,) finite floats; in [0, 1] for learners with ``unit_rewards``.
            context: ignored by context-free learners.
        """
        arms, rewards = self._check_feedback(arms, rewards)
        flat = self._row_offsets + arms  # index into the flattened (n_runs * n_arms) tables
        counts, means = self.counts.reshape(-1), self.means.reshape(-1)  # views
        n = counts[flat] + 1
        mean = means[flat]
        mean += (rewards - mean) / n
        # Unit rewards cannot overflow a mean; other finite rewards can (1e308, then -1e308).
        if not self.unit_rewards and not math.isfinite(mean.sum()) and not np.isfinite(mean).all():
            raise overflow_error("rewards", rewards)
        self._check_step(arms, rewards, context)
        self.t += 1
        counts[flat] = n
        means[flat] = mean
        self._flat, self._new_counts, self._new_means = flat, n, mean  # for _learn: the entries just updated
        self._learn(arms, rewards, context)

    def _learn(self, arms: np.ndarray, rewards: np.ndarray, context) -> None:
        """Algorithm-specific learning from one step (override)."""

    def _check_step(self, arms: np.ndarray, rewards: np.ndarray, context) -> None:
        """Raise before any state changes if this step would overflow the algorithm's statistics
        (override where they can overflow beyond the running means checked by :meth:`update`)."""

    def _check_feedback(self, arms, rewards) -> tuple[np.ndarray, np.ndarray]:
        """Checks of one step's feedback, once per call: shapes, integer arms in range, finite rewards
        (:func:`helpers.validation.check_finite_array`, the path every learner's feedback takes)."""
        arms = np.asarray(arms)
        try:
            rewards = np.asarray(rewards, dtype=float)
        except (TypeError, ValueError, OverflowError):
            rewards = check_finite_array("rewards", rewards)  # raises, naming what was given
        if arms.shape != (self.n_runs,) or rewards.shape != (self.n_runs,):
            raise ValueError(f"arms {arms.shape} and rewards {rewards.shape} must both have shape ({self.n_runs},)")
        if not math.isfinite(rewards.sum()):  # one cheap pass: NaN or an infinity makes the sum non-finite
            rewards = check_finite_array("rewards", rewards)  # raises for NaN and infinities; huge values pass
        if arms.dtype.kind not in "iu":
            raise TypeError(f"arms must be integers, got dtype {arms.dtype}")
        # One pass for both bounds: a negative arm reads as a huge unsigned one.
        if np.count_nonzero(arms.view(arms.dtype.str.replace("i", "u")) >= self.n_arms):
            raise ValueError(f"arms must lie in [0, {self.n_arms}), got values in [{arms.min()}, {arms.max()}]")
        if self.unit_rewards:
            low, high = rewards.min(), rewards.max()
            if low < 0.0 or high > 1.0:
                raise ValueError(f"{self.name} needs rewards in [0, 1], got values in [{low:g}, {high:g}]")
        return arms, rewards


# ---------------------------------------------------------------------------------------------
# Context-free learners


@dataclass(frozen=True)
class DecayingEpsilon:
    """The ε_n-greedy schedule ``ε_t = min(1, c K / (d² t))`` (Auer et al. 2002, section 3).

    ``d`` should be a lower bound on the gap between the best and the second-best arm and
    ``c > 0``; ``t`` is the 1-based round number. Call it with ``t`` to get ε_t. The paper's
    guarantee (Theorem 3: a suboptimal arm is chosen with probability of order c / (d² t))
    needs c > 5, and then ε_t = 1 (uniform play) for the first c K / d² rounds.
    """

    c: float
    d: float
    n_arms: int

    def __post_init__(self) -> None:
        _check_positive("c", self.c)
        _check_positive("d", self.d, upper=1.0)
        _check_int("n_arms", self.n_arms, 2)

    def __call__(self, t: int) -> float:
        return min(1.0, self.c * self.n_arms / (self.d**2 * max(t, 1)))


class EpsilonGreedy(BanditLearner):
    """ε-greedy: explore uniformly with probability ε_t, else play the best empirical mean.

    Hyperparameters:
        epsilon: a constant in [0, 1] (0 is the pure greedy learner), or a schedule: a
            callable ``t -> ε_t`` of the 1-based round number, such as :class:`DecayingEpsilon`.

    Unplayed arms have estimate 0, as in Sutton and Barto (2018, section 2.2); ties are broken
    at random. ``probs`` is exact: ``(1 - ε) / m`` on each of the m greedy arms plus ``ε / K``.
    """

    def __init__(self, n_arms: int, n_runs: int = 1, *, rng: RngLike = None,
                 epsilon: float | Callable[[int], float] = 0.1) -> None:
        if callable(epsilon):
            self.epsilon = epsilon
        else:
            self.epsilon = _check_positive("epsilon", epsilon, allow_zero=True, upper=1.0)
        super().__init__(n_arms, n_runs, rng=rng)

    @property
    def name(self) -> str:
        if callable(self.epsilon):
            return "ε-greedy (decaying)"
        return "greedy" if self.epsilon == 0 else f"ε-greedy (ε={self.epsilon:g})"

    def current_epsilon(self) -> float:
        """ε for the next round (round ``t + 1``)."""
        if not callable(self.epsilon):
            return self.epsilon
        eps = float(self.epsilon(self.t + 1))
        if not 0.0 <= eps <= 1.0:
            raise ValueError(f"the epsilon schedule returned {eps} at t={self.t + 1}; it must lie in [0, 1]")
        return eps

    def select(self, context=None) -> np.ndarray:
        eps = self.current_epsilon()
        arms = argmax_ties(self.means, self.rng)
        if eps > 0:
            explore = self.rng.random(self.n_runs) < eps
            n_explore = int(explore.sum())
            if n_explore:
                arms[explore] = self.rng.integers(self.n_arms, size=n_explore)
        return arms

    def probs(self, context=None) -> np.ndarray:
        eps = self.current_epsilon()
        return (1.0 - eps) * tie_share(self.means) + eps / self.n_arms


#: Tables of at least this many entries (n_runs * n_arms) are worth UCB1's arm-major copies.
_ARM_MAJOR_SIZE = 4096


class UCB1(BanditLearner):
    """UCB1 (Auer, Cesa-Bianchi and Fischer 2002, Figure 1), with a scaled bonus.

    Plays the arm maximising ``mean + alpha * sqrt(2 ln t / n)`` where t is the number of
    plays so far and n the arm's count; unplayed arms have an infinite index, so every arm is
    played once first (in random order). ``alpha = 1`` is the paper's UCB1; smaller values
    explore less. Rewards must lie in [0, 1] (Hoeffding's inequality needs bounded rewards).
    ``probs`` is one-hot on the argmax (split evenly between tied arms).
    """

    unit_rewards = True

    def __init__(self, n_arms: int, n_runs: int = 1, *, rng: RngLike = None, alpha: float = 1.0) -> None:
        self.alpha = _check_positive("alpha", alpha, allow_zero=True)
        super().__init__(n_arms, n_runs, rng=rng)

    @property
    def name(self) -> str:
        return "UCB1" if self.alpha == 1 else f"UCB1 (α={self.alpha:g})"

    def _reset_state(self) -> None:
        self._inv_sqrt_counts = np.full((self.n_runs, self.n_arms), np.inf)  # 1/sqrt(n), kept up to date
        # On large tables select works arm-major, from (n_arms, n_runs) copies of the means and
        # 1/sqrt(n) and buffers; on small ones numpy's per-call overhead dominates, and the extra
        # copies would cost more than they save (timed in bench/RESULTS.md).
        self._by_arm = self.n_runs * self.n_arms >= _ARM_MAJOR_SIZE
        by_arm = (self.n_arms, self.n_runs) if self._by_arm else (0, 0)
        self._means_by_arm = np.zeros(by_arm)
        self._inv_sqrt_by_arm = np.full(by_arm, np.inf)
        self._index_by_arm = np.empty(by_arm)
        self._is_max_by_arm = np.empty(by_arm, dtype=bool)

    def _learn(self, arms, rewards, context) -> None:
        inv_sqrt = 1.0 / np.sqrt(self._new_counts)
        self._inv_sqrt_counts.reshape(-1)[self._flat] = inv_sqrt
        if not self._by_arm:
            return
        by_arm = arms * self.n_runs + self._rows  # the same entries in the arm-major tables
        self._inv_sqrt_by_arm.reshape(-1)[by_arm] = inv_sqrt
        self._means_by_arm.reshape(-1)[by_arm] = self._new_means

    def index(self) -> np.ndarray:
        """The current UCB1 indices, (n_runs, n_arms); +inf for unplayed arms.

        Equal to :func:`ucb1_index` on ``(means, counts, t)``, computed from a cached
        ``1 / sqrt(counts)`` so that a step costs two passes over the (n_runs, n_arms) table.
        """
        scale = self.alpha * math.sqrt(2.0 * math.log(max(self.t, 1)))
        if scale > 0:
            return self.means + scale * self._inv_sqrt_counts
        return np.where(self.counts > 0, self.means, np.inf)

    def select(self, context=None) -> np.ndarray:
        if not self._by_arm:
            return argmax_ties(self.index(), self.rng)
        # argmax_ties(self.index(), rng), the same arms from the same draws, computed arm-major
        # in preallocated buffers (tests/test_bandits.py checks that the two agree).
        scale = self.alpha * math.sqrt(2.0 * math.log(max(self.t, 1)))
        index = self._index_by_arm
        if scale > 0:
            np.multiply(self._inv_sqrt_by_arm, scale, out=index)
            index += self._means_by_arm
        else:
            np.copyto(index, self._means_by_arm)
            index[self._inv_sqrt_by_arm == np.inf] = np.inf
        return argmax_ties_by_arm(index, self.rng, out=self._is_max_by_arm)

    def probs(self, context=None) -> np.ndarray:
        return tie_share(self.index())


class KLUCB(BanditLearner):
    """KL-UCB for Bernoulli rewards (Garivier and Cappé 2011; Lattimore and Szepesvári 2020, ch. 10).

    Plays the arm maximising the largest mean q still plausible after n plays with empirical
    mean p: ``n kl(p, q) <= ln t + c ln ln t``. With ``c = 3`` its regret matches the Lai-Robbins
    lower bound asymptotically (Garivier and Cappé 2011, its finite-time regret bound and the
    corollary for Bernoulli rewards); the default ``c = 0`` is the
    authors' recommendation in practice. Unplayed arms have an infinite index. Rewards must lie in [0, 1].
    ``probs`` is one-hot on the argmax (split evenly between tied arms).
    """

    unit_rewards = True

    def __init__(self, n_arms: int, n_runs: int = 1, *, rng: RngLike = None, c: float = 0.0) -> None:
        self.c = _check_positive("c", c, allow_zero=True)
        super().__init__(n_arms, n_runs, rng=rng)

    @property
    def name(self) -> str:
        return "KL-UCB" if self.c == 0 else f"KL-UCB (c={self.c:g})"

    def _reset_state(self) -> None:
        shape = (self.n_runs, self.n_arms)
        self._q = np.zeros(shape)  # the last index of played arms (finite)
        self._neg_entropy = np.zeros(shape)  # p ln p + (1 - p) ln(1 - p) of each arm's mean
        self._inv_counts = np.zeros(shape)  # 1 / n, 0 for unplayed arms
        self._stale = np.zeros(shape, dtype=bool)  # arms whose mean and count changed
        self._index_at: int | None = None
        self._index = np.full(shape, np.inf)

    def _learn(self, arms, rewards, context) -> None:
        flat = self._row_offsets + arms
        p = np.minimum(self.means.reshape(-1)[flat], 1.0 - 1e-12)
        self._neg_entropy.reshape(-1)[flat] = _neg_entropy(p)
        self._inv_counts.reshape(-1)[flat] = 1.0 / self.counts.reshape(-1)[flat]
        self._stale.reshape(-1)[flat] = True

    def index(self) -> np.ndarray:
        """The current KL-UCB indices, (n_runs, n_arms); +inf for unplayed arms.

        Equal to :func:`klucb_index` on ``(means, counts, t)`` (to about 1e-12), but computed
        incrementally: arms whose mean changed restart Newton's method from an upper bound;
        the others move only because ln t grew, and start from their previous index.
        """
        if self._index_at == self.t:
            return self._index
        p = np.minimum(self.means, 1.0 - 1e-12)
        budget = _klucb_budget(self.t, self.c)
        d = budget * self._inv_counts
        h, q = self._neg_entropy, self._q
        q_flat, p_flat, d_flat, h_flat = flat = [a.reshape(-1) for a in (q, p, d, h)]
        with np.errstate(divide="ignore", invalid="ignore"):
            # Arms just played keep their previous index as a start unless it is not above their
            # new mean (first plays, or a click that lifted the mean): then an upper bound.
            stale = np.flatnonzero(self._stale)
            start = q_flat[stale]
            redo = ~(start > p_flat[stale])
            if redo.any():
                at = stale[redo]
                start[redo] = _klucb_upper(p_flat[at], d_flat[at], h_flat[at])
                q_flat[stale] = start
            if budget > 0:  # with budget 0 (t = 1) the index is the mean: restart those later
                self._stale.reshape(-1)[stale] = False
            # One Newton step for every arm: from below the root it lands at or above it (f is
            # convex), from above it moves down; then iterate where it has not converged.
            step = _klucb_newton(q, p, d, h)
            np.minimum(np.fmax(q - step, p), 1.0 - 1e-15, out=q)  # fmax: a nan step (0/0) keeps p
            _klucb_descend(*flat, np.flatnonzero(np.abs(step) >= 1e-12), 1e-12)
        self._index = np.where(self.counts > 0, np.where(self.means >= 1.0, 1.0, q), np.inf)
        self._index_at = self.t
        return self._index

    def select(self, context=None) -> np.ndarray:
        return argmax_ties(self.index(), self.rng)

    def probs(self, context=None) -> np.ndarray:
        return tie_share(self.index())


class _SamplingLearner(BanditLearner):
    """Thompson-style learners: act on one posterior draw per run; ``probs`` by Monte Carlo."""

    def sample(self, size: int | None = None) -> np.ndarray:
        """Posterior draws of every arm's mean: (n_runs, n_arms), or (size, n_runs, n_arms)."""
        raise NotImplementedError

    def select(self, context=None) -> np.ndarray:
        return self.sample().argmax(axis=1)

    def probs(self, context=None, n_samples: int = 1000) -> np.ndarray:
        """Monte-Carlo estimate of P(arm is played next): the share of ``n_samples`` posterior
        draws in which each arm is the best. Standard error at most 0.5 / sqrt(n_samples).
        Draws from ``self.rng``, so calling it changes later selections."""
        n_samples = _check_int("n_samples", n_samples, 1)
        wins = np.zeros((self.n_runs, self.n_arms))
        chunk = max(1, 200_000 // (self.n_runs * self.n_arms))
        done = 0
        while done < n_samples:
            size = min(chunk, n_samples - done)
            best = self.sample(size).argmax(axis=2)  # (size, n_runs)
            for r_best in best:
                wins[self._rows, r_best] += 1
            done += size
        return wins / n_samples


class BernoulliThompson(_SamplingLearner):
    """Thompson sampling with Beta priors for Bernoulli rewards (Agrawal and Goyal 2012).

    Each arm's click rate has a Beta(a, b) posterior, starting from Beta(prior_a, prior_b)
    (uniform by default); a reward of 1 adds one to a, a reward of 0 one to b. Rewards in
    (0, 1) are first turned into a Bernoulli draw with that success probability (Agrawal and
    Goyal 2012, Algorithm 2), which keeps the posterior conjugate.

    Attributes: ``alpha`` and ``beta``, (n_runs, n_arms) posterior parameters.
    """

    unit_rewards = True

    def __init__(self, n_arms: int, n_runs: int = 1, *, rng: RngLike = None,
                 prior_a: float = 1.0, prior_b: float = 1.0) -> None:
        self.prior_a = _check_positive("prior_a", prior_a)
        self.prior_b = _check_positive("prior_b", prior_b)
        super().__init__(n_arms, n_runs, rng=rng)

    @property
    def name(self) -> str:
        return "Thompson (Beta)"

    def _reset_state(self) -> None:
        self.alpha = np.full((self.n_runs, self.n_arms), self.prior_a)
        self.beta = np.full((self.n_runs, self.n_arms), self.prior_b)

    def sample(self, size: int | None = None) -> np.ndarray:
        if size is None:
            return self.rng.beta(self.alpha, self.beta)
        shape = (size, self.n_runs, self.n_arms)
        return self.rng.beta(np.broadcast_to(self.alpha, shape), np.broadcast_to(self.beta, shape))

    def _learn(self, arms, rewards, context) -> None:
        binary = (rewards == 0.0) | (rewards == 1.0)
        if not binary.all():
            rewards = np.where(binary, rewards, self.rng.random(self.n_runs) < rewards).astype(float)
        idx = (self._rows, arms)
        self.alpha[idx] += rewards
        self.beta[idx] += 1.0 - rewards


class GaussianThompson(_SamplingLearner):
    """Thompson sampling for Gaussian rewards with known noise ``sigma`` and a Normal prior.

    With prior N(prior_mean, prior_sd²) on an arm's mean and n rewards summing to s, the
    posterior is Normal with precision ``1/prior_sd² + n/sigma²`` and mean
    ``(prior_mean/prior_sd² + s/sigma²) / precision`` (Lattimore and Szepesvári 2020, ch. 36).

    Attributes: ``post_mean`` and ``post_sd``, (n_runs, n_arms).
    """

    def __init__(self, n_arms: int, n_runs: int = 1, *, rng: RngLike = None, sigma: float = 1.0,
                 prior_mean: float = 0.0, prior_sd: float = 1.0) -> None:
        self.sigma = _check_positive("sigma", sigma)
        self.prior_sd = _check_positive("prior_sd", prior_sd)
        if not math.isfinite(float(prior_mean)):
            raise ValueError(f"prior_mean must be finite, got {prior_mean}")
        self.prior_mean = float(prior_mean)
        super().__init__(n_arms, n_runs, rng=rng)

    @property
    def name(self) -> str:
        return "Thompson (Gaussian)"

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        precision = 1.0 / self.prior_sd**2 + self.counts / self.sigma**2
        mean = (self.prior_mean / self.prior_sd**2 + self.counts * self.means / self.sigma**2) / precision
        return mean, 1.0 / np.sqrt(precision)

    @property
    def post_mean(self) -> np.ndarray:
        """Posterior mean of each arm's expected reward, (n_runs, n_arms)."""
        return self._posterior()[0]

    @property
    def post_sd(self) -> np.ndarray:
        """Posterior standard deviation of each arm's expected reward, (n_runs, n_arms)."""
        return self._posterior()[1]

    def sample(self, size: int | None = None) -> np.ndarray:
        mean, sd = self._posterior()
        shape = (self.n_runs, self.n_arms) if size is None else (size, self.n_runs, self.n_arms)
        return mean + sd * self.rng.standard_normal(shape)


class EXP3(BanditLearner):
    """EXP3 for adversarial bandits (Auer, Cesa-Bianchi, Freund and Schapire 2002, Figure 1).

    Plays arm i with probability ``p_i = (1 - gamma) w_i / sum_j w_j + gamma / K``. After
    playing arm a with reward x in [0, 1], the importance-weighted estimate ``x / p_a`` (an
    unbiased estimate of every arm's reward, zero for arms not played) updates
    ``w_a <- w_a exp(gamma * x / (p_a K))``. Weights are kept as logarithms so they cannot
    overflow. ``probs`` is exact.

    Hyperparameters: ``gamma`` in (0, 1]; :meth:`tuned_gamma` gives the paper's choice for a
    known horizon (Corollary 3.2).
    """

    unit_rewards = True

    def __init__(self, n_arms: int, n_runs: int = 1, *, rng: RngLike = None, gamma: float = 0.1) -> None:
        self.gamma = _check_positive("gamma", gamma, upper=1.0)
        super().__init__(n_arms, n_runs, rng=rng)

    @staticmethod
    def tuned_gamma(n_arms: int, horizon: int) -> float:
        """``min(1, sqrt(K ln K / ((e - 1) g)))`` with g = horizon, an upper bound on the best
        arm's total reward when rewards lie in [0, 1] (Auer et al. 2002, Corollary 3.2)."""
        n_arms = _check_int("n_arms", n_arms, 2)
        horizon = _check_int("horizon", horizon, 1)
        return min(1.0, math.sqrt(n_arms * math.log(n_arms) / ((math.e - 1.0) * horizon)))

    @property
    def name(self) -> str:
        return f"EXP3 (γ={self.gamma:.2g})"

    def _reset_state(self) -> None:
        self.log_weights = np.zeros((self.n_runs, self.n_arms))  # shifted so each row's max is 0
        self._probs: np.ndarray | None = None

    def probs(self, context=None) -> np.ndarray:
        if self._probs is None:
            weights = np.exp(self.log_weights)  # no overflow: the largest log-weight is 0
            self._probs = (1.0 - self.gamma) * weights / (weights @ np.ones(self.n_arms))[:, None]
            self._probs += self.gamma / self.n_arms
        return self._probs.copy()

    def select(self, context=None) -> np.ndarray:
        return sample_categorical(self.probs(), self.rng)

    def _learn(self, arms, rewards, context) -> None:
        idx = (self._rows, arms)
        estimate = rewards / self.probs()[idx]  # importance weighting by the probability played
        new = self.log_weights[idx] + self.gamma * estimate / self.n_arms
        self.log_weights[idx] = new
        self.log_weights -= np.maximum(new, 0.0)[:, None]  # only the played arm grew
        self._probs = None


class GradientBandit(BanditLearner):
    """Gradient bandit: softmax policy over preferences H, updated by stochastic gradient ascent
    on the expected reward (Sutton and Barto 2018, section 2.8).

    ``pi = softmax(H)``; after playing a with reward x:
    ``H <- H + step_size * (x - baseline) * (onehot(a) - pi)``, the REINFORCE estimate
    (Williams 1992) since d log pi(a) / dH_b = 1[a = b] - pi(b). The baseline is the average of
    the rewards received before this step (the first step uses its own reward); with
    ``baseline=False`` it is 0. ``probs`` is exact and always a distribution.

    Attributes: ``preferences`` (n_runs, n_arms), summing to 0 in each run (each update adds a
    vector that sums to 0); ``baseline`` (n_runs,).
    """

    def __init__(self, n_arms: int, n_runs: int = 1, *, rng: RngLike = None, step_size: float = 0.1,
                 baseline: bool = True) -> None:
        self.step_size = _check_positive("step_size", step_size)
        self.use_baseline = bool(baseline)
        super().__init__(n_arms, n_runs, rng=rng)

    @property
    def name(self) -> str:
        suffix = "" if self.use_baseline else ", no baseline"
        return f"gradient bandit (α={self.step_size:g}{suffix})"

    def _reset_state(self) -> None:
        self.preferences = np.zeros((self.n_runs, self.n_arms))
        self.baseline = np.zeros(self.n_runs)
        self._probs: np.ndarray | None = None

    def probs(self, context=None) -> np.ndarray:
        if self._probs is None:
            self._probs = softmax(self.preferences)
        return self._probs.copy()

    def select(self, context=None) -> np.ndarray:
        return sample_categorical(self.probs(), self.rng)

    def _learn(self, arms, rewards, context) -> None:
        # self.t already counts this step; self.baseline averages the t - 1 earlier rewards.
        if self.use_baseline:
            base = rewards if self.t == 1 else self.baseline
        else:
            base = 0.0
        advantage = self.step_size * (rewards - base)
        step = self.probs()
        step *= -advantage[:, None]
        step[self._rows, arms] += advantage  # advantage * (onehot(a) - pi)
        self.preferences += step
        self.baseline += (rewards - self.baseline) / self.t
        self._probs = None


#: The context-free learners, by the names the notebooks use.
CONTEXT_FREE = {
    "epsilon-greedy": EpsilonGreedy,
    "UCB1": UCB1,
    "KL-UCB": KLUCB,
    "Thompson (Beta)": BernoulliThompson,
    "Thompson (Gaussian)": GaussianThompson,
    "EXP3": EXP3,
    "gradient bandit": GradientBandit,
}
