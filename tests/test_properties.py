"""Property-based tests (hypothesis): invariants that hold for every input, not only for fixtures.

Metrics in their ranges and equal to brute force on small random slates; IPS equal to the
on-policy mean under the logging policy; SNIPS shifting with the rewards; MMR and DPP slates
distinct, of length k and equal to brute force; learners' probabilities on the simplex; the
cleaning ledger summing exactly on random raw tables. Example counts are kept small so the whole
file runs in seconds on two cores; random arrays come from a numpy generator seeded by hypothesis
(continuous values, so ties have probability zero and brute force and package agree on order).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from helpers import bandits, cleaning, metrics, ope, rerank
from helpers import data as raw_data

FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = hs.integers(0, 2**32 - 1)


def _slates(rng: np.random.Generator, n: int, k: int, n_items: int) -> np.ndarray:
    return np.stack([rng.choice(n_items, size=k, replace=False) for _ in range(n)])


def _targets(rng: np.random.Generator, n: int, n_items: int) -> list[np.ndarray]:
    return [rng.choice(n_items, size=int(rng.integers(0, 5)), replace=False) for _ in range(n)]


# --- ranking and diversity metrics ---------------------------------------------------------


@FEW
@given(seed=SEEDS, n=hs.integers(1, 6), k=hs.integers(1, 5), n_items=hs.integers(5, 12))
def test_ranking_metrics_equal_brute_force(seed, n, k, n_items):
    rng = np.random.default_rng(seed)
    slates, targets = _slates(rng, n, k, n_items), _targets(rng, n, n_items)
    hits, recall, ndcg = (metrics.hit_rate(slates, targets), metrics.recall_at_k(slates, targets),
                          metrics.ndcg_at_k(slates, targets))
    for i in range(n):
        wanted = set(targets[i].tolist())
        shown = [int(x) in wanted for x in slates[i]]
        assert hits[i] == float(any(shown))
        assert recall[i] == pytest.approx(sum(shown) / len(wanted) if wanted else 0.0)
        dcg = sum(1 / math.log2(j + 2) for j, s in enumerate(shown) if s)
        ideal = sum(1 / math.log2(j + 2) for j in range(min(k, len(wanted))))
        assert ndcg[i] == pytest.approx(dcg / ideal if ideal else 0.0)
    for values in (hits, recall, ndcg):
        assert np.all((values >= 0) & (values <= 1 + 1e-12))
    coverage = metrics.catalogue_coverage(slates, n_items)
    assert coverage == len(set(slates.ravel().tolist())) / n_items and 0 < coverage <= 1


@FEW
@given(seed=SEEDS, n=hs.integers(1, 5), k=hs.integers(2, 5), n_items=hs.integers(5, 10), dim=hs.integers(2, 6),
       chunk=hs.integers(1, 4))
def test_intra_list_diversity_equals_the_pairwise_mean(seed, n, k, n_items, dim, chunk):
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n_items, dim))
    slates = _slates(rng, n, k, n_items)
    got = metrics.intra_list_diversity(slates, emb, chunk=chunk)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    for i in range(n):
        pairs = list(itertools.combinations(slates[i], 2))
        brute = np.mean([1 - unit[a] @ unit[b] for a, b in pairs])
        assert got[i] == pytest.approx(brute, abs=1e-5)
    assert np.all((got >= -1e-6) & (got <= 2 + 1e-6))


@FEW
@given(seed=SEEDS, n=hs.integers(1, 8), k=hs.integers(1, 4), n_items=hs.integers(4, 10))
def test_exposure_concentration_in_range_and_equal_to_brute_force(seed, n, k, n_items):
    rng = np.random.default_rng(seed)
    slates = _slates(rng, n, k, n_items)
    counts = np.bincount(slates.ravel(), minlength=n_items).astype(float)
    mean_abs_diff = np.abs(counts[:, None] - counts[None, :]).mean()
    g = metrics.exposure_gini(slates, n_items)
    assert g == pytest.approx(mean_abs_diff / (2 * counts.mean()))
    assert 0 <= g <= 1 - 1 / n_items + 1e-12
    shares = counts[counts > 0] / counts.sum()
    h = metrics.exposure_entropy(slates, n_items)
    assert h == pytest.approx(-(shares * np.log2(shares)).sum())
    assert -1e-12 <= h <= math.log2(n_items) + 1e-12


# --- off-policy estimators -----------------------------------------------------------------


def _logs(rng: np.random.Generator, n: int, n_actions: int):
    logging = rng.dirichlet(np.ones(n_actions), size=n) * 0.9 + 0.1 / n_actions  # every action possible
    actions = np.array([rng.choice(n_actions, p=p) for p in logging])
    rewards = rng.random(n)
    return actions, rewards, logging[np.arange(n), actions], logging


@FEW
@given(seed=SEEDS, n=hs.integers(1, 40), n_actions=hs.integers(2, 6))
def test_ips_of_the_logging_policy_is_the_on_policy_mean(seed, n, n_actions):
    rng = np.random.default_rng(seed)
    actions, rewards, pscores, logging = _logs(rng, n, n_actions)
    assert ope.ips(actions, rewards, pscores, logging) == pytest.approx(rewards.mean(), rel=1e-12)
    assert ope.snips(actions, rewards, pscores, logging) == pytest.approx(rewards.mean(), rel=1e-12)


@FEW
@given(seed=SEEDS, n=hs.integers(2, 40), n_actions=hs.integers(2, 6), shift=hs.floats(-5, 5))
def test_snips_shifts_with_the_rewards(seed, n, n_actions, shift):
    """SNIPS is a weighted average of rewards: adding c to every reward adds c to it (IPS would
    add c times the mean weight). Its value also stays within the rewards' range."""
    rng = np.random.default_rng(seed)
    actions, rewards, pscores, _ = _logs(rng, n, n_actions)
    target = rng.dirichlet(np.ones(n_actions), size=n)
    base = ope.snips(actions, rewards, pscores, target)
    shifted = ope.snips(actions, rewards + shift, pscores, target, reward_range=None)
    assert shifted == pytest.approx(base + shift, abs=1e-9)
    assert rewards.min() - 1e-12 <= base <= rewards.max() + 1e-12
    weights = target[np.arange(n), actions] / pscores
    ips_shifted = ope.ips(actions, rewards + shift, pscores, target, reward_range=None)
    assert ips_shifted == pytest.approx(ope.ips(actions, rewards, pscores, target) + shift * weights.mean(), abs=1e-9)


