"""Bandit environments vectorised over runs, and the loop that lets a learner play one.

An environment holds ``n_runs`` independent copies of one bandit problem. ``pull(arms)`` takes
one arm per run, ``(n_runs,)``, and returns one reward per run. :func:`simulate` plays a
learner from :mod:`helpers.bandits` against an environment for ``horizon`` rounds and returns
a :class:`Trace` of arms, rewards and pseudo-regret per round and run.

Pseudo-regret of round t in run r is ``best_mean - means[arms[t, r]]``: what the learner loses
in expectation by its choice, free of the reward noise (Lattimore and Szepesvári 2020, section 4.5).

The replay section (notebook 04): :class:`ReplayEnv` replays real visits whose reward under every
arm (recommendation strategy) is known from the real baskets (:func:`slate_rewards`,
:func:`helpers.visits.basket_values`); :func:`replay` plays a learner on it and returns a :class:`ReplayTrace`
whose regrets against the best fixed arm and the per-visit oracle are exact;
:func:`replay_summary` tabulates traces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from helpers.bandits import BanditLearner, RngLike, make_rng
from helpers.validation import check_int as _check_int

# ---------------------------------------------------------------------------------------------
# Stochastic bandits


class _StochasticBandit:
    """Shared part of the stochastic environments: fixed arm means, many runs."""

    def __init__(self, means, n_runs: int = 1, *, rng: RngLike = None) -> None:
        means = np.asarray(means, dtype=float)
        if means.ndim != 1 or means.size < 2:
            raise ValueError(f"means must be a 1-D array of at least 2 arm means, got shape {means.shape}")
        if not np.all(np.isfinite(means)):
            raise ValueError("means must be finite")
        self.means = means
        self.means.flags.writeable = False
        self.n_runs = _check_int("n_runs", n_runs, 1)
        self.rng = make_rng(rng)

    @property
    def n_arms(self) -> int:
        """K, the number of arms."""
        return self.means.size

    @property
    def best_mean(self) -> float:
        """The largest arm mean, mu*."""
        return float(self.means.max())

    @property
    def best_arm(self) -> int:
        """Index of the best arm (the first one if several tie)."""
        return int(self.means.argmax())

    @property
    def gaps(self) -> np.ndarray:
        """Suboptimality gaps ``best_mean - means``, (n_arms,)."""
        return self.best_mean - self.means

    def _check_arms(self, arms) -> np.ndarray:
        arms = np.asarray(arms)
        if arms.shape != (self.n_runs,):
            raise ValueError(f"arms must have shape ({self.n_runs},), got {arms.shape}")
        if arms.dtype.kind not in "iu":
            raise TypeError(f"arms must be integers, got dtype {arms.dtype}")
        if arms.min() < 0 or arms.max() >= self.n_arms:
            raise ValueError(f"arms must lie in [0, {self.n_arms}), got values in [{arms.min()}, {arms.max()}]")
        return arms

    def regret(self, arms) -> np.ndarray:
        """Pseudo-regret of playing ``arms`` (n_runs,): ``best_mean - means[arms]``, (n_runs,)."""
        return self.gaps[self._check_arms(arms)]

    def pull(self, arms) -> np.ndarray:
        """Play ``arms`` (n_runs,) and return the rewards (n_runs,) float."""
        return self._draw(self._check_arms(arms))

    def _draw(self, arms: np.ndarray) -> np.ndarray:
        """Rewards for valid ``arms`` (n_runs,) int (not re-checked)."""
        raise NotImplementedError


class BernoulliBandit(_StochasticBandit):
    """K arms with Bernoulli rewards: arm a pays 1 with probability ``means[a]``, else 0.

    The model of a click (1) or no click (0) on a shown item or strategy.

    Args:
        means: (n_arms,) click probabilities in [0, 1].
        n_runs: independent copies pulled together.
        rng: a ``numpy.random.Generator`` or a seed.
    """

    def __init__(self, means, n_runs: int = 1, *, rng: RngLike = None) -> None:
        super().__init__(means, n_runs, rng=rng)
        if np.any((self.means < 0) | (self.means > 1)):
            raise ValueError(f"Bernoulli means must lie in [0, 1], got {self.means}")

    def __repr__(self) -> str:
        return f"BernoulliBandit(means={np.array2string(self.means, precision=4)}, n_runs={self.n_runs})"

    def _draw(self, arms: np.ndarray) -> np.ndarray:
        return (self.rng.random(self.n_runs) < self.means[arms]).astype(float)


class GaussianBandit(_StochasticBandit):
    """K arms with Gaussian rewards: arm a pays ``means[a] + sigma[a] * N(0, 1)``.

    Args:
        means: (n_arms,) expected rewards.
        sigma: noise standard deviation, a positive scalar or (n_arms,).
        n_runs: independent copies pulled together.
        rng: a ``numpy.random.Generator`` or a seed.
    """

    def __init__(self, means, sigma=1.0, n_runs: int = 1, *, rng: RngLike = None) -> None:
        super().__init__(means, n_runs, rng=rng)
        sigma = np.broadcast_to(np.asarray(sigma, dtype=float), self.means.shape).copy()
        if not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
            raise ValueError(f"sigma must be positive and finite, got {sigma}")
        self.sigma = sigma

    def __repr__(self) -> str:
        return f"GaussianBandit(means={np.array2string(self.means, precision=4)}, n_runs={self.n_runs})"

    def _draw(self, arms: np.ndarray) -> np.ndarray:
        return self.means[arms] + self.sigma[arms] * self.rng.standard_normal(self.n_runs)


# ---------------------------------------------------------------------------------------------
# Simulation


@dataclass
class Trace:
    """What happened when a learner played an environment.

    Attributes:
        arms: (horizon, n_runs) int32, the arm played at each round in each run.
        rewards: (horizon, n_runs) float64, the reward received.
        regret: (horizon, n_runs) float64, the per-round pseudo-regret ``best_mean - means[arm]``.
        name: the learner's label.
    """

    arms: np.ndarray
    rewards: np.ndarray
    regret: np.ndarray
    name: str = field(default="")

    @property
    def horizon(self) -> int:
        """T, the number of rounds."""
        return self.arms.shape[0]

    @property
    def n_runs(self) -> int:
        """R, the number of runs."""
        return self.arms.shape[1]

    @property
    def cumulative_regret(self) -> np.ndarray:
        """(horizon, n_runs): pseudo-regret summed over rounds 1..t, for t = 1..horizon."""
        return np.cumsum(self.regret, axis=0)


def simulate(learner: BanditLearner, env: _StochasticBandit, horizon: int, progress: bool = False) -> Trace:
    """Let ``learner`` play ``env`` for ``horizon`` rounds; all runs step together.

    Each round: ``arms = learner.select()``, ``rewards = env.pull(arms)``,
    ``learner.update(arms, rewards)``. The learner is not reset first (call ``reset()`` for a
    fresh start). ``progress`` shows a tqdm bar. Returns a :class:`Trace`.
    """
    horizon = _check_int("horizon", horizon, 1)
    if learner.n_runs != env.n_runs:
        raise ValueError(f"learner has n_runs={learner.n_runs} but the environment has {env.n_runs}")
    if learner.n_arms != env.n_arms:
        raise ValueError(f"learner has n_arms={learner.n_arms} but the environment has {env.n_arms}")
    arms = np.empty((horizon, env.n_runs), dtype=np.int32)
    rewards = np.empty((horizon, env.n_runs))
    rounds = range(horizon)
    if progress:
        from tqdm.auto import tqdm

        rounds = tqdm(rounds, desc=learner.name, mininterval=0.5, leave=False)
    for t in rounds:
        chosen = learner.select()
        reward = env._draw(chosen)  # unchecked: update() below rejects invalid arms
        learner.update(chosen, reward)
        arms[t] = chosen
        rewards[t] = reward
    return Trace(arms=arms, rewards=rewards, regret=env.gaps[arms], name=learner.name)


# ---------------------------------------------------------------------------------------------
# Replay environment over real visits (notebook 04)

REPLAY_ORDERS = ("time", "daily", "shuffle")


def slate_rewards(slates, targets, values=None) -> tuple[np.ndarray, np.ndarray]:
    """Hits of each strategy's slate among each visit's target items, and the value of those hits.

    Args:
        slates: (n_visits, n_strategies, k) item ids, or a sequence of n_strategies arrays of
            shape (n_visits, k) (the output of each strategy's bulk ``recommend``); -1 marks an
            empty slot.
        targets: n_visits arrays of the item ids bought in each visit that count as a success
            (for the discovery task: the items new to the customer), each without duplicates.
        values: None, or n_visits arrays aligned with ``targets``: the value of each target
            item (for instance its revenue in the visit, price times quantity, in GBP).

    Returns:
        ``(hits, value)``, each (n_visits, n_strategies) float64: the number of slate items that
        are targets, and the summed value of those items (equal to ``hits`` when ``values`` is None).
    """
    if isinstance(slates, np.ndarray):
        stacked = slates
    else:
        stacked = np.stack([np.asarray(s) for s in slates], axis=1)
    if stacked.ndim != 3:
        raise ValueError(f"slates must have shape (n_visits, n_strategies, k), got {stacked.shape}")
    if stacked.dtype.kind not in "iu":
        raise TypeError(f"slates must hold integer item ids, got dtype {stacked.dtype}")
    n_visits, n_strategies, k = stacked.shape
    if len(targets) != n_visits:
        raise ValueError(f"targets has {len(targets)} visits, slates {n_visits}")
    if values is not None and len(values) != n_visits:
        raise ValueError(f"values has {len(values)} visits, slates {n_visits}")
    lengths = np.fromiter((len(t) for t in targets), dtype=np.int64, count=n_visits)
    target_items = np.concatenate([np.asarray(t, dtype=np.int64) for t in targets]) if n_visits else np.zeros(0, int)
    if values is None:
        target_values = np.ones(len(target_items))
    else:
        if any(len(v) != n for v, n in zip(values, lengths, strict=True)):
            raise ValueError("each visit's values must be aligned with its targets (same length)")
        target_values = np.concatenate([np.asarray(v, dtype=float) for v in values]) if n_visits else np.zeros(0)
    # Key each (visit, item) pair as one integer and look the slate's pairs up in the sorted targets.
    n_keys = int(max(stacked.max(initial=0), target_items.max(initial=0))) + 2
    target_keys = np.repeat(np.arange(n_visits), lengths) * n_keys + target_items
    order = np.argsort(target_keys, kind="stable")
    target_keys, target_values = target_keys[order], target_values[order]
    if np.any(target_keys[1:] == target_keys[:-1]):
        raise ValueError("a visit lists the same target item twice")
    slate_keys = np.arange(n_visits)[:, None, None] * n_keys + np.where(stacked >= 0, stacked, n_keys - 1)
    pos = np.clip(np.searchsorted(target_keys, slate_keys), 0, max(len(target_keys) - 1, 0))
    if len(target_keys):
        found = (target_keys[pos] == slate_keys) & (stacked >= 0)
        hit_value = np.where(found, target_values[pos], 0.0)
    else:
        found = np.zeros(stacked.shape, dtype=bool)
        hit_value = np.zeros(stacked.shape)
    return found.sum(axis=2).astype(float), hit_value.sum(axis=2)


@dataclass
class ReplayTrace(Trace):
    """A :class:`Trace` of a learner replayed on logged visits, where regret is exact.

    Attributes (beyond ``arms``, ``rewards``, ``name``):
        regret: (horizon, n_runs) ``reward of the best fixed arm in hindsight - reward received``
            on the visit of that step, the best fixed arm being the one with the largest total
            over the visits this run replayed (a step's value can be negative; the sum is the
            regret against the best fixed strategy).
        oracle_regret: (horizon, n_runs) ``best reward of any arm on that visit - reward
            received``, never negative: the regret against the per-visit oracle.
        visits: (horizon, n_runs) the index of the visit replayed at each step in each run.
    """

    oracle_regret: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    visits: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))

    @property
    def cumulative_reward(self) -> np.ndarray:
        """(horizon, n_runs): reward summed over steps 1..t."""
        return np.cumsum(self.rewards, axis=0)

    @property
    def cumulative_oracle_regret(self) -> np.ndarray:
        """(horizon, n_runs): regret against the per-visit oracle, summed over steps 1..t."""
        return np.cumsum(self.oracle_regret, axis=0)


class ReplayEnv:
    """Replay of real visits in which the reward of *every* arm is known, so regret is exact.

    Each visit is one round. The arms are recommendation strategies; ``rewards[v, a]`` is what
    strategy a would have earned on visit v (for instance the number of its top-10 slate's items
    the customer bought, computed offline from the real basket by :func:`slate_rewards`). A
    learner sees only the reward of the arm it chose, as it would in production, but because the
    whole matrix is known we can say exactly how much it lost against the best fixed strategy in
    hindsight and against the per-visit oracle (Li, Chu, Langford and Wang 2011 replay logged
    data by keeping only the rounds where the logged arm matches; here every arm is scored on
    every visit, so no round is thrown away).

    ``n_runs`` copies are replayed together. ``order`` says which visit each run sees at step t:
    ``"time"``: all runs see the visits in time order (bands then show only the learners' own
    randomness); ``"daily"``: time order by day, visits shuffled within each day independently per
    run (keeps the seasonal trend, varies the order); ``"shuffle"``: an independent random order per
    run (assumes the visits are exchangeable).

    Args:
        rewards: (n_visits, n_arms) finite rewards, visits in time order.
        contexts: None, or (n_visits, n_features) the context of each visit.
        n_runs: R, the number of runs replayed together.
        order: one of ``"time"``, ``"daily"``, ``"shuffle"``.
        days: (n_visits,) the day of each visit (any sortable labels), needed by ``"daily"``.
        arm_names: optional names of the arms.
        rng: a ``numpy.random.Generator`` or a seed for the orders.

    Attributes: ``order`` (n_visits, n_runs) int64 visit index of each step and run, drawn at
    construction and by :meth:`reorder` (kept by :meth:`reset`); ``best_arm`` (the best fixed arm in
    hindsight over all visits); ``totals`` (n_arms,).
    """

    def __init__(self, rewards, contexts=None, n_runs: int = 1, *, order: str = "time", days=None,
                 arm_names=None, rng: RngLike = None) -> None:
        rewards = np.asarray(rewards, dtype=float)
        if rewards.ndim != 2 or rewards.shape[0] < 1 or rewards.shape[1] < 2:
            raise ValueError(f"rewards must have shape (n_visits, n_arms) with n_arms >= 2, got {rewards.shape}")
        if not np.all(np.isfinite(rewards)):
            raise ValueError("rewards must be finite")
        self.rewards = rewards
        self.rewards.flags.writeable = False
        if contexts is not None:
            contexts = np.asarray(contexts, dtype=float)
            if contexts.ndim != 2 or contexts.shape[0] != rewards.shape[0]:
                raise ValueError(f"contexts must have shape ({rewards.shape[0]}, n_features), got {contexts.shape}")
            if not np.all(np.isfinite(contexts)):
                raise ValueError("contexts must be finite")
            contexts.flags.writeable = False
        self.contexts = contexts
        self.n_runs = _check_int("n_runs", n_runs, 1)
        if order not in REPLAY_ORDERS:
            raise ValueError(f"order must be one of {REPLAY_ORDERS}, got {order!r}")
        self.order_kind = order
        if order == "daily":
            if days is None:
                raise ValueError("order='daily' needs the day of each visit (days=...)")
            days = np.asarray(days)
            if days.shape != (self.n_visits,):
                raise ValueError(f"days must have shape ({self.n_visits},), got {days.shape}")
            if np.any(days[1:] < days[:-1]):
                raise ValueError("days must be non-decreasing: the visits must be in time order")
        self.days = days
        if arm_names is not None:
            arm_names = [str(name) for name in arm_names]
            if len(arm_names) != self.n_arms:
                raise ValueError(f"arm_names has {len(arm_names)} names for {self.n_arms} arms")
        self.arm_names = arm_names
        self.rng = make_rng(rng)
        self.reorder()

    def __repr__(self) -> str:
        return (f"ReplayEnv(n_visits={self.n_visits}, n_arms={self.n_arms}, n_features={self.n_features}, "
                f"n_runs={self.n_runs}, order={self.order_kind!r})")

    @property
    def n_visits(self) -> int:
        """Number of visits (rounds available)."""
        return self.rewards.shape[0]

    @property
    def n_arms(self) -> int:
        """Number of arms (strategies)."""
        return self.rewards.shape[1]

    @property
    def n_features(self) -> int:
        """Length of the context vectors (0 without contexts)."""
        return 0 if self.contexts is None else self.contexts.shape[1]

    @property
    def totals(self) -> np.ndarray:
        """Total reward of each fixed arm over all visits, (n_arms,)."""
        return self.rewards.sum(axis=0)

    @property
    def best_arm(self) -> int:
        """The best fixed arm in hindsight (largest total; the first one if several tie)."""
        return int(np.argmax(self.totals))

    @property
    def oracle_total(self) -> float:
        """Total reward of the per-visit oracle, ``sum_v max_a rewards[v, a]``."""
        return float(self.rewards.max(axis=1).sum())

    def reset(self) -> None:
        """Go back to step 0, keeping the visit orders (every learner replayed on this environment
        sees the same orders: common random numbers make comparisons between learners sharper)."""
        self.t = 0

    def reorder(self) -> None:
        """Draw a fresh visit order for every run (:attr:`order`) and go back to step 0."""
        n, r = self.n_visits, self.n_runs
        if self.order_kind == "time":
            order = np.broadcast_to(np.arange(n)[:, None], (n, r))
        elif self.order_kind == "shuffle":
            order = np.argsort(self.rng.random((n, r)), axis=0)
        else:  # sort by (day, random key): visits shuffled within each day
            _, day_rank = np.unique(self.days, return_inverse=True)
            keys = day_rank[:, None] + self.rng.random((n, r))
            order = np.argsort(keys, axis=0, kind="stable")
        self.order = np.ascontiguousarray(order, dtype=np.int64)
        self.t = 0

    def with_contexts(self, contexts) -> ReplayEnv:
        """The same rewards, days and visit orders with other ``contexts`` (n_visits, n_features), or
        None: an ablation that drops features replays the very same visit orders."""
        twin = ReplayEnv(self.rewards, contexts, self.n_runs, order=self.order_kind, days=self.days,
                         arm_names=self.arm_names, rng=self.rng)
        twin.order = self.order.copy()
        return twin

    def visits_at(self, t: int) -> np.ndarray:
        """The visit replayed at step t in each run, (n_runs,)."""
        return self.order[t]

    def context(self) -> np.ndarray | None:
        """The context of the current step's visit in each run, (n_runs, n_features), or None."""
        if self.contexts is None:
            return None
        return self.contexts[self.order[self.t]]

    def pull(self, arms) -> np.ndarray:
        """Play ``arms`` (n_runs,) on the current visits; return their rewards (n_runs,) and advance."""
        if self.t >= self.n_visits:
            raise RuntimeError("every visit has been replayed; call reset() to start again")
        arms = np.asarray(arms)
        if arms.shape != (self.n_runs,) or arms.dtype.kind not in "iu":
            raise ValueError(f"arms must be integers of shape ({self.n_runs},), got {arms.dtype} {arms.shape}")
        if arms.min() < 0 or arms.max() >= self.n_arms:
            raise ValueError(f"arms must lie in [0, {self.n_arms}), got values in [{arms.min()}, {arms.max()}]")
        rewards = self.rewards[self.order[self.t], arms]
        self.t += 1
        return rewards

    def fixed_rewards(self, arm: int, horizon: int | None = None) -> np.ndarray:
        """Rewards of always playing ``arm``, in each run's order: (horizon, n_runs)."""
        horizon = self.n_visits if horizon is None else _check_int("horizon", horizon, 1)
        if not 0 <= int(arm) < self.n_arms:
            raise ValueError(f"arm must lie in [0, {self.n_arms}), got {arm}")
        return self.rewards[self.order[:horizon], int(arm)]

    def oracle_rewards(self, horizon: int | None = None) -> np.ndarray:
        """Rewards of the per-visit oracle (best arm on each visit), (horizon, n_runs)."""
        horizon = self.n_visits if horizon is None else _check_int("horizon", horizon, 1)
        return self.rewards.max(axis=1)[self.order[:horizon]]


def replay(learner: BanditLearner, env: ReplayEnv, horizon: int | None = None, *, progress: bool = False,
           reset: bool = True) -> ReplayTrace:
    """Let ``learner`` choose an arm on each visit of ``env``; all runs step together.

    Each step: ``x = env.context()``, ``arms = learner.select(x)``, ``rewards = env.pull(arms)``,
    ``learner.update(arms, rewards, x)``. Context-free learners ignore ``x``. With ``reset``
    (default) the learner and the environment are reset first: every learner replayed on one
    environment sees the same visit orders (call ``env.reorder()`` for new ones).

    Args:
        learner: any learner of :mod:`helpers.bandits` or :mod:`helpers.contextual` with the
            environment's ``n_arms`` and ``n_runs``.
        env: a :class:`ReplayEnv`.
        horizon: number of visits to replay (default: all).
        progress: show a tqdm bar.

    Returns a :class:`ReplayTrace` whose regrets are exact (no expectation is involved: every
    arm's reward on every visit is known).
    """
    if learner.n_runs != env.n_runs:
        raise ValueError(f"learner has n_runs={learner.n_runs} but the environment has {env.n_runs}")
    if learner.n_arms != env.n_arms:
        raise ValueError(f"learner has n_arms={learner.n_arms} but the environment has {env.n_arms}")
    n_features = getattr(learner, "n_features", None)
    if n_features is not None and n_features != env.n_features:
        raise ValueError(f"learner expects {n_features} context features, the environment has {env.n_features}")
    if reset:
        learner.reset()
        env.reset()
    start = env.t
    horizon = env.n_visits - start if horizon is None else _check_int("horizon", horizon, 1)
    if start + horizon > env.n_visits:
        raise ValueError(f"horizon {horizon} exceeds the {env.n_visits - start} visits left")
    arms = np.empty((horizon, env.n_runs), dtype=np.int64)
    rewards = np.empty((horizon, env.n_runs))
    steps = range(horizon)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc=learner.name, mininterval=0.5, leave=False)
    for t in steps:
        x = env.context()
        chosen = learner.select(x)
        reward = env.pull(chosen)
        learner.update(chosen, reward, x)
        arms[t] = chosen
        rewards[t] = reward
    visits = env.order[start:start + horizon]
    block = env.rewards[visits]  # (horizon, n_runs, n_arms): every arm's reward on the visits played
    best_arm = block.sum(axis=0).argmax(axis=1)  # best fixed arm in hindsight over these visits, per run
    best = block[:, np.arange(env.n_runs), best_arm]
    oracle = block.max(axis=2)
    return ReplayTrace(arms=arms, rewards=rewards, regret=best - rewards, name=learner.name,
                       oracle_regret=oracle - rewards, visits=visits.copy())


