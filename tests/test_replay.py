"""The replay environment on hand-built logs: rewards and regret are exact; the diversified strategy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import bandits
from helpers.envs import ReplayEnv, replay, replay_summary, slate_rewards
from helpers.visits import basket_values

# Four visits, three strategies (arms). Rewards by hand:
#   visit 0: arm 0 -> 1, arm 1 -> 0, arm 2 -> 2
#   visit 1: arm 0 -> 1, arm 1 -> 1, arm 2 -> 0
#   visit 2: arm 0 -> 0, arm 1 -> 3, arm 2 -> 0
#   visit 3: arm 0 -> 1, arm 1 -> 0, arm 2 -> 0
REWARDS = np.array([[1.0, 0.0, 2.0], [1.0, 1.0, 0.0], [0.0, 3.0, 0.0], [1.0, 0.0, 0.0]])
# totals: arm 0 = 3, arm 1 = 4, arm 2 = 2 -> best fixed arm 1; oracle = 2 + 1 + 3 + 1 = 7


class Scripted(bandits.BanditLearner):
    """Plays a fixed sequence of arms (one column per run) and records the contexts it saw."""

    def __init__(self, plan, n_arms=3):
        self.plan = np.asarray(plan)
        super().__init__(n_arms, self.plan.shape[1], rng=0)

    def _reset_state(self):
        self.seen_contexts = []

    def select(self, context=None):
        self.seen_contexts.append(None if context is None else np.array(context))
        return self.plan[self.t]

    def probs(self, context=None):
        p = np.zeros((self.n_runs, self.n_arms))
        p[np.arange(self.n_runs), self.plan[self.t]] = 1.0
        return p


def test_slate_rewards_on_a_hand_built_log():
    # 3 visits, 2 strategies, slates of 3 items; -1 is an empty slot
    slates = [np.array([[1, 2, 3], [4, 5, 6], [7, 8, -1]]),
              np.array([[3, 9, 8], [6, 4, 0], [1, 2, 3]])]
    targets = [np.array([3, 8]), np.array([4, 5, 6]), np.array([], dtype=np.int64)]
    values = [np.array([10.0, 2.5]), np.array([1.0, 2.0, 4.0]), np.array([])]
    hits, value = slate_rewards(slates, targets, values)
    np.testing.assert_array_equal(hits, [[1, 2], [3, 2], [0, 0]])
    np.testing.assert_array_equal(value, [[10.0, 12.5], [7.0, 5.0], [0.0, 0.0]])
    hits_only, counted = slate_rewards(np.stack(slates, axis=1), targets)
    np.testing.assert_array_equal(hits_only, hits)
    np.testing.assert_array_equal(counted, hits)


def test_slate_rewards_bad_inputs():
    slate = [np.array([[1, 2]])]
    with pytest.raises(ValueError, match="targets"):
        slate_rewards(slate, [np.array([1]), np.array([2])])
    with pytest.raises(ValueError, match="twice"):
        slate_rewards(slate, [np.array([1, 1])])
    with pytest.raises(ValueError, match="aligned"):
        slate_rewards(slate, [np.array([1, 2])], [np.array([1.0])])
    with pytest.raises(TypeError, match="integer"):
        slate_rewards([np.array([[1.0, 2.0]])], [np.array([1])])


def test_basket_values_are_aligned_with_targets():
    interactions = pd.DataFrame({"invoice": ["a", "a", "b", "b"], "item_id": [3, 5, 5, 7],
                                 "revenue": [2.0, 4.5, 1.0, 3.0], "quantity": [1, 3, 2, 6]})
    values = basket_values(interactions, ["b", "a"], [np.array([5, 7]), np.array([5])])
    np.testing.assert_array_equal(values[0], [1.0, 3.0])
    np.testing.assert_array_equal(values[1], [4.5])
    units = basket_values(interactions, ["a"], [np.array([3, 5])], column="quantity")
    np.testing.assert_array_equal(units[0], [1, 3])
    with pytest.raises(KeyError, match="not in their invoice"):
        basket_values(interactions, ["a"], [np.array([7])])


def test_replay_rewards_and_regret_are_exact():
    env = ReplayEnv(REWARDS, n_runs=2)
    assert env.best_arm == 1 and env.oracle_total == 7.0
    np.testing.assert_array_equal(env.totals, [3, 4, 2])
    plan = np.array([[0, 2], [1, 2], [2, 2], [0, 2]])  # run 0 mixes, run 1 always plays arm 2
    trace = replay(Scripted(plan), env)
    np.testing.assert_array_equal(trace.rewards[:, 0], [1, 1, 0, 1])
    np.testing.assert_array_equal(trace.rewards[:, 1], [2, 0, 0, 0])
    # regret against the best fixed arm (arm 1: rewards 0, 1, 3, 0) and against the oracle (2, 1, 3, 1)
    np.testing.assert_array_equal(trace.regret[:, 0], [-1, 0, 3, -1])
    np.testing.assert_array_equal(trace.regret[:, 1], [-2, 1, 3, 0])
    np.testing.assert_array_equal(trace.oracle_regret[:, 0], [1, 0, 3, 0])
    np.testing.assert_array_equal(trace.oracle_regret[:, 1], [0, 1, 3, 1])
    np.testing.assert_array_equal(trace.cumulative_regret[-1], [1, 2])  # = 4 - 3 and 4 - 2
    np.testing.assert_array_equal(trace.cumulative_oracle_regret[-1], [4, 5])
    np.testing.assert_array_equal(trace.cumulative_reward[-1], [3, 2])
    assert trace.horizon == 4 and trace.n_runs == 2


def test_best_fixed_arm_is_taken_over_the_visits_replayed():
    env = ReplayEnv(REWARDS, n_runs=1)
    trace = replay(Scripted(np.zeros((2, 1), int)), env, horizon=2)
    # over visits 0 and 1 alone, arm 0 (total 2) beats arm 1 (total 1) and ties arm 2 (2): arm 0 is best
    np.testing.assert_array_equal(trace.regret[:, 0], [0, 0])
    np.testing.assert_array_equal(trace.oracle_regret[:, 0], [1, 0])


def test_context_free_learner_sees_no_context_and_contextual_one_sees_its_visit():
    contexts = np.arange(8.0).reshape(4, 2)
    env = ReplayEnv(REWARDS, contexts, n_runs=3, order="shuffle", rng=1)
    learner = Scripted(np.zeros((4, 3), int))
    trace = replay(learner, env)
    for t, seen in enumerate(learner.seen_contexts):
        np.testing.assert_array_equal(seen, contexts[trace.visits[t]])
    env_free = ReplayEnv(REWARDS, n_runs=1)
    free = Scripted(np.zeros((4, 1), int))
    replay(free, env_free)
    assert all(c is None for c in free.seen_contexts)


def test_orders_time_shuffle_daily():
    days = np.array([0, 0, 1, 1])
    assert np.array_equal(ReplayEnv(REWARDS, n_runs=2).order, np.repeat(np.arange(4)[:, None], 2, axis=1))
    env = ReplayEnv(REWARDS, n_runs=50, order="shuffle", rng=3)
    assert all(np.array_equal(np.sort(col), np.arange(4)) for col in env.order.T)
    assert len({tuple(col) for col in env.order.T}) > 5
    daily = ReplayEnv(REWARDS, n_runs=50, order="daily", days=days, rng=3)
    assert np.all(np.isin(daily.order[:2], [0, 1])) and np.all(np.isin(daily.order[2:], [2, 3]))
    assert len({tuple(col) for col in daily.order.T}) == 4  # 2 orders within each of the 2 days
    again = ReplayEnv(REWARDS, n_runs=50, order="daily", days=days, rng=3)
    np.testing.assert_array_equal(daily.order, again.order)  # seeded
    order_before = daily.order.copy()
    daily.reset()
    np.testing.assert_array_equal(order_before, daily.order)  # reset keeps the orders (common random numbers)
    daily.reorder()
    assert not np.array_equal(order_before, daily.order)  # reorder draws fresh ones


def test_with_contexts_keeps_rewards_days_and_visit_orders():
    contexts = np.arange(8.0).reshape(4, 2)
    env = ReplayEnv(REWARDS, contexts, n_runs=5, order="daily", days=np.array([0, 0, 1, 1]), rng=3)
    twin = env.with_contexts(contexts[:, :1])
    np.testing.assert_array_equal(twin.order, env.order)
    assert twin.n_features == 1 and twin.rewards is env.rewards and twin.order_kind == "daily"
    twin.reorder()  # the twin's orders are its own copy
    assert not np.array_equal(twin.order, env.order)
    assert env.with_contexts(None).n_features == 0


def test_fixed_and_oracle_rewards_follow_each_runs_order():
    env = ReplayEnv(REWARDS, n_runs=4, order="shuffle", rng=0)
    np.testing.assert_array_equal(env.fixed_rewards(1), REWARDS[env.order, 1])
    np.testing.assert_array_equal(env.oracle_rewards().sum(axis=0), np.full(4, 7.0))


def test_ucb1_on_a_replay_with_a_clearly_best_arm_has_small_regret():
    rng = np.random.default_rng(0)
    n = 3000
    rewards = (rng.random((n, 3)) < np.array([0.2, 0.5, 0.3])).astype(float)
    env = ReplayEnv(rewards, n_runs=20, order="shuffle", rng=1)
    trace = replay(bandits.UCB1(3, 20, rng=2), env)
    regret = trace.cumulative_regret.mean(axis=1)
    uniform = env.totals.max() - env.totals.mean()  # regret of uniform random play, in expectation
    assert regret[-1] < 0.25 * uniform
    assert regret[-1] - regret[n // 2] < regret[n // 2]  # the second half adds less than the first


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="n_arms"):
        ReplayEnv(np.ones(4))
    with pytest.raises(ValueError, match="finite"):
        ReplayEnv(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="contexts"):
        ReplayEnv(REWARDS, np.ones((3, 2)))
    with pytest.raises(ValueError, match="order"):
        ReplayEnv(REWARDS, order="random")
    with pytest.raises(ValueError, match="days"):
        ReplayEnv(REWARDS, order="daily")
    with pytest.raises(ValueError, match="non-decreasing"):
        ReplayEnv(REWARDS, order="daily", days=np.array([1, 0, 2, 3]))
    with pytest.raises(ValueError, match="arm_names"):
        ReplayEnv(REWARDS, arm_names=["a", "b"])
    env = ReplayEnv(REWARDS, n_runs=2)
    with pytest.raises(ValueError, match="arms"):
        env.pull(np.array([0, 3]))
    with pytest.raises(ValueError, match="n_arms"):
        replay(bandits.UCB1(4, 2), env)
    with pytest.raises(ValueError, match="n_runs"):
        replay(bandits.UCB1(3, 5), env)
    with pytest.raises(ValueError, match="horizon"):
        replay(bandits.UCB1(3, 2), env, horizon=5)
    for _ in range(4):
        env.pull(np.array([0, 0]))
    with pytest.raises(RuntimeError, match="reset"):
        env.pull(np.array([0, 0]))


def test_contextual_learner_needs_matching_features():
    from helpers.contextual import LinUCB

    env = ReplayEnv(REWARDS, np.ones((4, 2)), n_runs=1)
    with pytest.raises(ValueError, match="features"):
        replay(LinUCB(3, 1, n_features=3), env)
    trace = replay(LinUCB(3, 1, n_features=2), env)
    assert trace.rewards.shape == (4, 1)


# ---------------------------------------------------------------------------------------------
# the diversified strategy (maximal marginal relevance)


def test_diversified_strategy_never_recommends_what_was_bought_and_spreads_the_slate():
    from scipy import sparse

    from helpers import strategies as st
    from helpers.strategies import Diversified

    class Fixed(st.Strategy):
        name = "fixed"

        def score(self, batch):
            return np.tile(np.arange(6, 0, -1, dtype=float), (len(batch), 1))  # item 0 best, 5 worst

    seen = sparse.csr_matrix(np.array([[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], dtype=np.float32))
    batch = st.VisitBatch(customer_ids=np.array([1, 2]), timestamps=np.array(["2011-11-01"] * 2, "datetime64[ns]"),
                          history=[np.array([0]), np.array([], np.int64)], seen=seen, n_items=6)
    # items 0-2 are near-copies, 3-5 another kind of product
    emb = np.array([[1, 0], [1, 0.01], [1, 0.02], [0, 1], [0.01, 1], [0.02, 1]], dtype=float)
    plain = Fixed().recommend(batch, 2)
    np.testing.assert_array_equal(plain, [[1, 2], [0, 1]])
    div = Diversified(Fixed(), emb, trade_off=0.5, n_candidates=6).recommend(batch, 2)
    np.testing.assert_array_equal(div, [[1, 3], [0, 3]])  # the second slot goes to the other kind
    assert Diversified(Fixed(), emb, trade_off=1.0, n_candidates=6).recommend(batch, 2).tolist() == plain.tolist()
    with pytest.raises(ValueError, match="trade_off"):
        Diversified(Fixed(), emb, trade_off=2.0)
    with pytest.raises(ValueError, match="items"):
        Diversified(Fixed(), emb[:5]).recommend(batch, 2)
    with pytest.raises(TypeError, match="Strategy"):
        Diversified("trending", emb)


def test_replay_summary_reports_totals_and_bands():
    env = ReplayEnv(REWARDS, n_runs=2)
    trace = replay(Scripted(np.array([[0, 2], [1, 2], [2, 2], [0, 2]])), env)
    table = replay_summary({"scripted": trace}, level=0.5)
    row = table.loc["scripted"]
    assert row["reward"] == 2.5 and row["regret"] == 1.5 and row["oracle regret"] == 4.5
    assert row["reward low"] == 2.25 and row["reward high"] == 2.75  # quartiles of (3, 2)
    with pytest.raises(ValueError, match="level"):
        replay_summary([trace], level=1.0)


def test_scorer_strategy_rejects_what_is_not_a_trained_scorer():
    pytest.importorskip("torch")
    from helpers.strategies import NeuralScorer

    with pytest.raises(TypeError, match="Trained or TwoTowerScorer"):
        NeuralScorer("a model", None)


def test_nb04_checkers_accept_right_and_reject_wrong_answers(capsys):
    from helpers.check import nb04

    # REWARDS: best fixed arm 1 misses on visits 0 and 3, where another arm hits -> 2 of 4
    assert nb04.exercise_1(0.5, REWARDS)
    assert not nb04.exercise_1(2, REWARDS)
    # round robin plays arms 0, 1, 2, 0: rewards 1 + 1 + 0 + 1 = 3; best fixed total 4
    assert nb04.exercise_2(1.0, REWARDS)
    assert not nb04.exercise_2(-1.0, REWARDS)
    assert not nb04.exercise_1(0.5, "not a matrix")
    data = nb04.inputs_for_exercise_3()
    theta = np.linalg.solve(data["A"], data["b"])
    assert nb04.exercise_3(theta @ data["x"] + data["alpha"] * np.sqrt(data["x"] @ np.linalg.solve(data["A"], data["x"])))
    assert not nb04.exercise_3(theta @ data["x"])
    ex4 = nb04.inputs_for_exercise_4()
    pi = np.exp(ex4["logits"]) / np.exp(ex4["logits"]).sum()
    assert nb04.exercise_4((ex4["reward"] - ex4["baseline"]) * (np.eye(4)[ex4["arm"]] - pi))
    assert not nb04.exercise_4(ex4["reward"] * (np.eye(4)[ex4["arm"]] - pi))
    assert "not yet" in capsys.readouterr().out
