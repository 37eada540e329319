"""Slates composed slot by slot from several strategies' ranked lists, replayed on real baskets.

Notebook 07's environment. A slate of ``k`` slots is filled in order; slot ``j`` names a
strategy ``s`` and takes **s's best item not already in the slate** (items shown by an earlier
slot are skipped). Every strategy's ranked list of a visit is known, and so is the visit's basket,
so every slot's reward (its item was bought) is known exactly: a replay with semi-bandit
feedback whose every counterfactual can be computed (as :class:`helpers.envs.ReplayEnv` does for
one strategy per visit, Li et al. 2011 for the replay idea).

Arrays in, arrays out: per-visit ranked lists ``(n_visits, n_strategies, L)`` of item ids and
each visit's bought items. Nothing here knows the dataset.

Why ``L = k`` items per strategy suffice: when slot ``j`` asks strategy ``s`` for an item, at most
``k - 1`` items are already in the slate, so at least one of ``s``'s top ``k`` is still free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from helpers.validation import check_finite_array, check_int, check_positive

__all__ = ["SlateReplay", "SlateTrace", "replay_slates", "interleave", "compositions", "reciprocal_rank_fusion",
           "ndcg_from_hits", "customer_bootstrap"]


def _check_lists(lists) -> np.ndarray:
    lists = check_finite_array("lists", lists, dtype=np.int64, ndim=3)
    if lists.shape[0] < 1 or lists.shape[1] < 1 or lists.shape[2] < 1:
        raise ValueError(f"lists must be (n_visits, n_strategies, L) with every size >= 1, got {lists.shape}")
    if lists.min() < 0:
        raise ValueError("lists must hold item ids >= 0")
    return lists


def _local_ids(lists: np.ndarray) -> np.ndarray:
    """(n, S, L): for each list entry, the flat position (s * L + j) of the item's first occurrence
    in the visit's flattened lists; two entries with the same item get the same id."""
    n, s, length = lists.shape
    flat = lists.reshape(n, s * length)
    out = np.empty_like(flat)
    for start in range(0, n, 512):  # (512, S*L, S*L) booleans at most: a few MB
        block = flat[start:start + 512]
        out[start:start + 512] = (block[:, :, None] == block[:, None, :]).argmax(axis=2)
    return out.reshape(n, s, length)


def ndcg_from_hits(hits, n_targets) -> np.ndarray:
    """NDCG@k of slates from their 0/1 hits (Järvelin and Kekäläinen 2002), binary relevance.

    Args:
        hits: (..., k) 0/1, whether the item at each position was bought.
        n_targets: (...) number of items bought (the ideal slate has min(n_targets, k) hits on top).
    Returns (...) float in [0, 1] (0 where nothing was bought).
    """
    hits = np.asarray(hits, dtype=float)
    k = hits.shape[-1]
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(np.asarray(n_targets, dtype=np.int64), k)]
    dcg = hits @ discounts
    return np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)


