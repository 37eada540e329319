"""Contextual bandits and a neural softmax policy, with the interface of :mod:`helpers.bandits`.

A contextual learner sees, before each choice, a feature vector ``x`` describing the situation
(here: a customer visit) and learns which arm pays best *for that kind of visit*. The learners
below keep ``n_runs`` independent copies of their state, stepped together (no Python loop over
runs), and share the context-free learners' interface:

- ``select(context) -> arms``: ``(n_runs,)`` int64;
- ``update(arms, rewards, context)``: the arms played, their rewards and the context they were
  played in;
- ``probs(context) -> (n_runs, n_arms)``: the probability of each arm at the next ``select``;
- ``reset()``, ``counts`` and ``means`` (empirical mean reward per arm, context ignored).

``context`` has shape ``(n_runs, n_features)`` (one context per run) or ``(n_features,)``
(the same context in every run).

Learners:

- :class:`LinUCB`: one ridge regression per arm and an upper confidence bound on its prediction
  (Li, Chu, Langford and Schapire 2010, "A contextual-bandit approach to personalized news
  article recommendation", Algorithm 1, disjoint models).
- :class:`LinearThompson`: the same ridge regressions, acting on one draw from each arm's
  Gaussian posterior (Agrawal and Goyal 2013, "Thompson sampling for contextual bandits with
  linear payoffs"), drawn by Cholesky factors so seeded draws do not depend on the BLAS build.
- :class:`NeuralSoftmaxPolicy`: a small MLP mapping the context to a softmax distribution over
  arms, trained online by REINFORCE (Williams 1992) with a running-mean baseline and an optional
  entropy bonus, with Adam (Kingma and Ba 2015) or plain SGD.
- :class:`LinearItemBandit`: an item-level bandit for cold start: one shared linear model of
  the reward of showing an item with features ``x`` (LinUCB-style optimism or linear Thompson
  sampling), choosing a slate of the best ``k`` items among a changing candidate set.

References: Lattimore and Szepesvári, *Bandit Algorithms* (2020), chapters 19-20 (stochastic
linear bandits, confidence ellipsoids) and 36 (Thompson sampling).
"""

from __future__ import annotations

import math

import numpy as np

from helpers.bandits import (
    BanditLearner,
    RngLike,
    argmax_ties,
    make_rng,
    sample_categorical,
    softmax,
    tie_share,
)
from helpers.validation import check_finite_array, overflow_error
from helpers.validation import check_int as _check_int
from helpers.validation import check_positive as _check_positive

__all__ = ["LinUCB", "LinearThompson", "NeuralSoftmaxPolicy", "LinearItemBandit", "CONTEXTUAL"]


def _check_vectors(name: str, values) -> np.ndarray:
    """``values`` as a finite float array (:func:`helpers.validation.check_finite_array`) whose
    squared norms along the last axis are finite too, so that ``x x^T`` and ``theta . x`` cannot
    overflow: a context of 1e200 is an error here, not NaN statistics later."""
    x = check_finite_array(name, values)
    with np.errstate(over="ignore"):
        squares = np.einsum("...d,...d->...", x, x) if x.ndim else x * x
    if not np.isfinite(squares).all():
        raise overflow_error(name, x)
    return x


