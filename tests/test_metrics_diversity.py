"""Tests of the diversity section of helpers.metrics on a fixture small enough to check by hand.

Fixture: 5 items, 3 visits, slates of k = 3.

=====  ===============  ========  ==================
item   embedding        category  popularity p_i
=====  ===============  ========  ==================
0      (1, 0, 0)        0         1/2   (-log2 = 1)
1      (1, 0, 0)        0         1/8   (-log2 = 3)
2      (0, 1, 0)        1         1/4   (-log2 = 2)
3      (0.6, 0.8, 0)    2         1/16  (-log2 = 4)
4      (0, 0, 1)        2         1/32  (-log2 = 5)
=====  ===============  ========  ==================

Items 0 and 1 are the same product in two colours (identical embeddings). Slates: visit 0 sees
[0, 1, 2], visit 1 [2, 3, 1], visit 2 [3, 0, 2]; item 4 is never shown.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.metrics import (
    alpha_ndcg,
    catalogue_coverage,
    category_coverage,
    diversity_summary,
    exposure_counts,
    exposure_entropy,
    exposure_gini,
    gini,
    head_items,
    intra_list_diversity,
    long_tail_share,
    ndcg_at_k,
    novelty,
    pareto_mask,
    unit_rows,
)

EMB = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
CATS = np.array([0, 0, 1, 2, 2])
POP = np.array([1 / 2, 1 / 8, 1 / 4, 1 / 16, 1 / 32])
SLATES = np.array([[0, 1, 2], [2, 3, 1], [3, 0, 2]])


def test_ild_by_hand():
    # visit 0: cosines 1, 0, 0 -> 1 - 1/3; visits 1 and 2: cosines 0.8, 0.6, 0 -> 1 - 1.4/3
    np.testing.assert_allclose(intra_list_diversity(SLATES, EMB), [2 / 3, 8 / 15, 8 / 15])


def test_ild_ignores_embedding_scale_and_equals_pairwise_loop(rng):
    emb = rng.normal(size=(30, 8))
    slates = np.array([rng.choice(30, size=6, replace=False) for _ in range(40)])
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    expected = [np.mean([1 - unit[a] @ unit[b] for i, a in enumerate(s) for b in s[i + 1:]]) for s in slates]
    np.testing.assert_allclose(intra_list_diversity(slates, emb * 7.0, chunk=7), expected, atol=1e-6)


def test_ild_extremes():
    assert intra_list_diversity([[0, 1]], EMB)[0] == pytest.approx(0.0, abs=1e-7)  # one product twice
    assert intra_list_diversity([[0, 2, 4]], EMB)[0] == pytest.approx(1.0)  # orthogonal
    assert intra_list_diversity([[0, 1]], np.array([[1.0, 0], [-1.0, 0]]))[0] == pytest.approx(2.0)


def test_category_coverage_by_hand():
    np.testing.assert_allclose(category_coverage(SLATES, CATS, normalize=False), [2, 3, 3])
    np.testing.assert_allclose(category_coverage(SLATES, CATS), [2 / 3, 1, 1])
    # with 10 categories a slate of 3 can still show at most 3
    np.testing.assert_allclose(category_coverage(SLATES, CATS, n_categories=10), [2 / 3, 1, 1])


def test_catalogue_coverage_and_exposure_by_hand():
    assert catalogue_coverage(SLATES, 5) == pytest.approx(0.8)
    np.testing.assert_array_equal(exposure_counts(SLATES, 5), [2, 2, 3, 2, 0])


def test_gini_by_hand():
    # sorted exposure 0, 2, 2, 2, 3 (sum 9): (-4*0 - 2*2 + 0*2 + 2*2 + 4*3) / (5 * 9) = 12/45
    assert exposure_gini(SLATES, 5) == pytest.approx(4 / 15)
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 5]) == pytest.approx(0.75)  # 1 - 1/m: everything on one item
    values = np.array([3.0, 0.0, 1.0, 7.0])
    mean_abs_diff = np.abs(values[:, None] - values[None, :]).mean()
    assert gini(values) == pytest.approx(mean_abs_diff / (2 * values.mean()))


def test_entropy_by_hand():
    # shares 2/9, 2/9, 3/9, 2/9: H = 3 * (2/9) log2(9/2) + (1/3) log2(3)
    expected = (2 / 3) * math.log2(4.5) + math.log2(3) / 3
    assert exposure_entropy(SLATES, 5) == pytest.approx(expected)
    assert exposure_entropy(SLATES, 5, normalize=True) == pytest.approx(expected / math.log2(5))
    uniform = np.arange(8).reshape(4, 2)
    assert exposure_entropy(uniform, 8) == pytest.approx(3.0)


def test_long_tail_by_hand():
    np.testing.assert_array_equal(head_items(POP), [True, False, False, False, False])
    np.testing.assert_allclose(long_tail_share(SLATES, POP), [2 / 3, 1, 2 / 3])
    # head of 40% = 2 items: 0 and 2
    np.testing.assert_allclose(long_tail_share(SLATES, POP, head_share=0.4), [1 / 3, 2 / 3, 1 / 3])


def test_head_ties_go_to_lower_id():
    np.testing.assert_array_equal(head_items([1.0, 2.0, 2.0, 0.0, 0.0]), [False, True, False, False, False])


def test_novelty_by_hand():
    # -log2 p = 1, 3, 2, 4, 5
    np.testing.assert_allclose(novelty(SLATES, POP), [2, 3, 7 / 3])


def test_alpha_ndcg_by_hand():
    targets = [np.array([0, 1, 2]), np.array([3, 4]), np.array([], dtype=int)]
    log3 = math.log2(3)
    # visit 0: gains 1, 0.5 (second cat-0 hit), 1 -> 1 + 0.5/log2 3 + 1/2; ideal 1 + 1/log2 3 + 0.5/2
    # visit 1: only item 3 hit at rank 2 -> (1/log2 3) / (1 + 0.5/log2 3); visit 2: no targets -> 0
    expected = [(1 + 0.5 / log3 + 0.5) / (1 + 1 / log3 + 0.25), (1 / log3) / (1 + 0.5 / log3), 0.0]
    np.testing.assert_allclose(alpha_ndcg(SLATES, targets, CATS, alpha=0.5), expected)
    # alpha = 0 is plain NDCG
    np.testing.assert_allclose(alpha_ndcg(SLATES, targets, CATS, alpha=0.0), ndcg_at_k(SLATES, targets))


def test_diversity_summary_keys_and_values():
    summary = diversity_summary(SLATES, EMB, CATS, POP, 5)
    assert summary["ILD"] == pytest.approx((2 / 3 + 16 / 15) / 3)
    assert summary["catalogue coverage"] == pytest.approx(0.8)
    assert summary["novelty"] == pytest.approx((2 + 3 + 7 / 3) / 3)
    assert set(summary) == {"ILD", "category coverage", "catalogue coverage", "exposure Gini",
                            "exposure entropy", "long-tail share", "novelty"}


def test_pareto_mask_by_hand():
    # (accuracy, diversity): B dominates D; A, B, C trade off; E duplicates C
    points = [[0.9, 0.1], [0.7, 0.5], [0.2, 0.9], [0.6, 0.4], [0.2, 0.9]]
    np.testing.assert_array_equal(pareto_mask(points), [True, True, True, False, True])
    np.testing.assert_array_equal(pareto_mask([[1.0, 1.0], [1.0, 0.5]]), [True, False])


@pytest.mark.parametrize("call, message", [
    (lambda: intra_list_diversity([[0], [1]], EMB), "at least 2"),
    (lambda: intra_list_diversity([[0, 5]], EMB), "embeddings have 5 rows"),
    (lambda: intra_list_diversity([[0, 0]], EMB), "same item twice"),
    (lambda: unit_rows(np.zeros((2, 3))), "all zero"),
    (lambda: unit_rows([[np.nan, 1.0]]), "finite"),
    (lambda: category_coverage(SLATES, np.array([0, 0, -1, 1, 1])), "non-negative"),
    (lambda: category_coverage(SLATES, CATS, n_categories=2), "n_categories"),
    (lambda: exposure_counts(SLATES, 3), "n_items=3"),
    (lambda: gini([0, 0]), "every value is zero"),
    (lambda: gini([-1, 2]), "non-negative"),
    (lambda: head_items(POP, head_share=1.0), "head_share"),
    (lambda: novelty(SLATES, np.array([0.5, 0.0, 0.5, 0.5, 0.5])), "smooth"),
    (lambda: long_tail_share([[0, 7]], POP), "popularity has 5"),
    (lambda: alpha_ndcg(SLATES, [[0], [1], [2]], CATS, alpha=1.5), "alpha"),
    (lambda: alpha_ndcg(SLATES, [[0], [1]], CATS), "targets has 2 rows"),
    (lambda: pareto_mask([1.0, 2.0]), "n_objectives"),
])
def test_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()
