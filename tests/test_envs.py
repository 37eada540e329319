"""Tests of helpers.envs: reward distributions, pseudo-regret, the simulation loop."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.bandits import UCB1, BanditLearner, EpsilonGreedy
from helpers.envs import BernoulliBandit, GaussianBandit, Trace, simulate


class Fixed(BanditLearner):
    """Always plays the same arm in every run (a test double)."""

    def __init__(self, n_arms, n_runs, arm):
        self.arm = arm
        super().__init__(n_arms, n_runs, rng=0)

    def select(self, context=None):
        return np.full(self.n_runs, self.arm)

    def probs(self, context=None):
        return np.eye(self.n_arms)[np.full(self.n_runs, self.arm)]


def test_bernoulli_rewards_follow_the_means():
    env = BernoulliBandit([0.1, 0.5, 0.9], n_runs=20_000, rng=0)
    assert env.n_arms == 3 and env.best_mean == 0.9 and env.best_arm == 2
    np.testing.assert_allclose(env.gaps, [0.8, 0.4, 0.0])
    for arm, mean in enumerate(env.means):
        rewards = env.pull(np.full(20_000, arm))
        assert rewards.shape == (20_000,) and set(np.unique(rewards)) <= {0.0, 1.0}
        assert abs(rewards.mean() - mean) < 4 * np.sqrt(mean * (1 - mean) / 20_000)


def test_gaussian_rewards_follow_means_and_sigma():
    env = GaussianBandit([0.0, 2.0], sigma=[1.0, 3.0], n_runs=20_000, rng=1)
    rewards = env.pull(np.full(20_000, 1))
    assert abs(rewards.mean() - 2.0) < 4 * 3.0 / np.sqrt(20_000)
    assert abs(rewards.std() - 3.0) < 0.1


def test_environment_arguments_are_checked():
    with pytest.raises(ValueError, match="at least 2"):
        BernoulliBandit([0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        BernoulliBandit([0.5, 1.2])
    with pytest.raises(ValueError, match="sigma"):
        GaussianBandit([0.0, 1.0], sigma=0.0)
    env = BernoulliBandit([0.2, 0.4], n_runs=3, rng=0)
    with pytest.raises(ValueError, match="shape"):
        env.pull([0, 1])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        env.pull([0, 1, 2])
    with pytest.raises(TypeError, match="integers"):
        env.pull([0.0, 1.0, 1.0])


def test_regret_is_the_gap_of_the_arm_played():
    env = BernoulliBandit([0.3, 0.1, 0.25], n_runs=3)
    np.testing.assert_allclose(env.regret([0, 1, 2]), [0.0, 0.2, 0.05])


def test_simulate_records_arms_rewards_and_pseudo_regret():
    env = BernoulliBandit([0.2, 0.7, 0.4], n_runs=8, rng=3)
    learner = UCB1(3, 8, rng=4)
    trace = simulate(learner, env, 50)
    assert isinstance(trace, Trace) and trace.name == "UCB1"
    assert trace.arms.shape == trace.rewards.shape == trace.regret.shape == (50, 8)
    assert (trace.horizon, trace.n_runs) == (50, 8)
    np.testing.assert_allclose(trace.regret, env.gaps[trace.arms])
    np.testing.assert_allclose(trace.cumulative_regret[-1], env.gaps[trace.arms].sum(axis=0))
    assert np.all(np.diff(trace.cumulative_regret, axis=0) >= 0)
    np.testing.assert_array_equal(learner.counts, np.stack([np.bincount(c, minlength=3) for c in trace.arms.T]))
    np.testing.assert_allclose(learner.means * learner.counts,
                               np.stack([np.bincount(a, r, minlength=3) for a, r in zip(trace.arms.T, trace.rewards.T, strict=True)]))


def test_oracle_has_zero_regret_and_worst_arm_linear_regret():
    env = BernoulliBandit([0.2, 0.7, 0.4], n_runs=5, rng=0)
    assert simulate(Fixed(3, 5, arm=1), env, 100).cumulative_regret[-1].max() == 0.0
    np.testing.assert_allclose(simulate(Fixed(3, 5, arm=0), env, 100).cumulative_regret[-1], 50.0)


def test_simulate_checks_sizes_and_is_reproducible():
    env = BernoulliBandit([0.2, 0.7, 0.4], n_runs=8, rng=0)
    with pytest.raises(ValueError, match="n_runs"):
        simulate(UCB1(3, 4), env, 10)
    with pytest.raises(ValueError, match="n_arms"):
        simulate(UCB1(4, 8), env, 10)
    with pytest.raises(ValueError, match="horizon"):
        simulate(UCB1(3, 8), env, 0)

    def run():
        return simulate(EpsilonGreedy(3, 8, rng=1), BernoulliBandit([0.2, 0.7, 0.4], 8, rng=2), 200)

    a, b = run(), run()
    np.testing.assert_array_equal(a.arms, b.arms)
    np.testing.assert_array_equal(a.rewards, b.rewards)
