"""Tests of helpers.slate_policy: the sequential Plackett-Luce slate policy and its REINFORCE learning."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from helpers.rerank import mmr
from helpers.slate_policy import PlackettLucePolicy, candidate_similarities, slate_reward, train_online


def toy(rng, n=3, m=5, f=2):
    emb = rng.normal(size=(n, m, 4))
    emb /= np.linalg.norm(emb, axis=2, keepdims=True)
    return rng.normal(size=(n, m, f)), np.matmul(emb, np.swapaxes(emb, 1, 2))


def test_probabilities_sum_to_one_and_match_sampling(rng):
    x, sims = toy(rng, n=1, m=4)
    policy = PlackettLucePolicy(2, k=2, weights=np.array([1.0, -0.5]), beta=0.8, rng=7)
    slates = np.array([list(p) for p in itertools.permutations(range(4), 2)])[None]  # (1, 12, 2)
    logp, _ = policy.log_prob(x, sims, slates)
    probs = np.exp(logp[0])
    assert probs.sum() == pytest.approx(1.0)
    draws = policy.sample(x, sims, n_samples=20000)[0]
    freq = np.array([np.mean((draws[:, 0] == a) & (draws[:, 1] == b)) for a, b in slates[0]])
    np.testing.assert_allclose(freq, probs, atol=0.015)


def test_plackett_luce_by_hand():
    # beta = 0, scores log(1), log(2), log(3): P(2 then 1) = 3/6 * 2/3 = 1/3
    x = np.log([[[1.0], [2.0], [3.0]]])
    sims = np.eye(3)[None]
    policy = PlackettLucePolicy(1, k=2, weights=np.array([1.0]), learn_beta=False)
    logp, _ = policy.log_prob(x, sims, np.array([[[2, 1]]]))
    assert np.exp(logp[0, 0]) == pytest.approx(1 / 3)


def test_gradient_equals_finite_differences(rng):
    x, sims = toy(rng)
    policy = PlackettLucePolicy(2, k=3, weights=np.array([0.3, -0.7]), beta=0.4, rng=1)
    slates = policy.sample(x, sims, n_samples=2)
    _, grad = policy.log_prob(x, sims, slates)
    h = 1e-6
    for p in range(3):
        shifted = []
        for sign in (1, -1):
            theta = policy.theta.copy()
            theta[p] += sign * h
            other = PlackettLucePolicy(2, k=3, weights=theta[:2], beta=theta[2])
            shifted.append(other.log_prob(x, sims, slates)[0])
        np.testing.assert_allclose(grad[..., p], (shifted[0] - shifted[1]) / (2 * h), atol=1e-6)


def test_greedy_is_mmr(rng):
    rel = rng.random((6, 12))
    emb = rng.normal(size=(6, 12, 5))
    emb /= np.linalg.norm(emb, axis=2, keepdims=True)
    sims = np.matmul(emb, np.swapaxes(emb, 1, 2))
    for lam in (0.3, 0.7):
        policy = PlackettLucePolicy(1, k=5, weights=np.array([lam]), beta=1 - lam)
        np.testing.assert_array_equal(policy.greedy(rel[..., None], sims), mmr(rel, emb, 5, lam))


def test_slate_reward_by_hand():
    sims = np.array([[[1.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.0]]])
    rel = np.array([[1.0, 0.0, 1.0]])
    reward, hits, ild = slate_reward(np.array([[[0, 1], [0, 2]]]), rel, sims, lam=2.0)
    np.testing.assert_allclose(hits, [[1, 2]])
    np.testing.assert_allclose(ild, [[0.5, 1.0]])
    np.testing.assert_allclose(reward, [[2.0, 4.0]])


def test_candidate_similarities(rng):
    emb = rng.normal(size=(10, 3))
    sims = candidate_similarities(np.array([[0, 3, 5], [2, 2, 9]]), emb)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    np.testing.assert_allclose(sims[0, 1, 2], unit[3] @ unit[5], rtol=1e-5)
    np.testing.assert_allclose(np.diagonal(sims, axis1=1, axis2=2), 1.0, rtol=1e-5)


def test_learning_finds_the_relevant_feature_and_the_diversity_penalty():
    # 40 candidates in 4 tight clusters; feature 0 marks relevant items, all in cluster 0 except a
    # few; with lam large, spreading the slate over clusters pays, so beta must grow.
    rng = np.random.default_rng(3)
    n, m = 512, 40
    labels = np.repeat(np.arange(4), 10)
    centers = np.eye(4)
    emb = centers[labels][None] + 0.05 * rng.normal(size=(n, m, 4))
    emb /= np.linalg.norm(emb, axis=2, keepdims=True)
    sims = np.matmul(emb, np.swapaxes(emb, 1, 2))
    relevant = (rng.random((n, m)) < np.where(labels == 0, 0.5, 0.1)[None]).astype(float)
    x = np.stack([relevant + 0.1 * rng.normal(size=(n, m)), rng.normal(size=(n, m))], axis=2)
    results = {}
    for lam in (0.0, 5.0):
        policy = PlackettLucePolicy(2, k=4, lr=0.1, rng=0)
        trace = train_online(policy, x, sims, relevant, lam, batch_size=16)
        results[lam] = (policy, trace)
        assert policy.weights[0] > 1.0  # learned that feature 0 predicts hits
        first, last = trace["reward"][:64].mean(), trace["reward"][-64:].mean()
        assert last > first
    assert results[5.0][0].beta > results[0.0][0].beta + 0.5
    assert results[5.0][1]["ild"][-128:].mean() > results[0.0][1]["ild"][-128:].mean()


@pytest.mark.parametrize("call, message", [
    (lambda: PlackettLucePolicy(0), "n_features"),
    (lambda: PlackettLucePolicy(2, k=1), "at least 2"),
    (lambda: PlackettLucePolicy(2, weights=np.ones(3)), "weights"),
    (lambda: PlackettLucePolicy(1, k=2).sample(np.ones((1, 3)), np.ones((1, 3, 3))), "features must be"),
    (lambda: PlackettLucePolicy(1, k=2).sample(np.ones((1, 3, 1)), np.ones((1, 3, 2))), "sims must be"),
    (lambda: PlackettLucePolicy(1, k=4).sample(np.ones((1, 3, 1)), np.ones((1, 3, 3))), "exceeds"),
    (lambda: PlackettLucePolicy(1, k=2).log_prob(np.ones((1, 3, 1)), np.ones((1, 3, 3)), [[[1, 1]]]), "twice"),
    (lambda: PlackettLucePolicy(1, k=2).learn(np.ones((1, 3, 1)), np.ones((1, 3, 3)), np.ones((1, 3)), 1.0,
                                             n_samples=1), "n_samples"),
    (lambda: slate_reward(np.zeros((1, 1, 2), int), np.ones((1, 3)), np.ones((1, 3, 3)), -1.0), "lam"),
])
def test_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()