# --- re-ranking ------------------------------------------------------------------------------


def _mmr_scores(rel: np.ndarray, unit: np.ndarray, picked: list[int], lam: float) -> dict[int, float]:
    """MMR's objective for every candidate not yet picked, written out directly."""
    rest = [i for i in range(len(rel)) if i not in picked]
    if not picked:
        return {i: rel[i] for i in rest}
    return {i: lam * rel[i] - (1 - lam) * max(unit[i] @ unit[j] for j in picked) for i in rest}


def _dpp_scores(unit: np.ndarray, logq: np.ndarray, picked: list[int]) -> dict[int, float]:
    """log det L_Y of the picks plus each remaining candidate, by determinants."""
    kernel = np.exp(logq)[:, None] * (unit @ unit.T) * np.exp(logq)[None, :]
    rest = [i for i in range(len(logq)) if i not in picked]
    return {i: np.linalg.slogdet(kernel[np.ix_(picked + [i], picked + [i])])[1] for i in rest}


def _is_brute_force_greedy(got: np.ndarray, scores) -> bool:
    """Each pick maximises the brute-force objective given the picks before it (up to float ties)."""
    picked: list[int] = []
    for choice in got.tolist():
        score = scores(picked)
        if choice not in score or score[choice] < max(score.values()) - 1e-9:
            return False
        picked.append(choice)
    return True


@FEW
@given(seed=SEEDS, m=hs.integers(2, 8), dim=hs.integers(2, 8), lam=hs.floats(0, 1), data=hs.data())
def test_mmr_is_distinct_of_length_k_and_equals_brute_force(seed, m, dim, lam, data):
    k = data.draw(hs.integers(1, m))
    rng = np.random.default_rng(seed)
    rel, emb = rng.random(m), rng.normal(size=(m, dim))
    got = rerank.mmr(rel, emb, k, lam)
    assert got.shape == (k,) and len(set(got.tolist())) == k
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    assert _is_brute_force_greedy(got, lambda picked: _mmr_scores(rel, unit, picked, lam))


@FEW
@given(seed=SEEDS, m=hs.integers(2, 7), theta=hs.floats(0, 0.9), data=hs.data())
def test_dpp_is_distinct_of_length_k_and_equals_brute_force(seed, m, theta, data):
    k = data.draw(hs.integers(1, m))
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(m, m + 2))  # more dimensions than items: every subset is independent
    logq = rerank.dpp_log_quality(rng.random(m), theta)
    got = rerank.dpp_greedy(emb, k, log_quality=logq)
    assert got.shape == (k,) and len(set(got.tolist())) == k
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    assert _is_brute_force_greedy(got, lambda picked: _dpp_scores(unit, logq, picked))


