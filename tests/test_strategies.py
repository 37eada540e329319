"""helpers.strategies on a five-item, three-customer fixture whose answers are computed by hand.

Purchases (customer: items, invoice, time):
  c1: {0, 1} A 2011-01-03 10:00    c2: {0, 2} B 2011-01-03 11:00    c3: {0, 1, 3} C 2011-01-04 09:00
  c1: {2, 4} D 2011-01-07 10:00    c2: {1} E 2011-01-07 12:00
The evaluated visits are D and E (day 5); "before" means strictly earlier.
"""

import numpy as np
import pandas as pd
import pytest

from helpers import strategies as st
from helpers import tables as tb

BASKETS = [
    (1, [0, 1], "A", "2011-01-03 10:00"),
    (2, [0, 2], "B", "2011-01-03 11:00"),
    (3, [0, 1, 3], "C", "2011-01-04 09:00"),
    (1, [2, 4], "D", "2011-01-07 10:00"),
    (2, [1], "E", "2011-01-07 12:00"),
]
N_ITEMS = 5


@pytest.fixture(scope="module")
def tables():
    rows = [(c, i, inv, pd.Timestamp(ts), 1, 1.0) for c, items, inv, ts in BASKETS for i in items]
    interactions = pd.DataFrame(rows, columns=[tb.CUSTOMER_ID, tb.ITEM_ID, tb.INVOICE, tb.TIMESTAMP, tb.QUANTITY,
                                               tb.REVENUE])
    visits = pd.DataFrame([(inv, c, pd.Timestamp(ts), "UK", len(items), 1.0, "train")
                           for c, items, inv, ts in BASKETS],
                          columns=[tb.INVOICE, tb.CUSTOMER_ID, tb.TIMESTAMP, tb.COUNTRY, tb.N_ITEMS, tb.REVENUE, tb.SPLIT])
    catalogue = pd.DataFrame({tb.ITEM_ID: np.arange(N_ITEMS), tb.DESCRIPTION: [f"item {i}" for i in range(N_ITEMS)],
                              tb.PRICE: [1.0, 2.0, 3.0, 4.0, 5.0]})
    return tb.CourseTables(catalogue=catalogue, interactions=interactions, visits=visits, ledger=pd.DataFrame())


@pytest.fixture(scope="module")
def batch(tables):
    visits = tables.visits[tables.visits[tb.INVOICE].isin(["D", "E"])].copy()
    visits[tb.TARGETS] = [np.array([2, 4]), np.array([1])]
    return st.make_batch(tables, visits)


UNTIL = pd.Timestamp("2011-01-07")


def test_make_batch_histories_are_strictly_before(batch):
    assert [list(h) for h in batch.history] == [[0, 1], [0, 2]]
    np.testing.assert_array_equal(batch.seen.toarray(), [[1, 1, 0, 0, 0], [1, 0, 1, 0, 0]])
    assert batch.n_items == N_ITEMS and len(batch) == 2
    one = batch.subset([1])
    assert len(one) == 1 and list(one.history[0]) == [0, 2] and list(one.targets[0]) == [1]


