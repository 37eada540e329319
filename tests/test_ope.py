"""Off-policy estimators (helpers.ope): hand-computed fixtures, unbiasedness on synthetic logs with a
known truth, the algebraic identities between estimators, bootstrap intervals and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsRegressor

from helpers import ope

# A four-round, two-action fixture whose estimates can be checked by hand.
ACTIONS = np.array([0, 1, 0, 1])
REWARDS = np.array([1.0, 0.0, 0.0, 1.0])
PSCORES = np.array([0.5, 0.5, 0.25, 0.75])
TARGET = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.2, 0.8]])
QHAT = np.array([[0.5, 0.2], [0.1, 0.3], [0.4, 0.4], [0.0, 1.0]])
# weights w = [1/0.5, 0.5/0.5, 0/0.25, 0.8/0.75] = [2, 1, 0, 16/15]
IPS_HAND = (2 * 1 + 1 * 0 + 0 * 0 + 16 / 15 * 1) / 4
SNIPS_HAND = (2 + 16 / 15) / (2 + 1 + 0 + 16 / 15)
DM_HAND = (0.5 + (0.5 * 0.1 + 0.5 * 0.3) + 0.4 + 0.8) / 4
DR_HAND = DM_HAND + (2 * (1 - 0.5) + 1 * (0 - 0.3) + 0 + 16 / 15 * (1 - 1.0)) / 4


def test_hand_fixture():
    assert ope.importance_weights(ACTIONS, PSCORES, TARGET) == pytest.approx([2, 1, 0, 16 / 15])
    assert ope.ips(ACTIONS, REWARDS, PSCORES, TARGET) == pytest.approx(IPS_HAND)
    assert ope.snips(ACTIONS, REWARDS, PSCORES, TARGET) == pytest.approx(SNIPS_HAND)
    assert ope.direct_method(TARGET, QHAT) == pytest.approx(DM_HAND)
    assert ope.doubly_robust(ACTIONS, REWARDS, PSCORES, TARGET, QHAT) == pytest.approx(DR_HAND)
    assert ope.target_probabilities(ACTIONS, TARGET) == pytest.approx([1.0, 0.5, 0.0, 0.8])


@pytest.mark.parametrize("name", ope.ESTIMATORS)
def test_round_terms_reproduce_the_estimators(name):
    num, den = ope.round_terms(name, ACTIONS, REWARDS, PSCORES, TARGET, estimated_rewards=QHAT)
    expected = {"ips": IPS_HAND, "snips": SNIPS_HAND, "dm": DM_HAND, "dr": DR_HAND}[name]
    assert num.sum() / den.sum() == pytest.approx(expected)
    table = ope.evaluate(ACTIONS, REWARDS, PSCORES, TARGET, estimated_rewards=QHAT,
                         rng=np.random.default_rng(0), n_bootstrap=50)
    assert table.loc[name.upper(), "estimate"] == pytest.approx(expected)


def test_slot_axis_uses_the_logged_slot():
    # Slot 0 of the target always shows action 1, slot 1 always action 0.
    target = np.zeros((4, 2, 2))
    target[:, 1, 0] = 1.0
    target[:, 0, 1] = 1.0
    positions = np.array([0, 0, 1, 1])
    # rounds: (a=0, slot 0) no match; (a=1, slot 0) match; (a=0, slot 1) match; (a=1, slot 1) no match
    weights = ope.importance_weights(ACTIONS, PSCORES, target, positions)
    assert weights == pytest.approx([0.0, 1 / 0.5, 1 / 0.25, 0.0])
    assert ope.ips(ACTIONS, REWARDS, PSCORES, target, positions) == pytest.approx((0 + 0 + 0 + 0) / 4)
    qhat = np.stack([QHAT, 1 - QHAT], axis=2)  # (4, 2, 2), different per slot
    full = ope.doubly_robust(ACTIONS, REWARDS, PSCORES, target, qhat, positions)
    at_logged = qhat[np.arange(4), :, positions]  # (4, 2): the model at each round's logged slot
    assert ope.doubly_robust(ACTIONS, REWARDS, PSCORES, target, at_logged, positions) == pytest.approx(full)
    manual = np.mean(np.sum(target[np.arange(4), :, positions] * at_logged, axis=1)
                     + weights * (REWARDS - at_logged[np.arange(4), ACTIONS]))
    assert full == pytest.approx(manual)
    with pytest.raises(ValueError, match="positions"):
        ope.ips(ACTIONS, REWARDS, PSCORES, target)


def test_ips_with_target_equal_to_logging_is_the_logged_mean(rng):
    logs = ope.make_synthetic_feedback(2000, 4, rng=rng)
    assert ope.importance_weights(logs.actions, logs.pscores, logs.logging_dist) == pytest.approx(1.0)
    assert ope.ips(logs.actions, logs.rewards, logs.pscores, logs.logging_dist) == pytest.approx(logs.rewards.mean())
    assert ope.snips(logs.actions, logs.rewards, logs.pscores, logs.logging_dist) == pytest.approx(logs.rewards.mean())


# --- unbiasedness over many logs of the same contexts ----------------------------------------


@pytest.fixture(scope="module")
def world():
    """Fixed contexts, true rewards and a logging policy that favours good actions."""
    base = ope.make_synthetic_feedback(400, 4, rng=np.random.default_rng(7), logging_skew=3.0)
    greedy_on_noise = np.argmax(base.context @ np.random.default_rng(8).standard_normal((3, 4)), axis=1)
    deterministic = np.eye(4)[greedy_on_noise]
    scores = np.random.default_rng(9).standard_normal((400, 4))
    stochastic = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return base, {"deterministic": deterministic, "stochastic": stochastic}


def _repeat(world, target, n_logs=600, seed=0):
    base, _ = world
    rng = np.random.default_rng(seed)
    wrong_model = np.full_like(base.expected_rewards, 0.5)
    out = {"ips": [], "dr_wrong": [], "dr_exact": [], "naive": []}
    for _ in range(n_logs):
        actions, rewards, pscores = ope.sample_logs(base.expected_rewards, base.logging_dist, rng=rng)
        out["ips"].append(ope.ips(actions, rewards, pscores, target))
        out["dr_wrong"].append(ope.doubly_robust(actions, rewards, pscores, target, wrong_model))
        out["dr_exact"].append(ope.doubly_robust(actions, rewards, pscores, target, base.expected_rewards))
        chosen = np.argmax(target, axis=1)  # the target's most likely action
        match = actions == chosen
        out["naive"].append(rewards[match].mean())
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("kind", ["deterministic", "stochastic"])
def test_ips_and_dr_are_unbiased(world, kind):
    base, targets = world
    target = targets[kind]
    truth = ope.policy_value(target, base.expected_rewards)
    runs = _repeat(world, target)
    for name in ("ips", "dr_wrong", "dr_exact"):
        values = runs[name]
        standard_error = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - truth) < 4 * standard_error, (name, values.mean(), truth, standard_error)
    # An exact reward model keeps DR unbiased and less noisy than IPS or DR with a wrong model.
    assert runs["dr_exact"].std() < min(runs["ips"].std(), runs["dr_wrong"].std())


def test_naive_matching_average_is_biased(world):
    """The same test detects bias: averaging the rows where the log agrees with the target is off."""
    base, targets = world
    target = targets["deterministic"]
    truth = ope.policy_value(target, base.expected_rewards)
    naive = _repeat(world, target, n_logs=300)["naive"]
    standard_error = naive.std(ddof=1) / np.sqrt(len(naive))
    assert abs(naive.mean() - truth) > 6 * standard_error


# --- identities -----------------------------------------------------------------------------


def test_snips_weights_normalise(rng):
    logs = ope.make_synthetic_feedback(500, 5, rng=rng)
    target = ope.broadcast_policy(np.full(5, 0.2), 500)
    ones = np.ones(500)
    assert ope.snips(logs.actions, ones, logs.pscores, target) == pytest.approx(1.0)
    assert ope.snips(logs.actions, 0.3 * ones, logs.pscores, target) == pytest.approx(0.3)
    num, den = ope.round_terms("snips", logs.actions, logs.rewards, logs.pscores, target)
    assert np.sum(den / den.sum()) == pytest.approx(1.0)
    # Self-normalisation cancels a common error in the propensities; plain IPS does not.
    halved = ope.snips(logs.actions, logs.rewards, logs.pscores * 0.5, target)
    assert halved == pytest.approx(ope.snips(logs.actions, logs.rewards, logs.pscores, target))
    assert ope.ips(logs.actions, logs.rewards, logs.pscores * 0.5, target) == pytest.approx(
        2 * ope.ips(logs.actions, logs.rewards, logs.pscores, target))


def test_dr_equals_dm_with_an_exact_model_and_ips_with_a_zero_model(rng):
    logs = ope.make_synthetic_feedback(300, 3, rng=rng)
    target = np.eye(3)[rng.integers(0, 3, 300)]
    q = logs.expected_rewards
    deterministic_rewards = q[np.arange(300), logs.actions]  # r_i = q(x_i, a_i) exactly
    dr = ope.doubly_robust(logs.actions, deterministic_rewards, logs.pscores, target, q)
    assert dr == pytest.approx(ope.direct_method(target, q), abs=1e-12)
    zero = np.zeros_like(q)
    assert ope.doubly_robust(logs.actions, logs.rewards, logs.pscores, target, zero) == pytest.approx(
        ope.ips(logs.actions, logs.rewards, logs.pscores, target), abs=1e-12)
    assert ope.direct_method(target, zero) == 0.0


def test_deterministic_target_on_uniform_logs_is_the_scaled_match_mean(rng):
    n, k = 1000, 4
    actions = rng.integers(0, k, n)
    rewards = (rng.random(n) < 0.3).astype(float)
    chosen = rng.integers(0, k, n)
    target = np.eye(k)[chosen]
    expected = k * np.mean(rewards * (actions == chosen))
    assert ope.ips(actions, rewards, np.full(n, 1 / k), target) == pytest.approx(expected)


# --- bootstrap and effective sample size --------------------------------------------------------


def test_bootstrap_is_reproducible_and_brackets_the_estimate(rng):
    values = rng.random(400)
    a = ope.bootstrap_interval(values, rng=np.random.default_rng(3), n_bootstrap=300)
    b = ope.bootstrap_interval(values, rng=np.random.default_rng(3), n_bootstrap=300)
    assert a == b
    assert a[0] < values.mean() < a[1]
    narrow = ope.bootstrap_interval(values, rng=np.random.default_rng(3), n_bootstrap=300, level=0.5)
    assert a[0] < narrow[0] < narrow[1] < a[1]


def test_bootstrap_covers_the_truth_about_as_often_as_promised():
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(200):
        sample = rng.exponential(1.0, 300)  # true mean 1
        low, high = ope.bootstrap_interval(sample, rng=rng, n_bootstrap=200, level=0.9)
        hits += low <= 1.0 <= high
    assert 0.8 <= hits / 200 <= 0.97


def test_bootstrap_of_a_ratio():
    num = np.array([1.0, 0.0, 2.0, 0.0])
    den = np.array([1.0, 1.0, 2.0, 2.0])
    low, high = ope.bootstrap_interval(num, den, rng=np.random.default_rng(0), n_bootstrap=500)
    assert 0.0 <= low <= num.sum() / den.sum() <= high <= 1.0


def test_effective_sample_size():
    assert ope.effective_sample_size(np.full(50, 3.0)) == pytest.approx(50)
    assert ope.effective_sample_size(np.r_[5.0, np.zeros(49)]) == pytest.approx(1)
    assert ope.effective_sample_size(np.zeros(5)) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        ope.effective_sample_size([1.0, -1.0])


# --- target policies -------------------------------------------------------------------------


def test_slot_frequencies_and_broadcast():
    freq = ope.slot_frequencies([0, 1, 1, 2, 0], [0, 0, 1, 1, 1], n_actions=3, len_list=2)
    assert freq == pytest.approx(np.array([[0.5, 1 / 3], [0.5, 1 / 3], [0.0, 1 / 3]]))
    view = ope.broadcast_policy(freq, 7)
    assert view.shape == (7, 3, 2) and not view.flags.writeable
    with pytest.raises(ValueError, match="never appear"):
        ope.slot_frequencies([0, 1], [0, 0], n_actions=2, len_list=2)
    with pytest.raises(ValueError, match="sum to 1"):
        ope.broadcast_policy([0.5, 0.6], 3)


def test_topk_action_dist_and_marginals():
    scores = np.array([[0.1, 0.9, 0.5], [0.2, 0.2, 0.1]])
    dist = ope.topk_action_dist(scores, 2)
    assert dist.shape == (2, 3, 2)
    assert dist[0, :, 0].tolist() == [0, 1, 0] and dist[0, :, 1].tolist() == [0, 0, 1]
    assert dist[1, :, 0].tolist() == [1, 0, 0] and dist[1, :, 1].tolist() == [0, 1, 0]  # ties: lower index first
    fixed = ope.topk_marginals(np.tile([0.3, 0.1, 0.7], (5, 1)), 2)
    assert fixed.tolist() == [[0, 1], [0, 0], [1, 0]]
    uniform = ope.topk_marginals(np.random.default_rng(0).random((20000, 4)), 3)
    assert uniform.sum(axis=0) == pytest.approx(1.0)
    assert uniform == pytest.approx(np.full((4, 3), 0.25), abs=0.02)
    with pytest.raises(ValueError, match="len_list"):
        ope.topk_action_dist(scores, 4)


# --- reward models ---------------------------------------------------------------------------


def test_cross_fitted_logistic_model_recovers_the_rewards(rng):
    logs = ope.make_synthetic_feedback(3000, 3, rng=rng, base_rate=0.3)

    def features_fn(rows, actions, positions=None):
        """The true model's features: an intercept per action and context x action interactions."""
        onehot = np.eye(3)[actions]
        return np.hstack([onehot, (logs.context[rows][:, :, None] * onehot[:, None, :]).reshape(len(rows), -1)])

    qhat = ope.cross_fit_rewards(LogisticRegression(C=10.0, max_iter=2000), features_fn, logs.actions, logs.rewards,
                                 n_actions=3, n_folds=3, rng=np.random.default_rng(1))
    assert qhat.shape == (3000, 3)
    assert np.corrcoef(qhat.ravel(), logs.expected_rewards.ravel())[0, 1] > 0.9


