"""A stochastic slate policy trained by policy gradient with a diversity-regularised reward (notebook 05).

The policy builds a slate of k items out of m candidates one position at a time. At position j
(items ``S_j`` already placed) it draws item i with probability

    p_j(i) = exp(z_j(i)) / sum_{l not in S_j} exp(z_j(l)),
    z_j(i) = w . x_i - beta * max_{s in S_j} cos(e_i, e_s)   (the max term is 0 at j = 0),

so with ``beta = 0`` it is the Plackett-Luce model of rankings (Plackett 1975; Luce 1959) over
item scores ``w . x_i``, and its most likely step-by-step choice with ``w . x = lam * relevance``
and ``beta = 1 - lam`` is exactly MMR (:func:`helpers.rerank.mmr`). Sampling uses the Gumbel-max
trick at each position (Gumbel 1954; Kool, van Hoof and Welling 2019 for slates).

Learning maximises the expected reward ``E[r(S)]`` with ``r(S) = hits(S) + lam * ILD(S)`` by
REINFORCE (Williams 1992): ``grad = E[(r(S) - b) grad log pi(S)]`` with

    grad_theta log pi(S) = sum_j [phi_j(s_j) - sum_i p_j(i) phi_j(i)],  phi_j(i) = (x_i, -maxsim_j(i)),

the exact score function of the sequential softmax, and a leave-one-out baseline over several
slates sampled for the same visit (Kool, van Hoof and Welling 2019, "Buy 4 REINFORCE samples,
get a baseline for free!"). Parameters are updated by Adam (Kingma and Ba 2015).

Everything is vectorised over visits and samples; the Python loop runs over the k positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from helpers.bandits import RngLike, make_rng
from helpers.validation import check_finite_array, overflow_error


def _check_inputs(features, sims) -> tuple[np.ndarray, np.ndarray]:
    x = check_finite_array("features", features)
    s = check_finite_array("sims", sims)
    if x.ndim != 3:
        raise ValueError(f"features must be (n_visits, n_candidates, n_features), got shape {x.shape}")
    if s.shape != (x.shape[0], x.shape[1], x.shape[1]):
        raise ValueError(f"sims must be (n_visits, n_candidates, n_candidates) = "
                         f"{(x.shape[0], x.shape[1], x.shape[1])}, got {s.shape}")
    with np.errstate(over="ignore"):
        if not np.isfinite(np.einsum("nmf,nmf->nm", x, x)).all():  # scores w . x and gradients stay finite
            raise overflow_error("features", x)
    return x, s


def candidate_similarities(candidates, embeddings) -> np.ndarray:
    """Cosine similarity between each visit's candidates: (n, m, m) float32.

    Args:
        candidates: (n, m) item ids. embeddings: (n_items, dim) item embeddings (normalised here).
    """
    cand = np.asarray(candidates)
    emb = np.asarray(embeddings, dtype=np.float32)
    if cand.ndim != 2 or not np.issubdtype(cand.dtype, np.integer):
        raise ValueError(f"candidates must be an (n, m) integer array, got {cand.dtype} {cand.shape}")
    if emb.ndim != 2 or cand.size and (cand.min() < 0 or cand.max() >= len(emb)):
        raise ValueError("candidates must be item ids of the (n_items, dim) embeddings")
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("an embedding is all zero")
    vec = (emb / norms)[cand]
    # Many tiny products: BLAS threads cost more than they save here (and stall on a busy machine).
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return np.matmul(vec, np.swapaxes(vec, 1, 2))
    with threadpool_limits(limits=1, user_api="blas"):
        return np.matmul(vec, np.swapaxes(vec, 1, 2))


def slate_reward(slates, relevance, sims, lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``hits + lam * ILD`` of slates given as candidate positions.

    Args:
        slates: (n, S, k) candidate positions (S slates per visit). relevance: (n, m) 0/1 (or
            graded) relevance of each candidate. sims: (n, m, m) candidate cosine similarities.
        lam: weight of diversity (>= 0).

    Returns:
        ``(reward, hits, ild)``, each (n, S): hits = summed relevance of the slate's items, ILD =
        mean pairwise ``1 - cos`` (:func:`helpers.metrics.intra_list_diversity`).
    """
    slates = np.asarray(slates)
    n, n_samples, k = slates.shape
    if k < 2:
        raise ValueError("slates need at least 2 items for their diversity")
    if lam < 0:
        raise ValueError(f"lam must be non-negative, got {lam}")
    rel = check_finite_array("relevance", relevance)  # a reward of NaN would poison the policy's step
    rows = np.arange(n)[:, None, None]
    hits = rel[rows, slates].sum(axis=2)
    pair = np.asarray(sims)[rows[..., None], slates[:, :, :, None], slates[:, :, None, :]]  # (n, S, k, k)
    mean_cos = (pair.sum(axis=(2, 3)) - np.trace(pair, axis1=2, axis2=3)) / (k * (k - 1))
    ild = 1.0 - mean_cos
    return hits + lam * ild, hits, ild