class _ContextualLearner(BanditLearner):
    """Shared part of the contextual learners: the number of features and context checks."""

    def __init__(self, n_arms: int, n_runs: int = 1, *, n_features: int, rng: RngLike = None) -> None:
        self.n_features = _check_int("n_features", n_features, 1)
        super().__init__(n_arms, n_runs, rng=rng)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_arms={self.n_arms}, n_runs={self.n_runs}, n_features={self.n_features})"

    def _context(self, context) -> np.ndarray:
        """Validate ``context`` and return it as a float array of shape (n_runs, n_features)."""
        if context is None:
            raise ValueError(f"{self.name} is a contextual learner: pass a context of shape "
                             f"({self.n_runs}, {self.n_features}) or ({self.n_features},)")
        x = _check_vectors("context", context)
        if x.shape == (self.n_features,):
            x = np.broadcast_to(x, (self.n_runs, self.n_features))
        elif x.shape != (self.n_runs, self.n_features):
            raise ValueError(f"context must have shape ({self.n_runs}, {self.n_features}) or "
                             f"({self.n_features},), got {x.shape}")
        return x

    def update(self, arms, rewards, context=None) -> None:
        """Record that run r played ``arms[r]`` in ``context[r]`` and received ``rewards[r]``.

        Args:
            arms: (n_runs,) integers in [0, n_arms).
            rewards: (n_runs,) finite floats.
            context: (n_runs, n_features) or (n_features,): the context the arms were chosen in.
        """
        x = self._context(context)  # checked before any state changes
        super().update(arms, rewards, x)


class _RidgeArms(_ContextualLearner):
    """Per-arm ridge regressions of the reward on the context (the statistics of LinUCB and LinTS).

    For arm a, with the contexts X_a (n_a, d) it was played in and the rewards y_a (n_a,) it
    received: ``A_a = ridge * I + X_a^T X_a``, ``b_a = X_a^T y_a`` and the estimate
    ``theta_a = A_a^{-1} b_a``. ``A_a^{-1}`` is updated by the Sherman-Morrison formula, one
    O(d^2) step per observation.
    """

    def __init__(self, n_arms: int, n_runs: int = 1, *, n_features: int, rng: RngLike = None,
                 ridge: float = 1.0) -> None:
        self.ridge = _check_positive("ridge", ridge)
        super().__init__(n_arms, n_runs, n_features=n_features, rng=rng)

    def _reset_state(self) -> None:
        d = self.n_features
        eye = np.eye(d)
        self.A = np.broadcast_to(self.ridge * eye, (self.n_runs, self.n_arms, d, d)).copy()
        self.A_inv = np.broadcast_to(eye / self.ridge, (self.n_runs, self.n_arms, d, d)).copy()
        self.b = np.zeros((self.n_runs, self.n_arms, d))
        self.theta = np.zeros((self.n_runs, self.n_arms, d))

    def _learn(self, arms, rewards, context) -> None:
        x = context
        idx = (self._rows, arms)
        a_inv = self.A_inv[idx]  # (R, d, d), a copy
        u = np.matmul(a_inv, x[:, :, None])[:, :, 0]  # A^{-1} x, (R, d)
        denom = 1.0 + np.einsum("rd,rd->r", x, u)
        a_inv -= u[:, :, None] * u[:, None, :] / denom[:, None, None]  # Sherman-Morrison
        self.A_inv[idx] = a_inv
        self.A[idx] += x[:, :, None] * x[:, None, :]
        self.b[idx] += rewards[:, None] * x
        self.theta[idx] = np.matmul(a_inv, self.b[idx][:, :, None])[:, :, 0]
        self._arm_updated(arms)

    def _check_step(self, arms, rewards, context) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            step = rewards[:, None] * context
            finite = np.isfinite(self.b[self._rows, arms] + step).all()
        if not finite:
            raise overflow_error("rewards times context", step)

    def _arm_updated(self, arms: np.ndarray) -> None:
        """Hook for subclasses that cache per-arm quantities (override)."""

    def predict(self, context) -> np.ndarray:
        """Ridge estimate of every arm's expected reward ``theta_a . x``: (n_runs, n_arms)."""
        x = self._context(context)
        return np.einsum("rkd,rd->rk", self.theta, x)

    def width(self, context) -> np.ndarray:
        """``sqrt(x^T A_a^{-1} x)`` for every arm, (n_runs, n_arms): the prediction's standard
        error in units of the noise level; it shrinks as the arm is played in similar contexts."""
        x = self._context(context)
        ax = np.matmul(self.A_inv, x[:, None, :, None])[..., 0]  # (R, K, d)
        return np.sqrt(np.maximum(np.einsum("rkd,rd->rk", ax, x), 0.0))