def test_cross_fitting_keeps_a_round_out_of_its_own_model(rng):
    n = 200
    actions = rng.integers(0, 2, n)
    rewards = rng.random(n)
    memorise = ope.ContextActionFeatures(np.arange(n, dtype=float)[:, None] * 10, np.eye(2))
    one = ope.cross_fit_rewards(KNeighborsRegressor(n_neighbors=1), memorise, actions, rewards,
                                n_actions=2, n_folds=1, rng=np.random.default_rng(0))
    assert one[np.arange(n), actions] == pytest.approx(rewards)  # fitted on itself: memorised
    five = ope.cross_fit_rewards(KNeighborsRegressor(n_neighbors=1), memorise, actions, rewards,
                                 n_actions=2, n_folds=5, rng=np.random.default_rng(0))
    assert not np.any(np.isclose(five[np.arange(n), actions], rewards))


def test_reward_model_slots_and_sparse_features(rng):
    n, k, slots = 600, 4, 3
    context = np.eye(3)[rng.integers(0, 3, n)]
    actions, positions = rng.integers(0, k, n), rng.integers(0, slots, n)
    rewards = (rng.random(n) < 0.2 + 0.1 * positions).astype(float)
    dense = ope.ContextActionFeatures(context, np.eye(k), slots, rng.random((n, k)))
    sparse = ope.ContextActionFeatures(dense.context, dense.action_features, slots, dense.pair_features, sparse=True)
    assert np.allclose(sparse(np.arange(5), actions[:5], positions[:5]).toarray(),
                       dense(np.arange(5), actions[:5], positions[:5]))
    model = LogisticRegression(max_iter=500)
    full = ope.cross_fit_rewards(model, sparse, actions, rewards, positions, n_actions=k, len_list=slots,
                                 all_slots=True, rng=np.random.default_rng(0))
    logged = ope.cross_fit_rewards(model, sparse, actions, rewards, positions, n_actions=k, len_list=slots,
                                   rng=np.random.default_rng(0))
    assert full.shape == (n, k, slots) and logged.shape == (n, k)
    assert logged == pytest.approx(full[np.arange(n), :, positions])
    assert full[:, :, 2].mean() > full[:, :, 0].mean()  # the slot effect is learned
    with pytest.raises(ValueError, match="positions"):
        ope.cross_fit_rewards(model, sparse, actions, rewards, n_actions=k, len_list=slots, rng=rng)


