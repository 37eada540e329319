"""Notebook 04's checkers: right answers pass (also rounded to 3 significant figures), known
mistakes get their own message, wrong answers fail."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import bandits, contextual, envs
from helpers.check import nb04

# Five visits, three strategies: the best fixed arm 0 (total 3) misses visit 2, where arm 1 hits, and
# visit 4, where nothing hits -> 1 of 5 visits; some strategy hits on 4.
REWARDS = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def verdict(checker, answer, *args, capsys) -> tuple[bool, str]:
    ok = bool(checker(answer, *args))
    return ok, capsys.readouterr().out


def test_exercise_1_share_of_visits_only_other_strategies_hit(capsys):
    assert verdict(nb04.exercise_1, 0.2, REWARDS, capsys=capsys)[0]
    assert verdict(nb04.exercise_1, np.float32(0.2001), REWARDS, capsys=capsys)[0]
    for wrong, message in [(20, "percentage"), (1, "number of visits"), (0.25, "Divide by all visits"),
                           (0.8, "misses")]:
        ok, out = verdict(nb04.exercise_1, wrong, REWARDS, capsys=capsys)
        assert not ok and message in out, (wrong, out)
    ok, out = verdict(nb04.exercise_1, 0.6, REWARDS, capsys=capsys)
    assert not ok and "best fixed" in out


def test_exercise_2_round_robin_regret_is_exact(capsys):
    rewards = np.array([[1.0, 0.0, 2.0], [1.0, 1.0, 0.0], [0.0, 3.0, 0.0], [1.0, 0.0, 0.0]])
    # best fixed arm 1 earns 4; round robin plays arms 0, 1, 2, 0 and earns 1 + 1 + 0 + 1 = 3 -> regret 1
    assert verdict(nb04.exercise_2, 1, rewards, capsys=capsys)[0]
    assert verdict(nb04.exercise_2, np.int64(1), rewards, capsys=capsys)[0]
    for wrong, message in [(4, "Visit 0 plays arm 0"),  # arms 1, 2, 0, 1 earn 0
                           (3, "policy's reward"), (-1, "sign")]:
        ok, out = verdict(nb04.exercise_2, wrong, rewards, capsys=capsys)
        assert not ok and message in out, (wrong, out)
    ok, out = verdict(nb04.exercise_2, 1.001, rewards, capsys=capsys)
    assert not ok and "section 2" in out  # exact: a count of visits


def test_exercise_3_linucb_index(capsys):
    data = nb04.inputs_for_exercise_3()
    theta = np.linalg.solve(data["A"], data["b"])
    width = np.sqrt(data["x"] @ np.linalg.solve(data["A"], data["x"]))
    right = theta @ data["x"] + data["alpha"] * width
    assert verdict(nb04.exercise_3, right, capsys=capsys)[0]
    assert verdict(nb04.exercise_3, float(f"{right:.3g}"), capsys=capsys)[0]
    for wrong, message in [(theta @ data["x"], "bonus"), (theta @ data["x"] + width, "scaled by alpha"),
                           (theta @ data["x"] + data["alpha"] * np.sqrt(data["x"] @ data["A"] @ data["x"]), "inverse")]:
        ok, out = verdict(nb04.exercise_3, wrong, capsys=capsys)
        assert not ok and message in out
    ok, out = verdict(nb04.exercise_3, right + 1, capsys=capsys)
    assert not ok and "section 7" in out


def test_exercise_4_reinforce_gradient(capsys):
    ex4 = nb04.inputs_for_exercise_4()
    pi = np.exp(ex4["logits"]) / np.exp(ex4["logits"]).sum()
    onehot = np.eye(4)[ex4["arm"]]
    right = (ex4["reward"] - ex4["baseline"]) * (onehot - pi)
    assert verdict(nb04.exercise_4, right, capsys=capsys)[0]
    assert verdict(nb04.exercise_4, [float(f"{g:.3g}") for g in right], capsys=capsys)[0]
    for wrong, message in [(ex4["reward"] * (onehot - pi), "baseline"), (-right, "sign")]:
        ok, out = verdict(nb04.exercise_4, wrong, capsys=capsys)
        assert not ok and message in out
    ok, out = verdict(nb04.exercise_4, right[:3], capsys=capsys)
    assert not ok and "4 numbers" in out


@pytest.fixture(scope="module")
def two_months():
    """An October and a test replay where the context matters: arm 0 pays when feature 1 is positive."""
    def month(n, seed):
        rng = np.random.default_rng(seed)
        x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
        p = np.column_stack([0.2 + 0.6 * (x[:, 1] > 0), np.full(n, 0.45), 0.3 + 0.3 * (x[:, 2] > 0)])
        rewards = (rng.random((n, 3)) < p).astype(float)
        return envs.ReplayEnv(rewards, x, 4, order="daily", days=np.arange(n) // 20, rng=seed)
    return month(150, 1), month(200, 2)


def test_exercise_5_tuned_on_october_then_run_once_on_test(two_months, capsys):
    valid, test = two_months
    columns, alphas, seed = [0, 1], (0.0, 0.3, 1.0, 3.0), 7

    def hits(env, alpha):
        sub = env.with_contexts(env.contexts[:, columns])
        learner = contextual.LinUCB(3, 4, n_features=2, alpha=alpha, rng=seed)
        return envs.replay(learner, sub).rewards.sum(axis=0).mean()

    october = {a: hits(valid, a) for a in alphas}
    on_test = {a: hits(test, a) for a in alphas}
    chosen = max(october, key=october.get)
    assert verdict(nb04.exercise_5, (chosen, on_test[chosen]), valid, test, columns, alphas, seed, capsys=capsys)[0]
    assert verdict(nb04.exercise_5, np.array([chosen, float(f"{on_test[chosen]:.3g}")]), valid, test, columns,
                   alphas, seed, capsys=capsys)[0]
    ok, out = verdict(nb04.exercise_5, (chosen, october[chosen]), valid, test, columns, alphas, seed, capsys=capsys)
    assert not ok and "October's result" in out
    best_on_test = max(on_test, key=on_test.get)
    if best_on_test != chosen:
        ok, out = verdict(nb04.exercise_5, (best_on_test, on_test[best_on_test]), valid, test, columns, alphas, seed,
                          capsys=capsys)
        assert not ok and "on the test visits" in out
    ok, out = verdict(nb04.exercise_5, (chosen, on_test[chosen] + 5), valid, test, columns, alphas, seed, capsys=capsys)
    assert not ok and "argmax of the October table" in out
    ok, out = verdict(nb04.exercise_5, (chosen, 1.0), None, test, columns, alphas, seed, capsys=capsys)
    assert not ok and "Pass the October and test replays" in out


def test_exercise_5_recognises_tuning_on_test(capsys):
    """A month pair built so that October prefers greedy play and the test month exploration."""
    rng = np.random.default_rng(0)
    for seed in range(20):
        valid = envs.ReplayEnv((rng.random((80, 2)) < [0.5, 0.4]).astype(float), np.ones((80, 1)), 3, rng=seed)
        test = envs.ReplayEnv((rng.random((80, 2)) < [0.2, 0.6]).astype(float), np.ones((80, 1)), 3, rng=seed)
        grid = (0.0, 2.0)
        tuned = {}
        for name, env in (("october", valid), ("test", test)):
            tuned[name] = {a: envs.replay(contextual.LinUCB(2, 3, n_features=1, alpha=a, rng=1), env)
                           .rewards.sum(axis=0).mean() for a in grid}
        oct_alpha = max(tuned["october"], key=tuned["october"].get)
        test_alpha = max(tuned["test"], key=tuned["test"].get)
        if oct_alpha != test_alpha:
            ok, out = verdict(nb04.exercise_5, (test_alpha, tuned["test"][test_alpha]), valid, test, [0], grid, 1,
                              capsys=capsys)
            assert not ok and "chose alpha on the test visits" in out
            return
    pytest.fail("no month pair where October and test disagree")


def test_bandit_softmax_is_what_exercise_4_uses():
    logits = nb04.inputs_for_exercise_4()["logits"]
    np.testing.assert_allclose(bandits.softmax(logits[None])[0].sum(), 1.0)
