"""Tests of helpers.rerank: MMR and greedy DPP MAP inference, on cases checked by hand or brute force."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from helpers.rerank import dpp_greedy, dpp_log_quality, mmr, rerank

# Four candidates in the plane: 0 and 1 are the same direction (a near-duplicate), 2 is
# orthogonal to them, 3 sits between (45 degrees).
PLANE = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def brute_force_greedy(kernel: np.ndarray, k: int) -> tuple[list[int], list[float]]:
    """Greedy MAP by recomputing log det of every enlarged kernel (the definition, O(k m k^3))."""
    picked: list[int] = []
    gains, current = [], 0.0
    for _ in range(k):
        best, best_value = None, -np.inf
        for i in range(len(kernel)):
            if i in picked:
                continue
            sign, value = np.linalg.slogdet(kernel[np.ix_(picked + [i], picked + [i])])
            if sign > 0 and value > best_value + 1e-12:
                best, best_value = i, value
        picked.append(best)
        gains.append(best_value - current)
        current = best_value
    return picked, gains


def test_mmr_lambda_one_is_relevance_order(rng):
    rel = rng.random((20, 15))
    emb = rng.normal(size=(15, 4))
    np.testing.assert_array_equal(mmr(rel, emb, 6, lam=1.0), np.argsort(-rel, axis=1, kind="stable")[:, :6])


def test_mmr_by_hand():
    rel = np.array([1.0, 0.9, 0.5, 0.7])
    # lam 0.5: pick 0; then objectives 0.5*rel - 0.5*cos to item 0: 1: 0.45-0.5, 2: 0.25-0, 3: 0.35-0.354
    assert mmr(rel, PLANE, 2, lam=0.5).tolist() == [0, 2]
    # lam 0.9 keeps the near-duplicate: 0.81 - 0.1 = 0.71 beats 0.63 - 0.0707 and 0.45
    assert mmr(rel, PLANE, 2, lam=0.9).tolist() == [0, 1]
    # the third pick at lam 0.5: 1 has max cos 1 -> -0.05; 3 has max cos 0.707 -> 0.35 - 0.354
    assert mmr(rel, PLANE, 3, lam=0.5).tolist() == [0, 2, 3]


def test_mmr_per_visit_embeddings_and_exclude(rng):
    rel = rng.random((5, 8))
    emb = rng.normal(size=(8, 3))
    shared = mmr(rel, emb, 4, lam=0.3)
    np.testing.assert_array_equal(mmr(rel, np.broadcast_to(emb, (5, 8, 3)), 4, lam=0.3), shared)
    exclude = np.zeros((5, 8), dtype=bool)
    exclude[:, shared[:, 0]] = True
    picks = mmr(rel, emb, 4, lam=0.3, exclude=sp.csr_matrix(exclude))
    assert not np.any(np.take_along_axis(exclude, picks, axis=1))


def test_dpp_avoids_the_duplicate_by_hand():
    # equal quality: after item 0, the duplicate 1 has residual 0, item 2 residual 1, item 3 residual 1/2
    picks, gains = dpp_greedy(PLANE, 2, return_gains=True)
    assert picks.tolist() == [0, 2]
    np.testing.assert_allclose(gains, [0.0, 0.0], atol=1e-12)
    # quality doubles item 3's weight: gains 2 log 2 (item 3 first), then log(4 * 1/2) vs log(1/2)
    picks, gains = dpp_greedy(PLANE, 2, log_quality=np.log([1.0, 1.0, 1.0, 2.0]), return_gains=True)
    assert picks.tolist() == [3, 0]
    np.testing.assert_allclose(gains, [2 * np.log(2), np.log(0.5)])


def test_dpp_equals_brute_force_greedy(rng):
    for _ in range(5):
        emb = rng.normal(size=(12, 6))
        logq = rng.normal(scale=0.5, size=12)
        unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        q = np.exp(logq)
        kernel = q[:, None] * (unit @ unit.T) * q[None, :]
        expected, expected_gains = brute_force_greedy(kernel, 5)
        picks, gains = dpp_greedy(emb, 5, log_quality=logq, return_gains=True)
        assert picks.tolist() == expected
        np.testing.assert_allclose(gains, expected_gains, atol=1e-9)


def test_dpp_batched_equals_one_visit_at_a_time(rng):
    emb = rng.normal(size=(6, 30, 8))
    logq = rng.normal(size=(6, 30))
    together = dpp_greedy(emb, 7, log_quality=logq)
    for u in range(6):
        np.testing.assert_array_equal(dpp_greedy(emb[u], 7, log_quality=logq[u]), together[u])


def test_dpp_distinct_items_and_non_increasing_gains(rng):
    emb = rng.normal(size=(40, 5))  # rank 5 < k: the last picks are dependent and filled by quality
    logq = rng.normal(size=(10, 40))
    picks, gains = dpp_greedy(emb, 8, log_quality=logq, return_gains=True)
    assert all(len(set(row)) == 8 for row in picks.tolist())
    assert np.all(np.isfinite(gains[:, :5])) and np.all(gains[:, 5:] == -np.inf)
    assert np.all(np.diff(gains[:, :5], axis=1) <= 1e-9)
    # the fill-in picks are the best-quality items left
    for row, lq in zip(picks, logq, strict=True):
        left = np.setdiff1d(np.arange(40), row[:5])
        assert row[5:].tolist() == left[np.argsort(-lq[left], kind="stable")][:3].tolist()


def test_dpp_large_quality_does_not_overflow():
    logq = dpp_log_quality(np.array([1.0, 0.9, 0.0, 0.5]), theta=0.9999)  # alpha about 5000
    picks = dpp_greedy(PLANE, 3, log_quality=logq)
    assert picks.tolist()[:1] == [0] and len(set(picks.tolist())) == 3


def test_rerank_lambda_one_is_plain_top_k(rng):
    scores = rng.normal(size=(7, 50))
    emb = rng.normal(size=(50, 4))
    exclude = rng.random((7, 50)) < 0.2
    plain = np.argsort(-np.where(exclude, -np.inf, scores), axis=1, kind="stable")[:, :10]
    for method in ("mmr", "dpp"):
        np.testing.assert_array_equal(rerank(scores, emb, 10, method=method, lam=1.0, exclude=exclude), plain)


def test_rerank_diversifies_and_respects_exclusion(rng):
    # two clusters of items; the top scores all lie in cluster A
    centers = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    labels = np.repeat([0, 1], 20)
    emb = centers[labels] + 0.05 * rng.normal(size=(40, 3))
    scores = np.tile(np.where(labels == 0, 1.0, 0.5) + 0.01 * rng.random(40), (3, 1))
    exclude = np.zeros((3, 40), dtype=bool)
    exclude[0, :5] = True
    for method in ("mmr", "dpp"):
        slates = rerank(scores, emb, 6, method=method, lam=0.5, n_candidates=40, exclude=exclude, chunk=2)
        assert np.all((labels[slates] == 1).sum(axis=1) >= 1), method
        assert not np.any(np.isin(slates[0], np.arange(5)))
        assert all(len(set(row)) == 6 for row in slates.tolist())
        top = rerank(scores, emb, 6, method=method, lam=1.0, n_candidates=40)
        assert np.all(labels[top] == 0)


def test_rerank_tolerates_minus_infinity_scores(rng):
    scores = rng.random((2, 20))
    scores[:, :3] = -np.inf
    slates = rerank(scores, rng.normal(size=(20, 3)), 5, method="dpp", lam=0.5, n_candidates=20)
    assert slates.shape == (2, 5)


@pytest.mark.parametrize("call, message", [
    (lambda: mmr(np.ones(4), PLANE, 5), "k must be"),
    (lambda: mmr(np.ones(4), PLANE, 2, lam=1.5), "lam must lie"),
    (lambda: mmr(np.ones(3), PLANE, 2), "embeddings must be"),
    (lambda: mmr([np.nan, 1, 1, 1], PLANE, 2), "finite"),
    (lambda: mmr(np.ones(4), np.zeros((4, 2)), 2), "all zero"),
    (lambda: mmr(np.ones((1, 4)), PLANE, 3, exclude=[[True, True, False, False]]), "fewer than k"),
    (lambda: dpp_greedy(PLANE, 2, log_quality=np.ones(5)), "5 candidates"),
    (lambda: dpp_greedy(PLANE, 2, eps=0.0), "eps"),
    (lambda: dpp_log_quality([0.5], 1.0), "theta = 1"),
    (lambda: rerank(np.ones((2, 4)), PLANE, 2, method="random"), "method"),
    (lambda: rerank(np.ones((2, 4)), PLANE[:3], 2), "embeddings must be"),
    (lambda: rerank(np.ones((2, 4)), PLANE, 3, n_candidates=2), "k must be"),
    (lambda: rerank(np.full((2, 4), np.nan), PLANE, 2), "NaN"),
    (lambda: rerank(np.ones((1, 4)), PLANE, 3, exclude=[[True, True, False, False]]), "fewer than k"),
])
def test_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()
