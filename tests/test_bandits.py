"""Tests of helpers.bandits: exact index values, learning on easy problems, distributions,
argument checks, and a cross-check against mabwiser (a reference implementation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import bandits as B
from helpers.envs import BernoulliBandit, GaussianBandit, simulate

ALL_LEARNERS = [
    (B.EpsilonGreedy, {"epsilon": 0.1}),
    (B.EpsilonGreedy, {"epsilon": B.DecayingEpsilon(c=1.0, d=0.3, n_arms=3)}),
    (B.UCB1, {}),
    (B.KLUCB, {}),
    (B.BernoulliThompson, {}),
    (B.GaussianThompson, {"sigma": 0.5}),
    (B.EXP3, {"gamma": 0.1}),
    (B.GradientBandit, {"step_size": 0.1}),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(ALL_LEARNERS)]


def feed(learner, arms, rewards):
    """Feed a single-run learner a fixed history."""
    for a, r in zip(arms, rewards, strict=True):
        learner.update(np.array([a]), np.array([float(r)]))


# ---------------------------------------------------------------------------------------------
# exact values on fixed tables


def test_ucb1_index_on_a_fixed_table():
    # t = 7 plays: arm 0 twice (mean 0.5), arm 1 five times (mean 0.2), arm 2 never.
    # bonus = sqrt(2 ln 7 / n): ln 7 = 1.9459101, so sqrt(1.9459101) = 1.3949588 for n = 2
    # and sqrt(0.7783641) = 0.8822495 for n = 5.
    index = B.ucb1_index([0.5, 0.2, 0.0], [2, 5, 0], t=7)
    assert index[0] == pytest.approx(1.8949588, abs=1e-7)
    assert index[1] == pytest.approx(1.0822495, abs=1e-7)
    assert index[2] == np.inf
    scaled = B.ucb1_index([0.5, 0.2, 0.0], [2, 5, 0], t=7, alpha=0.5)
    assert scaled[0] == pytest.approx(0.5 + 0.5 * 1.3949588, abs=1e-7)


def test_klucb_index_on_a_fixed_table():
    # With mean 0 the index solves -n ln(1 - q) = ln t exactly: q = 1 - t^(-1/n).
    index = B.klucb_index([0.0, 0.3, 1.0, 0.5], [10, 20, 5, 0], t=100)
    assert index[0] == pytest.approx(1 - 100 ** (-1 / 10), rel=1e-12)  # 0.3690427...
    assert index[0] == pytest.approx(0.3690427, abs=1e-7)
    # mean 0.3, n = 20: kl(0.3, q) = ln(100) / 20, q in (0.3, 1)
    assert 0.3 < index[1] < 1
    assert B.kl_bernoulli(0.3, index[1]) == pytest.approx(math.log(100) / 20, rel=1e-10)
    assert index[2] == 1.0 and index[3] == np.inf


def test_klucb_lies_between_mean_and_ucb1():
    """Pinsker's inequality kl >= 2 (p - q)^2 makes KL-UCB's index at most the Hoeffding index
    with the same budget, mean + sqrt(ln t / (2 n))."""
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 500, size=(50, 8))
    means = rng.binomial(counts, 0.05) / counts
    t = int(counts.sum(axis=1).max())
    kl_index = B.klucb_index(means, counts, t)
    assert np.all(kl_index >= means - 1e-12)
    assert np.all(kl_index <= means + np.sqrt(math.log(t) / (2 * counts)) + 1e-12)


def test_kl_bernoulli_values():
    # kl(0.25, 0.5) = 0.25 ln 0.5 + 0.75 ln 1.5 = 0.1308120
    assert B.kl_bernoulli(0.25, 0.5) == pytest.approx(0.1308120, abs=1e-7)
    assert B.kl_bernoulli(0.3, 0.3) == 0.0
    assert B.kl_bernoulli(0.0, 0.5) == pytest.approx(math.log(2))
    assert B.kl_bernoulli(0.5, 1.0) == np.inf


def test_learner_indices_match_the_table_functions():
    rng = np.random.default_rng(1)
    ucb, klucb = B.UCB1(5, 30, rng=2), B.KLUCB(5, 30, rng=2)
    env = BernoulliBandit([0.01, 0.02, 0.05, 0.1, 0.3], 30, rng=rng)
    for _ in range(400):
        for learner in (ucb, klucb):
            arms = learner.select()
            learner.update(arms, env.pull(arms))
    np.testing.assert_allclose(ucb.index(), B.ucb1_index(ucb.means, ucb.counts, ucb.t), rtol=1e-12)
    # KL-UCB warm-starts Newton's method from the previous index; the cold start must agree.
    np.testing.assert_allclose(klucb.index(), B.klucb_index(klucb.means, klucb.counts, klucb.t), atol=1e-10)


def test_every_arm_is_played_once_first_by_index_policies():
    for cls in (B.UCB1, B.KLUCB):
        learner = cls(6, 40, rng=3)
        env = BernoulliBandit(np.linspace(0.1, 0.9, 6), 40, rng=4)
        played = []
        for _ in range(6):
            arms = learner.select()
            played.append(arms)
            learner.update(arms, env.pull(arms))
        played = np.array(played)  # (6, 40)
        assert np.all(np.sort(played, axis=0) == np.arange(6)[:, None])
        assert len({tuple(col) for col in played.T}) > 1  # the order is random, not 0, 1, 2, ...


def test_thompson_posterior_counts():
    learner = B.BernoulliThompson(3, 1, rng=0, prior_a=1.0, prior_b=1.0)
    feed(learner, [0, 0, 1, 2, 2, 2], [1, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(learner.alpha, [[2, 2, 2]])
    np.testing.assert_array_equal(learner.beta, [[2, 1, 3]])
    np.testing.assert_array_equal(learner.counts, [[2, 1, 3]])
    np.testing.assert_allclose(learner.means, [[0.5, 1.0, 1 / 3]])


def test_thompson_binarises_fractional_rewards():
    learner = B.BernoulliThompson(2, 20_000, rng=0)
    learner.update(np.zeros(20_000, dtype=int), np.full(20_000, 0.3))
    successes = learner.alpha[:, 0] - 1
    assert set(np.unique(successes)) <= {0.0, 1.0}
    assert abs(successes.mean() - 0.3) < 0.015  # 4.6 standard errors


def test_gaussian_thompson_posterior():
    learner = B.GaussianThompson(2, 1, rng=0, sigma=2.0, prior_mean=1.0, prior_sd=1.0)
    feed(learner, [0, 0, 0], [3.0, 5.0, 4.0])
    # precision 1/1 + 3/4 = 1.75; mean (1 + 12/4) / 1.75 = 4 / 1.75
    assert learner.post_mean[0, 0] == pytest.approx(4 / 1.75)
    assert learner.post_sd[0, 0] == pytest.approx(1 / math.sqrt(1.75))
    assert learner.post_mean[0, 1] == pytest.approx(1.0)


def test_exp3_update_by_hand():
    learner = B.EXP3(3, 1, rng=0, gamma=0.3)
    np.testing.assert_allclose(learner.probs(), [[1 / 3] * 3])
    feed(learner, [0], [1.0])
    # estimate 1 / (1/3) = 3, log-weight of arm 0 += 0.3 * 3 / 3 = 0.3
    w = np.array([math.exp(0.3), 1.0, 1.0])
    np.testing.assert_allclose(learner.probs(), [0.7 * w / w.sum() + 0.1], rtol=1e-12)
    assert B.EXP3.tuned_gamma(10, 10_000) == pytest.approx(math.sqrt(10 * math.log(10) / ((math.e - 1) * 10_000)))


def test_gradient_bandit_update_by_hand():
    learner = B.GradientBandit(3, 1, rng=0, step_size=0.1)
    feed(learner, [2], [0.0])  # the first baseline is the reward itself: no change
    np.testing.assert_allclose(learner.preferences, [[0, 0, 0]])
    feed(learner, [1], [1.0])  # baseline 0 (mean of earlier rewards), pi uniform
    np.testing.assert_allclose(learner.preferences, [[-0.1 / 3, 0.1 * 2 / 3, -0.1 / 3]])
    assert learner.baseline[0] == pytest.approx(0.5)
    no_base = B.GradientBandit(3, 1, rng=0, step_size=0.1, baseline=False)
    feed(no_base, [2], [1.0])
    np.testing.assert_allclose(no_base.preferences, [[-0.1 / 3, -0.1 / 3, 0.2 / 3]])


def test_epsilon_greedy_probs_are_exact():
    learner = B.EpsilonGreedy(4, 1, rng=0, epsilon=0.2)
    feed(learner, [0, 1, 2], [1.0, 1.0, 0.0])  # arms 0 and 1 tie for the best mean
    np.testing.assert_allclose(learner.probs(), [[0.45, 0.45, 0.05, 0.05]])
    schedule = B.DecayingEpsilon(c=0.5, d=0.5, n_arms=4)
    assert schedule(1) == 1.0 and schedule(100) == pytest.approx(0.5 * 4 / (0.25 * 100))


# ---------------------------------------------------------------------------------------------
# behaviour


@pytest.mark.parametrize(("cls", "kwargs"), ALL_LEARNERS, ids=IDS)
def test_finds_the_best_arm_on_an_easy_problem(cls, kwargs):
    means = np.array([0.2, 0.5, 0.8])
    learner = cls(3, 50, rng=11, **kwargs)
    trace = simulate(learner, BernoulliBandit(means, 50, rng=12), 2000)
    share_best = (trace.arms[-200:] == 2).mean()
    assert share_best > 0.85  # measured 0.93 (epsilon-greedy, EXP3) to 0.999
    uniform = 2000 * (0.8 - means.mean())
    assert trace.cumulative_regret[-1].mean() < uniform / 3


def test_gaussian_thompson_on_gaussian_rewards():
    means = np.array([1.0, 1.5, 0.0, 2.0])
    learner = B.GaussianThompson(4, 50, rng=1, sigma=1.0, prior_sd=10.0)
    trace = simulate(learner, GaussianBandit(means, 1.0, 50, rng=2), 1000)
    assert (trace.arms[-100:] == 3).mean() > 0.9


@pytest.mark.parametrize("cls", [B.EXP3, B.GradientBandit])
def test_probability_learners_stay_distributions(cls):
    learner = cls(5, 200, rng=0, **({"gamma": 0.5} if cls is B.EXP3 else {"step_size": 5.0}))
    env = BernoulliBandit([0.0, 0.0, 0.0, 0.0, 1.0], 200, rng=1)  # extreme: pushes towards a corner
    lowest, worst_sum = 1.0, 0.0
    for _ in range(1500):
        arms = learner.select()
        learner.update(arms, env.pull(arms))
        p = learner.probs()
        lowest = np.minimum(lowest, p.min())  # np.minimum / np.maximum propagate nan
        worst_sum = np.maximum(worst_sum, np.abs(p.sum(axis=1) - 1.0).max())
    assert lowest >= 0 and worst_sum < 1e-12
    if cls is B.EXP3:  # at most (1 - gamma) + gamma / K = 0.6 on one arm, at least gamma / K = 0.1
        assert learner.probs()[:, 4].mean() > 0.59
        assert learner.probs().min() >= 0.5 / 5 - 1e-12
    else:
        assert learner.probs()[:, 4].mean() > 0.99
        np.testing.assert_allclose(learner.preferences.sum(axis=1), 0.0, atol=1e-9)


@pytest.mark.parametrize(("cls", "kwargs"), ALL_LEARNERS, ids=IDS)
def test_select_follows_probs(cls, kwargs):
    """The arms drawn by select() follow probs() (Monte Carlo for Thompson sampling)."""
    n_runs = 10_000
    learner = cls(3, n_runs, rng=5, **kwargs)
    history = [(0, 1.0), (1, 0.0), (2, 1.0), (0, 0.0), (2, 1.0)]
    for arm, reward in history:  # the same history in every run
        learner.update(np.full(n_runs, arm), np.full(n_runs, reward))
    probs = learner.probs(n_samples=200) if hasattr(learner, "sample") else learner.probs()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    freq = np.bincount(learner.select(), minlength=3) / n_runs
    assert np.abs(freq - probs.mean(axis=0)).max() < 0.02  # 4 standard errors of a frequency


def test_same_seed_same_choices_and_reset():
    def run(seed):
        learner = B.BernoulliThompson(4, 10, rng=seed)
        return simulate(learner, BernoulliBandit([0.1, 0.2, 0.3, 0.4], 10, rng=seed), 300).arms, learner

    a, learner = run(7)
    b, _ = run(7)
    c, _ = run(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    learner.reset()
    assert learner.t == 0 and learner.counts.sum() == 0 and np.all(learner.alpha == 1.0)


def test_greedy_breaks_ties_at_random():
    learner = B.EpsilonGreedy(5, 5000, rng=0, epsilon=0.0)
    freq = np.bincount(learner.select(), minlength=5) / 5000
    assert np.all(np.abs(freq - 0.2) < 0.03)


def reference_argmax_ties(values, rng):
    """The rule argmax_ties documents, one run at a time: u drawn only if some run ties, and a run
    with m maxima plays the floor(u m)-th of them."""
    is_max = values == values.max(axis=1, keepdims=True)
    if is_max.sum() == len(values):
        return values.argmax(axis=1)
    u = rng.random(len(values))
    return np.array([np.flatnonzero(row)[int(ur * row.sum())] for row, ur in zip(is_max, u, strict=True)])


@pytest.mark.parametrize("n_arms", [2, 3, 10, 300])
def test_argmax_ties_follows_its_rule_draw_for_draw(n_arms):
    rng = np.random.default_rng(n_arms)
    for share_tied in (0.0, 0.01, 0.5):
        values = rng.random((400, n_arms))
        tied = rng.random(values.shape) < share_tied
        values[tied] = np.inf  # several maxima in some runs, in any position
        values[0] = 0.0  # a run whose arms all tie (with share_tied 0: the only tied run)
        if share_tied == 0.0:
            values[0, 1] = 1.0
        got = B.argmax_ties(values, np.random.default_rng(1))
        np.testing.assert_array_equal(got, reference_argmax_ties(values, np.random.default_rng(1)))
        by_arm = B.argmax_ties_by_arm(np.ascontiguousarray(values.T), np.random.default_rng(1))
        np.testing.assert_array_equal(by_arm, got)
        assert got.dtype == np.int64


def test_ucb1_select_is_argmax_ties_of_its_index():
    """select computes the index arm-major in its own buffers: the same arms from the same draws."""
    for alpha, n_runs in ((1.0, 2000), (0.0, 2000), (1.0, 300)):  # arm-major from 4,096 entries
        learner = B.UCB1(4, n_runs, rng=3, alpha=alpha)
        assert learner._by_arm == (n_runs == 2000)
        env = BernoulliBandit([0.1, 0.1, 0.5, 0.5], n_runs, rng=4)
        for _ in range(60):
            expected = B.argmax_ties(learner.index(), np.random.default_rng(learner.t))
            learner.rng = np.random.default_rng(learner.t)
            arms = learner.select()
            np.testing.assert_array_equal(arms, expected)
            learner.update(arms, env.pull(arms))


# ---------------------------------------------------------------------------------------------
# argument checks


@pytest.mark.parametrize(("cls", "kwargs"), ALL_LEARNERS, ids=IDS)
def test_needs_two_arms_and_a_run(cls, kwargs):
    with pytest.raises(ValueError, match="n_arms must be at least 2"):
        cls(1, 5, **kwargs)
    with pytest.raises(ValueError, match="n_runs must be at least 1"):
        cls(3, 0, **kwargs)
    with pytest.raises(TypeError, match="n_arms must be an integer"):
        cls(3.0, 5, **kwargs)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="epsilon"):
        B.EpsilonGreedy(3, epsilon=1.5)
    with pytest.raises(ValueError, match="alpha"):
        B.UCB1(3, alpha=-1)
    with pytest.raises(ValueError, match="gamma"):
        B.EXP3(3, gamma=0.0)
    with pytest.raises(ValueError, match="step_size"):
        B.GradientBandit(3, step_size=0)
    with pytest.raises(ValueError, match="sigma"):
        B.GaussianThompson(3, sigma=-1)
    with pytest.raises(ValueError, match="prior_a"):
        B.BernoulliThompson(3, prior_a=0)
    with pytest.raises(TypeError, match="rng"):
        B.UCB1(3, rng="seed")
    with pytest.raises(ValueError, match="d must be at most 1"):
        B.DecayingEpsilon(c=1, d=2, n_arms=3)


def test_bad_feedback():
    learner = B.UCB1(3, 2, rng=0)
    with pytest.raises(ValueError, match="shape"):
        learner.update([0, 1, 2], [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"arms must lie in \[0, 3\)"):
        learner.update([0, 3], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"arms must lie in \[0, 3\)"):
        learner.update([-1, 0], [1.0, 0.0])
    with pytest.raises(TypeError, match="integers"):
        learner.update([0.0, 1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        learner.update([0, 1], [np.nan, 0.0])
    assert learner.t == 0  # nothing was recorded


@pytest.mark.parametrize("cls", [B.UCB1, B.KLUCB, B.BernoulliThompson, B.EXP3])
def test_rewards_outside_unit_interval_are_rejected(cls):
    learner = cls(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"rewards in \[0, 1\]"):
        learner.update([0, 1], [1.5, 0.0])
    with pytest.raises(ValueError, match=r"rewards in \[0, 1\]"):
        learner.update([0, 1], [-0.1, 0.0])


def test_real_valued_rewards_are_fine_where_allowed():
    for cls in (B.GaussianThompson, B.GradientBandit, B.EpsilonGreedy):
        learner = cls(3, 2, rng=0)
        learner.update([0, 1], [25.0, -3.0])
        assert learner.means[0, 0] == 25.0


def test_index_functions_reject_bad_tables():
    with pytest.raises(ValueError, match="counts must be non-negative"):
        B.ucb1_index([0.5, 0.5], [3, -1], t=2)
    with pytest.raises(ValueError, match="counts must be non-negative integers"):
        B.klucb_index([0.5, 0.5], [1.5, 1], t=3)
    with pytest.raises(ValueError, match="same shape"):
        B.ucb1_index([0.5, 0.5], [1, 1, 1], t=3)
    with pytest.raises(ValueError, match="at least the sum of counts"):
        B.ucb1_index([0.5, 0.5], [3, 4], t=5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        B.klucb_index([1.5, 0.5], [3, 4], t=7)
    with pytest.raises(ValueError, match=r"UCB1 needs mean rewards in \[0, 1\]"):
        B.ucb1_index([1.5, 0.5], [3, 4], t=7)  # e.g. revenue not yet rescaled
    with pytest.raises(ValueError, match=r"UCB1 needs mean rewards in \[0, 1\]"):
        B.ucb1_index([0.5, -0.01], [3, 4], t=7)
    assert np.all(np.isfinite(B.ucb1_index([0.0, 1.0], [3, 4], t=7)))  # the ends of [0, 1] are fine
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        B.kl_bernoulli(0.5, 1.2)


# ---------------------------------------------------------------------------------------------
# cross-check against mabwiser (sequential reference implementation)

mabwiser = pytest.importorskip("mabwiser.mab")


def _mabwiser(policy, n_arms: int):
    return mabwiser.MAB(arms=list(range(n_arms)), learning_policy=policy, seed=7)


def test_ucb1_matches_mabwiser_step_by_step():
    """Conventions: mabwiser's UCB1 index is mean + alpha sqrt(2 ln N / n) with N the number of
    decisions fitted so far, as here, but its default alpha is 0.05 (ours 1, the paper's), an
    unplayed arm's index is 0 (ours +inf) and ties go to the first arm (ours: random). So both
    start from the same round-robin history and see continuous rewards (no ties)."""
    n_arms, horizon = 4, 500
    table = np.random.default_rng(0).random((horizon, n_arms))
    reference = _mabwiser(mabwiser.LearningPolicy.UCB1(alpha=1.0), n_arms)
    reference.fit(decisions=list(range(n_arms)), rewards=[table[i, i] for i in range(n_arms)])
    ours = B.UCB1(n_arms, 1, rng=0)
    feed(ours, range(n_arms), [table[i, i] for i in range(n_arms)])
    for t in range(n_arms, horizon):
        expected = reference.predict()
        arm = int(ours.select()[0])
        assert arm == expected, f"round {t}"
        reference.partial_fit([arm], [table[t, arm]])
        ours.update(np.array([arm]), np.array([table[t, arm]]))
    expectations = reference.predict_expectations()
    np.testing.assert_allclose(ours.index()[0], [expectations[a] for a in range(n_arms)], rtol=1e-12)


def test_greedy_matches_mabwiser_step_by_step():
    n_arms, horizon = 5, 300
    table = np.random.default_rng(1).random((horizon, n_arms))
    reference = _mabwiser(mabwiser.LearningPolicy.EpsilonGreedy(epsilon=0.0), n_arms)
    reference.fit(decisions=list(range(n_arms)), rewards=[table[i, i] for i in range(n_arms)])
    ours = B.EpsilonGreedy(n_arms, 1, rng=0, epsilon=0.0)
    feed(ours, range(n_arms), [table[i, i] for i in range(n_arms)])
    for t in range(n_arms, horizon):
        arm = int(ours.select()[0])
        assert arm == reference.predict(), f"round {t}"
        reference.partial_fit([arm], [table[t, arm]])
        ours.update(np.array([arm]), np.array([table[t, arm]]))


def test_thompson_posterior_matches_mabwiser():
    """mabwiser keeps Beta(1 + successes, 1 + failures) per arm, as ours with the uniform prior."""
    rng = np.random.default_rng(2)
    decisions = rng.integers(0, 3, 200)
    rewards = (rng.random(200) < np.array([0.1, 0.4, 0.7])[decisions]).astype(float)
    reference = _mabwiser(mabwiser.LearningPolicy.ThompsonSampling(), 3)
    reference.fit(decisions=decisions.tolist(), rewards=rewards.tolist())
    ours = B.BernoulliThompson(3, 1, rng=0)
    feed(ours, decisions, rewards)
    np.testing.assert_array_equal(ours.alpha[0], [reference._imp.arm_to_success_count[a] for a in range(3)])
    np.testing.assert_array_equal(ours.beta[0], [reference._imp.arm_to_fail_count[a] for a in range(3)])


def test_unplayed_arm_convention_differs_from_mabwiser():
    """Documented difference: after fitting arms 0 and 1 only, mabwiser's UCB1 never tries arm 2
    (its index stays 0), while the textbook UCB1 plays it next (infinite index)."""
    reference = _mabwiser(mabwiser.LearningPolicy.UCB1(alpha=1.0), 3)
    reference.fit(decisions=[0, 1], rewards=[0.5, 0.2])
    ours = B.UCB1(3, 1, rng=0)
    feed(ours, [0, 1], [0.5, 0.2])
    assert reference.predict() == 0
    assert int(ours.select()[0]) == 2