class LinUCB(_RidgeArms):
    """LinUCB with disjoint linear models (Li, Chu, Langford and Schapire 2010, Algorithm 1).

    Plays the arm maximising ``theta_a . x + alpha * sqrt(x^T A_a^{-1} x)``: the ridge estimate
    of the arm's reward in context x plus a bonus proportional to its standard error. With a
    constant context ``x = [1]`` it reduces to a UCB rule on each arm's mean.

    Hyperparameters:
        n_features: d, the length of the context vector (include a constant 1 for an intercept).
        alpha: width of the confidence bound (the paper's alpha; 0 is the greedy ridge policy).
        ridge: lambda > 0, the ridge penalty (A starts at lambda * I).

    Attributes: ``A``, ``A_inv`` (n_runs, n_arms, d, d); ``b``, ``theta`` (n_runs, n_arms, d).
    ``probs`` is one-hot on the argmax (split evenly between tied arms).
    """

    def __init__(self, n_arms: int, n_runs: int = 1, *, n_features: int, rng: RngLike = None,
                 alpha: float = 1.0, ridge: float = 1.0) -> None:
        self.alpha = _check_positive("alpha", alpha, allow_zero=True)
        super().__init__(n_arms, n_runs, n_features=n_features, rng=rng, ridge=ridge)

    @property
    def name(self) -> str:
        return f"LinUCB (α={self.alpha:g})"

    def index(self, context) -> np.ndarray:
        """The upper confidence bounds, (n_runs, n_arms)."""
        x = self._context(context)
        return self.predict(x) + self.alpha * self.width(x)

    def select(self, context=None) -> np.ndarray:
        return argmax_ties(self.index(context), self.rng)

    def probs(self, context=None) -> np.ndarray:
        return tie_share(self.index(context))


class LinearThompson(_RidgeArms):
    """Linear Thompson sampling with disjoint models (Agrawal and Goyal 2013, Algorithm 1).

    Each arm's parameter has the Gaussian posterior ``N(theta_a, v^2 A_a^{-1})`` of a ridge
    regression with prior ``N(0, v^2 / ridge * I)``; the learner draws one parameter per arm and
    plays the arm whose draw predicts the highest reward in context x. A draw is
    ``theta_a + v * L_a z`` with ``L_a`` the Cholesky factor of ``A_a^{-1}`` and z standard normal
    (the convention of mabwiser, so seeded draws do not depend on the BLAS build); the factors
    are cached and only the played arms' are recomputed after an update.

    Agrawal and Goyal's analysis uses ``v = R sqrt(24 d ln(1/delta) / epsilon)``, far too wide in
    practice; ``v`` of the order of the reward noise works well.

    Hyperparameters: ``n_features`` (d), ``v`` > 0 (posterior scale), ``ridge`` > 0.
    ``probs`` is a Monte-Carlo estimate (``n_samples`` draws).
    """

    def __init__(self, n_arms: int, n_runs: int = 1, *, n_features: int, rng: RngLike = None,
                 v: float = 0.5, ridge: float = 1.0) -> None:
        self.v = _check_positive("v", v)
        super().__init__(n_arms, n_runs, n_features=n_features, rng=rng, ridge=ridge)

    @property
    def name(self) -> str:
        return f"linear Thompson (v={self.v:g})"

    def _reset_state(self) -> None:
        super()._reset_state()
        d = self.n_features
        self.chol = np.broadcast_to(np.eye(d) / math.sqrt(self.ridge), (self.n_runs, self.n_arms, d, d)).copy()

    def _arm_updated(self, arms: np.ndarray) -> None:
        idx = (self._rows, arms)
        cov = self.A_inv[idx]
        self.chol[idx] = np.linalg.cholesky(0.5 * (cov + np.swapaxes(cov, 1, 2)))

    def sample(self, size: int | None = None) -> np.ndarray:
        """Posterior draws of every arm's parameter: (n_runs, n_arms, d), or (size, n_runs, n_arms, d)."""
        shape = (self.n_runs, self.n_arms, self.n_features) if size is None else (
            size, self.n_runs, self.n_arms, self.n_features)
        z = self.rng.standard_normal(shape)
        return self.theta + self.v * np.matmul(self.chol, z[..., None])[..., 0]

    def select(self, context=None) -> np.ndarray:
        x = self._context(context)
        return np.einsum("rkd,rd->rk", self.sample(), x).argmax(axis=1)

    def probs(self, context=None, n_samples: int = 1000) -> np.ndarray:
        """Monte-Carlo estimate of P(arm is played next | context) from ``n_samples`` draws.
        Draws from ``self.rng``, so calling it changes later selections."""
        x = self._context(context)
        n_samples = _check_int("n_samples", n_samples, 1)
        best = np.einsum("srkd,rd->srk", self.sample(n_samples), x).argmax(axis=2)  # (S, R)
        wins = np.zeros((self.n_runs, self.n_arms))
        np.add.at(wins, (np.broadcast_to(self._rows, best.shape), best), 1.0)
        return wins / n_samples