def test_synthetic_feedback_is_consistent(rng):
    logs = ope.make_synthetic_feedback(1000, 6, rng=rng)
    rows = np.arange(1000)
    assert np.allclose(logs.logging_dist.sum(axis=1), 1) and logs.logging_dist.min() > 0
    assert logs.pscores == pytest.approx(logs.logging_dist[rows, logs.actions])
    assert set(np.unique(logs.rewards)) <= {0.0, 1.0}
    # logging favours good actions, so the logged mean beats the uniform policy's value
    assert logs.rewards.mean() > logs.expected_rewards.mean()


# --- bad inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pscores": np.array([0.5, 0.0, 0.25, 0.75])}, "zero propensity"),
        ({"pscores": np.array([0.5, np.nan, 0.25, 0.75])}, "missing"),
        ({"pscores": np.array([0.5, 1.5, 0.25, 0.75])}, r"\(0, 1\]"),
        ({"pscores": PSCORES[:3]}, "pscores has 3 rounds"),
        ({"rewards": np.array([1.0, 0.0, 2.0, 1.0])}, "reward_range"),
        ({"rewards": REWARDS[:, None]}, "1-D"),
        ({"actions": np.array([0, 1, 0, 2])}, r"actions must be integers in \[0, 2\)"),
        ({"actions": np.array([0.0, 1.5, 0.0, 1.0])}, "integers"),
        ({"action_dist": TARGET[:3]}, "3 rounds"),
        ({"action_dist": TARGET * 0.9}, "sum to 1"),
        ({"action_dist": np.array([[1.5, -0.5]] * 4)}, "non-negative"),
        ({"action_dist": np.ones(4)}, "shape"),
        ({"positions": np.array([0, 0, 1])}, "positions has 3 rounds"),
    ],
)
def test_bad_inputs_are_refused_clearly(change, message):
    kwargs = {"actions": ACTIONS, "rewards": REWARDS, "pscores": PSCORES, "action_dist": TARGET}
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        ope.ips(**kwargs)


