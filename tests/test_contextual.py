"""Contextual learners (helpers.contextual): exact linear algebra, exact gradients, valid outputs, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import contextual as cx

K, R, D = 3, 4, 5


def _play(learner, rng, steps=60, n_runs=R, n_features=D):
    """Feed random contexts, arms and rewards; return what was fed, per run."""
    xs, arms, rewards = [], [], []
    for _ in range(steps):
        x = rng.normal(size=(n_runs, n_features))
        a = rng.integers(learner.n_arms, size=n_runs)
        r = rng.normal(size=n_runs)
        learner.update(a, r, x)
        xs.append(x)
        arms.append(a)
        rewards.append(r)
    return np.stack(xs), np.stack(arms), np.stack(rewards)


@pytest.mark.parametrize("cls", [cx.LinUCB, cx.LinearThompson])
def test_ridge_statistics_equal_a_direct_ridge_solve(cls, rng):
    ridge = 0.7
    learner = cls(K, R, n_features=D, rng=1, ridge=ridge)
    xs, arms, rewards = _play(learner, rng)
    for r in range(R):
        for a in range(K):
            mask = arms[:, r] == a
            X, y = xs[mask, r], rewards[mask, r]
            A = ridge * np.eye(D) + X.T @ X
            theta = np.linalg.solve(A, X.T @ y)
            np.testing.assert_allclose(learner.theta[r, a], theta, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(learner.A[r, a], A, rtol=1e-12)
            np.testing.assert_allclose(learner.A_inv[r, a], np.linalg.inv(A), rtol=1e-7, atol=1e-10)
    np.testing.assert_array_equal(learner.counts.sum(axis=1), np.full(R, len(xs)))


def test_linucb_index_is_prediction_plus_scaled_width(rng):
    learner = cx.LinUCB(K, R, n_features=D, rng=1, alpha=0.8)
    _play(learner, rng, steps=20)
    x = rng.normal(size=(R, D))
    index = learner.index(x)
    for r in range(R):
        for a in range(K):
            a_inv = np.linalg.inv(learner.A[r, a])
            expected = learner.theta[r, a] @ x[r] + 0.8 * np.sqrt(x[r] @ a_inv @ x[r])
            assert index[r, a] == pytest.approx(expected, rel=1e-8)
    # a context shared by all runs broadcasts
    np.testing.assert_allclose(learner.index(x[0]), learner.index(np.tile(x[0], (R, 1))))


def test_linucb_before_any_data_prefers_nothing(rng):
    learner = cx.LinUCB(K, 2000, n_features=D, rng=3, alpha=1.0)
    arms = learner.select(np.ones(D))
    assert np.all(learner.probs(np.ones(D)) == pytest.approx(1.0 / K))
    shares = np.bincount(arms, minlength=K) / arms.size
    assert np.all(np.abs(shares - 1.0 / K) < 0.05)  # ties broken uniformly at random


def test_linear_thompson_draws_have_the_posterior_mean_and_covariance(rng):
    learner = cx.LinearThompson(2, 1, n_features=3, rng=7, v=0.5)
    _play(learner, rng, steps=40, n_runs=1, n_features=3)
    np.testing.assert_allclose(learner.chol[0, 1] @ learner.chol[0, 1].T, learner.A_inv[0, 1], atol=1e-10)
    draws = learner.sample(40_000)[:, 0, 1]  # (S, d)
    np.testing.assert_allclose(draws.mean(axis=0), learner.theta[0, 1], atol=0.02)
    np.testing.assert_allclose(np.cov(draws.T), 0.25 * learner.A_inv[0, 1], atol=0.01)


def test_linear_thompson_is_reproducible_with_a_seed(rng):
    x = rng.normal(size=(R, D))
    a = cx.LinearThompson(K, R, n_features=D, rng=11)
    b = cx.LinearThompson(K, R, n_features=D, rng=11)
    np.testing.assert_array_equal(a.select(x), b.select(x))


def _finite_difference(policy, params_key, context, arms, advantages, eps=1e-6):
    base = {k: v.copy() for k, v in policy.params.items()}
    grad = np.zeros_like(base[params_key])
    it = np.nditer(base[params_key], flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        plus = {k: v.copy() for k, v in base.items()}
        minus = {k: v.copy() for k, v in base.items()}
        plus[params_key][idx] += eps
        minus[params_key][idx] -= eps
        run = idx[0]
        f_plus = policy.objective(context, arms, advantages, plus)[run]
        f_minus = policy.objective(context, arms, advantages, minus)[run]
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("hidden", [0, 4])
@pytest.mark.parametrize("entropy", [0.0, 0.3])
def test_reinforce_gradient_equals_finite_differences(hidden, entropy, rng):
    policy = cx.NeuralSoftmaxPolicy(K, 2, n_features=3, rng=5, hidden=hidden, entropy=entropy)
    for name in policy.params:  # move away from the all-zero output layer
        policy.params[name] = rng.normal(scale=0.5, size=policy.params[name].shape)
    x = rng.normal(size=(2, 3))
    arms = np.array([1, 2])
    adv = np.array([0.7, -1.3])
    grads = policy.gradient(x, arms, adv)
    assert set(grads) == set(policy.params)
    for name in policy.params:
        np.testing.assert_allclose(grads[name], _finite_difference(policy, name, x, arms, adv), rtol=1e-5, atol=1e-7)


def test_expected_reinforce_gradient_is_the_gradient_of_expected_reward(rng):
    # sum_a pi(a|x) * r(a) * grad log pi(a|x) = grad sum_a pi(a|x) r(a)  (the likelihood-ratio identity)
    policy = cx.NeuralSoftmaxPolicy(K, 1, n_features=3, rng=2, hidden=4)
    for name in policy.params:
        policy.params[name] = rng.normal(scale=0.5, size=policy.params[name].shape)
    x = rng.normal(size=(1, 3))
    r = np.array([0.2, 1.0, 0.5])
    pi = policy.probs(x)[0]
    expected = {name: sum(pi[a] * policy.gradient(x, [a], [r[a]])[name] for a in range(K)) for name in policy.params}

    def value(params):
        return float(policy._forward(x, params)[1][0] @ r)

    eps = 1e-6
    for name, p in policy.params.items():
        numeric = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = {k: v.copy() for k, v in policy.params.items()}
            minus = {k: v.copy() for k, v in policy.params.items()}
            plus[name][idx] += eps
            minus[name][idx] -= eps
            numeric[idx] = (value(plus) - value(minus)) / (2 * eps)
        np.testing.assert_allclose(expected[name], numeric, rtol=1e-5, atol=1e-8)


def test_reinforce_step_moves_probability_towards_a_rewarded_arm():
    policy = cx.NeuralSoftmaxPolicy(K, 1, n_features=2, rng=0, hidden=0, optimizer="sgd", step_size=0.5,
                                    baseline=False)
    x = np.array([1.0, 0.5])
    before = policy.probs(x)[0, 2]
    policy.update(np.array([2]), np.array([1.0]), x)
    assert policy.probs(x)[0, 2] > before
    policy.update(np.array([0]), np.array([-1.0]), x)  # a negative reward pushes arm 0 down
    assert policy.probs(x)[0, 0] < 1.0 / K


def _two_context_problem(learner, rng, steps):
    """Arm 0 pays when x1 > 0, arm 1 when x1 < 0, arm 2 never; return late accuracy."""
    correct = []
    for t in range(steps):
        x = np.column_stack([np.ones(learner.n_runs), rng.choice([-1.0, 1.0], size=learner.n_runs)])
        best = np.where(x[:, 1] > 0, 0, 1)
        arms = learner.select(x)
        rewards = (arms == best).astype(float) * (rng.random(learner.n_runs) < 0.9)
        learner.update(arms, rewards, x)
        if t >= steps - 200:
            correct.append(arms == best)
    return np.mean(correct)


@pytest.mark.parametrize("make", [
    lambda: cx.LinUCB(3, 20, n_features=2, rng=1, alpha=0.5),
    lambda: cx.LinearThompson(3, 20, n_features=2, rng=1, v=0.3),
    lambda: cx.NeuralSoftmaxPolicy(3, 20, n_features=2, rng=1, hidden=8, step_size=0.05),
    lambda: cx.NeuralSoftmaxPolicy(3, 20, n_features=2, rng=1, hidden=0, step_size=0.05, entropy=0.01),
], ids=["LinUCB", "LinTS", "neural", "linear-softmax"])
def test_contextual_learners_learn_which_arm_suits_which_context(make):
    accuracy = _two_context_problem(make(), np.random.default_rng(0), 800)
    assert accuracy > 0.85  # a context-free learner cannot beat 0.5 here


@pytest.mark.parametrize("make", [
    lambda: cx.LinUCB(K, R, n_features=D, rng=1),
    lambda: cx.LinearThompson(K, R, n_features=D, rng=1),
    lambda: cx.NeuralSoftmaxPolicy(K, R, n_features=D, rng=1, hidden=6, entropy=0.1),
    lambda: cx.NeuralSoftmaxPolicy(K, R, n_features=D, rng=1, hidden=0, optimizer="sgd"),
], ids=["LinUCB", "LinTS", "neural", "linear-softmax"])
def test_policies_return_valid_arms_and_distributions(make, rng):
    learner = make()
    for _ in range(30):
        x = rng.normal(size=(R, D)) * 3
        arms = learner.select(x)
        assert arms.shape == (R,) and arms.dtype.kind == "i"
        assert arms.min() >= 0 and arms.max() < K
        p = learner.probs(x)
        assert p.shape == (R, K) and np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        learner.update(arms, rng.random(R), x)
    learner.reset()
    assert learner.t == 0 and learner.counts.sum() == 0


def test_reset_forgets_what_was_learned(rng):
    learner = cx.LinUCB(K, R, n_features=D, rng=1)
    _play(learner, rng, steps=5)
    learner.reset()
    np.testing.assert_array_equal(learner.A, np.broadcast_to(np.eye(D), learner.A.shape))
    np.testing.assert_array_equal(learner.theta, 0.0)
    policy = cx.NeuralSoftmaxPolicy(K, R, n_features=D, rng=1)
    _play(policy, rng, steps=5)
    policy.reset()
    np.testing.assert_allclose(policy.probs(np.ones(D)), 1.0 / K)


@pytest.mark.parametrize("call, error", [
    (lambda: cx.LinUCB(K, R, n_features=0), ValueError),
    (lambda: cx.LinUCB(K, R, n_features=2.5), TypeError),
    (lambda: cx.LinUCB(1, R, n_features=D), ValueError),
    (lambda: cx.LinUCB(K, R, n_features=D, alpha=-1), ValueError),
    (lambda: cx.LinUCB(K, R, n_features=D, ridge=0), ValueError),
    (lambda: cx.LinearThompson(K, R, n_features=D, v=0), ValueError),
    (lambda: cx.NeuralSoftmaxPolicy(K, R, n_features=D, optimizer="rmsprop"), ValueError),
    (lambda: cx.NeuralSoftmaxPolicy(K, R, n_features=D, hidden=-1), ValueError),
    (lambda: cx.NeuralSoftmaxPolicy(K, R, n_features=D, entropy=-0.1), ValueError),
    (lambda: cx.NeuralSoftmaxPolicy(K, R, n_features=D, step_size=0), ValueError),
    (lambda: cx.LinUCB(K, R, n_features=D, rng="seed"), TypeError),
])
def test_bad_constructor_arguments_give_clear_errors(call, error):
    with pytest.raises(error):
        call()


def test_bad_contexts_and_feedback_give_clear_errors():
    learner = cx.LinUCB(K, R, n_features=D, rng=0)
    with pytest.raises(ValueError, match="contextual learner"):
        learner.select()
    with pytest.raises(ValueError, match="shape"):
        learner.select(np.ones((R, D + 1)))
    with pytest.raises(ValueError, match="finite"):
        learner.select(np.full(D, np.nan))
    with pytest.raises(ValueError, match="arms"):
        learner.update(np.full(R, K), np.zeros(R), np.ones(D))
    with pytest.raises(ValueError, match="shape"):
        learner.update(np.zeros(R, int), np.zeros(R + 1), np.ones(D))
    with pytest.raises(ValueError, match="finite"):
        learner.update(np.zeros(R, int), np.full(R, np.inf), np.ones(D))
    assert learner.t == 0 and learner.counts.sum() == 0  # nothing was recorded


# ---------------------------------------------------------------------------------------------
# the item-level bandit (cold start)


@pytest.mark.parametrize("method", ["ucb", "thompson"])
def test_item_bandit_update_equals_a_ridge_solve(method, rng):
    bandit = cx.LinearItemBandit(4, 2, rng=0, method=method, ridge=2.0)
    xs, ys = [], []
    for _ in range(15):
        x = rng.normal(size=(2, 3, 4))
        y = rng.random((2, 3))
        bandit.update(x, y)
        xs.append(x)
        ys.append(y)
    X = np.concatenate(xs, axis=1)  # (2, 45, 4)
    Y = np.concatenate(ys, axis=1)
    for r in range(2):
        theta = np.linalg.solve(2.0 * np.eye(4) + X[r].T @ X[r], X[r].T @ Y[r])
        np.testing.assert_allclose(bandit.theta[r], theta, rtol=1e-8)
    assert bandit.t == 15


def test_item_bandit_selects_distinct_top_items_and_finds_a_good_direction(rng):
    bandit = cx.LinearItemBandit(3, 1, rng=0, alpha=0.2)
    truth = np.array([0.0, 1.0, -1.0])
    hits = []
    for _ in range(300):
        cands = np.column_stack([np.ones(12), rng.normal(size=(12, 2))])
        pick = bandit.select(cands, k=3)
        assert pick.shape == (1, 3) and len(set(pick[0])) == 3 and pick.max() < 12
        reward = (cands[pick[0]] @ truth > 0.5).astype(float)
        bandit.update(cands[pick[0]][None], reward[None])
        hits.append(reward.mean())
    assert np.mean(hits[-100:]) > 0.6  # random picks would hit about 0.24 of the time
    assert bandit.theta[0, 1] > 0 > bandit.theta[0, 2]


def test_item_bandit_mask_keeps_each_run_to_its_own_candidates(rng):
    bandit = cx.LinearItemBandit(2, 3, rng=0)
    bandit.update(np.tile([[[1.0, 1.0]]], (3, 1, 1)), np.ones((3, 1)))  # item score grows with x[1]
    cands = np.column_stack([np.ones(6), np.arange(6.0)])
    mask = np.ones((3, 6), dtype=bool)
    mask[0, 4:] = False  # run 0 may not show its two best items
    mask[1, ::2] = False  # run 1 only the odd ones
    pick = bandit.select(cands, k=2, mask=mask)
    np.testing.assert_array_equal(pick, [[3, 2], [5, 3], [5, 4]])
    np.testing.assert_array_equal(bandit.select(cands, k=2, mask=np.arange(6) < 3), [[2, 1]] * 3)
    with pytest.raises(ValueError, match="exceeds"):
        bandit.select(cands, k=4, mask=mask)
    with pytest.raises(ValueError, match="mask"):
        bandit.select(cands, k=1, mask=np.ones(5, dtype=bool))


def test_item_bandit_bad_inputs():
    with pytest.raises(ValueError, match="method"):
        cx.LinearItemBandit(3, method="greedy")
    bandit = cx.LinearItemBandit(3)
    with pytest.raises(ValueError, match="candidates"):
        bandit.select(np.ones((5, 4)))
    with pytest.raises(ValueError, match="exceeds"):
        bandit.select(np.ones((2, 3)), k=3)
    with pytest.raises(ValueError, match="rewards"):
        bandit.update(np.ones((1, 2, 3)), np.ones((1, 3)))
