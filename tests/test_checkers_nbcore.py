"""The checkers of notebooks 00, 01, 02, 06 and 07: the right answer passes, so does the answer
rounded to 3 significant figures, a typical mistake gets its own message and a wrong answer fails."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import bandits, cleaning, data, ope, slate_bandits, tables
from helpers.check import nb00, nb01, nb02, nb06, nb07


def _sf3(x):
    return float(f"{x:.3g}")


def _verdicts(capsys, checker, right, rounded, mistake, message, wrong):
    assert checker(right)
    assert checker(rounded)
    capsys.readouterr()
    assert not checker(mistake)
    assert message in capsys.readouterr().out
    assert not checker(wrong)
    assert not checker(float("nan"))


def test_nb00(capsys):
    retail = data.load_online_retail(download=False)
    known = retail[data.CUSTOMER]
    _verdicts(capsys, nb00.exercise_1, known.nunique(), np.int64(known.nunique()), known.nunique(dropna=False),
              "not a customer", 4_370)
    rate = data.load_open_bandit("random", "men").rewards.mean()
    _verdicts(capsys, nb00.exercise_2, rate, _sf3(rate), 100 * rate, "percentage", 0.5)
    share = known.isna().groupby(retail[data.COUNTRY]).size().max() / len(retail)
    _verdicts(capsys, nb00.exercise_3, share, _sf3(share), 100 * share, "percentage", round(share, 1))
    purchases = retail[known.notna() & ~retail[data.INVOICE].str.startswith("C")]
    months = purchases[data.INVOICE_DATE].dt.to_period("M").groupby(purchases[data.CUSTOMER]).nunique()
    repeat = (months >= 2).sum() / known.nunique()
    _verdicts(capsys, nb00.exercise_4, repeat, _sf3(repeat), (months >= 2).mean(), "wrong denominator", 0.5)
    whole_year = purchases[data.INVOICE_DATE].dt.month.groupby(purchases[data.CUSTOMER]).nunique()
    assert not nb00.exercise_4((whole_year >= 2).sum() / known.nunique())
    assert "December" in capsys.readouterr().out


def test_nb01(capsys):
    raw = data.load_online_retail(download=False)
    value = cleaning.line_revenue(raw)
    missing = raw[data.CUSTOMER].isna()
    share = value[missing].sum() / value.sum()
    _verdicts(capsys, nb01.exercise_1, share, _sf3(share), 1 - share, "WITH a CustomerID", 0.2)
    course = tables.load_course_tables()
    mean_new = tables.discovery_visits(course, "valid")[tables.N_TARGETS].mean()
    test_mean = tables.discovery_visits(course, "test")[tables.N_TARGETS].mean()
    _verdicts(capsys, nb01.exercise_3, mean_new, round(mean_new, 1), test_mean, "test month", mean_new + 0.5)
    repeated = raw.duplicated()
    dup_share = value[repeated].sum() / value.sum()
    right = (int(repeated.sum()), dup_share)
    assert nb01.exercise_4(right) and nb01.exercise_4(np.array([repeated.sum(), _sf3(dup_share)]))
    capsys.readouterr()
    assert not nb01.exercise_4((int(raw.duplicated(keep=False).sum()), dup_share))
    assert "first one too" in capsys.readouterr().out
    assert not nb01.exercise_4((int(repeated.sum()), 100 * dup_share))
    assert "percentage" in capsys.readouterr().out
    assert not nb01.exercise_4((5_222, dup_share)) and not nb01.exercise_4((int(repeated.sum()), float("nan")))
    assert not nb01.exercise_4(5_268)


def test_nb02(capsys):
    means, counts, t = nb02.inputs_for_exercise_1()
    index = bandits.ucb1_index(means, counts, t)
    with np.errstate(divide="ignore"):
        log10 = np.where(counts > 0, means + np.sqrt(2 * np.log10(t) / counts), np.inf)
    _verdicts(capsys, nb02.exercise_1, index, np.array([float(f"{x:.3g}") for x in index]), log10, "natural",
              np.zeros(4))
    arms, clicks = nb02.inputs_for_exercise_2()
    a, b = np.bincount(arms, clicks, 3), np.bincount(arms, 1 - clicks, 3)
    _verdicts(capsys, nb02.exercise_2, (1 + a, 1 + b), [list(1 + a), list(1 + b)], (a, b), "Beta(1, 1)", (b, a))
    d = nb02.inputs_for_exercise_3()
    pi = bandits.softmax(d["preferences"][None, :])[0]
    step = d["step_size"] * (d["reward"] - d["baseline"]) * (np.eye(4)[d["arm"]] - pi)
    no_baseline = d["preferences"] + d["step_size"] * d["reward"] * (np.eye(4)[d["arm"]] - pi)
    _verdicts(capsys, nb02.exercise_3, d["preferences"] + step, np.array([_sf3(x) for x in d["preferences"] + step]), no_baseline,
              "baseline", d["preferences"])
    rates = nb02._men_click_rates()
    c, gap = bandits_constant(rates), np.mean(rates.max() - rates)
    grid = np.arange(2, 1_000_000)
    crossing = int(grid[np.argmax(c * np.log(grid) < gap * grid)])
    _verdicts(capsys, nb02.exercise_4, crossing, 178_000, nb02._crossover_horizon(rates, log=math.log10),
              "natural", 10_000)


def bandits_constant(rates):
    from helpers import metrics

    return metrics.lai_robbins_constant(rates)


def _kl_interval(mean, count, t):
    upper = bandits.klucb_index([mean], [count], t)[0]
    lower = 1 - bandits.klucb_index([1 - mean], [count], t)[0]
    return lower, upper


def test_nb02_exercise_5(capsys):
    assert nb02.exercise_5(_kl_interval)
    assert nb02.exercise_5(lambda m, n, t: tuple(float(f"{x:.3g}") for x in _kl_interval(m, n, t)))
    capsys.readouterr()
    assert not nb02.exercise_5(lambda m, n, t: _kl_interval(m, n, t)[::-1])
    assert "lower end first" in capsys.readouterr().out
    assert not nb02.exercise_5(lambda m, n, t: (m, _kl_interval(m, n, t)[1]))
    assert "not the mean itself" in capsys.readouterr().out
    assert not nb02.exercise_5(lambda m, n, t: (0.0, 1.0))
    assert "First wrong case" in capsys.readouterr().out
    assert not nb02.exercise_5(lambda m, n, t: (float("nan"), float("nan")))
    assert not nb02.exercise_5(lambda m, n, t: None)
    assert capsys.readouterr().out.strip().endswith("No answer given yet.")


def test_nb06(capsys):
    weights, rewards = nb06._bts_target_weights("men")
    ess = ope.effective_sample_size(weights)
    _verdicts(capsys, nb06.exercise_1, ess, _sf3(ess), ess / len(weights), "share", 10_000)
    logs = data.load_open_bandit("bts", "all")
    reverse = np.mean(logs.rewards / logs.n_actions / logs.pscores)
    _verdicts(capsys, nb06.exercise_2, reverse, _sf3(reverse), logs.rewards.mean(), "BTS's own", 0.01)
    weights, rewards = nb06._bts_target_weights("all")
    clipped = np.mean(np.minimum(weights, 5.0) * rewards)
    _verdicts(capsys, nb06.exercise_3, clipped, _sf3(clipped), np.mean(weights * rewards), "plain IPS", 0.01)


def _clipped_dr(actions, rewards, pscores, action_dist, positions, qhat, clip):
    w = ope.importance_weights(actions, pscores, action_dist, positions)
    error = rewards - qhat[np.arange(len(actions)), actions]
    return ope.direct_method(action_dist, qhat, positions) + float(np.mean(np.minimum(w, clip) * error))


def test_nb06_exercise_4(capsys):
    assert nb06.exercise_4(_clipped_dr)
    assert nb06.exercise_4(lambda **kw: _sf3(_clipped_dr(**kw)))
    inputs = nb06.inputs_for_exercise_4()
    assert np.isclose(_clipped_dr(**inputs, clip=np.inf),
                      ope.doubly_robust(inputs["actions"], inputs["rewards"], inputs["pscores"], inputs["action_dist"],
                                        inputs["qhat"], inputs["positions"]), rtol=1e-12)
    capsys.readouterr()

    def clipped_ips(actions, rewards, pscores, action_dist, positions, qhat, clip):
        return float(np.mean(np.minimum(ope.importance_weights(actions, pscores, action_dist, positions), clip) * rewards))

    assert not nb06.exercise_4(clipped_ips)
    assert "clipped IPS" in capsys.readouterr().out
    assert not nb06.exercise_4(lambda clip, **kw: _clipped_dr(**kw, clip=np.inf))
    assert "cap does not act" in capsys.readouterr().out
    assert not nb06.exercise_4(lambda **kw: 0.01) and not nb06.exercise_4(lambda **kw: float("nan"))
    assert not nb06.exercise_4(lambda **kw: None)
    assert capsys.readouterr().out.strip().endswith("No answer given yet.")


def test_nb07(capsys):
    ex = nb07.inputs_for_exercise_2()
    right = slate_bandits.pseudo_inverse(ex["rewards"], ex["target"], ex["logging"]).mean()
    summed = np.mean(ex["rewards"] * (ex["target"] / ex["logging"]).sum(axis=1))
    _verdicts(capsys, nb07.exercise_2, right, _sf3(right), summed, "constant term", 0.5)


@pytest.mark.parametrize("module", [nb00, nb01, nb02, nb06, nb07])
def test_no_hint_before_an_attempt(module, capsys):
    for name in sorted(n for n in dir(module) if n.startswith("exercise_")):
        checker = getattr(module, name)
        extra = checker.__code__.co_argcount - len(checker.__defaults__ or ()) - 1
        assert not checker(None, *([None] * extra))
        assert capsys.readouterr().out.strip().endswith("not yet. No answer given yet."), name
