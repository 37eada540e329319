"""Metrics on plain arrays: regret, ranking accuracy and diversity. No model or dataset inside.

Sections: regret summaries (notebook 02), ranking accuracy (notebook 03), diversity (notebook 05).
"""

from __future__ import annotations

import numpy as np

from helpers.validation import check_int

# ---------------------------------------------------------------------------------------------
# Regret (notebook 02)


def _check_arm_means(means) -> np.ndarray:
    means = np.asarray(means, dtype=float)
    if means.ndim != 1 or means.size < 2:
        raise ValueError(f"means must be a 1-D array of at least 2 arm means, got shape {means.shape}")
    if not np.all(np.isfinite(means)):
        raise ValueError("means must be finite")
    return means


def _check_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    return int(horizon)


def regret_summary(cumulative_regret, level: float = 0.95, kind: str = "mean"
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean cumulative regret over runs with a band, for plotting regret curves.

    Args:
        cumulative_regret: (T, R) cumulative (pseudo-)regret of R independent runs at rounds
            1..T, e.g. ``Trace.cumulative_regret``.
        level: coverage of the band, in (0, 1).
        kind: ``"mean"`` for a normal-approximation confidence interval of the mean regret,
            ``mean ± z sd / sqrt(R)`` (needs R >= 2; sensible for R of a few dozen or more);
            ``"runs"`` for the central ``level`` quantile range of the runs themselves (where
            a single run is likely to fall).

    Returns:
        ``(mean, low, high)``, each (T,), in the units of the regret (e.g. expected clicks).
    """
    from statistics import NormalDist

    regret = np.asarray(cumulative_regret, dtype=float)
    if regret.ndim != 2:
        raise ValueError(f"cumulative_regret must have shape (T, R), got {regret.shape}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    mean = regret.mean(axis=1)
    if kind == "mean":
        n_runs = regret.shape[1]
        if n_runs < 2:
            raise ValueError("a confidence interval of the mean needs at least 2 runs")
        half = NormalDist().inv_cdf(0.5 + level / 2) * regret.std(axis=1, ddof=1) / np.sqrt(n_runs)
        return mean, mean - half, mean + half
    if kind == "runs":
        low, high = np.quantile(regret, [0.5 - level / 2, 0.5 + level / 2], axis=1)
        return mean, low, high
    raise ValueError(f"kind must be 'mean' or 'runs', got {kind!r}")


def lai_robbins_constant(means) -> float:
    """Constant C of the Lai-Robbins lower bound for Bernoulli arms, in regret per nat of ln T.

    ``C = sum over suboptimal arms i of (mu* - mu_i) / kl(mu_i, mu*)`` with the Bernoulli
    Kullback-Leibler divergence (Lai and Robbins 1985; Lattimore and Szepesvári 2020,
    Theorem 16.2). Any consistent policy has ``liminf E[R_T] / ln T >= C``. Arms tied with the
    best contribute nothing; if mu* = 1 every suboptimal arm's divergence is infinite and C = 0.

    Args:
        means: (n_arms,) Bernoulli means in [0, 1].
    """
    from helpers.bandits import kl_bernoulli

    means = _check_arm_means(means)
    if np.any((means < 0) | (means > 1)):
        raise ValueError("Bernoulli means must lie in [0, 1]")
    best = means.max()
    sub = means[means < best]
    if sub.size == 0:
        return 0.0
    return float(np.sum((best - sub) / kl_bernoulli(sub, best)))


def lai_robbins_bound(means, horizon: int) -> np.ndarray:
    """The asymptotic lower bound ``C ln t`` for t = 1..horizon, shape (horizon,).

    C is :func:`lai_robbins_constant` (Bernoulli arms). It is an asymptotic statement about
    consistent policies, not a finite-time guarantee: with near-tied arms or tiny click rates it
    can exceed what even uniform play loses at the horizons one can simulate (compare with
    :func:`uniform_regret`).
    """
    horizon = _check_horizon(horizon)
    return lai_robbins_constant(means) * np.log(np.arange(1, horizon + 1))


def ucb1_upper_bound(means, horizon: int) -> np.ndarray:
    """UCB1's finite-time regret bound, for n = 1..horizon plays, shape (horizon,).

    ``8 sum_{i: mu_i < mu*} ln n / Delta_i + (1 + pi^2 / 3) sum_j Delta_j`` (Auer,
    Cesa-Bianchi and Fischer 2002, Theorem 1), valid for any reward distributions on [0, 1]
    and UCB1 with bonus ``sqrt(2 ln n / n_i)`` (``helpers.bandits.UCB1`` with ``alpha=1``).

    Args:
        means: (n_arms,) expected rewards in [0, 1].
        horizon: number of plays.
    """
    means = _check_arm_means(means)
    if np.any((means < 0) | (means > 1)):
        raise ValueError("UCB1's bound needs expected rewards in [0, 1]")
    horizon = _check_horizon(horizon)
    gaps = means.max() - means
    sub = gaps[gaps > 0]
    log_n = np.log(np.arange(1, horizon + 1))
    return 8.0 * np.sum(1.0 / sub) * log_n + (1.0 + np.pi**2 / 3.0) * gaps.sum()


def uniform_regret(means, horizon: int) -> np.ndarray:
    """Expected regret of playing uniformly at random, ``t * mean(Delta)`` for t = 1..horizon.

    A policy worse than this has learned nothing. Shape (horizon,).
    """
    means = _check_arm_means(means)
    horizon = _check_horizon(horizon)
    return np.arange(1, horizon + 1) * float(np.mean(means.max() - means))


# ---------------------------------------------------------------------------------------------
# Ranking accuracy (notebook 03)
#
# Conventions: ``slates`` is an (n, k) integer array, row u the ranked item ids shown to visit u
# (best first, no repeats within a row); ``targets`` is a sequence of n integer arrays, the
# relevant items of each visit (order ignored, duplicates ignored). Metrics return one value per
# visit, shape (n,), so that means, bootstrap intervals and per-visit rewards come from the same
# numbers; :func:`ranking_summary` averages them.


def _check_slates(slates) -> np.ndarray:
    slates = np.asarray(slates)
    if slates.ndim != 2 or slates.shape[1] < 1:
        raise ValueError(f"slates must be a 2-D (n_visits, k) array with k >= 1, got shape {slates.shape}")
    if slates.size and not np.issubdtype(slates.dtype, np.integer):
        raise ValueError(f"slates must hold integer item ids, got dtype {slates.dtype}")
    if slates.size and slates.min() < 0:
        raise ValueError("slates hold a negative item id")
    if slates.shape[1] > 1:
        ordered = np.sort(slates, axis=1)
        if np.any(ordered[:, 1:] == ordered[:, :-1]):
            raise ValueError("a slate shows the same item twice")
    return slates.astype(np.int64, copy=False)


def _check_targets(targets, n: int) -> list[np.ndarray]:
    if isinstance(targets, np.ndarray) and targets.ndim == 2 and targets.dtype != object:
        targets = list(targets)
    if len(targets) != n:
        raise ValueError(f"targets has {len(targets)} rows for {n} slates")
    out = []
    for row in targets:
        row = np.unique(np.asarray(row).reshape(-1))
        if row.size and (not np.issubdtype(row.dtype, np.integer) or row.min() < 0):
            raise ValueError("targets must hold non-negative integer item ids")
        out.append(row.astype(np.int64))
    return out


def relevance_matrix(slates, targets) -> np.ndarray:
    """Boolean (n, k) matrix: True where slate position j of visit u shows one of u's targets.

    Vectorised with one ``np.isin`` on (visit, item) keys.
    """
    slates = _check_slates(slates)
    rows = _check_targets(targets, len(slates))
    if not len(slates):
        return np.zeros(slates.shape, dtype=bool)
    width = int(max(slates.max(initial=0), max((r.max(initial=0) for r in rows), default=0))) + 1
    target_keys = np.concatenate([u * width + r for u, r in enumerate(rows)] + [np.zeros(0, np.int64)])
    slate_keys = np.arange(len(slates), dtype=np.int64)[:, None] * width + slates
    return np.isin(slate_keys, target_keys)


def hit_rate(slates, targets) -> np.ndarray:
    """HitRate@k per visit: 1.0 when the slate holds at least one target, else 0.0. Shape (n,).

    The mean over visits is the hit rate of, e.g., Deshpande and Karypis 2004 (top-N evaluation).
    """
    return relevance_matrix(slates, targets).any(axis=1).astype(float)


def recall_at_k(slates, targets) -> np.ndarray:
    """Recall@k per visit: targets in the slate / number of targets (0 when there are none). Shape (n,)."""
    rel = relevance_matrix(slates, targets)
    sizes = np.array([np.unique(np.asarray(t)).size for t in targets], dtype=float)
    return np.divide(rel.sum(axis=1), sizes, out=np.zeros(len(rel)), where=sizes > 0)


def ndcg_at_k(slates, targets) -> np.ndarray:
    """NDCG@k per visit with binary relevance (Järvelin and Kekäläinen 2002). Shape (n,).

    ``DCG = sum_j rel_j / log2(j + 2)`` over positions j = 0..k-1; the ideal DCG puts
    ``min(k, n_targets)`` targets first. Visits without targets score 0.
    """
    rel = relevance_matrix(slates, targets)
    k = rel.shape[1]
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    dcg = rel.astype(float) @ discounts
    sizes = np.array([np.unique(np.asarray(t)).size for t in targets], dtype=np.int64)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(sizes, k)]
    return np.divide(dcg, ideal, out=np.zeros(len(rel)), where=ideal > 0)


def auc_per_visit(scores, targets, exclude=None) -> np.ndarray:
    """Per-visit ROC AUC of item scores: P(score of a target > score of a non-target), ties 1/2.

    The Mann-Whitney U statistic divided by (targets x non-targets) (Hanley and McNeil 1982),
    counted with one sort per visit.
    Items in ``exclude`` (e.g. already bought, never recommended in the discovery task) are left
    out of both groups.

    Args:
        scores: (n, n_items) float, higher is better.
        targets: n integer arrays of relevant item ids.
        exclude: optional (n, n_items) boolean array (or scipy sparse matrix) of items to ignore.

    Returns:
        (n,) float; NaN for a visit with no targets or no non-targets left.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (n_visits, n_items), got shape {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("scores hold NaN")
    rows = _check_targets(targets, len(scores))
    if any(r.size and r.max() >= scores.shape[1] for r in rows):
        raise ValueError("a target item id is out of range of the score columns")
    keep = np.ones(scores.shape, dtype=bool)
    if exclude is not None:
        exclude = exclude.toarray() if hasattr(exclude, "toarray") else np.asarray(exclude)
        if exclude.shape != scores.shape:
            raise ValueError(f"exclude must have the shape of scores {scores.shape}, got {exclude.shape}")
        keep = ~exclude.astype(bool)
    positive = np.zeros(scores.shape, dtype=bool)
    row_index = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    positive[row_index, np.concatenate(rows + [np.zeros(0, np.int64)])] = True
    positive &= keep
    negative = keep & ~positive
    n_neg = negative.sum(axis=1)
    # each row's negative scores sorted (the rest pushed to the end as +inf); for every positive,
    # U counts the negatives below it plus half the ties (Mann-Whitney)
    sorted_neg = np.sort(np.where(negative, scores, np.inf), axis=1)
    out = np.full(len(scores), np.nan)
    for u in range(len(scores)):
        pos = scores[u, positive[u]]
        if pos.size == 0 or n_neg[u] == 0:
            continue
        neg = sorted_neg[u, : n_neg[u]]
        below = np.searchsorted(neg, pos, side="left")
        not_above = np.searchsorted(neg, pos, side="right")
        out[u] = (below + 0.5 * (not_above - below)).sum() / (pos.size * n_neg[u])
    return out


def catalogue_coverage(slates, n_items: int) -> float:
    """Share of the catalogue shown in at least one slate, in [0, 1] (Ge, Delgado-Battenfeld and
    Jannach 2010, "Beyond accuracy")."""
    slates = _check_slates(slates)
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items must be a positive integer, got {n_items!r}")
    if slates.size and slates.max() >= n_items:
        raise ValueError(f"slates hold item id {int(slates.max())} >= n_items={n_items}")
    return float(np.unique(slates).size / n_items)


def ranking_summary(slates, targets, n_items: int) -> dict[str, float]:
    """Mean HitRate@k, Recall@k and NDCG@k over visits, and catalogue coverage, in one dict.

    Keys: ``HR@k``, ``Recall@k``, ``NDCG@k`` (k = the slate width) and ``coverage``.
    """
    slates = _check_slates(slates)
    if len(slates) == 0:
        raise ValueError("ranking_summary needs at least one visit, got slates of shape "
                         f"{slates.shape}: a mean over zero visits is undefined (check the split or filter)")
    k = slates.shape[1]
    return {
        f"HR@{k}": float(hit_rate(slates, targets).mean()),
        f"Recall@{k}": float(recall_at_k(slates, targets).mean()),
        f"NDCG@{k}": float(ndcg_at_k(slates, targets).mean()),
        "coverage": catalogue_coverage(slates, n_items),
    }

# ---------------------------------------------------------------------------------------------
# Diversity (notebook 05)
#
# Same conventions as above: ``slates`` (n, k) item ids; per-slate metrics return (n,) values and
# aggregate ones a float. Item-side inputs (embeddings, categories, popularity) are arrays indexed
# by item id. References: intra-list diversity (Smyth and McClave 2001; Ziegler et al. 2005,
# who report its complement, intra-list similarity), aggregate diversity and exposure
# concentration (Adomavicius and Kwon 2012; Fleder and Hosanagar 2009), long tail (Anderson
# 2006; Abdollahpouri, Burke and Mobasher 2017), novelty as self-information (Zhou et al. 2010;
# Vargas and Castells 2011), alpha-NDCG (Clarke et al. 2008). Catalogue coverage is
# :func:`catalogue_coverage` above.


def _check_item_array(values, n_items_min: int, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim < 1 or len(values) < n_items_min:
        raise ValueError(f"{name} must have one row per item id (at least {n_items_min}), got shape {values.shape}")
    return values


def unit_rows(embeddings) -> np.ndarray:
    """L2-normalise the rows of ``embeddings`` (n_items, dim) so that dot products are cosines.

    Returns a float32 copy. Raises ``ValueError`` for a non-finite value or an all-zero row (whose
    cosine is undefined).
    """
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[0] < 1 or emb.shape[1] < 1:
        raise ValueError(f"embeddings must be a 2-D (n_items, dim) array, got shape {emb.shape}")
    if not np.isfinite(emb).all():
        raise ValueError("embeddings must be finite")
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"embedding row(s) {np.flatnonzero(norms[:, 0] == 0)[:5].tolist()} are all zero")
    return emb / norms


def intra_list_diversity(slates, embeddings, chunk: int = 2048) -> np.ndarray:
    """Intra-list diversity: mean pairwise cosine distance ``1 - cos(e_i, e_j)`` within each slate.

    ``ILD(s) = 2 / (k (k - 1)) * sum_{i < j in s} (1 - cos(e_i, e_j))`` (Smyth and McClave 2001;
    Ziegler et al. 2005 use the complement, intra-list similarity). With unit vectors the sum of
    all pairwise cosines is ``||sum_i e_i||^2 - k``, so no pairwise loop is needed: the cost is
    O(n k dim). Values lie in [0, 2]; 0 means k copies of one item, 1 mutually orthogonal items.

    Args:
        slates: (n, k) item ids, k >= 2.
        embeddings: (n_items, dim) item embeddings (e.g. BERT descriptions), normalised here.
        chunk: slates processed together (bounds memory to chunk * k * dim floats).

    Returns:
        (n,) float64.
    """
    slates = _check_slates(slates)
    k = slates.shape[1]
    if k < 2:
        raise ValueError("intra-list diversity needs slates of at least 2 items")
    emb = unit_rows(embeddings)
    if slates.size and slates.max() >= len(emb):
        raise ValueError(f"slates hold item id {int(slates.max())} but embeddings have {len(emb)} rows")
    chunk = check_int("chunk", chunk, 1)
    out = np.empty(len(slates))
    for start in range(0, len(slates), chunk):
        total = emb[slates[start:start + chunk]].sum(axis=1, dtype=np.float64)  # (c, dim)
        pair_cos = (np.einsum("cd,cd->c", total, total) - k) / (k * (k - 1))
        out[start:start + chunk] = 1.0 - pair_cos
    return out


def category_coverage(slates, categories, n_categories: int | None = None, normalize: bool = True) -> np.ndarray:
    """Distinct categories per slate, as a count or as a share of the most a slate could show.

    With ``normalize`` the count is divided by ``min(k, n_categories)``, so 1.0 means the slate
    shows as many categories as it possibly can (an aggregate form of the subtopic coverage of
    Zhai, Cohen and Lafferty 2003).

    Args:
        slates: (n, k) item ids.
        categories: (n_items,) int category of each item in ``0..n_categories-1`` (e.g. the
            clusters of :func:`helpers.text.catalogue_clusters`).
        n_categories: number of categories; default ``categories.max() + 1``.
        normalize: return the share (float in (0, 1]) instead of the count.

    Returns:
        (n,) float64.
    """
    slates = _check_slates(slates)
    cats = _check_item_array(categories, 1, "categories")
    if cats.ndim != 1 or not np.issubdtype(cats.dtype, np.integer) or cats.min() < 0:
        raise ValueError("categories must be a 1-D array of non-negative integer category ids")
    if slates.size and slates.max() >= len(cats):
        raise ValueError(f"slates hold item id {int(slates.max())} but categories has {len(cats)} items")
    n_cat = int(cats.max()) + 1 if n_categories is None else int(n_categories)
    if n_cat < int(cats.max()) + 1:
        raise ValueError(f"n_categories={n_cat} but categories go up to {int(cats.max())}")
    shown = np.sort(cats[slates], axis=1)
    counts = 1.0 + (shown[:, 1:] != shown[:, :-1]).sum(axis=1)
    return counts / min(slates.shape[1], n_cat) if normalize else counts


def exposure_counts(slates, n_items: int) -> np.ndarray:
    """How many slates show each item: (n_items,) int64, summing to n * k."""
    slates = _check_slates(slates)
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items must be a positive integer, got {n_items!r}")
    if slates.size and slates.max() >= n_items:
        raise ValueError(f"slates hold item id {int(slates.max())} >= n_items={n_items}")
    return np.bincount(slates.reshape(-1), minlength=n_items)


def gini(values) -> float:
    """Gini coefficient of non-negative values, in [0, 1 - 1/m] for m values.

    ``G = sum_i (2 i - m - 1) x_(i) / (m sum_i x_i)`` with ``x_(1) <= ... <= x_(m)`` sorted and
    i = 1..m (equal to the mean absolute difference over twice the mean). 0: all equal;
    ``1 - 1/m``: everything on one value.
    """
    x = np.sort(np.asarray(values, dtype=np.float64).reshape(-1))
    if x.size == 0 or not np.isfinite(x).all() or x[0] < 0:
        raise ValueError("gini needs a non-empty array of finite non-negative values")
    total = x.sum()
    if total == 0:
        raise ValueError("gini is undefined when every value is zero")
    m = x.size
    return float(np.dot(2.0 * np.arange(1, m + 1) - m - 1, x) / (m * total))


def exposure_gini(slates, n_items: int) -> float:
    """Gini coefficient of item exposure over the whole catalogue (items never shown count as 0).

    0 when every item is shown equally often; close to 1 when a few items take every slot
    (Fleder and Hosanagar 2009 use it for sales concentration). Input: slates (n, k) item ids.
    """
    return gini(exposure_counts(slates, n_items))


def exposure_entropy(slates, n_items: int, normalize: bool = False) -> float:
    """Shannon entropy of the exposure distribution over items, in bits.

    ``H = -sum_i p_i log2 p_i`` with ``p_i`` = share of all slate slots that show item i (terms with
    ``p_i = 0`` count 0). At most ``log2(n_items)`` (uniform exposure); with ``normalize`` the result
    is divided by that maximum and lies in [0, 1].
    """
    counts = exposure_counts(slates, n_items)
    if counts.sum() == 0:
        raise ValueError("no slate to measure")
    p = counts[counts > 0] / counts.sum()
    h = float(-(p * np.log2(p)).sum())
    return h / np.log2(n_items) if normalize and n_items > 1 else h


def head_items(popularity, head_share: float = 0.2) -> np.ndarray:
    """Boolean (n_items,) mask of the "head": the ``ceil(head_share * n_items)`` most popular items.

    Ties in popularity go to the lower item id, so the head always has exactly that many items.
    Everything else is the long tail (Anderson 2006).
    """
    pop = np.asarray(popularity, dtype=np.float64)
    if pop.ndim != 1 or pop.size < 1 or not np.isfinite(pop).all():
        raise ValueError("popularity must be a 1-D finite array, one value per item id")
    if not 0.0 < float(head_share) < 1.0:
        raise ValueError(f"head_share must lie in (0, 1), got {head_share}")
    n_head = int(np.ceil(head_share * pop.size - 1e-9))
    order = np.argsort(-pop, kind="stable")
    mask = np.zeros(pop.size, dtype=bool)
    mask[order[:n_head]] = True
    return mask


def long_tail_share(slates, popularity, head_share: float = 0.2) -> np.ndarray:
    """Share of each slate's items that lie in the long tail (outside the most popular ``head_share``).

    Abdollahpouri, Burke and Mobasher 2017 call the mean over slates the average percentage of
    long-tail items (APLT).

    Args:
        slates: (n, k) item ids.
        popularity: (n_items,) any popularity measure (buyers, sales) in item-id order; see
            :func:`head_items` for the head and its tie rule.
        head_share: fraction of items in the head, default 0.2.

    Returns:
        (n,) float64 in [0, 1].
    """
    slates = _check_slates(slates)
    head = head_items(popularity, head_share)
    if slates.size and slates.max() >= head.size:
        raise ValueError(f"slates hold item id {int(slates.max())} but popularity has {head.size} items")
    return (~head[slates]).mean(axis=1)


def novelty(slates, popularity) -> np.ndarray:
    """Mean self-information of each slate's items, ``mean_i -log2 p_i``, in bits (Zhou et al. 2010).

    ``p_i`` is the probability that a user knows item i, e.g. the share of customers who bought it
    (smooth it, for instance ``(buyers + 1) / (customers + 1)``, so that new items are finite).
    One bit more means items half as popular.

    Args:
        slates: (n, k) item ids.
        popularity: (n_items,) probabilities in (0, 1] in item-id order.

    Returns:
        (n,) float64 >= 0.
    """
    slates = _check_slates(slates)
    p = np.asarray(popularity, dtype=np.float64)
    if p.ndim != 1 or slates.size and slates.max() >= p.size:
        raise ValueError(f"popularity must be 1-D with an entry for every item shown, got shape {p.shape}")
    shown = p[slates]
    if np.any(~np.isfinite(shown) | (shown <= 0) | (shown > 1)):
        raise ValueError("novelty needs probabilities in (0, 1] for every item shown (smooth zero counts)")
    return (-np.log2(shown)).mean(axis=1)


def alpha_ndcg(slates, targets, categories, alpha: float = 0.5) -> np.ndarray:
    """alpha-NDCG@k per visit (Clarke et al. 2008) with one category ("nugget") per item.

    A relevant item at position j earns ``(1 - alpha) ** r`` where r is the number of relevant
    items of the same category shown above it, discounted by ``1 / log2(j + 2)``; the ideal
    ordering takes the largest of those gains over the visit's targets first (with one category
    per item the greedy ideal is exact). ``alpha = 0`` gives :func:`ndcg_at_k`; larger alpha
    rewards slates whose hits span several categories. Visits without targets score 0.

    Args:
        slates: (n, k) item ids. targets: n integer arrays of relevant items.
        categories: (n_items,) int category per item. alpha: redundancy penalty in [0, 1].

    Returns:
        (n,) float64 in [0, 1].
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    rel = relevance_matrix(slates, targets)  # validates slates and targets
    slates = np.asarray(slates, dtype=np.int64)
    rows = _check_targets(targets, len(slates))
    cats = _check_item_array(categories, 1, "categories")
    if cats.ndim != 1 or not np.issubdtype(cats.dtype, np.integer):
        raise ValueError("categories must be a 1-D integer array")
    top = max(int(slates.max(initial=0)), max((int(r.max(initial=0)) for r in rows), default=0))
    if top >= len(cats):
        raise ValueError(f"item id {top} has no category (categories has {len(cats)} items)")
    n, k = rel.shape
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    shown = cats[slates]
    same = (shown[:, :, None] == shown[:, None, :]) & rel[:, None, :]  # (n, j, i): i relevant, same cat as j
    earlier = np.tril(same, k=-1).sum(axis=2)  # relevant same-category items above position j
    gains = np.where(rel, (1.0 - alpha) ** earlier, 0.0)
    dcg = gains @ discounts
    ideal = np.zeros(n)
    for u, row in enumerate(rows):
        if row.size:
            _, per_cat = np.unique(cats[row], return_counts=True)
            best = np.sort(np.concatenate([(1.0 - alpha) ** np.arange(c) for c in per_cat]))[::-1][:k]
            ideal[u] = best @ discounts[:best.size]
    return np.divide(dcg, ideal, out=np.zeros(n), where=ideal > 0)


def pareto_mask(points) -> np.ndarray:
    """Which points are Pareto-optimal when every column is to be maximised.

    A point is dominated when another is at least as good in every column and strictly better in
    one; the rest form the Pareto front (e.g. of accuracy against diversity).

    Args:
        points: (n_points, n_objectives) finite values, higher is better (negate a column to
            minimise it).

    Returns:
        (n_points,) bool, True on the front. Duplicated points are all kept.
    """
    values = np.asarray(points, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] < 1 or not np.isfinite(values).all():
        raise ValueError(f"points must be a finite (n_points, n_objectives) array, got shape {values.shape}")
    no_worse = (values[None, :, :] >= values[:, None, :]).all(axis=2)  # [i, j]: j is no worse than i
    better = (values[None, :, :] > values[:, None, :]).any(axis=2)
    return ~(no_worse & better).any(axis=1)


def diversity_summary(slates, embeddings, categories, popularity, n_items: int) -> dict[str, float]:
    """The notebook-05 diversity metrics of one set of slates in one dict (means over slates).

    Keys: ``ILD``, ``category coverage``, ``catalogue coverage``, ``exposure Gini``,
    ``exposure entropy`` (bits), ``long-tail share`` and ``novelty`` (bits); ``popularity`` is a
    probability per item (see :func:`novelty`), also used to define the head for the long tail.
    """
    return {
        "ILD": float(intra_list_diversity(slates, embeddings).mean()),
        "category coverage": float(category_coverage(slates, categories).mean()),
        "catalogue coverage": catalogue_coverage(slates, n_items),
        "exposure Gini": exposure_gini(slates, n_items),
        "exposure entropy": exposure_entropy(slates, n_items),
        "long-tail share": float(long_tail_share(slates, popularity).mean()),
        "novelty": float(novelty(slates, popularity).mean()),
    }
