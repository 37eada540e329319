"""Strategies that notebook 04 adds to the arms of :mod:`helpers.strategies`.

:class:`Diversified` re-ranks another strategy's candidates by maximal marginal relevance
(Carbonell and Goldstein 1998) with BERT embeddings, so a slate covers several kinds of product
instead of ten near-copies of one; it is the "diversified variant" among the bandit's arms. The
re-ranking itself is :func:`helpers.rerank.rerank` (notebook 05 studies it in depth). Same
interface as every strategy: ``fit(tables, until)``, ``score(batch)``,
``recommend(batch, k) -> (n_visits, k)`` item ids, never an item the customer bought before.
"""

from __future__ import annotations

import numpy as np

from helpers import rerank
from helpers import strategies as st
from helpers import tables as tb


class Diversified(st.Strategy):
    """A base strategy's top ``n_candidates`` new items, re-ranked by MMR on BERT embeddings.

    Relevance is the base strategy's score min-max scaled to [0, 1] within each visit's
    candidates; similarity is the cosine between description embeddings
    (:func:`helpers.rerank.rerank` with ``method="mmr"``).

    Args:
        base: the strategy whose candidates are re-ranked (fitted by :meth:`fit`).
        embeddings: (n_items, dim) item embeddings in item-id order (e.g. :func:`helpers.text.embed`
            of the catalogue descriptions).
        trade_off: MMR's lambda in [0, 1] (1: the base strategy unchanged).
        n_candidates: how many of the base strategy's best new items are re-ranked.
    """

    def __init__(self, base: st.Strategy, embeddings: np.ndarray, trade_off: float = 0.7, n_candidates: int = 50):
        if not isinstance(base, st.Strategy):
            raise TypeError(f"base must be a Strategy, got {type(base).__name__}")
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or not np.isfinite(emb).all():
            raise ValueError(f"embeddings must be a finite (n_items, dim) array, got shape {emb.shape}")
        if not 0.0 <= float(trade_off) <= 1.0:
            raise ValueError(f"trade_off must lie in [0, 1], got {trade_off}")
        if isinstance(n_candidates, bool) or not isinstance(n_candidates, (int, np.integer)) or n_candidates < 1:
            raise ValueError(f"n_candidates must be a positive integer, got {n_candidates!r}")
        self.base = base
        self.embeddings = emb
        self.trade_off = float(trade_off)
        self.n_candidates = int(n_candidates)
        self.name = f"diversified {base.name}"

    def fit(self, tables: tb.CourseTables, until) -> Diversified:
        if len(self.embeddings) != tables.n_items:
            raise ValueError(f"embeddings have {len(self.embeddings)} rows for {tables.n_items} items")
        self.base.fit(tables, until)
        return self

    def score(self, batch: st.VisitBatch) -> np.ndarray:
        """The base strategy's scores (MMR is an order, not a score: use :meth:`recommend`)."""
        return self.base.score(batch)

    def recommend(self, batch: st.VisitBatch, k: int = 10) -> np.ndarray:
        if not isinstance(batch, st.VisitBatch):
            raise TypeError(f"batch must be a VisitBatch (see make_batch), got {type(batch).__name__}")
        if batch.n_items != len(self.embeddings):
            raise ValueError(f"batch has {batch.n_items} items, embeddings {len(self.embeddings)}")
        return rerank.rerank(self.base.score(batch), self.embeddings, k, method="mmr", lam=self.trade_off,
                             n_candidates=min(self.n_candidates, batch.n_items), exclude=batch.seen)


class ScorerStrategy(st.Strategy):
    """The BERT + MLP two-tower scorer of notebook 03 (:mod:`helpers.scorer`) as a strategy.

    Scores every product for every visit with the trained model (a matrix product of user and
    item vectors plus the recent-popularity term, all features as of the visit's day) and
    recommends the best new ones, like every other arm.

    Args:
        trained: a trained scorer, :class:`helpers.scorer.Trained` (e.g. from
            :func:`helpers.scorer.load_checkpoint`) or its ``TwoTowerScorer`` model.
        space: the :class:`helpers.scorer.FeatureSpace` it was trained with (tables + text embeddings).
    """

    name = "BERT+MLP scorer"

    def __init__(self, trained, space):
        from helpers import scorer

        model = getattr(trained, "model", trained)
        if not isinstance(model, scorer.TwoTowerScorer):
            raise TypeError(f"trained must be a helpers.scorer.Trained or TwoTowerScorer, got {type(trained).__name__}")
        if not isinstance(space, scorer.FeatureSpace):
            raise TypeError(f"space must be a helpers.scorer.FeatureSpace, got {type(space).__name__}")
        self.model = model
        self.space = space

    def fit(self, tables: tb.CourseTables, until=None) -> ScorerStrategy:
        """Nothing to fit here: the scorer was trained on purchases before the test period (notebook 03)."""
        if tables.n_items != self.space.n_items:
            raise ValueError(f"the scorer knows {self.space.n_items} items, the tables {tables.n_items}")
        return self

    def score(self, batch: st.VisitBatch) -> np.ndarray:
        from helpers import scorer

        if batch.n_items != self.space.n_items:
            raise ValueError(f"batch has {batch.n_items} items, the scorer {self.space.n_items}")
        return scorer.score_examples(self.model, self.space, self.space.examples(batch))
