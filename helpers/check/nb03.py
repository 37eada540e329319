"""Checkers for the exercises of notebook 03 (the BERT + MLP scorer).

Each ``exercise_N(answer)`` prints a verdict and returns a truthy :class:`helpers.check.Verdict`
when the answer is right; ``inputs_for_exercise_N()`` gives the exercise's inputs, so the
notebook and the checker use the same ones. Expected answers are computed here from the package
and the data, never typed in; a wrong answer that matches a known mistake is told about it.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import torch

from helpers import metrics
from helpers.check import Verdict, check_number, not_a_function, report, unanswered, within_sig_figs

#: The trending windows (days) that exercise 3 compares on October.
TRENDING_WINDOWS = (3, 7, 14, 28)
K = 10


def inputs_for_exercise_1() -> tuple[np.ndarray, np.ndarray]:
    """``(slate, targets)`` of exercise 1: a slate of 10 item ids (best first) and a visit's new items."""
    slate = np.array([812, 95, 1403, 77, 2210, 3001, 18, 640, 1999, 250])
    targets = np.array([77, 250, 3100, 95])
    return slate, targets


def exercise_1(ndcg) -> Verdict:
    """NDCG@10 (binary relevance) of the slate of ``inputs_for_exercise_1()``, a number (3 significant figures)."""
    if ndcg is None:
        return unanswered("Exercise 1")
    slate, targets = inputs_for_exercise_1()
    gains = 1 / np.log2(np.arange(2, K + 2))
    hits = np.isin(slate, targets)
    dcg = float((hits * gains).sum())
    expected = metrics.ndcg_at_k(slate[None, :], [targets])[0]
    mistakes = [
        (dcg, "That is the DCG: divide it by the best DCG this visit could have."),
        (dcg / gains.sum(), "The ideal slate can hold only as many hits as the visit has targets, not 10."),
        (dcg / gains[: hits.sum()].sum(), "The ideal puts all the visit's targets first, including the one the "
                                          "slate missed."),
        (float((hits * (1 / np.log2(np.arange(3, K + 3)))).sum() / (1 / np.log2(np.arange(3, 3 + len(targets)))).sum()),
         "Off by one: the first position is j = 1, whose gain is 1 / log2(2) = 1."),
    ]
    hint = "Go back to the definition of NDCG@10 in section 7: where are the hits, and what would the best slate score?"
    return check_number(ndcg, expected, "Exercise 1", hint, mistakes=mistakes, fraction=True)


def inputs_for_exercise_2() -> list[str]:
    """The product descriptions of exercise 2 (different lengths, so padding matters)."""
    return ["JUMBO BAG RED RETROSPOT", "SET OF 3 CAKE TINS PANTRY DESIGN", "MUG"]


def exercise_2(vectors) -> Verdict:
    """Sentence embeddings of ``inputs_for_exercise_2()`` by hand: masked mean pooling of BERT's last
    layer, then L2 normalisation; an array of shape (3, 384) equal to :func:`helpers.text.embed`'s."""
    if vectors is None:
        return unanswered("Exercise 2")
    from helpers import text

    texts = inputs_for_exercise_2()
    expected = text.embed(texts, cache=False, progress=False)
    encoder = text.load_encoder()
    batch = encoder.tokenizer(texts, padding=True, return_tensors="pt").to(encoder.device)
    with torch.inference_mode():
        hidden = encoder.model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = ((hidden * mask).sum(dim=1) / mask.sum(dim=1)).cpu().numpy()
    mistakes = [
        (torch.nn.functional.normalize(hidden.mean(dim=1), dim=1).cpu().numpy(),
         "The padding positions are averaged in: only the real tokens may count."),
        (pooled, "Close: each vector must have length 1."),
        (torch.nn.functional.normalize(hidden[:, 0], dim=1).cpu().numpy(),
         "That is the [CLS] token's vector; the embedding is a mean over tokens."),
    ]
    hint = "Compare with the mean-pooling formula of section 2, step by step: which positions, which layer, which norm?"
    return check_number(vectors, expected, "Exercise 2", hint, mistakes=mistakes, close=(1e-4, 1e-5))


@functools.lru_cache(maxsize=1)
def _trending_table() -> dict[str, np.ndarray]:
    """October NDCG@10 and HitRate@10, and test NDCG@10 and HitRate@10, of each of :data:`TRENDING_WINDOWS`."""
    from helpers import strategies, tables

    course = tables.load_course_tables()
    out = {}
    for split, until in (("valid", tables.VALID_START), ("test", tables.TEST_START)):
        batch = strategies.make_batch(course, tables.discovery_visits(course, split))
        slates = [strategies.Trending(window=w).fit(course, until).recommend(batch, K) for w in TRENDING_WINDOWS]
        out[f"{split} NDCG"] = np.array([metrics.ndcg_at_k(s, batch.targets).mean() for s in slates])
        out[f"{split} HR"] = np.array([metrics.hit_rate(s, batch.targets).mean() for s in slates])
    return out