def test_top_k_orders_breaks_ties_and_excludes():
    scores = np.array([[0.5, 0.9, 0.5, 0.1], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(st.top_k(scores, 3), [[1, 0, 2], [0, 1, 2]])
    exclude = np.array([[False, True, False, False], [True, False, False, False]])
    np.testing.assert_array_equal(st.top_k(scores, 2, exclude=exclude), [[0, 2], [1, 2]])
    with pytest.raises(ValueError, match="k must be"):
        st.top_k(scores, 5)
    with pytest.raises(ValueError, match="NaN"):
        st.top_k(np.array([[np.nan, 1.0]]), 1)


def test_popularity_counts_purchases_before_the_visit_day(tables, batch):
    pop = st.Popularity().fit(tables, UNTIL)
    np.testing.assert_array_equal(pop.score(batch)[0], [3, 2, 1, 1, 0])  # day-5 purchases not counted
    # c1 bought 0 and 1: items 2 and 3 tie on one buyer, the lower id first
    np.testing.assert_array_equal(pop.recommend(batch, 2), [[2, 3], [1, 3]])


def test_trending_uses_the_window_before_the_day(tables, batch):
    # a 3-day window before 2011-01-07 covers days 4-6 of January: only invoice C (items 0, 1, 3)
    np.testing.assert_array_equal(st.Trending(3).fit(tables).recommend(batch, 2), [[3, 2], [1, 3]])
    # a 1-day window is empty: all-time popularity breaks the tie
    np.testing.assert_array_equal(st.Trending(1).fit(tables).recommend(batch, 2), [[2, 3], [1, 3]])


def test_item_cf_cosines_by_hand(tables, batch):
    cf = st.ItemCF().fit(tables, UNTIL)
    s = cf.similarity
    assert s[0, 1] == pytest.approx(2 / np.sqrt(6))
    assert s[0, 2] == pytest.approx(1 / np.sqrt(3))
    assert s[1, 3] == pytest.approx(1 / np.sqrt(2))
    assert s[2, 3] == 0 and np.all(np.diag(s) == 0)
    np.testing.assert_allclose(cf.score(batch)[0, [2, 3]], [1 / np.sqrt(3), 1 / np.sqrt(3) + 1 / np.sqrt(2)], rtol=1e-6)
    np.testing.assert_array_equal(cf.recommend(batch, 2)[0], [3, 2])


def test_ease_matches_column_by_column_ridge(tables):
    l2 = 0.7
    model = st.EASE(l2).fit(tables, UNTIL)
    x = st.interaction_matrix(tables.interactions, N_ITEMS, UNTIL).toarray().astype(float)
    gram = x.T @ x
    for j in range(N_ITEMS):  # Steck 2019: column j regresses item j on the other items
        others = [i for i in range(N_ITEMS) if i != j]
        solution = np.linalg.solve(gram[np.ix_(others, others)] + l2 * np.eye(N_ITEMS - 1), gram[others, j])
        np.testing.assert_allclose(model.weights[others, j], solution, rtol=1e-4, atol=1e-6)
        assert model.weights[j, j] == 0


def test_content_similarity_by_hand(tables, batch):
    embeddings = np.eye(N_ITEMS)
    embeddings[3] = [1, 1, 0, 0, 0]  # item 3 looks like items 0 and 1
    strategy = st.ContentSimilarity(embeddings).fit(tables)
    # c1: profile (e0 + e1) / 2, item 3 is (e0 + e1) / sqrt(2): dot product 1 / sqrt(2)
    assert strategy.score(batch)[0, 3] == pytest.approx(1 / np.sqrt(2))
    assert strategy.recommend(batch, 1)[0, 0] == 3


def test_recommend_never_returns_a_bought_item(tables, batch):
    for strategy in (st.Popularity(), st.Trending(7), st.ItemCF(), st.EASE(1.0), st.ContentSimilarity(np.eye(N_ITEMS))):
        slates = strategy.fit(tables, UNTIL).recommend(batch, 3)
        assert slates.shape == (2, 3)
        for row, history in zip(slates, batch.history, strict=True):
            assert not set(row) & set(history)


def test_evaluate_table(tables, batch):
    table = st.evaluate({"pop": st.Popularity().fit(tables)}, batch, k=2)
    assert list(table.columns) == ["HR@2", "Recall@2", "NDCG@2", "coverage"]
    # slates [[2, 3], [1, 3]] against targets [{2, 4}, {1}]: both visits hit
    assert table.loc["pop", "HR@2"] == 1.0
    assert table.loc["pop", "Recall@2"] == pytest.approx((0.5 + 1.0) / 2)
    assert table.loc["pop", "coverage"] == pytest.approx(3 / N_ITEMS)


def test_bad_use_is_rejected(tables, batch):
    with pytest.raises(RuntimeError, match="fit"):
        st.ItemCF().score(batch)
    with pytest.raises(TypeError, match="VisitBatch"):
        st.Popularity().fit(tables).recommend(np.zeros((2, 5)), 2)
    with pytest.raises(ValueError, match="window"):
        st.Trending(0)
    with pytest.raises(ValueError, match="l2"):
        st.EASE(-1.0)
    with pytest.raises(ValueError, match="rows"):
        st.ContentSimilarity(np.eye(3)).fit(tables)
    with pytest.raises(ValueError, match="targets"):
        st.evaluate([st.Popularity().fit(tables)], st.VisitBatch(batch.customer_ids, batch.timestamps, batch.history,
                                                                 batch.seen, N_ITEMS), 2)
