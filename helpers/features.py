"""Context features of visits, for the contextual learners of notebook 04 (the data side).

A contextual learner (:mod:`helpers.contextual`) sees a feature vector per visit and knows
nothing of where it came from. This module makes those vectors from the course tables:
:class:`VisitFeaturizer` turns a :class:`helpers.visits.VisitBatch` into standardised context
vectors (history length and recency, season, principal components of the BERT profile of the
customer's history), and :func:`principal_axes` is the principal component analysis it uses
(notebook 04 also uses it for item features in the cold-start section).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import tables as tb
from helpers.validation import check_int as _check_int
from helpers.visits import VisitBatch

__all__ = ["VisitFeaturizer", "principal_axes"]


def principal_axes(data: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre and first principal axes of the rows of ``data`` (principal component analysis).

    The axes are the eigenvectors of the sample covariance matrix with the largest eigenvalues
    (Jolliffe 2002, *Principal Component Analysis*, ch. 1), from ``numpy.linalg.eigh`` of the
    (dim, dim) covariance, which is fast and stable when there are many more rows than columns.
    Each axis's sign is fixed so that its largest loading is positive, so results are reproducible.

    Args:
        data: (n, dim) finite rows, n >= 2.
        n_components: number of axes, 1 <= n_components <= dim.

    Returns:
        ``(mean, axes)``: (dim,) the column means and (n_components, dim) orthonormal axes, by
        decreasing variance. Project with ``(x - mean) @ axes.T``.
    """
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 2 or not np.isfinite(data).all():
        raise ValueError(f"data must be a finite (n, dim) array with n >= 2, got shape {data.shape}")
    n_components = _check_int("n_components", n_components, 1)
    if n_components > data.shape[1]:
        raise ValueError(f"n_components={n_components} exceeds the dimension {data.shape[1]}")
    mean = data.mean(axis=0)
    centred = data - mean
    _, vectors = np.linalg.eigh(centred.T @ centred / (len(data) - 1))  # ascending eigenvalues
    axes = vectors[:, ::-1][:, :n_components].T
    signs = np.sign(axes[np.arange(n_components), np.abs(axes).argmax(axis=1)])
    return mean, axes * signs[:, None]


