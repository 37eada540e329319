"""Checkers for the exercises of notebook 05 (measuring and optimising diversity).

Each ``exercise_N(answer, ...)`` prints a verdict and returns a truthy :class:`helpers.check.Verdict`
when the answer is right. :func:`fixture` is the hand-made example of the notebook (5 items, 3
slates), so the notebook, the checkers and a student with pencil and paper use the same numbers.
Expected answers are computed here from the package, never typed in, and never returned: a wrong
answer gets a hint (or the message of a known mistake) that points to a cell or an idea.
"""

from __future__ import annotations

import numpy as np

from helpers import metrics, rerank
from helpers.check import Verdict, check_number, not_a_function, report, unanswered


def fixture() -> dict[str, np.ndarray]:
    """The notebook's hand-made example: 5 items, 3 slates of 3.

    Keys: ``embeddings`` (5, 3) (items 0 and 1 identical: one lantern in two colours),
    ``categories`` (5,), ``popularity`` (5,) probabilities (powers of 1/2, so -log2 is an
    integer), ``slates`` (3, 3) item ids and ``targets`` (3 arrays) for alpha-NDCG.
    """
    return {
        "embeddings": np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0],
                                [0.0, 0.0, 1.0]]),
        "categories": np.array([0, 0, 1, 2, 2]),
        "popularity": np.array([1 / 2, 1 / 8, 1 / 4, 1 / 16, 1 / 32]),
        "slates": np.array([[0, 1, 2], [2, 3, 1], [3, 0, 2]]),
        "targets": [np.array([0, 1, 2]), np.array([3, 4]), np.array([], dtype=np.int64)],
    }


EXERCISE_1_SLATE = (1, 3, 4)


def exercise_1(ild) -> Verdict:
    """Intra-list diversity (mean pairwise 1 - cosine) of the slate ``EXERCISE_1_SLATE`` of the fixture."""
    if ild is None:
        return unanswered("Exercise 1")
    slate, emb = list(EXERCISE_1_SLATE), fixture()["embeddings"]
    expected = metrics.intra_list_diversity([slate], emb)[0]
    k = len(slate)
    pairs = k * (k - 1) / 2
    mistakes = [
        (1 - expected, "That is the slate's mean similarity; the exercise asks for its diversity."),
        (pairs * expected, "That is a total over the pairs; ILD is an average per pair."),
        (2 * pairs * expected / k**2, "Check two things: the slate is items 1, 3 and 4 (rows of fx[\"embeddings\"], "
                                      "counted from 0), and the average runs over distinct pairs, never an item "
                                      "with itself."),
    ]
    hint = "Work through slate A of section 3 first (its ILD is 2/3), then do the same for this slate."
    return check_number(ild, expected, "Exercise 1", hint, mistakes=mistakes)


def data_exercise_2() -> tuple[np.ndarray, int]:
    """``(slates, n_items)`` of exercise 2: four slates of 2 over a catalogue of 6 items."""
    return np.array([[0, 1], [0, 2], [0, 1], [3, 0]]), 6


def exercise_2(answer) -> Verdict:
    """``(gini, entropy_bits)`` of the item exposure of ``data_exercise_2()``."""
    if answer is None:
        return unanswered("Exercise 2")
    slates, n_items = data_exercise_2()
    gini, entropy = metrics.exposure_gini(slates, n_items), metrics.exposure_entropy(slates, n_items)
    counts = metrics.exposure_counts(slates, n_items)
    gini_shown = metrics.gini(counts[counts > 0])
    nats = entropy * np.log(2)
    mistakes = [
        ((gini_shown, entropy), "Your Gini leaves out the items never shown: they are part of the catalogue too."),
        ((gini, nats), "Your entropy is in nats: the exercise asks for bits."),
        ((gini_shown, nats), "Two slips: the Gini must count the items never shown, and the entropy is in bits."),
        ((-gini, entropy), "Your Gini is negative: look at the order in which section 3 sorts the counts."),
    ]
    hint = ("Reproduce the exposure Gini and entropy of section 3's example first (4/15 and 1.97 bits), then "
            "apply the same steps here. Answer a pair (gini, entropy).")
    return check_number(answer, (gini, entropy), "Exercise 2", hint, mistakes=mistakes)


def _mmr_variant(rel: np.ndarray, emb: np.ndarray, k: int, lam: float, mistake: str) -> list[int]:
    """MMR with one known mistake, to recognise it in a student's function."""
    unit = emb if mistake == "raw dot products" else emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sims = unit @ unit.T
    picked: list[int] = []
    for t in range(k):
        if t == 0 and mistake != "first pick by the objective":
            objective = rel.copy()
        elif t == 0:
            objective = lam * rel
        else:
            penalty = sims[:, picked].mean(axis=1) if mistake == "mean similarity" else sims[:, picked].max(axis=1)
            objective = lam * rel - (1 - lam) * penalty
        objective[picked] = -np.inf
        picked.append(int(np.argmax(objective)))
    return sorted(picked) if mistake == "sorted" else picked