class NeuralSoftmaxPolicy(_ContextualLearner):
    """A softmax policy ``pi(a | x)`` given by a small MLP, trained online by REINFORCE.

    The network (one per run): ``h = tanh(x W1 + c1)``, ``logits = h W2 + c2``,
    ``pi = softmax(logits)``; with ``hidden=0`` it is the linear softmax ``logits = x W2 + c2``.
    After playing a ~ pi(. | x) and receiving r, each parameter moves along

        g = (r - baseline) * grad log pi(a | x) + entropy * grad H(pi(. | x)),

    an unbiased estimate of the gradient of the expected reward ``sum_a pi(a | x) r(x, a)``
    (the likelihood-ratio or REINFORCE estimator, Williams 1992) plus, optionally, the gradient of
    the policy's entropy ``H = -sum_a pi log pi`` (Williams and Peng 1991), which keeps the policy
    from collapsing on one arm too early. The baseline is the mean of the rewards received before
    the step (the first step uses its own reward), as in the gradient bandit (Sutton and Barto 2018,
    section 2.8); it lowers the variance without biasing the gradient. At the logits,
    ``grad log pi(a) = onehot(a) - pi`` and ``grad H = -pi * (log pi + H)``.

    This is the tutorial article's "large model as strategy selector" done with a correct update:
    the parameters of a softmax move, so pi is always a distribution (an update of the
    probabilities themselves can leave the simplex). Context features must be scaled to order 1.

    Hyperparameters:
        n_features: d, the length of the context vector.
        hidden: width of the hidden layer (0: linear softmax policy).
        step_size: learning rate.
        entropy: weight of the entropy bonus (>= 0).
        baseline: subtract the running mean reward (True) or not.
        optimizer: ``"adam"`` (Kingma and Ba 2015, default betas) or ``"sgd"``.
        init_scale: standard deviation of the initial weights is ``init_scale / sqrt(fan_in)``;
            the output layer starts at zero, so the first policy is uniform.

    Attributes: ``params`` (dict of arrays with a leading n_runs axis), ``baseline`` (n_runs,).
    """

    def __init__(self, n_arms: int, n_runs: int = 1, *, n_features: int, rng: RngLike = None, hidden: int = 32,
                 step_size: float = 0.01, entropy: float = 0.0, baseline: bool = True, optimizer: str = "adam",
                 init_scale: float = 1.0) -> None:
        self.hidden = _check_int("hidden", hidden, 0)
        self.step_size = _check_positive("step_size", step_size)
        self.entropy = _check_positive("entropy", entropy, allow_zero=True)
        self.init_scale = _check_positive("init_scale", init_scale, allow_zero=True)
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        self.optimizer = optimizer
        self.use_baseline = bool(baseline)
        super().__init__(n_arms, n_runs, n_features=n_features, rng=rng)

    @property
    def name(self) -> str:
        kind = f"MLP {self.hidden}" if self.hidden else "linear"
        return f"neural softmax ({kind}, REINFORCE)"

    def _reset_state(self) -> None:
        r, d, h, k = self.n_runs, self.n_features, self.hidden, self.n_arms
        params = {}
        if h:
            params["W1"] = self.rng.standard_normal((r, d, h)) * (self.init_scale / math.sqrt(d))
            params["c1"] = np.zeros((r, h))
        params["W2"] = np.zeros((r, h or d, k))
        params["c2"] = np.zeros((r, k))
        self.params = params
        self._adam_m = {name: np.zeros_like(p) for name, p in params.items()}
        self._adam_v = {name: np.zeros_like(p) for name, p in params.items()}
        self._n_steps = 0
        self.baseline = np.zeros(r)

    def _forward(self, x: np.ndarray, params: dict | None = None) -> tuple[np.ndarray | None, np.ndarray]:
        """Hidden activations (n_runs, hidden) or None, and probabilities (n_runs, n_arms)."""
        p = self.params if params is None else params
        if self.hidden:
            hid = np.tanh(np.matmul(x[:, None, :], p["W1"])[:, 0] + p["c1"])
            features = hid
        else:
            hid, features = None, x
        logits = np.matmul(features[:, None, :], p["W2"])[:, 0] + p["c2"]
        return hid, softmax(logits)

    def probs(self, context=None) -> np.ndarray:
        return self._forward(self._context(context))[1]

    def select(self, context=None) -> np.ndarray:
        return sample_categorical(self.probs(context), self.rng)

    def objective(self, context, arms, advantages, params: dict | None = None) -> np.ndarray:
        """The per-run surrogate whose gradient is the update direction, (n_runs,):
        ``advantages * log pi(arms | x) + entropy * H(pi(. | x))`` (for finite-difference checks)."""
        x = self._context(context)
        _, pi = self._forward(x, params)
        log_pi = np.log(pi)
        ent = -(pi * log_pi).sum(axis=1)
        return np.asarray(advantages, dtype=float) * log_pi[self._rows, arms] + self.entropy * ent

    def gradient(self, context, arms, advantages) -> dict[str, np.ndarray]:
        """Gradient of :meth:`objective` with respect to each parameter, same shapes as ``params``.

        Args:
            context: (n_runs, d) or (d,).
            arms: (n_runs,) the arms played.
            advantages: (n_runs,) ``reward - baseline``.
        """
        x = self._context(context)
        arms = np.asarray(arms)
        advantages = np.asarray(advantages, dtype=float)
        hid, pi = self._forward(x)
        g = -advantages[:, None] * pi  # d/dlogits of adv * log pi(a) = adv * (onehot(a) - pi)
        g[self._rows, arms] += advantages
        if self.entropy:
            log_pi = np.log(pi)
            ent = -(pi * log_pi).sum(axis=1)
            g -= self.entropy * pi * (log_pi + ent[:, None])
        features = hid if self.hidden else x
        grads = {"W2": features[:, :, None] * g[:, None, :], "c2": g}
        if self.hidden:
            g_hid = np.matmul(self.params["W2"], g[:, :, None])[:, :, 0] * (1.0 - hid**2)
            grads["W1"] = x[:, :, None] * g_hid[:, None, :]
            grads["c1"] = g_hid
        return grads

    def _learn(self, arms, rewards, context) -> None:
        if self.use_baseline:
            base = rewards if self.t == 1 else self.baseline
        else:
            base = 0.0
        grads = self.gradient(context, arms, rewards - base)
        self.baseline += (rewards - self.baseline) / self.t
        self._n_steps += 1
        lr = self.step_size
        for name, grad in grads.items():
            if self.optimizer == "sgd":
                self.params[name] += lr * grad
                continue
            m, v = self._adam_m[name], self._adam_v[name]
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad**2
            m_hat = m / (1.0 - 0.9**self._n_steps)
            v_hat = v / (1.0 - 0.999**self._n_steps)
            self.params[name] += lr * m_hat / (np.sqrt(v_hat) + 1e-8)  # ascent: we maximise reward