def window_is_october_best(window: int) -> bool:
    """True when ``window`` has the best October NDCG@10 among :data:`TRENDING_WINDOWS` (the notebook's
    self-check of its ``TRENDING_WINDOW``); says nothing about the values."""
    table = _trending_table()["valid NDCG"]
    return window in TRENDING_WINDOWS and TRENDING_WINDOWS.index(window) == int(np.argmax(table))


def exercise_3(october_ndcg, test_hit_rate=None) -> Verdict:
    """The trending window chosen on October, then reported once on test.

    ``october_ndcg``: October NDCG@10 of ``Trending(window=w)`` for each ``w`` of :data:`TRENDING_WINDOWS`
    (fitted on purchases before 1 October), 4 numbers. ``test_hit_rate``: the test HitRate@10 of the
    window with the best October NDCG@10. Both to 3 significant figures.
    """
    name = "Exercise 3"
    if october_ndcg is None and test_hit_rate is None:
        return unanswered(name)
    table = _trending_table()
    valid_mistakes = [(table["test NDCG"], "Those are the test visits' values: the window is chosen on October."),
                      (table["valid HR"], "Those are HitRate@10 values; the choice is made on NDCG@10.")]
    hint = ("Fit each trending list as section 5 fits the baselines, but as of the start of October, and score "
            "it on the October visits.")
    if october_ndcg is None:
        return report(False, name, "Give the October NDCG@10 of every window first.")
    if not within_sig_figs(october_ndcg, table["valid NDCG"]):
        return check_number(october_ndcg, table["valid NDCG"], name, hint, mistakes=valid_mistakes, fraction=True)
    best = int(np.argmax(table["valid NDCG"]))
    if test_hit_rate is None:
        return report(False, name, "Now give the test HitRate@10 of the window October chose.")
    mistakes = [(table["test HR"][i], f"That is the {w}-day window's test HitRate@10; report the window that "
                                      "wins on October, and only that one.")
                for i, w in enumerate(TRENDING_WINDOWS) if i != best]
    mistakes += [(table["test NDCG"][best], "That is NDCG@10; the exercise asks for HitRate@10 on test."),
                 (table["valid HR"][best], "That is its October HitRate@10; report it on the test visits.")]
    return check_number(test_hit_rate, table["test HR"][best], name,
                        "Score the chosen window's trending list on the test visits, as section 7 scores the baselines.",
                        mistakes=mistakes, fraction=True)


def inputs_for_exercise_4(seed: int = 2024):
    """The teaching-size :class:`helpers.scorer.ScorerConfig` of exercise 4 (and of section 6.1)."""
    from helpers import scorer

    return scorer.ScorerConfig(hidden=32, dim=16, dropout=0.0, pop_hidden=8, n_negatives=256, batch_size=256,
                               max_epochs=3, seed=seed)


@functools.lru_cache(maxsize=2)
def _ablation(popularity: bool) -> dict[str, float]:
    """October NDCG@10 and HR@10, and test NDCG@10, of the teaching-size scorer with or without popularity."""
    from helpers import scorer, tables, text

    course = tables.load_course_tables()
    space = scorer.FeatureSpace(course, text.embed(course.catalogue[tables.DESCRIPTION].tolist(), progress=False))
    if not popularity:
        space.dynamic = np.zeros_like(space.dynamic)
    examples = scorer.course_examples(course, space)
    cfg = inputs_for_exercise_4()
    model = scorer.train_scorer(space, examples["train"], None, cfg, progress=False).model
    valid = scorer.evaluate_examples(model, space, examples["valid"], cfg.k)
    return {"NDCG": valid[f"NDCG@{cfg.k}"], "HR": valid[f"HR@{cfg.k}"],
            "test NDCG": scorer.evaluate_examples(model, space, examples["test"], cfg.k)[f"NDCG@{cfg.k}"]}


def exercise_4(ndcg_without_popularity) -> Verdict:
    """October NDCG@10 of the teaching-size scorer (``inputs_for_exercise_4()``) trained by
    :func:`helpers.scorer.train_scorer` on the visits before October with its popularity features set
    to zero, so that the popularity term cannot tell items apart (3 significant figures)."""
    name = "Exercise 4"
    if ndcg_without_popularity is None:
        return unanswered(name)
    expected = _ablation(popularity=False)
    if within_sig_figs(ndcg_without_popularity, expected["NDCG"]):
        return report(True, name)
    mistakes = [(_ablation(popularity=True)["NDCG"], "That is the model with its popularity term: ablate it."),
                (expected["HR"], "That is HitRate@10; the exercise asks for NDCG@10."),
                (expected["test NDCG"], "That is on the test visits; measure the ablation on October.")]
    hint = ("Train with the teaching configuration on a copy of the feature space whose popularity table is all "
            "zeros, and evaluate on the October examples.")
    return check_number(ndcg_without_popularity, expected["NDCG"], name, hint, mistakes=mistakes, fraction=True)