def test_bad_inputs_of_model_based_estimators_and_bootstrap():
    with pytest.raises(ValueError, match="estimated_rewards is required"):
        ope.doubly_robust(ACTIONS, REWARDS, PSCORES, TARGET, None)
    with pytest.raises(ValueError, match="estimated_rewards is required"):
        ope.round_terms("dm", ACTIONS, REWARDS, PSCORES, TARGET)
    with pytest.raises(ValueError, match="must be"):
        ope.direct_method(TARGET, QHAT[:, :1])
    with pytest.raises(ValueError, match="empty"):
        ope.ips([], [], [], np.zeros((0, 2)))
    with pytest.raises(ValueError, match="estimator must be one of"):
        ope.round_terms("switch", ACTIONS, REWARDS, PSCORES, TARGET)
    with pytest.raises(ValueError, match="every importance weight is zero"):
        ope.snips(ACTIONS, REWARDS, PSCORES, np.tile([0.0, 1.0], (4, 1)) * (ACTIONS == 0)[:, None]
                  + np.tile([1.0, 0.0], (4, 1)) * (ACTIONS == 1)[:, None])
    with pytest.raises(TypeError, match="Generator"):
        ope.bootstrap_interval(REWARDS, rng=0)
    with pytest.raises(ValueError, match="level"):
        ope.bootstrap_interval(REWARDS, rng=np.random.default_rng(0), level=1.5)
    with pytest.raises(ValueError, match="pair_features"):
        ope.ContextActionFeatures(np.zeros((4, 2)), np.eye(2), pair_features=np.zeros((4, 3)))
    # rewards outside [0, 1] are allowed once the range is widened explicitly
    assert ope.ips(ACTIONS, REWARDS * 5, PSCORES, TARGET, reward_range=(0, 5)) == pytest.approx(5 * IPS_HAND)