class SlateReplay:
    """Compose slates slot by slot from strategies' lists and score them on the real baskets.

    Args:
        lists: (n_visits, n_strategies, L) int item ids, each strategy's ranked list per visit,
            best first (``L >= k``).
        targets: n_visits arrays of the items bought in each visit.
        k: slate size (slots).
        contexts: optional (n_visits, d) visit features, for contextual learners.
        order: optional (n_visits, n_runs) visit order of each run (for example
            ``helpers.envs.ReplayEnv(...).order``, so that replays share notebook 04's orders);
            default: time order, one run.
        strategy_names: optional names, for tables and plots.

    Attributes: ``bought`` (n_visits, n_strategies * L) bool, whether each flat list entry was
    bought; ``n_targets`` (n_visits,) items bought per visit.
    """

    def __init__(self, lists, targets: Sequence, k: int = 10, *, contexts=None, order=None,
                 strategy_names: Sequence[str] | None = None) -> None:
        self.lists = _check_lists(lists)
        self.n_visits, self.n_strategies, self.length = self.lists.shape
        self.k = check_int("k", k, 1)
        if self.length < self.k:
            raise ValueError(f"each list needs at least k = {self.k} items, got {self.length}")
        if len(targets) != self.n_visits:
            raise ValueError(f"targets has {len(targets)} visits, lists has {self.n_visits}")
        flat = self.lists.reshape(self.n_visits, -1)
        self.bought = np.stack([np.isin(row, np.asarray(t, dtype=np.int64)) for row, t in zip(flat, targets,
                                                                                          strict=True)])
        self.n_targets = np.array([len(t) for t in targets], dtype=np.int64)
        self.local = _local_ids(self.lists)
        self.contexts = None if contexts is None else check_finite_array("contexts", contexts, ndim=2)
        if self.contexts is not None and len(self.contexts) != self.n_visits:
            raise ValueError(f"contexts has {len(self.contexts)} rows, expected {self.n_visits}")
        if order is None:
            order = np.arange(self.n_visits)[:, None]
        self.order = check_finite_array("order", order, dtype=np.int64, ndim=2)
        if self.order.shape[0] != self.n_visits or not np.array_equal(np.sort(self.order, axis=0),
                                                                      np.tile(np.arange(self.n_visits)[:, None],
                                                                              (1, self.order.shape[1]))):
            raise ValueError("order must be (n_visits, n_runs), each column a permutation of the visits")
        self.n_runs = self.order.shape[1]
        self.strategy_names = list(strategy_names) if strategy_names is not None else [
            f"strategy {s}" for s in range(self.n_strategies)]
        if len(self.strategy_names) != self.n_strategies:
            raise ValueError(f"{len(self.strategy_names)} strategy names for {self.n_strategies} strategies")

    def __repr__(self) -> str:
        return (f"SlateReplay(n_visits={self.n_visits}, n_strategies={self.n_strategies}, k={self.k}, "
                f"n_runs={self.n_runs})")

    def compose(self, visits, choices) -> np.ndarray:
        """Fill the slates of ``visits`` slot by slot.

        Args:
            visits: (m,) visit indices (one slate each; a visit may repeat, for several runs).
            choices: (m, k) strategy of each slot, or (k,) the same for every slate.
        Returns (m, k) flat positions ``s * L + rank`` into each visit's lists (use
        :meth:`items` and :meth:`slot_rewards`).
        """
        visits = np.asarray(visits, dtype=np.int64).reshape(-1)
        choices = np.asarray(choices, dtype=np.int64)
        if choices.ndim == 1:
            choices = np.broadcast_to(choices, (len(visits), len(choices)))
        if choices.shape != (len(visits), self.k):
            raise ValueError(f"choices must be ({len(visits)}, {self.k}), got {choices.shape}")
        if choices.size and (choices.min() < 0 or choices.max() >= self.n_strategies):
            raise ValueError(f"choices must lie in [0, {self.n_strategies})")
        rows = np.arange(len(visits))
        local = self.local[visits]  # (m, S, L)
        taken = np.zeros((len(visits), self.n_strategies * self.length), dtype=bool)
        positions = np.empty((len(visits), self.k), dtype=np.int64)
        for j in range(self.k):
            strategy = choices[:, j]
            candidates = local[rows, strategy]  # (m, L) ids of the strategy's list
            rank = (~taken[rows[:, None], candidates]).argmax(axis=1)  # its best item not yet shown
            positions[:, j] = strategy * self.length + rank
            taken[rows, candidates[rows, rank]] = True
        return positions

    def items(self, visits, positions) -> np.ndarray:
        """(m, k) item ids at ``positions`` (from :meth:`compose`) of ``visits``' lists."""
        visits = np.asarray(visits, dtype=np.int64).reshape(-1)
        return self.lists.reshape(self.n_visits, -1)[visits[:, None], positions]

    def slot_rewards(self, visits, positions) -> np.ndarray:
        """(m, k) float 0/1: whether each slot's item was bought in the visit."""
        visits = np.asarray(visits, dtype=np.int64).reshape(-1)
        return self.bought[visits[:, None], positions].astype(float)

    def fixed(self, choices) -> tuple[np.ndarray, np.ndarray]:
        """A fixed composition (``(k,)`` or per visit ``(n_visits, k)``) on every visit, in visit order.

        Returns ``(slates, slot_rewards)``, both (n_visits, k): item ids and 0/1 rewards.
        """
        visits = np.arange(self.n_visits)
        positions = self.compose(visits, choices)
        return self.items(visits, positions), self.slot_rewards(visits, positions)

    def visits_hit_by_composition(self, choices) -> int:
        """Number of visits with at least one bought item in the fixed composition ``choices`` (k,)."""
        return int(self.fixed(choices)[1].any(axis=1).sum())

    def oracle_visits_hit(self) -> int:
        """Visits on which some composition hits: some strategy's top k holds a bought item
        (give that strategy every slot)."""
        return int(self.bought.reshape(self.n_visits, self.n_strategies, self.length)[:, :, :self.k]
                   .any(axis=(1, 2)).sum())


