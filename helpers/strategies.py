"""Recommendation strategies: each turns a batch of visits into top-k slates of new items.

One small interface, shared by notebooks 03 (evaluation), 04 (strategies as bandit arms) and 05
(diversity):

- :class:`VisitBatch` (from :mod:`helpers.visits`, re-exported here) holds what may be known at
  recommendation time for n visits: the customer, the time and the customer's purchase history
  strictly before it (the items a discovery slate must not contain), plus, for evaluation only,
  the targets.
- :class:`Strategy` has ``fit(tables, until)`` (learn from purchases strictly before ``until``),
  ``score(batch) -> (n, n_items)`` and ``recommend(batch, k) -> (n, k)`` item ids, best first,
  never an item the customer bought before (:func:`top_k`).

Strategies that count recent purchases (popularity, trending) read the purchase log up to the
**day before** each visit, as a nightly job would; models with parameters (item-item CF, EASE, the
BERT content profile, the scorer) are fitted once on purchases before ``until``.

The baselines: :class:`Popularity`, :class:`Trending`, :class:`ItemCF` (co-purchase cosine;
Sarwar et al. 2001, Linden, Smith and York 2003), :class:`ContentSimilarity` (BERT embeddings of
the history; Lops, de Gemmis and Semeraro 2011) and :class:`EASE` (Steck 2019); then the BERT +
MLP scorer of notebook 03 (:class:`NeuralScorer`) and an MMR-diversified variant of any strategy
(:class:`Diversified`). More strategies subclass :class:`Strategy` and implement ``fit`` and ``score``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from helpers import tables as tb

# The visit batch and slates live in helpers.visits (the scorer and the context features use them
# too); they are re-exported here so that ``strategies.make_batch`` and friends keep working.
from helpers.visits import DAY as DAY
from helpers.visits import DailyCounts as DailyCounts
from helpers.visits import VisitBatch as VisitBatch
from helpers.visits import make_batch as make_batch
from helpers.visits import top_k as top_k


def interaction_matrix(interactions: pd.DataFrame, n_items: int, until=None, by: str = tb.CUSTOMER_ID
                       ) -> sparse.csr_matrix:
    """0/1 sparse matrix (n_rows, n_items): which customers (or invoices) bought which items.

    Only purchases strictly before ``until`` count (all when None). ``by`` is ``customer_id``
    (rows are customers) or ``invoice`` (rows are baskets). Row order is arbitrary.
    """
    frame = interactions
    if until is not None:
        frame = frame[frame[tb.TIMESTAMP] < pd.Timestamp(until)]
    if by not in (tb.CUSTOMER_ID, tb.INVOICE):
        raise ValueError(f"by must be {tb.CUSTOMER_ID!r} or {tb.INVOICE!r}, got {by!r}")
    rows = pd.factorize(frame[by])[0]
    matrix = sparse.csr_matrix((np.ones(len(frame), np.float32), (rows, frame[tb.ITEM_ID].to_numpy())),
                               shape=(int(rows.max(initial=-1)) + 1, n_items))
    matrix.data[:] = 1.0  # duplicates summed by the constructor: back to 0/1
    return matrix


# ---------------------------------------------------------------------------------------------
# The interface


class Strategy:
    """Base class: ``fit`` learns from purchases before ``until``, ``score`` rates every item.

    Subclasses set ``name`` and implement :meth:`fit` and :meth:`score`; :meth:`recommend` is
    shared. Scores only need to rank items within a row (higher is better).
    """

    name = "strategy"

    def fit(self, tables: tb.CourseTables, until) -> Strategy:
        """Learn from purchases strictly before ``until`` (a timestamp). Returns self."""
        return self

    def score(self, batch: VisitBatch) -> np.ndarray:
        """(n, n_items) float scores of every item for every visit of ``batch``."""
        raise NotImplementedError

    def recommend(self, batch: VisitBatch, k: int = 10) -> np.ndarray:
        """(n, k) int64 item ids, best first, never an item the customer bought before."""
        if not isinstance(batch, VisitBatch):
            raise TypeError(f"batch must be a VisitBatch (see make_batch), got {type(batch).__name__}")
        return top_k(self.score(batch), k, exclude=batch.seen)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _require_fitted(strategy: Strategy, attribute: str) -> None:
    if getattr(strategy, attribute, None) is None:
        raise RuntimeError(f"{strategy.name}: call fit(tables, until) before scoring")


class Popularity(Strategy):
    """All-time popularity: purchases of each item (customer-days, :class:`DailyCounts`) before the
    day of the visit."""

    name = "popularity"

    def __init__(self):
        self.counts: DailyCounts | None = None

    def fit(self, tables: tb.CourseTables, until=None) -> Popularity:
        self.counts = DailyCounts(tables.interactions, tables.n_items)
        return self

    def score(self, batch: VisitBatch) -> np.ndarray:
        _require_fitted(self, "counts")
        return self.counts.cumulative(batch.days)


#: Days the trending list counts, chosen in notebook 03 on the October replay (the best October
#: NDCG@10 of 3, 7, 14 and 28 days; its self-check asserts it), so every later notebook uses it.
TRENDING_WINDOW = 7
#: EASE's ridge penalty lambda, chosen the same way (the best October NDCG@10 of 100, 200, 400, 800).
EASE_L2 = 400.0


class Trending(Strategy):
    """Recent popularity: purchases of each item (customer-days) over the ``window`` days before
    the visit's day; all-time popularity breaks ties (scaled to stay below one purchase)."""

    name = "trending"

    def __init__(self, window: int = TRENDING_WINDOW):
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive number of days, got {window!r}")
        self.window = int(window)
        self.counts: DailyCounts | None = None

    def fit(self, tables: tb.CourseTables, until=None) -> Trending:
        self.counts = DailyCounts(tables.interactions, tables.n_items)
        return self

    def score(self, batch: VisitBatch) -> np.ndarray:
        _require_fitted(self, "counts")
        total = self.counts.cumulative(batch.days)
        return self.counts.window(batch.days, self.window) + total / (1.0 + total.max(axis=1, keepdims=True))


