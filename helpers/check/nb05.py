"""Checkers for the exercises of notebook 05 (measuring and optimising diversity).

Each ``exercise_N(answer, ...)`` prints a verdict and returns a truthy :class:`helpers.check.Verdict`
when the answer is right. :func:`fixture` is the hand-made example of the notebook (5 items, 3
slates), so the notebook, the checkers and a student with pencil and paper use the same numbers.
Expected answers are computed here from the package, never typed in.
"""

from __future__ import annotations

import numpy as np

from helpers import metrics, rerank
from helpers.check import Verdict, is_close, report, unanswered


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
    expected = metrics.intra_list_diversity([list(EXERCISE_1_SLATE)], fixture()["embeddings"])[0]
    hint = ("List the three pairs of the slate, compute each pair's cosine from the embeddings (they are unit "
            "vectors: a dot product), average 1 - cosine over the pairs. One number.")
    return report(is_close(ild, expected, rtol=1e-6), "Exercise 1", hint)


def data_exercise_2() -> tuple[np.ndarray, int]:
    """``(slates, n_items)`` of exercise 2: four slates of 2 over a catalogue of 6 items."""
    return np.array([[0, 1], [0, 2], [0, 1], [3, 0]]), 6


def exercise_2(answer) -> Verdict:
    """``(gini, entropy_bits)`` of the item exposure of ``data_exercise_2()``."""
    if answer is None:
        return unanswered("Exercise 2")
    slates, n_items = data_exercise_2()
    expected = (metrics.exposure_gini(slates, n_items), metrics.exposure_entropy(slates, n_items))
    hint = ("Count how often each of the 6 items is shown (items never shown count 0 for the Gini), sort the "
            "counts, G = sum (2i - m - 1) x_(i) / (m sum x); the entropy uses the shares of the 8 slots, in "
            "bits (log base 2). Answer a pair (gini, entropy).")
    ok = np.ndim(answer) == 1 and len(answer) == 2 and is_close(answer, expected, rtol=1e-6)
    return report(ok, "Exercise 2", hint)


def exercise_3(mmr_one, n_cases: int = 20, seed: int = 5) -> Verdict:
    """A function ``mmr_one(relevance (m,), embeddings (m, d), k, lam) -> k positions`` that equals
    :func:`helpers.rerank.mmr` on random cases (first pick = most relevant; ties to the lower index)."""
    if mmr_one is None:
        return unanswered("Exercise 3")
    if not callable(mmr_one):
        return report(False, "Exercise 3", "Pass your function itself: check.nb05.exercise_3(mmr_one).")
    rng = np.random.default_rng(seed)
    ok = True
    for case in range(n_cases):
        m, k, lam = int(rng.integers(5, 15)), int(rng.integers(2, 5)), float(rng.choice([0.0, 0.3, 0.7, 1.0]))
        rel, emb = rng.random(m), rng.normal(size=(m, 4))
        try:
            result = mmr_one(rel, emb, k, lam)
            if result is None and case == 0:  # the stub, still returning None
                return unanswered("Exercise 3")
            got = [int(i) for i in np.asarray(result).reshape(-1)]
        except Exception:  # a student's function may fail in any way: that is a wrong answer
            ok = False
            break
        if got != rerank.mmr(rel, emb, k, lam).tolist():
            ok = False
            break
    hint = ("Normalise the embeddings (cosine = dot of unit vectors). Pick argmax relevance first; then, for "
            "every item not picked, lam * rel - (1 - lam) * (max cosine to the picked items), take the argmax "
            "(np.argmax returns the lowest index on ties). Return the k positions in the order picked.")
    return report(ok, "Exercise 3", hint)


def operating_point(table, tolerance: float = 0.95, reference: tuple[str, float] = ("trending", 1.0)) -> tuple:
    """The (method, base, lam) of ``table`` with the highest category coverage among rows whose
    NDCG@10 is at least ``tolerance`` times that of the reference (base, lam) row.

    Raises ``ValueError`` when ``table`` has no reference row (an incomplete sweep).
    """
    ref = table[(table["base"] == reference[0]) & (table["lam"] == reference[1])]
    if ref.empty or not np.isfinite(float(ref["NDCG@10"].iloc[0])):
        raise ValueError(f"the sweep table has no row with base={reference[0]!r} and lam={reference[1]} "
                         "(with a number in NDCG@10): run the whole sweep of section 5 first")
    floor = tolerance * float(ref["NDCG@10"].iloc[0])
    ok = table[table["NDCG@10"] >= floor]
    best = ok.sort_values(["category coverage", "NDCG@10"], ascending=False).iloc[0]
    return str(best["method"]), str(best["base"]), float(best["lam"])


def exercise_4(answer, table) -> Verdict:
    """``(method, base, lam)``: the sweep row with the most category coverage that keeps NDCG@10 at
    95% or more of trending's (lam = 1). ``table``: the notebook's ``sweep`` DataFrame."""
    if answer is None:
        return unanswered("Exercise 4")
    needed = {"method", "base", "lam", "NDCG@10", "category coverage"}
    if not hasattr(table, "columns") or not needed <= set(table.columns):
        return report(False, "Exercise 4", f"Pass the sweep table as the second argument (columns {sorted(needed)}).")
    try:
        expected = operating_point(table)
    except ValueError as exc:
        return report(False, "Exercise 4", f"Pass the notebook's complete sweep table: {exc}.")
    try:
        method, base, lam = answer
        ok = (str(method).lower(), str(base), float(lam)) == (expected[0].lower(), expected[1], expected[2])
    except (TypeError, ValueError):
        ok = False
    hint = ("Take trending's NDCG@10 at lam = 1, keep the rows at or above 0.95 times it, and among them the "
            "row with the largest category coverage. Answer a tuple (method, base, lam).")
    return report(ok, "Exercise 4", hint)