@dataclass
class SlateTrace:
    """What a slate learner did in a replay, per step t (in each run's visit order) and run r.

    Attributes:
        visits: (T, R) visit index of step t in run r.
        choices: (T, R, k) strategy of each slot.
        items: (T, R, k) item shown in each slot.
        slot_rewards: (T, R, k) 0/1, whether the slot's item was bought.
        propensities: (T, R, k) probability the learner had of choosing each slot's strategy
            (its per-slot distribution before the step), or None for learners without ``probs``.
        name: the learner's label.
    """

    visits: np.ndarray
    choices: np.ndarray
    items: np.ndarray
    slot_rewards: np.ndarray
    propensities: np.ndarray | None
    name: str

    @property
    def visit_rewards(self) -> np.ndarray:
        """(T, R) 1 when the slate held at least one bought item."""
        return self.slot_rewards.max(axis=2)

    @property
    def visits_hit(self) -> np.ndarray:
        """(R,) visits hit in each run."""
        return self.visit_rewards.sum(axis=0)

    @property
    def items_hit(self) -> np.ndarray:
        """(R,) slot items bought in each run."""
        return self.slot_rewards.sum(axis=(0, 2))

    def in_visit_order(self, values: np.ndarray) -> np.ndarray:
        """Reorder a (T, R, ...) array from step order to visit order (rows = visits 0..T-1)."""
        out = np.empty_like(values)
        runs = np.arange(values.shape[1])
        out[self.visits, runs[None, :]] = values
        return out


def replay_slates(learner, env: SlateReplay, *, progress: bool = False, reset: bool = True,
                  log_propensities: bool = True) -> SlateTrace:
    """Let a slate learner compose a slate on each visit of ``env``; all runs step together.

    Each step: ``x`` = the visits' contexts (R, d) or None, ``choices = learner.select(x)`` (R, k),
    the slates are composed, ``learner.update(choices, slot_rewards, x)`` with the (R, k) 0/1
    slot rewards (semi-bandit feedback: the learner decides which of them it uses).

    Args:
        learner: a learner of :mod:`helpers.slate_bandits` with the environment's ``k``,
            ``n_strategies`` and ``n_runs``.
        env: a :class:`SlateReplay`.
        progress: a tqdm bar.
        reset: reset the learner first (False continues from its state, e.g. a warm start).
        log_propensities: record the learner's per-slot probabilities of its choices
            (exact for softmax learners, Monte Carlo for Thompson sampling: slower).
    """
    for attribute, want in (("k", env.k), ("n_strategies", env.n_strategies), ("n_runs", env.n_runs)):
        if getattr(learner, attribute) != want:
            raise ValueError(f"learner has {attribute}={getattr(learner, attribute)}, the environment {want}")
    if reset:
        learner.reset()
    horizon, runs = env.n_visits, env.n_runs
    choices = np.empty((horizon, runs, env.k), dtype=np.int64)
    items = np.empty((horizon, runs, env.k), dtype=np.int64)
    rewards = np.empty((horizon, runs, env.k))
    logged = log_propensities and hasattr(learner, "probs")
    propensities = np.empty((horizon, runs, env.k)) if logged else None
    run_index, slot_index = np.arange(runs)[:, None], np.arange(env.k)[None, :]
    steps = range(horizon)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc=getattr(learner, "name", "learner"), mininterval=0.5, leave=False)
    for t in steps:
        visits = env.order[t]
        x = None if env.contexts is None else env.contexts[visits]
        if logged:
            probs = learner.probs(x)  # (R, k, S), before the choice
        chosen = learner.select(x)
        positions = env.compose(visits, chosen)
        reward = env.slot_rewards(visits, positions)
        learner.update(chosen, reward, x)
        choices[t], items[t], rewards[t] = chosen, env.items(visits, positions), reward
        if logged:
            propensities[t] = probs[run_index, slot_index, chosen]
    return SlateTrace(env.order.copy(), choices, items, rewards, propensities, getattr(learner, "name", "learner"))


