"""Badly scaled inputs are a clear error at ``update``, for every learner, before any state changes.

Regression tests: a context of 1e200 made linear Thompson's state NaN (it then played arm 0
forever), and overflowing rewards or contexts made LinUCB and ε-greedy crash later with an
``IndexError``. The errors name the argument, what was given, what is allowed and the fix.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import bandits as B
from helpers import contextual as cx
from helpers.slate_policy import PlackettLucePolicy, slate_reward

R, K, D = 3, 4, 2


def _state(learner) -> list[np.ndarray]:
    names = ("counts", "means", "A", "A_inv", "b", "theta", "chol", "alpha", "beta", "preferences", "baseline")
    return [np.array(getattr(learner, n), copy=True) for n in names if hasattr(learner, n)]


def _assert_unchanged(learner, before, t):
    assert learner.t == t
    for old, new in zip(before, _state(learner), strict=True):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("name", list(B.CONTEXT_FREE))
def test_non_finite_rewards_are_refused_by_every_context_free_learner(name):
    learner = B.CONTEXT_FREE[name](K, R, rng=0)
    before = _state(learner)
    with pytest.raises(TypeError, match="rewards must be an array of numbers"):
        learner.update(np.zeros(R, dtype=np.int64), [0, 10**400, 1])
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match=r"rewards must be finite: 1 of 3 values are NaN or infinite; check"):
            learner.update(np.zeros(R, dtype=np.int64), np.array([0.0, bad, 1.0]))
    _assert_unchanged(learner, before, 0)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # numpy's, before our error
@pytest.mark.parametrize("name", ["epsilon-greedy", "Thompson (Gaussian)", "gradient bandit"])
def test_overflowing_rewards_are_an_error_at_update_not_an_index_error_later(name):
    learner = B.CONTEXT_FREE[name](K, R, rng=0)
    arms = np.zeros(R, dtype=np.int64)
    learner.update(arms, np.full(R, 1e308))
    before = _state(learner)
    with pytest.raises(ValueError, match=r"rewards would overflow the learner's statistics: values up to 1e\+308.*rescale rewards"):
        learner.update(arms, np.full(R, -1e308))  # the running mean would be -inf, then NaN
    _assert_unchanged(learner, before, 1)
    assert learner.select().shape == (R,)  # still usable


@pytest.mark.parametrize("cls", [cx.LinUCB, cx.LinearThompson, cx.NeuralSoftmaxPolicy])
def test_an_overflowing_context_is_an_error_at_update_and_select(cls):
    learner = cls(K, R, n_features=D, rng=0)
    before = _state(learner)
    huge = np.array([1.0, 1e200])
    with pytest.raises(ValueError, match=r"context would overflow the learner's statistics: values up to 1e\+200.*"
                                         r"standardise contexts"):
        learner.update(np.zeros(R, dtype=np.int64), np.ones(R), huge)
    _assert_unchanged(learner, before, 0)
    with pytest.raises(ValueError, match="context would overflow"):
        learner.select(huge)
    with pytest.raises(ValueError, match=r"context must be finite: 1 of 6 values"):
        learner.update(np.zeros(R, dtype=np.int64), np.ones(R), np.array([[1.0, np.nan]] + [[1.0, 0.0]] * 2))


def test_linear_thompson_keeps_learning_after_a_refused_context():
    """The bug: one context of 1e200 turned the state to NaN and the learner played arm 0 forever."""
    learner = cx.LinearThompson(K, 200, n_features=D, rng=0)
    with pytest.raises(ValueError):
        learner.update(np.ones(200, dtype=np.int64), np.ones(200), np.array([1.0, 1e200]))
    assert np.isfinite(learner.theta).all() and np.isfinite(learner.chol).all()
    assert len(np.unique(learner.select(np.array([1.0, 0.5])))) > 1  # not arm 0 everywhere


def test_overflowing_reward_times_context_is_refused_by_the_ridge_learners():
    learner = cx.LinUCB(K, R, n_features=D, rng=0)
    with pytest.raises(ValueError, match="rewards times context would overflow"):
        learner.update(np.zeros(R, dtype=np.int64), np.full(R, 1e200), np.array([1.0, 1e150]))
    _assert_unchanged(learner, _state(cx.LinUCB(K, R, n_features=D, rng=0)), 0)


def test_item_bandit_refuses_overflowing_features_and_rewards():
    bandit = cx.LinearItemBandit(D, R, rng=0)
    with pytest.raises(ValueError, match="candidates would overflow"):
        bandit.select(np.array([[1.0, 1e200], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="features would overflow"):
        bandit.update(np.full((R, 1, D), 1e200), np.ones((R, 1)))
    with pytest.raises(ValueError, match="rewards must be finite"):
        bandit.update(np.ones((R, 1, D)), np.full((R, 1), np.nan))
    with pytest.raises(ValueError, match="rewards times features would overflow"):
        bandit.update(np.full((R, 1, D), 1e150), np.full((R, 1), 1e200))
    assert bandit.t == 0 and np.all(bandit.b == 0)


def test_slate_policy_refuses_overflowing_features_and_non_finite_relevance():
    policy = PlackettLucePolicy(n_features=2, k=2, rng=0)
    features = np.ones((1, 3, 2))
    sims = np.eye(3)[None]
    with pytest.raises(ValueError, match="features would overflow"):
        policy.sample(np.full((1, 3, 2), 1e200), sims)
    with pytest.raises(ValueError, match="relevance must be finite"):
        slate_reward(np.array([[[0, 1]]]), np.array([[1.0, np.nan, 0.0]]), sims, 0.5)
    with pytest.raises(ValueError, match="relevance must be finite"):
        policy.learn(features, sims, np.array([[1.0, np.inf, 0.0]]), 0.5)
    assert policy.t == 0 and np.all(policy.weights == 0)
