"""Ranking metrics (helpers.metrics, notebook 03 section) on hand-computed examples."""

import math

import numpy as np
import pytest

from helpers import metrics

# Three visits, slates of k = 3. Visit 0 hits at rank 2, visit 1 at ranks 1 and 3 (of 3
# targets), visit 2 misses.
SLATES = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
TARGETS = [np.array([2]), np.array([4, 6, 10]), np.array([11])]


def test_relevance_matrix_marks_hits():
    expected = np.array([[False, True, False], [True, False, True], [False, False, False]])
    np.testing.assert_array_equal(metrics.relevance_matrix(SLATES, TARGETS), expected)


def test_hit_rate_by_hand():
    np.testing.assert_array_equal(metrics.hit_rate(SLATES, TARGETS), [1.0, 1.0, 0.0])


def test_recall_by_hand():
    np.testing.assert_allclose(metrics.recall_at_k(SLATES, TARGETS), [1.0, 2 / 3, 0.0])


def test_ndcg_by_hand():
    v0 = (1 / math.log2(3)) / 1.0
    v1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    np.testing.assert_allclose(metrics.ndcg_at_k(SLATES, TARGETS), [v0, v1, 0.0])


def test_ndcg_is_one_for_an_ideal_slate_and_ideal_caps_at_k():
    slates = np.array([[5, 6], [5, 6]])
    targets = [np.array([5, 6, 7, 8]), np.array([6])]
    # row 0: two hits at ranks 1-2 with four targets -> ideal DCG uses min(k, 4) = 2 positions
    assert metrics.ndcg_at_k(slates, targets)[0] == pytest.approx(1.0)
    assert metrics.ndcg_at_k(slates, targets)[1] == pytest.approx(1 / math.log2(3))


def test_duplicate_targets_are_counted_once():
    np.testing.assert_allclose(metrics.recall_at_k([[1, 2]], [np.array([1, 1, 3])]), [0.5])


def test_empty_targets_score_zero():
    assert metrics.ndcg_at_k([[1, 2]], [np.array([], dtype=int)])[0] == 0.0
    assert metrics.recall_at_k([[1, 2]], [np.array([], dtype=int)])[0] == 0.0


def test_catalogue_coverage_by_hand():
    assert metrics.catalogue_coverage(SLATES, 20) == pytest.approx(9 / 20)
    assert metrics.catalogue_coverage(np.array([[0, 1], [1, 0]]), 4) == pytest.approx(0.5)


def test_ranking_summary_averages():
    summary = metrics.ranking_summary(SLATES, TARGETS, 20)
    assert set(summary) == {"HR@3", "Recall@3", "NDCG@3", "coverage"}
    assert summary["HR@3"] == pytest.approx(2 / 3)
    assert summary["Recall@3"] == pytest.approx((1 + 2 / 3) / 3)


def test_auc_by_hand_with_ties_and_exclusions():
    scores = np.array([[0.9, 0.1, 0.5, 0.3], [0.5, 0.5, 0.2, 0.0], [0.1, 0.9, 0.5, 0.0]])
    targets = [np.array([0, 2]), np.array([0]), np.array([2])]
    got = metrics.auc_per_visit(scores, targets)
    # row 1: target 0.5 vs non-targets {0.5, 0.2, 0.0}: (0.5 + 1 + 1) / 3
    np.testing.assert_allclose(got, [1.0, 2.5 / 3, 2 / 3])
    exclude = np.zeros_like(scores, dtype=bool)
    exclude[2, 1] = True  # the 0.9 item was bought before: it no longer counts
    assert metrics.auc_per_visit(scores, targets, exclude=exclude)[2] == pytest.approx(1.0)


def test_auc_matches_sklearn(rng):
    from sklearn.metrics import roc_auc_score

    scores = rng.normal(size=(5, 30))
    targets = [rng.choice(30, size=4, replace=False) for _ in range(5)]
    got = metrics.auc_per_visit(scores, targets)
    for u in range(5):
        labels = np.isin(np.arange(30), targets[u])
        assert got[u] == pytest.approx(roc_auc_score(labels, scores[u]))


def test_auc_is_nan_without_targets():
    assert np.isnan(metrics.auc_per_visit(np.zeros((1, 3)), [np.array([], dtype=int)])[0])


@pytest.mark.parametrize(
    "slates, message",
    [
        (np.array([1, 2, 3]), "2-D"),
        (np.array([[1, 1, 2]]), "same item twice"),
        (np.array([[-1, 2, 3]]), "negative"),
        (np.array([[1.0, 2.0, 3.0]]), "integer"),
    ],
)
def test_bad_slates_are_rejected(slates, message):
    with pytest.raises(ValueError, match=message):
        metrics.hit_rate(slates, [np.array([1])] * len(np.atleast_2d(slates)))


def test_bad_targets_and_sizes_are_rejected():
    with pytest.raises(ValueError, match="rows"):
        metrics.ndcg_at_k(SLATES, TARGETS[:2])
    with pytest.raises(ValueError, match="non-negative integer"):
        metrics.recall_at_k(SLATES, [np.array([-2])] * 3)
    with pytest.raises(ValueError, match="n_items"):
        metrics.catalogue_coverage(SLATES, 5)
    with pytest.raises(ValueError, match="positive integer"):
        metrics.catalogue_coverage(SLATES, 0)
    with pytest.raises(ValueError, match="shape of scores"):
        metrics.auc_per_visit(np.zeros((2, 3)), [[0], [1]], exclude=np.zeros((2, 4), dtype=bool))
