"""Notebook 05's checkers: the right answer passes (also rounded to 3 significant figures), each
known mistake gets its own message, any other wrong answer fails with the general hint, and no
checker hands out an answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import metrics
from helpers.check import nb05


def _out(capsys) -> str:
    return capsys.readouterr().out


def test_exercise_1_accepts_ild_and_names_the_mistakes(capsys):
    fx = nb05.fixture()
    ild = metrics.intra_list_diversity([list(nb05.EXERCISE_1_SLATE)], fx["embeddings"])[0]
    assert nb05.exercise_1(ild) and nb05.exercise_1(np.array([round(ild, 3)]))
    assert not nb05.exercise_1(1 - ild)
    assert "mean similarity" in _out(capsys)
    assert not nb05.exercise_1(3 * ild)
    assert "total over the pairs" in _out(capsys)
    assert not nb05.exercise_1(6 * ild / 9)
    assert "distinct pairs" in _out(capsys)
    assert not nb05.exercise_1(0.7)
    assert "slate A" in _out(capsys)


def test_exercise_2_accepts_the_pair_and_names_the_mistakes(capsys):
    slates, n = nb05.data_exercise_2()
    gini, entropy = metrics.exposure_gini(slates, n), metrics.exposure_entropy(slates, n)
    assert nb05.exercise_2((gini, entropy)) and nb05.exercise_2((round(gini, 3), round(entropy, 3)))
    assert nb05.exercise_2(np.array([gini, entropy]))
    assert not nb05.exercise_2((gini, entropy * np.log(2)))
    assert "nats" in _out(capsys)
    assert not nb05.exercise_2((0.3125, entropy))  # the Gini of the four items shown only
    assert "never shown" in _out(capsys)
    assert not nb05.exercise_2((-gini, entropy))
    assert "negative" in _out(capsys)
    assert not nb05.exercise_2((0.5, 1.5))
    assert "section 3" in _out(capsys)
    assert not nb05.exercise_2(gini)
    assert "2 numbers" in _out(capsys)


def mmr_one(relevance, embeddings, k, lam):
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    sims = unit @ unit.T
    picked = [int(np.argmax(relevance))]
    while len(picked) < k:
        objective = lam * relevance - (1 - lam) * sims[:, picked].max(axis=1)
        objective[picked] = -np.inf
        picked.append(int(np.argmax(objective)))
    return picked


def test_exercise_3_accepts_mmr_and_names_the_mistakes(capsys):
    assert nb05.exercise_3(mmr_one)
    assert not nb05.exercise_3(lambda r, e, k, lam: sorted(mmr_one(r, e, k, lam)))
    assert "order they were picked" in _out(capsys)
    assert not nb05.exercise_3(lambda r, e, k, lam: mmr_one(r, np.asarray(e) * 0 + 1 + np.asarray(e) ** 2, k, lam))
    assert "not yet" in _out(capsys)
    assert not nb05.exercise_3(lambda r, e, k, lam: nb05._mmr_variant(r, e, k, lam, "mean similarity"))
    assert "nearest" in _out(capsys)
    assert not nb05.exercise_3(lambda r, e, k, lam: 1 / 0)
    assert "ZeroDivisionError" in _out(capsys)
    assert not nb05.exercise_3(lambda r, e, k, lam: None)
    assert _out(capsys).strip().endswith("No answer given yet.")


def _sweep() -> pd.DataFrame:
    rows = [("scorer", "MMR", 1.0, 0.100, 0.60), ("scorer", "MMR", 0.6, 0.096, 0.75),
            ("scorer", "DPP", 0.6, 0.091, 0.85), ("scorer", "DPP", 0.2, 0.080, 0.95),
            ("fused", "MMR", 1.0, 0.094, 0.62), ("fused", "DPP", 0.6, 0.085, 0.90),
            ("fused", "MMR", 0.8, 0.0995, 0.70)]
    return pd.DataFrame(rows, columns=["base", "method", "lam", "NDCG@10", "category coverage"])


def test_exercise_4_applies_the_rule_and_names_the_mistakes(capsys):
    table = _sweep()
    assert nb05.exercise_4(("DPP", "scorer", 0.6), table, "scorer")  # 0.091 >= 0.09; coverage 0.85
    assert nb05.exercise_4(("dpp", "scorer", np.float64(0.6)), table, "scorer")
    assert not nb05.exercise_4(("DPP", "scorer", 0.2), table, "scorer")
    assert "accuracy floor" in _out(capsys)
    assert not nb05.exercise_4(("MMR", "scorer", 0.6), table, "scorer")
    assert "95% tolerance" in _out(capsys)
    assert not nb05.exercise_4(("DPP", "fused", 0.6), table, "scorer")  # 0.085 >= 0.9 * 0.094
    assert "another list" in _out(capsys)
    assert not nb05.exercise_4(("MMR", "fused", 1.0), table, "scorer")
    assert "section 11" in _out(capsys)
    assert not nb05.exercise_4("DPP", table, "scorer")
    assert "tuple" in _out(capsys)
    assert not nb05.exercise_4(("DPP", "scorer", 0.6), table)
    assert "third argument" in _out(capsys)
    assert not nb05.exercise_4(("DPP", "scorer", 0.6), table, "trending")
    assert "complete sweep" in _out(capsys)


def dpp_update(kernel, chol, d2, j):
    e = (kernel[j] - chol[:, j] @ chol) / np.sqrt(d2[j])
    return np.vstack([chol, e]), d2 - e**2


def test_exercise_5_accepts_the_cholesky_step_and_names_the_mistakes(capsys):
    assert nb05.exercise_5(dpp_update)
    for mistake, words in (("no division", "d2[j] must be 0"), ("divide by d2", "d2[j] must be 0"),
                           ("not squared", "Pythagoras"), ("no projection", "picked before j")):
        assert not nb05.exercise_5(lambda L, c, r, j, mistake=mistake: nb05._dpp_variant(L, c, r, j, mistake))
        assert words in _out(capsys), mistake
    assert not nb05.exercise_5(lambda L, c, r, j: (c, r))
    assert "shape" in _out(capsys)
    assert not nb05.exercise_5(lambda L, c, r, j: dpp_update(L, c, r * 1.5, j))
    assert "brute force" in _out(capsys)
    assert not nb05.exercise_5(lambda L, c, r, j: None)
    assert _out(capsys).strip().endswith("No answer given yet.")


@pytest.mark.parametrize("name", ["exercise_1", "exercise_2", "exercise_3", "exercise_4", "exercise_5"])
def test_no_checker_returns_or_prints_an_answer(name, capsys):
    """A verdict is all a checker returns, and its printed line holds no expected value."""
    checker = getattr(nb05, name)
    wrong = {"exercise_1": (0.7,), "exercise_2": ((0.5, 1.5),), "exercise_3": (lambda r, e, k, lam: list(range(k)),),
             "exercise_4": (("MMR", "fused", 1.0), _sweep(), "scorer"),
             "exercise_5": (lambda L, c, r, j: dpp_update(L, c, r * 1.5, j),)}[name]
    verdict = checker(*wrong)
    assert type(verdict).__name__ == "Verdict" and not verdict
    out = _out(capsys)
    assert out.count("\n") == 1 and "0.8" not in out and "0.54" not in out and "DPP" not in out
    assert not any(n.startswith("operating_point") for n in dir(nb05))
