"""Tests of the regret section of helpers.metrics, on fixtures small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.metrics import (
    lai_robbins_bound,
    lai_robbins_constant,
    regret_summary,
    ucb1_upper_bound,
    uniform_regret,
)

# Three runs, two rounds: the cumulative regret of each run at t = 1 and t = 2.
CUMULATIVE = np.array([[0.0, 1.0, 2.0],
                       [1.0, 3.0, 5.0]])


def test_regret_summary_mean_band():
    mean, low, high = regret_summary(CUMULATIVE, level=0.95)
    np.testing.assert_allclose(mean, [1.0, 3.0])
    # sample sd (ddof 1) is 1 and 2; z(0.975) = 1.959964; half-width z sd / sqrt(3)
    half = 1.959964 * np.array([1.0, 2.0]) / math.sqrt(3)
    np.testing.assert_allclose(high - mean, half, rtol=1e-6)
    np.testing.assert_allclose(mean - low, half, rtol=1e-6)


def test_regret_summary_run_quantiles():
    mean, low, high = regret_summary(CUMULATIVE, level=0.5, kind="runs")
    # quartiles of (0, 1, 2) are 0.5 and 1.5; of (1, 3, 5) are 2 and 4 (linear interpolation)
    np.testing.assert_allclose(low, [0.5, 2.0])
    np.testing.assert_allclose(high, [1.5, 4.0])


def test_regret_summary_checks_arguments():
    with pytest.raises(ValueError, match=r"\(T, R\)"):
        regret_summary(np.zeros(5))
    with pytest.raises(ValueError, match="level"):
        regret_summary(CUMULATIVE, level=1.0)
    with pytest.raises(ValueError, match="kind"):
        regret_summary(CUMULATIVE, kind="median")
    with pytest.raises(ValueError, match="2 runs"):
        regret_summary(CUMULATIVE[:, :1])


def test_lai_robbins_constant_by_hand():
    # gap 0.25, kl(0.25, 0.5) = 0.25 ln 0.5 + 0.75 ln 1.5 = 0.1308120: C = 0.25 / 0.1308120
    assert lai_robbins_constant([0.5, 0.25]) == pytest.approx(1.911139, rel=1e-6)
    # a second copy of the bad arm doubles C; a copy of the best arm adds nothing
    assert lai_robbins_constant([0.5, 0.25, 0.25, 0.5]) == pytest.approx(2 * 1.911139, rel=1e-6)
    assert lai_robbins_constant([1.0, 0.3]) == 0.0  # kl(0.3, 1) is infinite
    assert lai_robbins_constant([0.4, 0.4]) == 0.0
    bound = lai_robbins_bound([0.5, 0.25], horizon=100)
    assert bound.shape == (100,) and bound[0] == 0.0
    assert bound[-1] == pytest.approx(1.911139 * math.log(100), rel=1e-6)


def test_lai_robbins_grows_as_gaps_shrink():
    """Near-ties dominate: (mu* - mu) / kl(mu, mu*) is about 2 mu* (1 - mu*) / gap."""
    c_small = lai_robbins_constant([0.010, 0.009])
    assert c_small == pytest.approx(2 * 0.01 * 0.99 / 0.001, rel=0.1)
    assert c_small > 5 * lai_robbins_constant([0.010, 0.004])


def test_ucb1_upper_bound_by_hand():
    bound = ucb1_upper_bound([0.9, 0.5, 0.5], horizon=10)
    # 8 (1/0.4 + 1/0.4) ln n + (1 + pi^2/3) (0.4 + 0.4)
    expected = 40.0 * np.log(np.arange(1, 11)) + (1 + math.pi**2 / 3) * 0.8
    np.testing.assert_allclose(bound, expected)


def test_uniform_regret_and_argument_checks():
    np.testing.assert_allclose(uniform_regret([0.3, 0.1], 3), [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="horizon"):
        lai_robbins_bound([0.5, 0.2], horizon=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        lai_robbins_constant([1.5, 0.2])
    with pytest.raises(ValueError, match="at least 2"):
        ucb1_upper_bound([0.5], horizon=3)