class VisitFeaturizer:
    """Context vectors for visits: what a strategy selector may know when the customer arrives.

    Features (in :attr:`names` order): a constant 1 (the intercept); ``log items bought``,
    ``log earlier visits`` and ``log days since last visit`` (history length and recency, from
    visits strictly before this one); ``season sin`` and ``season cos`` (time of year, the day of
    the year on the unit circle); ``bert pc1..pcN``, the first N principal components of the mean
    BERT embedding of the customer's history (the "large model" part of the context, Devlin et al.
    2019; principal axes by :func:`principal_axes`).

    :meth:`fit` learns the principal axes and the standardisation (mean 0, standard deviation 1
    per feature, season features and intercept left as they are) on a *fitting* batch, for
    instance the validation month, so nothing about the test visits is used.

    Args:
        embeddings: (n_items, dim) item embeddings in item-id order (e.g. :func:`helpers.text.embed`
            of the catalogue descriptions).
        n_components: N, the number of principal components kept (0 for none).

    Attributes (after :meth:`fit`): ``pca_mean`` (dim,) and ``pca_axes`` (N, dim), the centre and
    principal axes of the history profiles; ``mean`` and ``std`` (n_features,), the standardisation.
    """

    BASE_NAMES = ("intercept", "log items bought", "log earlier visits", "log days since last visit",
                  "season sin", "season cos")

    def __init__(self, embeddings: np.ndarray, n_components: int = 8) -> None:
        emb = np.asarray(embeddings, dtype=np.float64)
        if emb.ndim != 2 or not np.isfinite(emb).all():
            raise ValueError(f"embeddings must be a finite (n_items, dim) array, got shape {emb.shape}")
        self.embeddings = emb
        self.n_components = _check_int("n_components", n_components, 0)
        if self.n_components > emb.shape[1]:
            raise ValueError(f"n_components={n_components} exceeds the embedding dimension {emb.shape[1]}")
        self.pca_mean: np.ndarray | None = None
        self.pca_axes: np.ndarray | None = None
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    @property
    def names(self) -> list[str]:
        """Feature names, (n_features,)."""
        return list(self.BASE_NAMES) + [f"bert pc{i + 1}" for i in range(self.n_components)]

    @property
    def n_features(self) -> int:
        """Length of a context vector."""
        return len(self.BASE_NAMES) + self.n_components

    def _raw(self, tables, batch) -> np.ndarray:
        if not isinstance(batch, VisitBatch):
            raise TypeError(f"batch must be a helpers.visits.VisitBatch, got {type(batch).__name__}")
        if batch.n_items != len(self.embeddings):
            raise ValueError(f"batch has {batch.n_items} items, embeddings {len(self.embeddings)}")
        n = len(batch)
        # earlier visits and the last one, by an as-of join on (customer, time), strictly before
        visits = pd.DataFrame({tb.CUSTOMER_ID: tables.visits[tb.CUSTOMER_ID].to_numpy(np.int64),
                               tb.TIMESTAMP: tables.visits[tb.TIMESTAMP].to_numpy("datetime64[ns]")})
        visits = visits.sort_values([tb.TIMESTAMP, tb.CUSTOMER_ID], kind="stable")
        visits = visits.assign(_n=visits.groupby(tb.CUSTOMER_ID).cumcount() + 1,
                               _last=visits[tb.TIMESTAMP].to_numpy("datetime64[ns]"))
        query = pd.DataFrame({tb.CUSTOMER_ID: batch.customer_ids.astype(np.int64),
                              tb.TIMESTAMP: np.asarray(batch.timestamps, dtype="datetime64[ns]"),
                              "_row": np.arange(n)})
        joined = pd.merge_asof(query.sort_values(tb.TIMESTAMP), visits, on=tb.TIMESTAMP, by=tb.CUSTOMER_ID,
                               allow_exact_matches=False, direction="backward").sort_values("_row")
        n_before = joined["_n"].fillna(0).to_numpy(np.float64)
        when = np.asarray(batch.timestamps, dtype="datetime64[ns]")
        gap = (when - joined["_last"].to_numpy("datetime64[ns]")) / np.timedelta64(1, "D")
        gap = np.where(np.isnan(gap), 0.0, gap)
        n_items = np.fromiter((len(h) for h in batch.history), dtype=np.float64, count=n)
        day_of_year = (when.astype("datetime64[D]") - when.astype("datetime64[Y]")).astype(np.float64)
        angle = 2.0 * np.pi * day_of_year / 365.25
        counts = np.asarray(batch.seen.sum(axis=1), dtype=np.float64).reshape(-1, 1)
        profile = np.asarray(batch.seen @ self.embeddings) / np.maximum(counts, 1.0)
        return np.column_stack([np.log1p(n_items), np.log1p(n_before), np.log1p(gap),
                                np.sin(angle), np.cos(angle), profile])

    def fit(self, tables, batch) -> VisitFeaturizer:
        """Learn the principal axes and the standardisation from the visits of ``batch``.

        Args:
            tables: :class:`helpers.tables.CourseTables` (its ``visits`` give earlier visits).
            batch: :class:`helpers.visits.VisitBatch` of the fitting visits (at least 2).
        """
        raw = self._raw(tables, batch)
        if len(raw) < max(2, self.n_components):
            raise ValueError(f"fitting needs at least {max(2, self.n_components)} visits, got {len(raw)}")
        if self.n_components:
            self.pca_mean, self.pca_axes = principal_axes(raw[:, 5:], self.n_components)
        features = self._assemble(raw, standardise=False)
        self.mean = features.mean(axis=0)
        self.std = features.std(axis=0)
        self.std[self.std == 0] = 1.0
        keep = [0, 4, 5]  # intercept and season stay as they are
        self.mean[keep], self.std[keep] = 0.0, 1.0
        return self

    def _assemble(self, raw: np.ndarray, standardise: bool = True) -> np.ndarray:
        parts = [np.ones((len(raw), 1)), raw[:, :5]]
        if self.n_components:
            parts.append((raw[:, 5:] - self.pca_mean) @ self.pca_axes.T)
        features = np.column_stack(parts)
        if standardise:
            features = (features - self.mean) / self.std
        return features

    def transform(self, tables, batch) -> np.ndarray:
        """(n_visits, n_features) float64 context vectors of the visits of ``batch``."""
        if self.mean is None:
            raise RuntimeError("call fit(tables, batch) first")
        return self._assemble(self._raw(tables, batch))
