"""The checkers of notebook 03: right answers pass, rounded ones too, known mistakes get their message."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from helpers import metrics
from helpers.check import nb03


def _ndcg_by_hand(shift: int = 0) -> tuple[float, np.ndarray]:
    slate, targets = nb03.inputs_for_exercise_1()
    gains = 1 / np.log2(np.arange(2, 12) + shift)
    hits = np.isin(slate, targets)
    return (hits * gains).sum() / gains[: len(targets)].sum(), hits * gains


def test_exercise_1_accepts_ndcg_and_names_the_usual_mistakes(capsys):
    right, _ = _ndcg_by_hand()
    slate, targets = nb03.inputs_for_exercise_1()
    assert np.isclose(right, metrics.ndcg_at_k(slate[None, :], [targets])[0])
    assert nb03.exercise_1(right) and nb03.exercise_1(round(right, 3)) and nb03.exercise_1(np.float32(right))
    capsys.readouterr()
    dcg = _ndcg_by_hand()[1].sum()
    gains = 1 / np.log2(np.arange(2, 12))
    for wrong, message in [(dcg, "DCG"), (_ndcg_by_hand(shift=1)[0], "Off by one"), (100 * right, "percentage"),
                           (dcg / gains[:3].sum(), "all the visit's targets"), (dcg / gains.sum(), "as many hits"),
                           (0.9, "section 7")]:
        assert not nb03.exercise_1(wrong)
        assert message in capsys.readouterr().out


def test_exercise_2_accepts_masked_mean_pooling_and_spots_the_padding(capsys):
    from helpers import text

    three = nb03.inputs_for_exercise_2()
    right = text.embed(three, cache=False, progress=False)
    assert nb03.exercise_2(right) and nb03.exercise_2(right.astype(np.float64))
    encoder = text.load_encoder()
    batch = encoder.tokenizer(three, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder.model(**batch).last_hidden_state
    capsys.readouterr()
    assert not nb03.exercise_2(torch.nn.functional.normalize(hidden.mean(dim=1), dim=1).numpy())
    assert "padding" in capsys.readouterr().out
    assert not nb03.exercise_2(right[:2])
    assert "shape" in capsys.readouterr().out
    assert not nb03.exercise_2(-right)
    assert "section 2" in capsys.readouterr().out


def _trending(split: str) -> tuple[np.ndarray, np.ndarray]:
    from helpers import strategies, tables

    course = tables.load_course_tables()
    batch = strategies.make_batch(course, tables.discovery_visits(course, split))
    until = tables.VALID_START if split == "valid" else tables.TEST_START
    slates = [strategies.Trending(window=w).fit(course, until).recommend(batch, 10) for w in nb03.TRENDING_WINDOWS]
    return (np.array([metrics.ndcg_at_k(s, batch.targets).mean() for s in slates]),
            np.array([metrics.hit_rate(s, batch.targets).mean() for s in slates]))


def test_exercise_3_chooses_on_october_and_reports_once_on_test(capsys):
    october_ndcg, october_hr = _trending("valid")
    test_ndcg, test_hr = _trending("test")
    best = int(np.argmax(october_ndcg))
    assert nb03.window_is_october_best(nb03.TRENDING_WINDOWS[best])
    assert not nb03.window_is_october_best(nb03.TRENDING_WINDOWS[best - 1]) and not nb03.window_is_october_best(5)
    assert nb03.exercise_3(october_ndcg, test_hr[best])
    assert nb03.exercise_3(np.round(october_ndcg, 4), round(float(test_hr[best]), 3))
    capsys.readouterr()
    for answer, message in [((test_ndcg, test_hr[best]), "test visits"), ((october_hr, test_hr[best]), "HitRate"),
                            ((october_ndcg, None), "Now give"), ((october_ndcg, test_ndcg[best]), "NDCG@10"),
                            ((october_ndcg, test_hr[best - 1]), "wins on October"),
                            ((100 * october_ndcg, test_hr[best]), "percentage"),
                            ((october_ndcg, 0.5), "section 7"), ((october_ndcg[:3], test_hr[best]), "4 numbers")]:
        assert not nb03.exercise_3(*answer)
        assert message in capsys.readouterr().out, answer


def test_exercise_4_ablates_the_popularity_term(capsys):
    from helpers import scorer, tables, text

    course = tables.load_course_tables()
    space = scorer.FeatureSpace(course, text.embed(course.catalogue[tables.DESCRIPTION], progress=False))
    examples = scorer.course_examples(course, space)
    blind = copy.copy(space)
    blind.dynamic = np.zeros_like(space.dynamic)
    cfg = nb03.inputs_for_exercise_4()
    model = scorer.train_scorer(blind, examples["train"], None, cfg, progress=False).model
    summary = scorer.evaluate_examples(model, blind, examples["valid"])
    assert nb03.exercise_4(summary["NDCG@10"]) and nb03.exercise_4(round(summary["NDCG@10"], 4))
    capsys.readouterr()
    assert not nb03.exercise_4(summary["HR@10"])
    assert "HitRate" in capsys.readouterr().out
    full = scorer.train_scorer(space, examples["train"], None, cfg, progress=False).model
    assert not nb03.exercise_4(scorer.evaluate_examples(full, space, examples["valid"])["NDCG@10"])
    assert "popularity term" in capsys.readouterr().out
    assert not nb03.exercise_4(1.2 * summary["NDCG@10"])
    assert "zeros" in capsys.readouterr().out


def _forward(weights, history, user, text, static, dynamic, activation=torch.nn.functional.gelu, popularity=True):
    """A two-tower forward pass from a state dict (the solution of exercise 5)."""
    def mlp(prefix, x):
        x = activation(x @ weights[f"{prefix}.0.weight"].T + weights[f"{prefix}.0.bias"])
        return x @ weights[f"{prefix}.3.weight"].T + weights[f"{prefix}.3.bias"]

    def z(name, x):
        return (x - weights[f"{name}_mean"]) / weights[f"{name}_std"]

    users = mlp("user_tower", torch.cat([history, z("user", user)], dim=-1))
    items = mlp("item_tower", torch.cat([text, z("static", static)], dim=-1))
    follow = z("user", user) @ weights["pop_term.follow.weight"].T + weights["pop_term.follow.bias"]
    heat = mlp("pop_term.heat", z("dynamic", dynamic)).squeeze(-1)
    scores = users @ items.T
    return scores + torch.nn.functional.softplus(follow) * heat if popularity else scores


def test_exercise_5_checks_a_forward_pass_against_the_package(capsys):
    weights, inputs = nb03.inputs_for_exercise_5()
    assert _forward(weights, **inputs).shape == (3, 7)
    assert nb03.exercise_5(_forward)
    assert nb03.exercise_5(lambda *args: _forward(*args).numpy().astype(np.float32))
    capsys.readouterr()
    for wrong, message in [(lambda *a: _forward(*a, popularity=False), "popularity term"),
                           (lambda *a: _forward(*a, activation=torch.relu), "activation"),
                           (lambda *a: _forward(*a)[:, :2], "shape"), (lambda *a: _forward(*a) + 1, "section 6.1"),
                           (lambda *a: 1 / 0, "ZeroDivisionError"), (_forward(weights, **inputs), "itself")]:
        assert not nb03.exercise_5(wrong)
        assert message in capsys.readouterr().out
    assert not nb03.exercise_5(lambda *a: None)
    assert capsys.readouterr().out.strip().endswith("No answer given yet.")


def test_exercise_5_leaves_the_global_torch_seed_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    nb03.exercise_5(_forward)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("checker", [nb03.exercise_1, nb03.exercise_2, nb03.exercise_4, nb03.exercise_5])
def test_nb03_stubs_get_no_hint(checker, capsys):
    assert not checker(None)
    assert capsys.readouterr().out.strip() == f"❌ Exercise {checker.__name__[-1]}: not yet. No answer given yet."