_MMR_MISTAKES = {
    "raw dot products": "Your similarities come from the raw embeddings: MMR compares directions (cosine).",
    "mean similarity": "Your penalty averages over the picked items; MMR penalises closeness to the nearest one.",
    "first pick by the objective": "At lam = 0 your first pick is not the most relevant item: reread how MMR "
                                   "starts (section 6).",
    "sorted": "Return the positions in the order they were picked, not sorted.",
}


def exercise_3(mmr_one, n_cases: int = 20, seed: int = 5) -> Verdict:
    """A function ``mmr_one(relevance (m,), embeddings (m, d), k, lam) -> k positions`` that equals
    :func:`helpers.rerank.mmr` on random cases (first pick = most relevant; ties to the lower index)."""
    if (verdict := not_a_function(mmr_one, "Exercise 3", "Pass your function itself: "
                                  "check.nb05.exercise_3(mmr_one).")) is not None:
        return verdict
    rng = np.random.default_rng(seed)
    hint = ("Run your function on section 6's four-candidate plane example, where the MMR picks at lam 0.9 "
            "and 0.5 are printed, and compare step by step with the definition there.")
    for case in range(n_cases):
        m, k, lam = int(rng.integers(5, 15)), int(rng.integers(2, 5)), float(rng.choice([0.0, 0.3, 0.7, 1.0]))
        rel, emb = rng.random(m), rng.normal(size=(m, 4))
        try:
            result = mmr_one(rel.copy(), emb.copy(), k, lam)
            if result is None and case == 0:  # the stub, still returning None
                return unanswered("Exercise 3")
            got = [int(i) for i in np.asarray(result).reshape(-1)]
        except Exception as exc:  # a student's function may fail in any way: that is a wrong answer
            return report(False, "Exercise 3", f"Your function raised {type(exc).__name__}: {exc}")
        if got != rerank.mmr(rel, emb, k, lam).tolist():
            for mistake, message in _MMR_MISTAKES.items():
                if got == _mmr_variant(rel, emb, k, lam, mistake):
                    return report(False, "Exercise 3", message)
            return report(False, "Exercise 3", hint)
    return report(True, "Exercise 3")


def exercise_4(answer, table, reference=None, tolerance: float = 0.90) -> Verdict:
    """``(method, base, lam)``: the row of ``table`` (the notebook's October sweep) with the most
    category coverage among those whose NDCG@10 is at least ``tolerance`` times that of the
    ``reference`` base at lam = 1 (the best single strategy on October). Ties go to the higher NDCG@10."""
    if answer is None:
        return unanswered("Exercise 4")
    needed = {"method", "base", "lam", "NDCG@10", "category coverage"}
    if not hasattr(table, "columns") or not needed <= set(table.columns):
        return report(False, "Exercise 4", f"Pass the October sweep table as the second argument "
                                           f"(columns {sorted(needed)}).")
    if reference is None:
        return report(False, "Exercise 4", "Pass the name of the best single strategy as the third argument.")

    def pick(tol: float, ref: str, floor_on: bool = True) -> tuple | None:
        plain = table[(table["base"] == ref) & (table["lam"] == 1.0)]
        if plain.empty or not np.isfinite(float(plain["NDCG@10"].iloc[0])):
            return None
        rows = table[table["NDCG@10"] >= tol * float(plain["NDCG@10"].iloc[0])] if floor_on else table
        best = rows.sort_values(["category coverage", "NDCG@10"], ascending=False).iloc[0]
        return str(best["method"]).lower(), str(best["base"]), float(best["lam"])

    expected = pick(tolerance, str(reference))
    if expected is None:
        return report(False, "Exercise 4", f"Pass the notebook's complete sweep table: it has no row with base "
                                           f"{reference!r} at lam = 1.")
    try:
        method, base, lam = answer
        got = (str(method).lower(), str(base), float(lam))
    except (TypeError, ValueError):
        return report(False, "Exercise 4", "Answer a tuple (method, base, lam), e.g. (\"MMR\", \"EASE\", 0.4).")
    if got == expected:
        return report(True, "Exercise 4")
    mistakes = [(pick(1.0, str(reference), floor_on=False), "That row has the most coverage but misses the "
                 "accuracy floor: keep only the rows at or above it first.")]
    mistakes += [(pick(tol, str(reference)), f"That is the choice at a {tol:.0%} tolerance; the exercise asks for "
                  f"{tolerance:.0%}.") for tol in (0.95, 0.99, 1.0) if tol != tolerance]
    mistakes += [(pick(tolerance, str(other)), "Your floor is a share of another list's NDCG@10: the reference is "
                  "the best single strategy, without re-ranking.")
                 for other in table["base"].unique() if other != reference]
    for wrong, message in mistakes:
        if wrong is not None and got == wrong:
            return report(False, "Exercise 4", message)
    return report(False, "Exercise 4", "Redo section 11's selection step by step on the October table with the new "
                                       "tolerance, printing how many rows pass the floor.")


