"""Visits as the strategies, the scorer and the context features see them (the data side).

A *visit* is one invoice of a customer (notebook 01). What may be known about it at
recommendation time, and the slates recommended for it, are shared by notebooks 03 (strategies
and the scorer), 04 (strategies as bandit arms, context features, replay rewards) and 05
(diversity), so they live here, below every module that uses them:

- :class:`VisitBatch`: the customer, the time and the purchase history strictly before each of
  n visits (the items a discovery slate must not contain), plus, for evaluation only, the targets;
  :func:`make_batch` builds one from rows of the course tables;
- :func:`top_k`: the k best-scoring items per visit, never one the customer bought before;
- :class:`DailyCounts`: purchases per item and day, for counts "as of the day before" a visit;
- :func:`basket_values`: the revenue (or quantity) of each target item in its visit's basket,
  the value behind the replay's revenue reward.

Everything here reads :mod:`helpers.tables`; nothing here knows a model, a strategy or a learner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from helpers import tables as tb

DAY = np.timedelta64(1, "D")


# ---------------------------------------------------------------------------------------------
# Visits, slates and time-aware counts


@dataclass(frozen=True)
class VisitBatch:
    """What a strategy may know about n visits when it recommends.

    Attributes:
        customer_ids: (n,) int64.
        timestamps: (n,) datetime64[ns], the time of each visit.
        history: n sorted int64 arrays, the distinct items each customer bought strictly before
            the visit.
        seen: (n, n_items) scipy CSR 0/1 matrix of the same histories (the discovery mask).
        n_items: catalogue size.
        targets: n int64 arrays of the visit's new items (evaluation only; None when unknown).
        invoices: (n,) str invoice numbers, or None.
    """

    customer_ids: np.ndarray
    timestamps: np.ndarray
    history: list[np.ndarray]
    seen: sparse.csr_matrix
    n_items: int
    targets: list[np.ndarray] | None = None
    invoices: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.customer_ids)

    @property
    def days(self) -> np.ndarray:
        """(n,) datetime64[D], the calendar day of each visit."""
        return self.timestamps.astype("datetime64[D]")

    def subset(self, index) -> VisitBatch:
        """The visits at ``index`` (an integer array or boolean mask) as a new batch."""
        index = np.arange(len(self))[np.asarray(index)]
        return VisitBatch(
            customer_ids=self.customer_ids[index], timestamps=self.timestamps[index],
            history=[self.history[i] for i in index], seen=self.seen[index], n_items=self.n_items,
            targets=None if self.targets is None else [self.targets[i] for i in index],
            invoices=None if self.invoices is None else self.invoices[index],
        )


def make_batch(tables: tb.CourseTables, visits: pd.DataFrame) -> VisitBatch:
    """Build a :class:`VisitBatch` from rows of ``tables.visits`` or of ``tables.discovery_visits``.

    Histories are the customers' purchases strictly before each visit's timestamp
    (:func:`helpers.tables.history_before`); targets are taken from a ``targets`` column when
    there is one.
    """
    if not isinstance(visits, pd.DataFrame):
        raise TypeError(f"visits must be a DataFrame, got {type(visits).__name__}")
    missing = [c for c in (tb.CUSTOMER_ID, tb.TIMESTAMP) if c not in visits]
    if missing:
        raise ValueError(f"visits is missing columns {missing}")
    customers = visits[tb.CUSTOMER_ID].to_numpy(np.int64)
    times = visits[tb.TIMESTAMP].to_numpy("datetime64[ns]")
    history = tb.history_before(tables.interactions, customers, times)
    lengths = np.fromiter((len(h) for h in history), dtype=np.int64, count=len(history))
    indices = np.concatenate(history) if history else np.zeros(0, np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    seen = sparse.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(len(history), tables.n_items))
    targets = [np.asarray(t, np.int64) for t in visits[tb.TARGETS]] if tb.TARGETS in visits else None
    invoices = visits[tb.INVOICE].to_numpy().astype(str) if tb.INVOICE in visits else None
    return VisitBatch(customers, times, history, seen, tables.n_items, targets, invoices)


def top_k(scores: np.ndarray, k: int, exclude=None) -> np.ndarray:
    """Indices of the k highest scores per row, best first; ties go to the lower item id.

    Args:
        scores: (n, n_items) float.
        k: slate size, 1 <= k <= n_items.
        exclude: optional (n, n_items) boolean array or scipy sparse 0/1 matrix of items never
            to return (the discovery task excludes what the customer bought before). An excluded
            item can still appear when a row has fewer than k allowed items.

    Returns:
        (n, k) int64 item ids.
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (n_visits, n_items), got shape {scores.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be an integer in 1..{scores.shape[1]}, got {k!r}")
    if np.isnan(scores).any():
        raise ValueError("scores hold NaN")
    if exclude is not None:
        if exclude.shape != scores.shape:
            raise ValueError(f"exclude must have shape {scores.shape}, got {exclude.shape}")
        if sparse.issparse(exclude):
            coo = exclude.tocoo()
            scores[coo.row[coo.data != 0], coo.col[coo.data != 0]] = -np.inf
        else:
            scores[np.asarray(exclude, dtype=bool)] = -np.inf
    # argpartition keeps the work near O(n_items) per row; a stable sort of the survivors (plus
    # every item tied with the k-th) then fixes the order and the ties.
    kth = np.partition(scores, scores.shape[1] - k, axis=1)[:, scores.shape[1] - k][:, None]
    candidates = scores >= kth
    out = np.empty((len(scores), k), dtype=np.int64)
    for row in range(len(scores)):
        items = np.flatnonzero(candidates[row])
        order = np.argsort(-scores[row, items], kind="stable")
        out[row] = items[order[:k]]
    return out


class DailyCounts:
    """Purchases of each item per calendar day, for counts "as of the day before" a visit.

    A purchase counts once per customer and day (a customer buying an item twice on one day is
    one purchase; buying it on two days is two). Built from an interactions table; ``window(days, width)`` sums the ``width`` days before
    each day (the day itself excluded), ``cumulative(days)`` all days before it.
    """

    def __init__(self, interactions: pd.DataFrame, n_items: int):
        day = interactions[tb.TIMESTAMP].to_numpy("datetime64[D]")
        pairs = pd.DataFrame({"day": day, tb.ITEM_ID: interactions[tb.ITEM_ID].to_numpy(np.int64),
                              tb.CUSTOMER_ID: interactions[tb.CUSTOMER_ID].to_numpy(np.int64)}).drop_duplicates()
        self.start = day.min() if len(day) else np.datetime64("2010-12-01")
        offset = (pairs["day"].to_numpy("datetime64[D]") - self.start).astype(np.int64)
        n_days = int(offset.max()) + 2 if len(offset) else 2
        daily = np.zeros((n_days, n_items), dtype=np.float32)
        np.add.at(daily, (offset, pairs[tb.ITEM_ID].to_numpy()), 1.0)
        # prefix[d] = purchases over days < d (offset from start), shape (n_days + 1, n_items)
        self.prefix = np.vstack([np.zeros((1, n_items), np.float32), np.cumsum(daily, axis=0)])
        self.n_items = n_items

    def _offsets(self, days) -> np.ndarray:
        offset = (np.asarray(days, dtype="datetime64[D]") - self.start).astype(np.int64)
        return np.clip(offset, 0, len(self.prefix) - 1)

    def cumulative(self, days) -> np.ndarray:
        """(n, n_items) purchases of each item on all days strictly before each of ``days``."""
        return self.prefix[self._offsets(days)]

    def window(self, days, width: int) -> np.ndarray:
        """(n, n_items) purchases over the ``width`` days strictly before each of ``days``."""
        if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
            raise ValueError(f"width must be a positive number of days, got {width!r}")
        end = self._offsets(days)
        return self.prefix[end] - self.prefix[np.maximum(end - width, 0)]


def basket_values(interactions, invoices, targets, column: str | None = None) -> list[np.ndarray]:
    """The value of each target item in each visit's basket, aligned with ``targets``.

    For the replay's revenue reward (the article's gamma done right): the revenue of an item in a
    visit is what the customer paid for it there, unit price times quantity, in GBP.

    Args:
        interactions: the interactions table of :mod:`helpers.tables` (``invoice``, ``item_id``
            and ``column``; one row per (invoice, item)).
        invoices: n invoice numbers, one per visit.
        targets: n int64 arrays of item ids, each bought in its visit's invoice.
        column: the value column (default ``revenue``, in GBP; or ``quantity``, in units).

    Returns n float64 arrays, ``values[v][j]`` the value of ``targets[v][j]`` in invoice v.
    Raises ``KeyError`` when a target item is not in its invoice.
    """
    column = tb.REVENUE if column is None else column
    invoices = np.asarray(invoices).astype(str)
    if len(invoices) != len(targets):
        raise ValueError(f"{len(invoices)} invoices for {len(targets)} target lists")
    for name in (tb.INVOICE, tb.ITEM_ID, column):
        if name not in interactions:
            raise ValueError(f"interactions has no column {name!r}")
    lengths = np.fromiter((len(t) for t in targets), dtype=np.int64, count=len(targets))
    wanted = pd.MultiIndex.from_arrays([np.repeat(invoices, lengths),
                                        np.concatenate([np.asarray(t, np.int64) for t in targets])
                                        if len(targets) else np.zeros(0, np.int64)])
    table = interactions.groupby([tb.INVOICE, tb.ITEM_ID])[column].sum()
    table.index = pd.MultiIndex.from_arrays([table.index.get_level_values(0).astype(str),
                                             table.index.get_level_values(1).astype(np.int64)])
    found = table.reindex(wanted)
    if found.isna().any():
        missing = wanted[found.isna().to_numpy()][:3].tolist()
        raise KeyError(f"target items not in their invoice, e.g. {missing}")
    return np.split(found.to_numpy(np.float64), np.cumsum(lengths)[:-1])