@pytest.mark.parametrize(("successes", "trials", "level"),
                         [(0, 147, 0.95), (1, 147, 0.95), (26, 5000, 0.95), (7, 7, 0.9), (3, 10, 0.99), (0, 1, 0.5)])
def test_exact_binomial_interval_matches_scipy(successes, trials, level):
    from scipy.stats import beta, binomtest

    low, high = ope.exact_binomial_interval(successes, trials, level=level)
    reference = binomtest(successes, trials).proportion_ci(confidence_level=level, method="exact")  # scipy >= 1.7
    assert low == pytest.approx(reference.low, rel=1e-9, abs=1e-12)
    assert high == pytest.approx(reference.high, rel=1e-9, abs=1e-12)
    alpha = 1 - level
    if 0 < successes:
        assert low == pytest.approx(beta.ppf(alpha / 2, successes, trials - successes + 1), rel=1e-12)
    if successes < trials:
        assert high == pytest.approx(beta.ppf(1 - alpha / 2, successes + 1, trials - successes), rel=1e-12)
    assert 0 <= low <= successes / trials <= high <= 1


def test_exact_binomial_interval_with_no_success_by_hand():
    # P(0 successes in n | p) = (1 - p)^n = alpha / 2 at the upper bound: p = 1 - (alpha / 2)^(1/n)
    low, high = ope.exact_binomial_interval(0, 147, level=0.95)
    assert low == 0.0
    assert high == pytest.approx(1 - 0.025 ** (1 / 147), rel=1e-10)
    assert 3 / 147 < high < 4 / 147  # above the one-sided rule of three
    assert ope.exact_binomial_interval(5, 5, level=0.95) == pytest.approx((0.025 ** (1 / 5), 1.0), rel=1e-10)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"successes": 3, "trials": 0}, ValueError, "trials must be at least 1, got 0"),
    ({"successes": 5, "trials": 4}, ValueError, "successes must be at most 4, got 5"),
    ({"successes": -1, "trials": 4}, ValueError, "successes must be at least 0, got -1"),
    ({"successes": 1.5, "trials": 4}, TypeError, "successes must be an integer"),
    ({"successes": True, "trials": 4}, TypeError, "successes must be an integer"),
    ({"successes": 1, "trials": 4, "level": 1.0}, ValueError, "level must be in"),
    ({"successes": 1, "trials": 4, "level": 0.0}, ValueError, "level must be a finite positive number"),
    ({"successes": 1, "trials": 4, "level": float("nan")}, ValueError, "level must be a finite positive number"),
])
def test_exact_binomial_interval_refuses_bad_inputs(kwargs, error, message):
    with pytest.raises(error, match=message):
        ope.exact_binomial_interval(**kwargs)