def interleave(counts: Sequence[int]) -> np.ndarray:
    """The slot sequence of a composition: strategy i gets ``counts[i]`` slots, taken in turns
    (strategy 0, 1, 2, ... then again, skipping those whose slots are used up).

    ``interleave([2, 1, 0, 1]) -> [0, 1, 3, 0]``. Returns (sum(counts),) int64.
    """
    left = [check_int("counts", int(c), 0) for c in counts]
    sequence = []
    while sum(left):
        for i, c in enumerate(left):
            if c:
                sequence.append(i)
                left[i] -= 1
    return np.array(sequence, dtype=np.int64)


def compositions(k: int, n: int) -> np.ndarray:
    """Every way to share ``k`` slots among ``n`` strategies: (C(k + n - 1, n - 1), n) counts."""
    k, n = check_int("k", k, 0), check_int("n", n, 1)
    if n == 1:
        return np.array([[k]], dtype=np.int64)
    rows = [np.r_[first, rest] for first in range(k, -1, -1) for rest in compositions(k - first, n - 1)]
    return np.array(rows, dtype=np.int64)


def reciprocal_rank_fusion(lists, k: int, c: float = 60.0) -> np.ndarray:
    """Reciprocal-rank fusion of ranked lists (Cormack, Clarke and Büttcher 2009).

    Each item scores ``sum_s 1 / (c + rank_s)`` (rank from 1; 0 when absent from list s).

    Args:
        lists: (n, S, L) item ids, best first.
        k: items kept per row.
        c: the damping constant (60 in the paper).
    Returns (n, k) item ids, highest fused score first (ties: first appearance in the lists).
    """
    lists = _check_lists(lists)
    k, c = check_int("k", k, 1), check_positive("c", c)
    n, s, length = lists.shape
    local = _local_ids(lists).reshape(n, -1)
    score = np.zeros((n, s * length))
    rank = np.tile(np.arange(1, length + 1), s)
    np.add.at(score, (np.repeat(np.arange(n), s * length), local.reshape(-1)), np.tile(1.0 / (c + rank), n))
    top = np.argsort(-score, axis=1, kind="stable")[:, :k]
    if np.any(np.take_along_axis(score, top, axis=1) == 0):
        raise ValueError(f"fewer than k = {k} distinct items in some row's lists")
    return np.take_along_axis(lists.reshape(n, -1), top, axis=1)


def customer_bootstrap(values, groups, *, rng: np.random.Generator, n_bootstrap: int = 1000,
                       level: float = 0.95, mean: bool = False) -> tuple[float, float]:
    """Percentile interval of ``values.sum()`` (or of the mean per visit, with ``mean``) when
    whole customers are resampled.

    Visits of one customer are not independent, so the bootstrap draws customers with
    replacement and keeps all their visits (a cluster bootstrap; Davison and Hinkley 1997,
    section 3.8). For a paired comparison pass per-visit differences.

    Args:
        values: (n,) per-visit values (for example method minus reference).
        groups: (n,) customer id of each visit.
        rng: the random generator (the same seed gives the same resampled customers, so
            intervals of several methods are paired).
        mean: the interval of the mean per visit (resampled total over resampled visits).
    Returns ``(low, high)`` of the total (or the mean) over visits.
    """
    values = check_finite_array("values", values, ndim=1)
    groups = np.asarray(groups)
    if groups.shape != values.shape:
        raise ValueError(f"groups {groups.shape} must match values {values.shape}")
    n_bootstrap = check_int("n_bootstrap", n_bootstrap, 10)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    _, index = np.unique(groups, return_inverse=True)
    totals = np.bincount(index, weights=values)  # (G,) each customer's total
    draws = rng.multinomial(len(totals), np.full(len(totals), 1.0 / len(totals)), size=n_bootstrap)  # (B, G)
    sums = draws @ totals
    if mean:
        sums = sums / (draws @ np.bincount(index).astype(float))
    return float(np.quantile(sums, 0.5 - level / 2)), float(np.quantile(sums, 0.5 + level / 2))
