"""Checkers for the exercises of notebook 03 (the BERT + MLP scorer).

Each ``exercise_N(answer)`` prints a verdict and returns a truthy :class:`helpers.check.Verdict`
when the answer is right; ``inputs_for_exercise_N()`` gives the exercise's inputs, so the
notebook and the checker use the same ones. Expected answers are computed here from the package
and the data, never typed in.
"""

from __future__ import annotations

import numpy as np

from helpers import metrics
from helpers.check import Verdict, as_number, is_close, report, unanswered


def inputs_for_exercise_1() -> tuple[np.ndarray, np.ndarray]:
    """``(slate, targets)`` of exercise 1: a slate of 10 item ids (best first) and a visit's new items."""
    slate = np.array([812, 95, 1403, 77, 2210, 3001, 18, 640, 1999, 250])
    targets = np.array([77, 250, 3100, 95])
    return slate, targets


def exercise_1(ndcg) -> Verdict:
    """NDCG@10 (binary relevance) of the slate of ``inputs_for_exercise_1()``, a number."""
    if ndcg is None:
        return unanswered("Exercise 1")
    slate, targets = inputs_for_exercise_1()
    expected = metrics.ndcg_at_k(slate[None, :], [targets])[0]
    hint = ("DCG adds 1 / log2(position + 1) for each hit, positions counted from 1; the ideal DCG puts "
            "min(10, number of targets) hits in the first positions. NDCG = DCG / ideal DCG.")
    value = as_number(ndcg)
    if value is None:
        return report(False, "Exercise 1", hint)
    return report(is_close(value, expected, rtol=1e-6), "Exercise 1", hint)


def inputs_for_exercise_2() -> list[str]:
    """The product descriptions of exercise 2 (different lengths, so padding matters)."""
    return ["JUMBO BAG RED RETROSPOT", "SET OF 3 CAKE TINS PANTRY DESIGN", "MUG"]


def exercise_2(vectors) -> Verdict:
    """Sentence embeddings of ``inputs_for_exercise_2()`` by hand: masked mean pooling of BERT's last
    layer, then L2 normalisation; an array of shape (3, 384) equal to :func:`helpers.text.embed`'s."""
    if vectors is None:
        return unanswered("Exercise 2")
    from helpers import text

    expected = text.embed(inputs_for_exercise_2(), cache=False, progress=False)
    hint = ("Tokenise the three texts together with padding=True, run encoder.model, then average the "
            "last_hidden_state over the positions where attention_mask is 1 (padding must not count), and "
            "divide each row by its norm. Shape (3, 384).")
    return report(is_close(vectors, expected, rtol=1e-4, atol=1e-5), "Exercise 2", hint)


def exercise_3(hit_rate) -> Verdict:
    """HitRate@10 on the test discovery visits of the trending list with a 7-day window."""
    if hit_rate is None:
        return unanswered("Exercise 3")
    from helpers import strategies, tables

    course = tables.load_course_tables()
    batch = strategies.make_batch(course, tables.discovery_visits(course, "test"))
    slates = strategies.Trending(window=7).fit(course, tables.TEST_START).recommend(batch, 10)
    expected = metrics.hit_rate(slates, batch.targets).mean()
    hint = ("Build the test batch with strategies.make_batch(course, tables.discovery_visits(course, 'test')), "
            "fit strategies.Trending(window=7), recommend 10 items per visit and average "
            "metrics.hit_rate over the visits: one number between 0 and 1.")
    value = as_number(hit_rate)
    if value is None:
        return report(False, "Exercise 3", hint)
    return report(is_close(value, expected, rtol=1e-9), "Exercise 3", hint)