def _dpp_variant(kernel: np.ndarray, chol: np.ndarray, d2: np.ndarray, j: int, mistake: str):
    """One incremental Cholesky step with a known mistake, to recognise it in a student's function."""
    proj = np.zeros(len(d2)) if mistake == "no projection" else chol[:, j] @ chol
    scale = {"no division": 1.0, "divide by d2": d2[j]}.get(mistake, np.sqrt(d2[j]))
    e = (kernel[j] - proj) / scale
    shrink = e if mistake == "not squared" else e**2
    return np.vstack([chol, e]), d2 - shrink


_DPP_MISTAKES = {
    "no division": "Your new coordinates have the wrong scale. Test: right after picking j, your d2[j] must be 0.",
    "divide by d2": "Your new coordinates have the wrong scale. Test: right after picking j, your d2[j] must be 0.",
    "not squared": "Your residuals shrink by the wrong amount: d2 holds squared lengths (think of Pythagoras).",
    "no projection": "Your update ignores the items picked before j: the new coordinate must leave out what the "
                     "earlier Cholesky rows already explain.",
}


def _greedy_with(update, kernel: np.ndarray, k: int, eps: float = 1e-9) -> tuple[list[int], np.ndarray]:
    """Greedy DPP MAP driven by ``update(kernel, chol, d2, j) -> (chol, d2)``: picks and log-det gains."""
    m = len(kernel)
    chol, d2 = np.zeros((0, m)), np.diag(kernel).copy()
    picked, gains = [], []
    for t in range(k):
        with np.errstate(divide="ignore", invalid="ignore"):
            objective = np.where(d2 > eps, np.log(np.maximum(d2, eps)), -np.inf)
        objective[picked] = -np.inf
        j = int(np.argmax(objective))
        picked.append(j)
        gains.append(float(objective[j]))
        if t < k - 1:
            result = update(kernel.copy(), chol.copy(), d2.copy(), j)
            if result is None:
                raise _Unanswered
            chol, d2 = (np.asarray(part, dtype=float) for part in result)
            if chol.shape != (t + 1, m) or d2.shape != (m,):
                raise ValueError(f"after pick {t + 1} return chol of shape {(t + 1, m)} and d2 of shape {(m,)}, "
                                 f"got {chol.shape} and {d2.shape}")
    return picked, np.array(gains)


class _Unanswered(Exception):
    """The stub still returns None."""


def exercise_5(dpp_update, n_cases: int = 20, seed: int = 11) -> Verdict:
    """A function ``dpp_update(kernel (m, m), chol (t, m), d2 (m,), j) -> (chol (t + 1, m), d2 (m,))``:
    one incremental Cholesky step of greedy DPP MAP inference after picking ``j``. The checker runs
    the greedy loop with it on random kernels ``L = Diag(q) S Diag(q)`` and compares the picks and
    log-determinant gains with :func:`helpers.rerank.dpp_greedy`."""
    if (verdict := not_a_function(dpp_update, "Exercise 5", "Pass your function itself: "
                                  "check.nb05.exercise_5(dpp_update).")) is not None:
        return verdict
    rng = np.random.default_rng(seed)
    hint = ("Check one step by hand against section 6's brute force: after your update, exp of the log of each "
            "d2[i] must equal the ratio of determinants of the kernel on the picks with and without i.")
    for _ in range(n_cases):
        m, d = int(rng.integers(6, 13)), int(rng.integers(3, 7))
        k = int(rng.integers(2, d + 1))
        emb, log_q = rng.normal(size=(m, d)), rng.normal(scale=0.5, size=m)
        unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        q = np.exp(log_q)
        kernel = q[:, None] * (unit @ unit.T) * q[None, :]
        picks, gains = rerank.dpp_greedy(emb, k, log_quality=log_q, return_gains=True)
        try:
            got_picks, got_gains = _greedy_with(dpp_update, kernel, k)
        except _Unanswered:
            return unanswered("Exercise 5")
        except Exception as exc:  # a student's function may fail in any way: that is a wrong answer
            return report(False, "Exercise 5", f"Your function raised {type(exc).__name__}: {exc}")
        if got_picks != picks.tolist() or not np.allclose(got_gains, gains, rtol=1e-6, atol=1e-9):
            for mistake, message in _DPP_MISTAKES.items():
                try:
                    wrong_picks, wrong_gains = _greedy_with(
                        lambda L, c, r, j, mistake=mistake: _dpp_variant(L, c, r, j, mistake), kernel, k)
                except (ValueError, FloatingPointError):
                    continue
                if got_picks == wrong_picks and np.allclose(got_gains, wrong_gains, rtol=1e-6, equal_nan=True):
                    return report(False, "Exercise 5", message)
            return report(False, "Exercise 5", hint)
    return report(True, "Exercise 5")