def replay_summary(traces, level: float = 0.95):
    """One row per replayed learner: total reward and regrets, mean over runs with a band.

    Args:
        traces: a sequence of :class:`ReplayTrace` (or a dict name -> trace).
        level: coverage of the band, the central ``level`` range of the runs' values (where a
            single run is likely to fall; with R runs, quantiles of R values).

    Returns a ``pandas.DataFrame`` indexed by learner name with columns ``reward``,
    ``reward low``, ``reward high`` (total reward), ``regret``, ``regret low``, ``regret high``
    (against the best fixed arm in hindsight) and ``oracle regret`` (against the per-visit
    oracle; its band is the reward's, mirrored), all in reward units summed over the horizon.
    """
    import pandas as pd

    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    items = traces.items() if isinstance(traces, dict) else [(t.name, t) for t in traces]
    q = [0.5 - level / 2, 0.5 + level / 2]
    rows = {}
    for name, trace in items:
        if not isinstance(trace, ReplayTrace):
            raise TypeError(f"{name}: expected a ReplayTrace, got {type(trace).__name__}")
        reward = trace.rewards.sum(axis=0)
        regret = trace.regret.sum(axis=0)
        rows[name] = {"reward": reward.mean(), "reward low": np.quantile(reward, q[0]),
                      "reward high": np.quantile(reward, q[1]), "regret": regret.mean(),
                      "regret low": np.quantile(regret, q[0]), "regret high": np.quantile(regret, q[1]),
                      "oracle regret": trace.oracle_regret.sum(axis=0).mean()}
    return pd.DataFrame.from_dict(rows, orient="index")
