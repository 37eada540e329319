"""Re-ranking for diversity: maximal marginal relevance and greedy DPP MAP inference (notebook 05).

Both methods take, for each of n visits, m candidate items with a relevance score and an
embedding, and pick k of them one at a time:

* **MMR** (Carbonell and Goldstein 1998): the next item maximises
  ``lam * relevance - (1 - lam) * max cosine similarity to the items already picked``.
* **DPP** (Kulesza and Taskar 2012; fast greedy MAP inference of Chen, Zhang and Zhou 2018): the
  slate Y maximises ``log det L_Y`` for the kernel ``L = Diag(q) S Diag(q)``, quality ``q_i > 0``
  times cosine similarity ``S = E E^T``. Greedy inference adds the item with the largest gain
  ``log det L_{Y+i} - log det L_Y = 2 log q_i + log d_i^2``, where ``d_i^2`` is the squared
  residual of item i after projecting out the items already picked; an incremental Cholesky
  factorisation updates every ``d_i^2`` in O(t m) at step t, O(k^2 m) per slate.

Everything is vectorised over visits (the Python loop runs over the k slate positions only).
:func:`rerank` wraps both for full-catalogue scores: it takes each visit's best ``n_candidates``
items and re-orders them. ``lam = 1`` always gives back the relevance order.
"""

from __future__ import annotations

import numpy as np

METHODS = ("mmr", "dpp")