class ItemCF(Strategy):
    """Item-item collaborative filtering: score(i) = sum over history items h of cos(h, i).

    ``cos`` is the cosine between items' buyer vectors (Sarwar et al. 2001): co-buyers divided
    by the square root of the product of buyer counts, on customers' purchases before ``until``.
    """

    name = "item-CF"

    def __init__(self):
        self.similarity: np.ndarray | None = None

    def fit(self, tables: tb.CourseTables, until) -> ItemCF:
        x = interaction_matrix(tables.interactions, tables.n_items, until)
        co = (x.T @ x).toarray().astype(np.float32)
        norms = np.sqrt(np.diag(co)).copy()
        norms[norms == 0] = 1.0
        co /= norms[:, None]
        co /= norms[None, :]
        np.fill_diagonal(co, 0.0)
        self.similarity = co
        return self

    def score(self, batch: VisitBatch) -> np.ndarray:
        _require_fitted(self, "similarity")
        return np.asarray(batch.seen @ self.similarity)


class EASE(Strategy):
    """EASE (Steck 2019): a linear item-item model with zero diagonal, in closed form.

    ``P = (X^T X + lambda I)^-1``, ``B = I - P diag(1 / diag P)``; score = history row @ B.
    ``X`` is the customer x item 0/1 matrix of purchases before ``until``; ``l2`` is lambda.
    """

    name = "EASE"

    def __init__(self, l2: float = EASE_L2):
        if not np.isfinite(l2) or l2 <= 0:
            raise ValueError(f"l2 must be a positive number, got {l2!r}")
        self.l2 = float(l2)
        self.weights: np.ndarray | None = None

    def fit(self, tables: tb.CourseTables, until) -> EASE:
        x = interaction_matrix(tables.interactions, tables.n_items, until)
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)[None, :]
        np.fill_diagonal(b, 0.0)
        self.weights = b.astype(np.float32)
        return self

    def score(self, batch: VisitBatch) -> np.ndarray:
        _require_fitted(self, "weights")
        return np.asarray(batch.seen @ self.weights)


class ContentSimilarity(Strategy):
    """BERT content-based: cosine between each item's embedding and the mean embedding of the
    customer's history (a content profile; Lops, de Gemmis and Semeraro 2011).

    ``embeddings``: (n_items, dim) item embeddings (e.g. :func:`helpers.text.embed` of the
    catalogue descriptions), rows in item-id order.
    """

    name = "BERT content"

    def __init__(self, embeddings: np.ndarray):
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or not np.isfinite(emb).all():
            raise ValueError(f"embeddings must be a finite (n_items, dim) array, got shape {emb.shape}")
        self.embeddings = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)

    def fit(self, tables: tb.CourseTables, until=None) -> ContentSimilarity:
        if len(self.embeddings) != tables.n_items:
            raise ValueError(f"embeddings have {len(self.embeddings)} rows for {tables.n_items} items")
        return self

    def score(self, batch: VisitBatch) -> np.ndarray:
        if batch.n_items != len(self.embeddings):
            raise ValueError(f"batch has {batch.n_items} items, embeddings {len(self.embeddings)}")
        counts = np.asarray(batch.seen.sum(axis=1)).reshape(-1, 1)
        profile = np.asarray(batch.seen @ self.embeddings) / np.maximum(counts, 1.0)
        return profile @ self.embeddings.T


