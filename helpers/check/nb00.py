"""Checkers for the exercises of notebook 00 (setup and roadmap).

Hints say what to think about, never the code: the stored outputs of the course notebook show
them to every student.
"""

from __future__ import annotations

from helpers import data
from helpers.check import Verdict, as_number, is_close, report

NO_ANSWER = "No answer given yet."


def exercise_1(n_customers) -> Verdict:
    """Number of distinct known customers (non-null CustomerID) in the raw Online Retail table."""
    if n_customers is None:
        return report(False, "Exercise 1", NO_ANSWER)
    expected = data.load_online_retail(download=False)[data.CUSTOMER].nunique()
    return report(is_close(n_customers, expected, rtol=0, atol=0), "Exercise 1",
                  "Which column identifies a customer, and what happens to the lines where it is missing? "
                  "A customer with many lines is still one customer.")


def exercise_2(click_rate) -> Verdict:
    """Click rate of the uniform-random policy on the 'men' campaign of the Open Bandit Dataset."""
    if click_rate is None:
        return report(False, "Exercise 2", NO_ANSWER)
    expected = data.load_open_bandit("random", "men").rewards.mean()
    return report(is_close(click_rate, expected, rtol=1e-9), "Exercise 2",
                  "A click rate is clicks per impression. Are these the logs of the right policy and campaign, "
                  "and what reward does one impression earn?")


def exercise_3(busiest_country_share) -> Verdict:
    """Share of raw transaction lines (0-1) from the country with the most lines (rounded to 3 digits is fine)."""
    if busiest_country_share is None:
        return report(False, "Exercise 3", NO_ANSWER)
    countries = data.load_online_retail(download=False)[data.COUNTRY]
    expected = countries.value_counts(normalize=True).iloc[0]
    hint = ("Count lines, not customers or invoices: which country has the most, and what fraction of all "
            "lines is that?")
    value = as_number(busiest_country_share)
    if value is None:
        hint = "Give one number, a fraction between 0 and 1."
    elif is_close(value, 100 * expected, rtol=1e-3):
        hint = "Give a fraction between 0 and 1, not a percentage."
    return report(is_close(busiest_country_share, expected, rtol=1e-3), "Exercise 3", hint)
