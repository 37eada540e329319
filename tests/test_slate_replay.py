"""The composition replay of notebook 07 on hand-checkable fixtures."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import slate_replay as sr

LISTS = np.array([[[10, 11, 12, 13], [11, 20, 10, 21], [30, 10, 31, 11]],   # visit 0
                  [[1, 2, 3, 4], [5, 6, 7, 8], [1, 5, 9, 2]]])                 # visit 1
TARGETS = [np.array([20, 31]), np.array([9])]


def make(k=4, **kw):
    return sr.SlateReplay(LISTS, TARGETS, k, **kw)


def test_compose_takes_each_strategys_best_item_not_yet_shown():
    env = make()
    positions = env.compose([0], [[0, 1, 1, 2]])
    assert env.items([0], positions).tolist() == [[10, 11, 20, 30]]  # 11 then 20: 11 was free, 10 was not
    assert env.slot_rewards([0], positions).tolist() == [[0.0, 0.0, 1.0, 0.0]]
    positions = env.compose([0], [[2, 2, 2, 0]])
    assert env.items([0], positions).tolist() == [[30, 10, 31, 11]]  # strategy 0's 10 is taken: its 11 comes next


def test_fixed_compositions_and_the_oracle():
    env = make()
    slates, rewards = env.fixed(np.zeros(4, dtype=int))
    assert np.array_equal(slates, LISTS[:, 0])  # one strategy in every slot is its own list
    assert rewards.sum() == 0
    assert env.visits_hit_by_composition(np.array([2, 2, 2, 2])) == 2  # 31 in visit 0, 9 in visit 1
    assert env.visits_hit_by_composition(np.array([1, 1, 1, 1])) == 1
    assert env.oracle_visits_hit() == 2


def test_items_are_never_repeated_in_a_slate():
    rng = np.random.default_rng(0)
    env = make()
    for _ in range(50):
        choices = rng.integers(0, 3, size=(2, 4))
        items = env.items([0, 1], env.compose([0, 1], choices))
        assert all(len(set(row)) == 4 for row in items.tolist())


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="at least k"):
        sr.SlateReplay(LISTS, TARGETS, 5)
    with pytest.raises(ValueError, match="targets"):
        sr.SlateReplay(LISTS, TARGETS[:1], 4)
    with pytest.raises(ValueError, match="order"):
        sr.SlateReplay(LISTS, TARGETS, 4, order=np.array([[0], [0]]))
    with pytest.raises(ValueError, match="choices"):
        make().compose([0], [[0, 1, 3, 0]])


class AlwaysFirst:
    """A learner that gives every slot to strategy 0 and counts its updates."""

    name = "always first"

    def __init__(self, n_runs):
        self.k, self.n_strategies, self.n_runs, self.updates = 4, 3, n_runs, 0

    def reset(self):
        self.updates = 0

    def select(self, context=None):
        return np.zeros((self.n_runs, self.k), dtype=np.int64)

    def probs(self, context=None):
        p = np.zeros((self.n_runs, self.k, self.n_strategies))
        p[:, :, 0] = 1.0
        return p

    def update(self, choices, slot_rewards, context=None):
        self.updates += 1


def test_replay_records_what_a_learner_did():
    order = np.array([[1, 0], [0, 1]])
    env = make(order=order)
    learner = AlwaysFirst(2)
    trace = sr.replay_slates(learner, env)
    assert learner.updates == 2
    assert np.array_equal(trace.visits, order)
    assert np.array_equal(trace.items[0, 0], LISTS[1, 0]) and np.array_equal(trace.items[0, 1], LISTS[0, 0])
    assert np.all(trace.propensities == 1.0)
    assert trace.visits_hit.tolist() == [0.0, 0.0]
    in_order = trace.in_visit_order(trace.items)
    assert np.array_equal(in_order[:, 0], LISTS[:, 0]) and np.array_equal(in_order[:, 1], LISTS[:, 0])


def test_interleave_and_compositions():
    assert sr.interleave([2, 1, 0, 1]).tolist() == [0, 1, 3, 0]
    counts = sr.compositions(10, 4)
    assert counts.shape == (286, 4) and np.all(counts.sum(axis=1) == 10)
    assert len({tuple(c) for c in counts.tolist()}) == 286


def test_reciprocal_rank_fusion_by_hand():
    lists = np.array([[[1, 2, 3], [2, 4, 1]]])
    # scores: 1: 1/61 + 1/63, 2: 1/62 + 1/61, 3: 1/63, 4: 1/62
    assert sr.reciprocal_rank_fusion(lists, 3).tolist() == [[2, 1, 4]]


def test_ndcg_from_hits():
    assert np.allclose(sr.ndcg_from_hits([[1, 0], [0, 1], [0, 0]], [1, 1, 0]), [1.0, 1 / np.log2(3), 0.0])


def test_customer_bootstrap_resamples_whole_customers():
    values = np.array([1.0, 1.0, 0.0, 0.0])
    groups = np.array([7, 7, 8, 8])
    low, high = sr.customer_bootstrap(values, groups, rng=np.random.default_rng(0), n_bootstrap=500)
    assert {low, high} <= {0.0, 2.0, 4.0}  # a customer's two visits always come together
    low, high = sr.customer_bootstrap(np.ones(4), groups, rng=np.random.default_rng(0), mean=True)
    assert low == high == 1.0