class NeuralScorer(Strategy):
    """The BERT + MLP two-tower scorer of :mod:`helpers.scorer` (notebook 03) as a strategy.

    Scores every product for every visit with the trained model (user and item towers plus the
    recent-popularity term, every feature as of the visit's day) and recommends the best new ones.
    ``fit`` trains nothing (that is :func:`helpers.scorer.fit_scorer`'s job); it checks the items.

    Args:
        trained: a :class:`helpers.scorer.Trained` (``fit_scorer(...)[1]``, ``load_checkpoint(...)``,
            ``course_scorer().final``) or its :class:`helpers.scorer.TwoTowerScorer` model.
        space: the :class:`helpers.scorer.FeatureSpace` it was trained with (tables + text embeddings).
        device: torch device for scoring (default: the model's).
    """

    name = "BERT+MLP scorer"

    def __init__(self, trained, space, device=None):
        from helpers import scorer

        model = getattr(trained, "model", trained)
        if not isinstance(model, scorer.TwoTowerScorer):
            raise TypeError(f"trained must be a helpers.scorer.Trained or TwoTowerScorer, got {type(trained).__name__}")
        if not isinstance(space, scorer.FeatureSpace):
            raise TypeError(f"space must be a helpers.scorer.FeatureSpace, got {type(space).__name__}")
        self.model, self.space, self.device = model, space, device

    def fit(self, tables: tb.CourseTables, until=None) -> NeuralScorer:
        if tables.n_items != self.space.n_items:
            raise ValueError(f"the scorer knows {self.space.n_items} items, the tables {tables.n_items}")
        return self

    def score(self, batch: VisitBatch) -> np.ndarray:
        from helpers import scorer

        if batch.n_items != self.space.n_items:
            raise ValueError(f"batch has {batch.n_items} items, the scorer {self.space.n_items}")
        return scorer.score_examples(self.model, self.space, self.space.examples(batch), device=self.device)


class Diversified(Strategy):
    """A base strategy's top ``n_candidates`` new items, re-ranked by MMR on BERT embeddings.

    Maximal marginal relevance (Carbonell and Goldstein 1998) makes a slate cover several kinds of
    product instead of ten near-copies of one; notebook 04 uses it as the "diversified" arm and
    notebook 05 studies re-ranking in depth. Relevance is the base strategy's score min-max scaled
    to [0, 1] within each visit's candidates; similarity is the cosine between description
    embeddings (:func:`helpers.rerank.rerank` with ``method="mmr"``).

    Args:
        base: the strategy whose candidates are re-ranked (fitted by :meth:`fit`).
        embeddings: (n_items, dim) item embeddings in item-id order (e.g. :func:`helpers.text.embed`
            of the catalogue descriptions).
        trade_off: MMR's lambda in [0, 1] (1: the base strategy unchanged).
        n_candidates: how many of the base strategy's best new items are re-ranked.
    """

    def __init__(self, base: Strategy, embeddings: np.ndarray, trade_off: float = 0.7, n_candidates: int = 50):
        if not isinstance(base, Strategy):
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

    def score(self, batch: VisitBatch) -> np.ndarray:
        """The base strategy's scores (MMR is an order, not a score: use :meth:`recommend`)."""
        return self.base.score(batch)

    def recommend(self, batch: VisitBatch, k: int = 10) -> np.ndarray:
        from helpers import rerank

        if not isinstance(batch, VisitBatch):
            raise TypeError(f"batch must be a VisitBatch (see make_batch), got {type(batch).__name__}")
        if batch.n_items != len(self.embeddings):
            raise ValueError(f"batch has {batch.n_items} items, embeddings {len(self.embeddings)}")
        return rerank.rerank(self.base.score(batch), self.embeddings, k, method="mmr", lam=self.trade_off,
                             n_candidates=min(self.n_candidates, batch.n_items), exclude=batch.seen)


def evaluate(strategies: dict[str, Strategy] | list[Strategy], batch: VisitBatch, k: int = 10) -> pd.DataFrame:
    """Evaluate fitted strategies on a batch with targets: one row per strategy.

    Columns: ``HR@k``, ``Recall@k``, ``NDCG@k`` (means over visits) and ``coverage``
    (see :func:`helpers.metrics.ranking_summary`).
    """
    from helpers import metrics

    if batch.targets is None:
        raise ValueError("the batch has no targets: build it from discovery_visits(...)")
    items = strategies.items() if isinstance(strategies, dict) else [(s.name, s) for s in strategies]
    rows = {name: metrics.ranking_summary(s.recommend(batch, k), batch.targets, batch.n_items) for name, s in items}
    return pd.DataFrame.from_dict(rows, orient="index")