@dataclass
class PlackettLucePolicy:
    """Sequential softmax (Plackett-Luce with a learned diversity penalty) over candidate items.

    Args:
        n_features: f, the length of each candidate's feature vector x_i.
        k: slate size.
        learn_beta: learn the diversity penalty beta (else it stays at ``beta``).
        beta: initial diversity penalty. weights: optional initial w, (f,).
        lr: Adam step size. rng: seed or Generator for sampling.

    Attributes: ``weights`` (f,), ``beta`` (float), ``t`` (updates made).
    """

    n_features: int
    k: int = 10
    learn_beta: bool = True
    beta: float = 0.0
    weights: np.ndarray | None = None
    lr: float = 0.05
    rng: RngLike = None
    t: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        for name in ("n_features", "k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.k < 2:
            raise ValueError("k must be at least 2")
        w = np.zeros(self.n_features) if self.weights is None else np.asarray(self.weights, dtype=np.float64).copy()
        if w.shape != (self.n_features,) or not np.isfinite(w).all():
            raise ValueError(f"weights must be a finite ({self.n_features},) array")
        if not np.isfinite(self.beta) or not self.lr > 0:
            raise ValueError("beta must be finite and lr positive")
        self.weights = w
        self.beta = float(self.beta)
        self.rng = make_rng(self.rng)
        self._m = np.zeros(self.n_features + 1)
        self._v = np.zeros(self.n_features + 1)

    @property
    def theta(self) -> np.ndarray:
        """All parameters as one vector ``(w..., beta)``, (f + 1,)."""
        return np.append(self.weights, self.beta)

    def _walk(self, x: np.ndarray, sims: np.ndarray, slates: np.ndarray | None, n_samples: int,
              greedy: bool = False):
        """Place k items (sampled, greedy, or the given ``slates``); return slates, log pi, grad."""
        n, m, f = x.shape
        if self.k > m:
            raise ValueError(f"k={self.k} exceeds the {m} candidates")
        base = np.einsum("nmf,f->nm", x, self.weights)[:, None, :]  # (n, 1, m)
        shape = (n, n_samples, m)
        max_sim = np.zeros(shape)
        available = np.ones(shape, dtype=bool)
        out = np.empty((n, n_samples, self.k), dtype=np.int64) if slates is None else slates
        logp = np.zeros((n, n_samples))
        grad = np.zeros((n, n_samples, f + 1))
        rows = np.arange(n)[:, None]
        cols = np.arange(n_samples)[None, :]
        for j in range(self.k):
            z = np.where(available, base - self.beta * max_sim, -np.inf)
            z_max = z.max(axis=2, keepdims=True)
            p = np.exp(z - z_max)
            total = p.sum(axis=2, keepdims=True)
            p /= total
            if slates is None:
                noisy = z if greedy else z + self.rng.gumbel(size=shape)
                out[:, :, j] = noisy.argmax(axis=2)
            pick = out[:, :, j]
            logp += z[rows, cols, pick] - (z_max[..., 0] + np.log(total[..., 0]))
            # score function: phi(pick) - E_p[phi], phi = (x, -max_sim)
            grad[..., :f] += x[rows, pick] - np.einsum("nsm,nmf->nsf", p, x)
            grad[..., f] += -max_sim[rows, cols, pick] + (p * max_sim).sum(axis=2)
            available[rows, cols, pick] = False
            max_sim = np.maximum(max_sim, sims[rows, pick]) if j else sims[rows, pick].copy()
        return out, logp, grad

    def sample(self, features, sims, n_samples: int = 1) -> np.ndarray:
        """Draw ``n_samples`` slates per visit: (n, n_samples, k) candidate positions.

        Args: features (n, m, f); sims (n, m, m) candidate cosine similarities.
        """
        x, s = _check_inputs(features, sims)
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
        return self._walk(x, s, None, int(n_samples))[0]

    def greedy(self, features, sims) -> np.ndarray:
        """The step-by-step most likely slate per visit: (n, k) candidate positions."""
        x, s = _check_inputs(features, sims)
        return self._walk(x, s, None, 1, greedy=True)[0][:, 0]

    def log_prob(self, features, sims, slates) -> tuple[np.ndarray, np.ndarray]:
        """``log pi(S)`` and its gradient with respect to ``(w, beta)`` for given slates.

        Args: features (n, m, f); sims (n, m, m); slates (n, S, k) distinct candidate positions.

        Returns: ``(logp, grad)`` of shapes (n, S) and (n, S, f + 1).
        """
        x, s = _check_inputs(features, sims)
        slates = np.asarray(slates)
        if slates.ndim != 3 or slates.shape[0] != x.shape[0] or slates.shape[2] != self.k:
            raise ValueError(f"slates must be (n_visits, n_samples, k={self.k}), got shape {slates.shape}")
        if slates.min() < 0 or slates.max() >= x.shape[1]:
            raise ValueError("slates hold a position outside the candidates")
        ordered = np.sort(slates, axis=2)
        if np.any(ordered[..., 1:] == ordered[..., :-1]):
            raise ValueError("a slate shows the same candidate twice")
        _, logp, grad = self._walk(x, s, slates.astype(np.int64), slates.shape[1])
        return logp, grad

    def step(self, grad: np.ndarray) -> None:
        """One Adam ascent step on the objective whose gradient is ``grad``, (f + 1,)."""
        grad = check_finite_array("grad", grad)
        if grad.shape != (self.n_features + 1,):
            raise ValueError(f"grad must be a finite ({self.n_features + 1},) vector")
        if not self.learn_beta:
            grad = grad.copy()
            grad[-1] = 0.0
        b1, b2 = 0.9, 0.999
        self.t += 1
        self._m = b1 * self._m + (1 - b1) * grad
        self._v = b2 * self._v + (1 - b2) * grad**2
        update = self.lr * (self._m / (1 - b1**self.t)) / (np.sqrt(self._v / (1 - b2**self.t)) + 1e-8)
        self.weights = self.weights + update[:-1]
        self.beta = float(self.beta + update[-1])

    def learn(self, features, sims, relevance, lam: float, n_samples: int = 4) -> dict[str, np.ndarray]:
        """Sample slates for a batch of visits, score them, take one REINFORCE step.

        Returns the sampled slates (n, S, k) and their ``reward``, ``hits`` and ``ild`` (n, S):
        what was shown and earned *before* the update (progressive validation).
        """
        x, s = _check_inputs(features, sims)
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
            raise ValueError("n_samples must be an integer >= 2 (the baseline leaves one sample out)")
        slates, _, grad = self._walk(x, s, None, int(n_samples))
        reward, hits, ild = slate_reward(slates, relevance, s, lam)
        baseline = (reward.sum(axis=1, keepdims=True) - reward) / (n_samples - 1)
        self.step(((reward - baseline)[..., None] * grad).mean(axis=(0, 1)))
        return {"slates": slates, "reward": reward, "hits": hits, "ild": ild}


def train_online(policy: PlackettLucePolicy, features, sims, relevance, lam: float, *, batch_size: int = 64,
                 n_samples: int = 4, progress: bool = False) -> dict[str, np.ndarray]:
    """One pass over the visits in order, ``batch_size`` at a time: show, observe, update.

    Each visit's reward is earned by a slate drawn *before* the policy learns from that visit, so
    the means over visits are honest online (progressive) estimates, comparable with a bandit's
    replayed reward.

    Args:
        policy: the policy to train (changed in place).
        features: (n, m, f); sims: (n, m, m); relevance: (n, m) per-candidate relevance, visits
            in time order. lam: diversity weight of the reward.

    Returns a dict with ``slates`` (n, k) (the first sampled slate of each visit), ``hits`` and
    ``ild`` (n,) of those slates, ``reward`` (n,), and ``theta`` (n_batches, f + 1), the
    parameters after each update.
    """
    x, s = _check_inputs(features, sims)
    rel = check_finite_array("relevance", relevance)
    if rel.shape != x.shape[:2]:
        raise ValueError(f"relevance must be (n_visits, n_candidates) = {x.shape[:2]}, got {rel.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = len(x)
    out = {"slates": np.empty((n, policy.k), dtype=np.int64), "hits": np.empty(n), "ild": np.empty(n),
           "reward": np.empty(n)}
    thetas = []
    starts = range(0, n, batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"PL policy (lam={lam:g})", leave=False)
    for start in starts:
        part = slice(start, start + batch_size)
        shown = policy.learn(x[part], s[part], rel[part], lam, n_samples)
        out["slates"][part] = shown["slates"][:, 0]
        for key in ("hits", "ild", "reward"):
            out[key][part] = shown[key][:, 0]
        thetas.append(policy.theta)
    out["theta"] = np.array(thetas)
    return out
