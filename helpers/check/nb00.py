"""Checkers for the exercises of notebook 00 (setup and roadmap)."""

from __future__ import annotations

from helpers import data
from helpers.check import Verdict, is_close, report


def exercise_1(n_customers) -> Verdict:
    """Number of distinct known customers (non-null CustomerID) in the raw Online Retail table."""
    expected = data.load_online_retail(download=False)[data.CUSTOMER].nunique()
    return report(is_close(n_customers, expected, rtol=0, atol=0), "Exercise 1",
                  "Count distinct values of the CustomerID column; nunique() ignores missing values.")


def exercise_2(click_rate) -> Verdict:
    """Click rate of the uniform-random policy on the 'men' campaign of the Open Bandit Dataset."""
    expected = data.load_open_bandit("random", "men").rewards.mean()
    return report(is_close(click_rate, expected, rtol=1e-9), "Exercise 2",
                  "Load the logs with load_open_bandit('random', 'men') and average the rewards (clicks).")


def exercise_3(busiest_country_share) -> Verdict:
    """Share of raw transaction lines (0-1) from the country with the most lines."""
    countries = data.load_online_retail(download=False)[data.COUNTRY]
    expected = countries.value_counts(normalize=True).iloc[0]
    hint = "Use value_counts(normalize=True) on the Country column; the answer is a fraction, not a percentage."
    return report(is_close(busiest_country_share, expected, rtol=1e-6), "Exercise 3", hint)