# --- cluster (customer) bootstrap ----------------------------------------------------------------


def test_cluster_bootstrap_with_one_round_per_group_is_the_round_bootstrap(rng):
    values = rng.normal(size=200)
    plain = ope.bootstrap_interval(values, rng=np.random.default_rng(5), n_bootstrap=300)
    labels = rng.permutation(1000)[:200]  # distinct, unsorted labels: still one round per group
    grouped = ope.bootstrap_interval(values, rng=np.random.default_rng(5), n_bootstrap=300, groups=labels)
    assert grouped == plain


def test_cluster_bootstrap_of_a_hand_case():
    # two groups: a with rounds (1, 3), b with round (10,). Mean over rounds per replicate:
    # {a, a} -> 2, {a, b} or {b, a} -> 14 / 3, {b, b} -> 10; so the interval spans 2 to 10.
    low, high = ope.bootstrap_interval([1.0, 10.0, 3.0], groups=["a", "b", "a"],
                                       rng=np.random.default_rng(0), n_bootstrap=2000, level=0.9)
    assert low == pytest.approx(2.0) and high == pytest.approx(10.0)


def test_cluster_bootstrap_is_wider_when_rounds_of_a_group_move_together():
    rng = np.random.default_rng(11)
    n_groups, size = 150, 8
    groups = np.repeat(np.arange(n_groups), size)
    values = np.repeat(rng.normal(size=n_groups), size) + 0.3 * rng.normal(size=n_groups * size)
    low, high = ope.bootstrap_interval(values, rng=np.random.default_rng(1), n_bootstrap=400)
    c_low, c_high = ope.bootstrap_interval(values, rng=np.random.default_rng(1), n_bootstrap=400, groups=groups)
    assert (c_high - c_low) > 2 * (high - low)  # design effect about sqrt(1 + 7 * 0.92) ~ 2.7
    assert c_low < values.mean() < c_high


def test_cluster_bootstrap_keeps_the_pairing():
    # a paired difference that is constant within each group but varies across groups
    groups = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    a = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0])
    b = a - np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    low, high = ope.bootstrap_interval(a - b, groups=groups, rng=np.random.default_rng(0), n_bootstrap=100)
    assert low == pytest.approx(0.5) and high == pytest.approx(0.5)


def test_cluster_bootstrap_rejects_bad_groups():
    with pytest.raises(ValueError, match="groups must have shape"):
        ope.bootstrap_interval([1.0, 2.0, 3.0], groups=[0, 1], rng=np.random.default_rng(0), n_bootstrap=10)
    with pytest.raises(ValueError, match="missing"):
        ope.bootstrap_interval([1.0, 2.0], groups=np.array([0.0, np.nan]), rng=np.random.default_rng(0),
                               n_bootstrap=10)