# --- learners (bandits.py: tested, not edited here) ------------------------------------------

LEARNERS = [
    lambda k, r, rng: bandits.EpsilonGreedy(k, r, rng=rng),
    lambda k, r, rng: bandits.UCB1(k, r, rng=rng),
    lambda k, r, rng: bandits.KLUCB(k, r, rng=rng),
    lambda k, r, rng: bandits.BernoulliThompson(k, r, rng=rng),
    lambda k, r, rng: bandits.GaussianThompson(k, r, rng=rng),
    lambda k, r, rng: bandits.EXP3(k, r, rng=rng, gamma=0.2),
    lambda k, r, rng: bandits.GradientBandit(k, r, rng=rng, step_size=0.5),
]


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS, n_arms=hs.integers(2, 5), n_runs=hs.integers(1, 4), steps=hs.integers(0, 15),
       which=hs.integers(0, len(LEARNERS) - 1))
def test_learners_probabilities_lie_on_the_simplex(seed, n_arms, n_runs, steps, which):
    rng = np.random.default_rng(seed)
    learner = LEARNERS[which](n_arms, n_runs, seed)
    means = rng.random(n_arms)
    for _ in range(steps):
        arms = learner.select()
        assert arms.shape == (n_runs,) and np.all((arms >= 0) & (arms < n_arms))
        learner.update(arms, (rng.random(n_runs) < means[arms]).astype(float))
    probs = learner.probs()
    assert probs.shape == (n_runs, n_arms)
    assert np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1.0)


# --- cleaning ledger -------------------------------------------------------------------------

_CODES = ["10001", "10002", "85123A", "85123a", " 71053", "POST", "M", "GIFT_0001_20", "DCGS0003"]
_DESCRIPTIONS = ["MUG", "mug ", "WHITE LANTERN", "?", None, ""]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS, n=hs.integers(0, 40))
def test_the_cleaning_ledger_sums_exactly_on_random_raw_tables(seed, n):
    rng = np.random.default_rng(seed)
    cancel = rng.random(n) < 0.3
    prefix = np.where(cancel, "C", np.where(rng.random(n) < 0.05, "A", ""))
    quantity = rng.choice([1, 2, 3, 5, 12, 24, 20_000], size=n) * np.where(cancel, -1, 1)
    raw = pd.DataFrame({
        raw_data.INVOICE: [f"{p}{500000 + int(i)}" for p, i in zip(prefix, rng.integers(0, 8, n), strict=True)],
        raw_data.STOCK_CODE: rng.choice(_CODES, size=n),
        raw_data.DESCRIPTION: [_DESCRIPTIONS[i] for i in rng.integers(0, len(_DESCRIPTIONS), n)],
        raw_data.QUANTITY: quantity.astype(np.int64),
        raw_data.INVOICE_DATE: pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 5, n), unit="D"),
        raw_data.UNIT_PRICE: rng.choice([0.0, -1.0, 0.85, 1.25, 2.95], size=n),
        raw_data.CUSTOMER: rng.choice([12345.0, 17850.0, np.nan], size=n),
        raw_data.COUNTRY: rng.choice(["United Kingdom", "France "], size=n),
    })
    for column in (raw_data.INVOICE, raw_data.STOCK_CODE, raw_data.DESCRIPTION, raw_data.COUNTRY):
        raw[column] = raw[column].astype("string")
    raw.index = rng.permutation(n) * 3 + 7  # any unique labels, not only 0..n-1
    result = cleaning.clean_transactions(raw)
    cleaning.check_ledger(result.ledger, len(raw), len(result.clean))
    assert int(result.ledger["rows_dropped"].sum()) == len(result.dropped) == len(raw) - len(result.clean)
    # every raw line is either kept or dropped exactly once, under its own label
    labels = list(result.clean.index) + list(result.dropped.index)
    assert sorted(labels) == sorted(raw.index)
    total = float(cleaning.line_revenue(raw).sum())
    ledger = result.ledger
    assert ledger["revenue_in"].iloc[0] == pytest.approx(total, abs=1e-9)
    assert ledger["revenue_out"].iloc[-1] + ledger["revenue_dropped"].sum() == pytest.approx(total, abs=1e-6)
    # idempotent: cleaning the clean table changes nothing
    again = cleaning.clean_transactions(result.clean)
    assert int(again.ledger["rows_dropped"].sum()) == 0 and len(again.clean) == len(result.clean)