def _check_k(k, m: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise ValueError(f"k must be an integer in 1..{m} (the number of candidates), got {k!r}")
    return int(k)


def _check_lam(lam, name: str = "lam") -> float:
    try:
        value = float(lam)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {lam!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {lam}")
    return value


def _as_batch(values, name: str) -> tuple[np.ndarray, bool]:
    """(n, m) float64 from (n, m) or (m,) input; the flag says whether the input was one visit."""
    array = np.asarray(values, dtype=np.float64)
    single = array.ndim == 1
    array = array[None, :] if single else array
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError(f"{name} must be (n_visits, n_candidates) or (n_candidates,), got shape {np.shape(values)}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array, single


def _unit_embeddings(embeddings, n: int, m: int) -> np.ndarray:
    """Candidate embeddings as unit rows: shared (m, d) or per visit (n, m, d).

    float32 input stays float32 (half the memory traffic; cosines good to about 1e-7), anything
    else becomes float64.
    """
    emb = np.asarray(embeddings)
    emb = emb if emb.dtype == np.float32 else emb.astype(np.float64)
    if emb.ndim == 2 and emb.shape[0] == m:
        pass
    elif emb.ndim == 3 and emb.shape[:2] == (n, m):
        pass
    else:
        raise ValueError(f"embeddings must be (n_candidates={m}, dim) shared by all visits or "
                         f"(n_visits={n}, n_candidates={m}, dim), got shape {emb.shape}")
    if not np.isfinite(emb).all():
        raise ValueError("embeddings must be finite")
    norms = np.linalg.norm(emb, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("an embedding is all zero (its cosine similarity is undefined)")
    return emb / norms


def _available(exclude, n: int, m: int, k: int) -> np.ndarray:
    if exclude is None:
        return np.ones((n, m), dtype=bool)
    mask = exclude.toarray() if hasattr(exclude, "toarray") else np.asarray(exclude)
    mask = mask[None, :] if mask.ndim == 1 else mask
    if mask.shape != (n, m):
        raise ValueError(f"exclude must have shape {(n, m)}, got {mask.shape}")
    available = ~mask.astype(bool)
    if np.any(available.sum(axis=1) < k):
        raise ValueError(f"a visit has fewer than k={k} candidates left after exclusion")
    return available


def _similarity_rows(emb: np.ndarray, rows: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """Cosine similarity of each visit's chosen candidate to all its candidates, (n, m)."""
    if emb.ndim == 2:
        sim = emb[choice] @ emb.T
    else:
        sim = np.matmul(emb, emb[rows, choice][:, :, None])[:, :, 0]
    return sim.astype(np.float64, copy=False)


def mmr(relevance, embeddings, k: int, lam: float = 0.5, *, exclude=None) -> np.ndarray:
    """Maximal marginal relevance order (Carbonell and Goldstein 1998), for many visits at once.

    The first pick is the most relevant candidate; pick t maximises
    ``lam * relevance_i - (1 - lam) * max_{j picked} cos(e_i, e_j)``. Ties go to the earlier column.
    Relevance and similarity should be on comparable scales (e.g. relevance min-max scaled to
    [0, 1], as :func:`rerank` does); cosine similarity lies in [-1, 1].

    Args:
        relevance: (n, m) relevance of m candidates per visit, or (m,) for one visit.
        embeddings: (m, dim) candidate embeddings shared by all visits, or (n, m, dim) per visit;
            normalised here (cosine similarity).
        k: slate size, 1 <= k <= m.
        lam: weight of relevance in [0, 1]; 1 gives the relevance order, 0 the most dissimilar items.
        exclude: optional (n, m) boolean (or scipy sparse) mask of candidates never to pick.

    Returns:
        (n, k) int64 candidate columns in the order picked, or (k,) for a 1-D ``relevance``.
    """
    rel, single = _as_batch(relevance, "relevance")
    n, m = rel.shape
    k = _check_k(k, m)
    lam = _check_lam(lam)
    out = _mmr_core(rel, _unit_embeddings(embeddings, n, m), k, lam, _available(exclude, n, m, k))
    return out[0] if single else out


def _mmr_core(rel: np.ndarray, emb: np.ndarray, k: int, lam: float, available: np.ndarray) -> np.ndarray:
    """MMR on validated inputs: rel (n, m) float64, unit emb, available (n, m) bool (modified)."""
    n, m = rel.shape
    rows = np.arange(n)
    out = np.empty((n, k), dtype=np.int64)
    max_sim = np.full((n, m), -np.inf)
    for t in range(k):
        objective = rel.copy() if t == 0 else lam * rel - (1.0 - lam) * max_sim
        objective[~available] = -np.inf
        choice = objective.argmax(axis=1)
        out[:, t] = choice
        available[rows, choice] = False
        if t < k - 1:
            max_sim = np.maximum(max_sim, _similarity_rows(emb, rows, choice))
    return out


def dpp_log_quality(relevance, theta: float) -> np.ndarray:
    """Log quality ``alpha * relevance`` with ``alpha = theta / (2 (1 - theta))`` (Chen et al. 2018, eq. 21).

    With this quality, ``log det L_Y = 2 alpha sum_{i in Y} r_i + log det S_Y`` is proportional
    to ``theta * sum r_i + (1 - theta) * log det S_Y``: theta in [0, 1) trades relevance against
    diversity like MMR's lambda (theta = 1 is the pure relevance order; :func:`rerank` handles it).
    Works in logs, so a large alpha cannot overflow. Shape of ``relevance`` is kept.
    """
    theta = _check_lam(theta, "theta")
    if theta >= 1.0:
        raise ValueError("theta = 1 puts all weight on relevance: use the relevance order itself")
    return np.asarray(relevance, dtype=np.float64) * (theta / (2.0 * (1.0 - theta)))


def dpp_greedy(embeddings, k: int, *, log_quality=None, exclude=None, eps: float = 1e-9,
               return_gains: bool = False):
    """Greedy MAP inference for a DPP with kernel ``L = Diag(q) S Diag(q)``, ``S`` = cosine similarity.

    Incremental Cholesky version of Chen, Zhang and Zhou 2018 (Algorithm 1), vectorised over
    visits: with ``c_i`` the Cholesky row of candidate i and ``d_i^2`` its residual, picking j
    updates ``e_i = (S_ji - <c_j, c_i>) / d_j``, ``c_i <- [c_i, e_i]``, ``d_i^2 <- d_i^2 - e_i^2``.
    The pick maximises the log-determinant gain ``2 log q_i + log d_i^2``; the quality is kept out of
    the factorisation (it only rescales ``d_i^2``), which keeps large qualities from overflowing.
    Gains never increase from one pick to the next. A candidate with ``d_i^2 <= eps`` is linearly
    dependent on the picks (for instance a duplicate) and is not picked by the DPP; if every
    remaining candidate is, the slate is filled in quality order and those gains are ``-inf``.

    Args:
        embeddings: (m, dim) candidate embeddings shared by all visits, or (n, m, dim) per visit.
        k: slate size, 1 <= k <= m.
        log_quality: (n, m) or (m,) log q per candidate (e.g. :func:`dpp_log_quality`); None
            means q = 1 (pure diversity: maximise ``det S_Y``).
        exclude: optional (n, m) boolean (or scipy sparse) mask of candidates never to pick.
        eps: residual below which a candidate counts as dependent.
        return_gains: also return the (n, k) log-determinant gains of the picks.

    Returns:
        (n, k) int64 candidate columns in the order picked (k,) when one visit is given as a 1-D
        ``log_quality`` or 2-D embeddings without ``log_quality``); with ``return_gains``, a
        pair (picks, gains).
    """
    emb_in = np.asarray(embeddings, dtype=np.float64)
    if emb_in.ndim not in (2, 3):
        raise ValueError(f"embeddings must be (m, dim) or (n, m, dim), got shape {emb_in.shape}")
    m = emb_in.shape[-2]
    if log_quality is None:
        n = 1 if emb_in.ndim == 2 else emb_in.shape[0]
        logq, single = np.zeros((n, m)), emb_in.ndim == 2
    else:
        logq, single = _as_batch(log_quality, "log_quality")
        n = logq.shape[0]
    if logq.shape[1] != m:
        raise ValueError(f"log_quality has {logq.shape[1]} candidates, embeddings {m}")
    k = _check_k(k, m)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    out, gains = _dpp_core(_unit_embeddings(emb_in, n, m), k, logq, _available(exclude, n, m, k), eps)
    if single:
        out, gains = out[0], gains[0]
    return (out, gains) if return_gains else out


def _dpp_core(emb: np.ndarray, k: int, logq: np.ndarray, available: np.ndarray, eps: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Greedy DPP on validated inputs: unit emb, logq (n, m), available (n, m) bool (modified)."""
    n, m = logq.shape
    rows = np.arange(n)
    chol = np.zeros((n, k, m))
    d2 = np.ones((n, m))  # residuals start at S_ii = 1 (unit embeddings)
    out = np.empty((n, k), dtype=np.int64)
    gains = np.empty((n, k))
    for t in range(k):
        with np.errstate(divide="ignore"):
            objective = np.where(available & (d2 > eps), 2.0 * logq + np.log(np.maximum(d2, eps)), -np.inf)
        choice = objective.argmax(axis=1)
        gain = objective[rows, choice]
        exhausted = ~np.isfinite(gain)
        if exhausted.any():  # no independent candidate left: fill by quality
            fallback = np.where(available, logq, -np.inf).argmax(axis=1)
            choice = np.where(exhausted, fallback, choice)
        out[:, t], gains[:, t] = choice, gain
        available[rows, choice] = False
        if t < k - 1:
            sim = _similarity_rows(emb, rows, choice)  # S_j. , (n, m)
            proj = np.einsum("nt,ntm->nm", chol[rows, :t, choice], chol[:, :t, :])
            d_j = np.sqrt(np.where(exhausted, 1.0, d2[rows, choice]))
            e = np.where(exhausted[:, None], 0.0, (sim - proj) / d_j[:, None])
            chol[:, t, :] = e
            d2 = d2 - e**2
    return out, gains


def _top_candidates(scores: np.ndarray, m: int, exclude) -> np.ndarray:
    """Each row's m best columns by score, best first (ties to the lower column), skipping ``exclude``.

    When a row has fewer than m items left after exclusion, every row gets that smaller number.
    """
    masked = scores.copy()
    if exclude is not None:
        mask = exclude.toarray() if hasattr(exclude, "toarray") else np.asarray(exclude)
        if mask.shape != scores.shape:
            raise ValueError(f"exclude must have the shape of scores {scores.shape}, got {mask.shape}")
        masked[mask.astype(bool)] = -np.inf
        m = min(m, int((~mask.astype(bool)).sum(axis=1).min(initial=m)))
    part = np.argpartition(-masked, m - 1, axis=1)[:, :m] if m < scores.shape[1] else np.tile(
        np.arange(scores.shape[1]), (len(scores), 1))
    values = np.take_along_axis(masked, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    return np.take_along_axis(part, order, axis=1)


def rerank(scores, embeddings, k: int = 10, *, method: str = "mmr", lam: float = 0.5,
           n_candidates: int = 100, exclude=None, chunk: int = 256) -> np.ndarray:
    """Top-k slates re-ranked for diversity from full-catalogue scores, for many visits at once.

    Each visit's ``n_candidates`` best items (by ``scores``, skipping ``exclude``) are re-ordered
    by :func:`mmr` (``lam`` = MMR's lambda) or :func:`dpp_greedy` (``lam`` = theta of
    :func:`dpp_log_quality`), with relevance = the scores min-max scaled to [0, 1] within the
    candidates. ``lam = 1`` returns the plain top-k; smaller values buy diversity with relevance.

    Args:
        scores: (n, n_items) float, higher is better (any strategy's ``score``).
        embeddings: (n_items, dim) item embeddings in item-id order (e.g. BERT descriptions).
        k: slate size. method: ``"mmr"`` or ``"dpp"``. lam: trade-off in [0, 1].
        n_candidates: candidates re-ranked per visit, at least k (capped at n_items, and lower
            when exclusion leaves a visit fewer items).
        exclude: optional (n, n_items) boolean or scipy sparse mask of items never to recommend
            (already bought, in the discovery task).
        chunk: visits processed together (bounds memory).

    Returns:
        (n, k) int64 item ids, best first.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (n_visits, n_items), got shape {scores.shape}")
    if np.isnan(scores).any() or np.isposinf(scores).any():
        raise ValueError("scores hold NaN or +inf")
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[0] != scores.shape[1]:
        raise ValueError(f"embeddings must be (n_items={scores.shape[1]}, dim), got shape {emb.shape}")
    emb = _unit_embeddings(emb, 1, len(emb))  # once for the catalogue: float32 unit rows
    if isinstance(n_candidates, bool) or not isinstance(n_candidates, (int, np.integer)) or n_candidates < 1:
        raise ValueError(f"n_candidates must be a positive integer, got {n_candidates!r}")
    n_candidates = min(int(n_candidates), scores.shape[1])
    k = _check_k(k, n_candidates)
    lam = _check_lam(lam)
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    if exclude is not None and hasattr(exclude, "tocsr"):
        exclude = exclude.tocsr()
    out = np.empty((len(scores), k), dtype=np.int64)
    for start in range(0, len(scores), chunk):
        part = slice(start, start + chunk)
        block = None if exclude is None else exclude[part]
        cand = _top_candidates(scores[part], n_candidates, block)
        if cand.shape[1] < k:
            raise ValueError(f"a visit has fewer than k={k} items left after exclusion")
        if lam == 1.0:
            out[part] = cand[:, :k]
            continue
        rel = np.take_along_axis(scores[part], cand, axis=1)
        finite = np.isfinite(rel)
        if not finite.all():  # e.g. -inf scores of items a strategy rules out: lowest relevance
            floor = np.where(finite, rel, np.inf).min(axis=1, keepdims=True)
            rel = np.where(finite, rel, np.where(np.isfinite(floor), floor, 0.0))
        low, high = rel.min(axis=1, keepdims=True), rel.max(axis=1, keepdims=True)
        rel = (rel - low) / np.where(high > low, high - low, 1.0)
        available = np.ones(cand.shape, dtype=bool)
        if method == "mmr":
            picks = _mmr_core(rel, emb[cand], k, lam, available)
        else:
            picks, _ = _dpp_core(emb[cand], k, dpp_log_quality(rel, lam), available, 1e-9)
        out[part] = np.take_along_axis(cand, picks, axis=1)
    return out