def _random_scorer(rng: np.random.Generator):
    """A small :class:`helpers.scorer.TwoTowerScorer` in float64 with random weights and standardisation."""
    from helpers import scorer

    with torch.random.fork_rng():  # leave the notebook's torch seed alone
        torch.manual_seed(int(rng.integers(2**31)))
        model = scorer.TwoTowerScorer(text_dim=10, hidden=12, dim=6, dropout=0.0, pop_hidden=5).double().eval()
    with torch.no_grad():
        for name in ("static", "dynamic", "user"):
            getattr(model, f"{name}_mean").copy_(torch.as_tensor(rng.normal(size=getattr(model, f"{name}_mean").shape)))
            getattr(model, f"{name}_std").copy_(torch.as_tensor(rng.uniform(0.5, 2.0, getattr(model, f"{name}_std").shape)))
    return model


def _random_inputs(rng: np.random.Generator, n_visits: int, n_items: int) -> dict[str, torch.Tensor]:
    shapes = {"history": (n_visits, 10), "user": (n_visits, 4), "text": (n_items, 10), "static": (n_items, 1),
              "dynamic": (n_visits, n_items, 5)}
    return {name: torch.as_tensor(rng.normal(1.0, 1.5, shape)) for name, shape in shapes.items()}


def inputs_for_exercise_5() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``(weights, inputs)`` to try a forward pass on: the state dict of a small random
    :class:`helpers.scorer.TwoTowerScorer` (float64) and raw inputs for 3 visits and 7 items.

    ``inputs``: ``history`` (3, 10), ``user`` (3, 4), ``text`` (7, 10), ``static`` (7, 1) and
    ``dynamic`` (3, 7, 5), the popularity features of each item on each visit's day.
    """
    rng = np.random.default_rng(5)
    return dict(_random_scorer(rng).state_dict()), _random_inputs(rng, 3, 7)


def _variants(model, x: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """The right scores and those of the usual mistakes, from the package's own model."""
    def scores(m, weight=None):
        users = m.user_vectors(x["history"], x["user"])
        items = m.item_vectors(x["text"], x["static"])
        heat = m.item_heat(x["dynamic"])
        return m(users, items, heat, m.user_weight(x["user"]) if weight is None else weight).numpy()

    with torch.no_grad():
        out = {"right": scores(model)}
        users = model.user_vectors(x["history"], x["user"])
        out["no popularity"] = (users @ model.item_vectors(x["text"], x["static"]).T).numpy()
        raw = copy.deepcopy(model)
        for name in ("static", "dynamic", "user"):
            getattr(raw, f"{name}_mean").zero_()
            getattr(raw, f"{name}_std").fill_(1.0)
        out["not standardised"] = scores(raw)
        relu = copy.deepcopy(model)
        for tower in (relu.item_tower, relu.user_tower, relu.pop_term.heat):
            tower[1] = torch.nn.ReLU()
        out["relu"] = scores(relu)
        out["no softplus"] = scores(model, model.pop_term.follow((x["user"] - model.user_mean) / model.user_std).squeeze(-1))
    return out


def exercise_5(forward) -> Verdict:
    """A two-tower forward pass from raw weights: ``forward(weights, history, user, text, static, dynamic)``
    returns the (n_visits, n_items) scores of :class:`helpers.scorer.TwoTowerScorer` with those weights.

    Checked on fresh random weights and inputs (other sizes than ``inputs_for_exercise_5()``'s).
    """
    name = "Exercise 5"
    if (verdict := not_a_function(forward, name)) is not None:
        return verdict
    rng = np.random.default_rng()
    model = _random_scorer(rng)
    x = _random_inputs(rng, 4, 9)
    weights = {key: value.clone() for key, value in model.state_dict().items()}
    try:
        got = forward(weights, *(x[key].clone() for key in ("history", "user", "text", "static", "dynamic")))
    except Exception as exc:  # a student's function may fail in any way: say how
        return report(False, name, f"Your function raised {type(exc).__name__}: {exc}")
    if got is None:
        return unanswered(name)
    if isinstance(got, torch.Tensor):
        got = got.detach().cpu().numpy()
    variants = _variants(model, x)
    mistakes = [
        (variants["no popularity"], "Your scores lack the popularity term w(x_u) q(z_i(t))."),
        (variants["not standardised"], "Standardise each input group with its *_mean and *_std buffers first."),
        (variants["relu"], "Look again at the towers' activation function (show_source(scorer.mlp))."),
        (variants["no softplus"], "The crowd weight w(x_u) must be positive: see scorer.PopularityTerm."),
    ]
    hint = ("Follow one visit and one item through section 6.1's model, layer by layer, with the weights' names "
            "as helpers.scorer.TwoTowerScorer gives them.")
    return check_number(got, variants["right"], name, hint, mistakes=mistakes, close=(1e-5, 1e-6))

