"""The slate learners and slate estimators of notebook 07."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from helpers import bandits
from helpers import slate_bandits as sb


def test_first_hit_feedback_sums_to_the_visit_reward():
    slots = np.array([[0, 1, 1], [0, 0, 0], [1, 0, 1]])
    feedback = sb.first_hit_feedback(slots)
    assert feedback.tolist() == [[0, 1, 0], [0, 0, 0], [1, 0, 0]]
    assert np.array_equal(feedback.sum(axis=1), slots.max(axis=1))


def test_combinatorial_thompson_counts_every_slot():
    learner = sb.CombinatorialThompson(3, 2, 2, rng=0)
    learner.update(np.array([[0, 2], [1, 1]]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert learner.alpha[0, 0, 0] == 2 and learner.beta[0, 1, 2] == 2
    assert learner.alpha[1, 1, 1] == 2 and learner.beta[1, 0, 1] == 2
    assert learner.select().shape == (2, 2)
    assert np.allclose(learner.probs().sum(axis=2), 1.0)


def test_ranked_bandit_rewards_only_the_first_hit():
    learner = sb.RankedBandit(3, 3, 1, rng=0)
    learner.update(np.array([[0, 1, 2]]), np.array([[0.0, 1.0, 1.0]]))
    assert [slot.means[0].tolist() for slot in learner.slots] == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    exp3 = sb.RankedBandit(3, 2, 4, slot_learner=lambda n, r, g: bandits.EXP3(n, r, rng=g, gamma=0.1), rng=1)
    assert np.allclose(exp3.probs(), 1 / 3)


def test_depth_thompson_depths_and_greedy_fill():
    assert sb.DepthThompson.depths(np.array([[0, 0, 1, 0]])).tolist() == [[0, 1, 0, 2]]
    learner = sb.DepthThompson(2, 4, 1, rng=0)
    values = np.array([[[0.9, 0.5, 0.2, 0.1], [0.6, 0.4, 0.3, 0.0]]])  # (R, S, k) by depth
    assert learner.fill(values).tolist() == [[0, 1, 0, 1]]  # a merge of the two lists by value
    learner.update(np.array([[0, 0, 1, 0]]), np.array([[1.0, 0.0, 1.0, 0.0]]))
    assert learner.alpha[0].tolist() == [[2, 1, 1, 1], [2, 1, 1, 1]]
    assert learner.beta[0].tolist() == [[1, 2, 2, 1], [1, 1, 1, 1]]


def test_depth_thompson_learns_the_better_mix():
    rng = np.random.default_rng(3)
    learner = sb.DepthThompson(2, 2, 20, rng=4)
    rates = np.array([[0.6, 0.1], [0.4, 0.3]])  # strategy 0's second item is weak
    for _ in range(400):
        choices = learner.select()
        depth = sb.DepthThompson.depths(choices)
        learner.update(choices, (rng.random(choices.shape) < rates[choices, depth]).astype(float))
    final = learner.fill(learner.means)
    assert (final == [0, 1]).all(axis=1).mean() > 0.8


def test_slot_softmax_probabilities_and_floor():
    policy = sb.SlotSoftmaxPolicy(4, 3, 2, n_features=2, epsilon=0.2, rng=0,
                                  weights=np.random.default_rng(1).normal(size=(3, 4, 2)) * 5)
    p = policy.probs(np.array([1.0, 0.5]))
    assert p.shape == (2, 3, 4) and np.allclose(p.sum(axis=2), 1.0) and p.min() >= 0.2 / 4 - 1e-12
    with pytest.raises(ValueError, match="context"):
        policy.probs(None)


@pytest.mark.parametrize("epsilon", [0.0, 0.3])
def test_slot_softmax_step_is_the_gradient_of_the_log_probability(epsilon):
    x = np.array([1.0, -0.5])
    start = np.random.default_rng(2).normal(size=(1, 3, 2))
    policy = sb.SlotSoftmaxPolicy(3, 1, 1, n_features=2, step_size=1.0, epsilon=epsilon, weights=start,
                                  baseline_rate=0.5, rng=0)
    choice = np.array([[2]])
    policy.update(choice, np.array([[1.0]]), x)  # advantage 1 - 0: the step is the gradient of log p(2)
    step = policy.weights[0, 0] - start[0]

    def log_p(w):
        other = sb.SlotSoftmaxPolicy(3, 1, 1, n_features=2, epsilon=epsilon, weights=w[None], rng=0)
        return np.log(other.probs(x)[0, 0, 2])

    numeric = np.zeros_like(start[0])
    for i, j in itertools.product(range(3), range(2)):
        bump = np.zeros_like(start[0])
        bump[i, j] = 1e-6
        numeric[i, j] = (log_p(start[0] + bump) - log_p(start[0] - bump)) / 2e-6
    assert np.allclose(step, numeric, atol=1e-6)


def test_pseudo_inverse_is_unbiased_for_an_additive_reward():
    """k = 2 slots, 2 actions, independent logging: enumerate every slate."""
    mu = np.array([[0.7, 0.3], [0.4, 0.6]])  # logging probability of each action per slot
    pi = np.array([[0.2, 0.8], [0.5, 0.5]])  # target
    phi = np.array([[0.3, 0.1], [0.2, 0.4]])  # additive reward terms phi[slot, action]
    truth = sum(pi[j] @ phi[j] for j in range(2))
    expectation, slate_ips = 0.0, 0.0
    for a in itertools.product(range(2), repeat=2):
        prob = mu[0, a[0]] * mu[1, a[1]]
        reward = phi[0, a[0]] + phi[1, a[1]]
        target, logging = np.array([[pi[0, a[0]], pi[1, a[1]]]]), np.array([[mu[0, a[0]], mu[1, a[1]]]])
        expectation += prob * sb.pseudo_inverse(np.array([reward]), target, logging)[0]
        slate_ips += prob * sb.slate_ips(np.array([reward]), target, logging)[0]
    assert np.isclose(expectation, truth) and np.isclose(slate_ips, truth)


def test_slotwise_ips_and_validation():
    terms = sb.slotwise_ips(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]), np.array([[0.5, 0.25]]))
    assert terms.tolist() == [2.0]
    with pytest.raises(ValueError, match="positive"):
        sb.importance_weights(np.ones((1, 2)), np.array([[0.5, 0.0]]))
    with pytest.raises(ValueError, match="shape"):
        sb.CombinatorialThompson(3, 2, 1).update(np.zeros((1, 3), dtype=int), np.zeros((1, 3)))