class LinearItemBandit:
    """An item-level linear bandit that picks a slate of ``k`` items from a changing candidate set.

    The expected reward of showing an item with feature vector x (for instance its BERT
    embedding, or its product with the customer's) is modelled as ``theta . x``, one ``theta``
    shared by all items, so what is learned about one new product carries over to similar ones:
    the way to recommend products nobody has bought yet (cold start). Each round the learner
    scores the candidates, shows the ``k`` best and observes a reward for each shown item
    (semi-bandit feedback), which updates the ridge regression ``A = ridge I + sum x x^T``,
    ``b = sum r x``, ``theta = A^{-1} b``.

    Scores: ``method="ucb"``: ``theta . x + alpha sqrt(x^T A^{-1} x)`` (LinUCB, Li et al. 2010,
    with a shared model); ``method="thompson"``: ``theta~ . x`` with one draw
    ``theta~ ~ N(theta, v^2 A^{-1})`` per run and round (Agrawal and Goyal 2013), by Cholesky.

    Args:
        n_features: d.
        n_runs: independent copies.
        rng: a ``numpy.random.Generator`` or a seed (ties and Thompson draws).
        method: ``"ucb"`` or ``"thompson"``.
        alpha: UCB width (>= 0). v: Thompson posterior scale (> 0). ridge: lambda > 0.
    """

    def __init__(self, n_features: int, n_runs: int = 1, *, rng: RngLike = None, method: str = "ucb",
                 alpha: float = 1.0, v: float = 0.5, ridge: float = 1.0) -> None:
        self.n_features = _check_int("n_features", n_features, 1)
        self.n_runs = _check_int("n_runs", n_runs, 1)
        if method not in ("ucb", "thompson"):
            raise ValueError(f"method must be 'ucb' or 'thompson', got {method!r}")
        self.method = method
        self.alpha = _check_positive("alpha", alpha, allow_zero=True)
        self.v = _check_positive("v", v)
        self.ridge = _check_positive("ridge", ridge)
        self.rng = make_rng(rng)
        self.reset()

    def __repr__(self) -> str:
        return f"LinearItemBandit(n_features={self.n_features}, n_runs={self.n_runs}, method={self.method!r})"

    @property
    def name(self) -> str:
        return f"item LinUCB (α={self.alpha:g})" if self.method == "ucb" else f"item linear Thompson (v={self.v:g})"

    def reset(self) -> None:
        """Forget everything learned (the random generator keeps its stream)."""
        d = self.n_features
        self.A = np.broadcast_to(self.ridge * np.eye(d), (self.n_runs, d, d)).copy()
        self.A_inv = np.broadcast_to(np.eye(d) / self.ridge, (self.n_runs, d, d)).copy()
        self.b = np.zeros((self.n_runs, d))
        self.theta = np.zeros((self.n_runs, d))
        self.t = 0

    def _candidates(self, candidates) -> np.ndarray:
        x = _check_vectors("candidates", candidates)
        if x.ndim == 2:
            x = np.broadcast_to(x, (self.n_runs, *x.shape))
        if x.ndim != 3 or x.shape[0] != self.n_runs or x.shape[2] != self.n_features or x.shape[1] < 1:
            raise ValueError(f"candidates must have shape (n_candidates, {self.n_features}) or "
                             f"({self.n_runs}, n_candidates, {self.n_features}), got {np.shape(candidates)}")
        return x

    def scores(self, candidates) -> np.ndarray:
        """Score of every candidate, (n_runs, n_candidates): the UCB index or a Thompson draw's prediction.

        ``candidates``: (n_candidates, d), the same in every run, or (n_runs, n_candidates, d).
        """
        x = self._candidates(candidates)
        if self.method == "ucb":
            mean = np.einsum("rcd,rd->rc", x, self.theta)
            ax = np.matmul(x, self.A_inv)  # (R, C, d); A_inv is symmetric
            return mean + self.alpha * np.sqrt(np.maximum(np.einsum("rcd,rcd->rc", ax, x), 0.0))
        cov = 0.5 * (self.A_inv + np.swapaxes(self.A_inv, 1, 2))
        draw = self.theta + self.v * np.matmul(np.linalg.cholesky(cov), self.rng.standard_normal(
            (self.n_runs, self.n_features, 1)))[:, :, 0]
        return np.einsum("rcd,rd->rc", x, draw)

    def select(self, candidates, k: int = 1, mask=None) -> np.ndarray:
        """Indices of the ``k`` highest-scoring candidates in each run, best first: (n_runs, k).

        Ties are broken at random. ``mask``: None (every candidate may be shown), or booleans
        (n_candidates,) or (n_runs, n_candidates), True where a candidate may be shown in that run
        (so runs replaying different visits share one candidate list). ``k`` must not exceed the
        number of candidates allowed in any run.
        """
        scores = self.scores(candidates)
        k = _check_int("k", k, 1)
        allowed = np.ones(scores.shape, dtype=bool) if mask is None else np.asarray(mask)
        if allowed.dtype != bool or allowed.shape not in (scores.shape, scores.shape[1:]):
            raise ValueError(f"mask must be booleans of shape {scores.shape[1:]} or {scores.shape}, "
                             f"got {allowed.dtype} {allowed.shape}")
        allowed = np.broadcast_to(allowed, scores.shape)
        if k > allowed.sum(axis=1).min():
            raise ValueError(f"k={k} exceeds the {allowed.sum(axis=1).min()} candidates allowed in some run")
        noise = self.rng.random(scores.shape) * 1e-12 * (1.0 + np.abs(scores))  # random tie-breaking
        return np.argsort(np.where(allowed, -(scores + noise), np.inf), axis=1, kind="stable")[:, :k]

    def update(self, features, rewards) -> None:
        """Learn from the shown items: ``features`` (n_runs, k, d) and ``rewards`` (n_runs, k) finite."""
        x = _check_vectors("features", features)
        y = check_finite_array("rewards", rewards)
        if x.ndim != 3 or x.shape[0] != self.n_runs or x.shape[2] != self.n_features:
            raise ValueError(f"features must have shape ({self.n_runs}, k, {self.n_features}), got {x.shape}")
        if y.shape != x.shape[:2]:
            raise ValueError(f"rewards must have shape {x.shape[:2]}, got {y.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            b = self.b + np.einsum("rk,rkd->rd", y, x)
        if not np.isfinite(b).all():  # before any state changes
            with np.errstate(over="ignore"):
                raise overflow_error("rewards times features", y[:, :, None] * x)
        for j in range(x.shape[1]):  # k Sherman-Morrison steps
            xj = x[:, j]
            u = np.matmul(self.A_inv, xj[:, :, None])[:, :, 0]
            denom = 1.0 + np.einsum("rd,rd->r", xj, u)
            self.A_inv -= u[:, :, None] * u[:, None, :] / denom[:, None, None]
        self.A += np.einsum("rkd,rke->rde", x, x)
        self.b = b
        self.theta = np.matmul(self.A_inv, self.b[:, :, None])[:, :, 0]
        self.t += 1


#: The contextual learners, by the names the notebooks use.
CONTEXTUAL = {
    "LinUCB": LinUCB,
    "linear Thompson": LinearThompson,
    "neural softmax": NeuralSoftmaxPolicy,
}
