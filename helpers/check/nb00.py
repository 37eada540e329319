"""Checkers for the exercises of notebook 00 (setup and roadmap).

Each checker computes the right answer from the data (nothing is stored), prints a verdict and
returns a truthy :class:`helpers.check.Verdict` when the answer is right. Hints say what to think
about, never the code: the stored outputs of the course notebook show them to every student.
"""

from __future__ import annotations

import pandas as pd

from helpers import data
from helpers.check import Verdict, check_number, unanswered


def _retail() -> pd.DataFrame:
    return data.load_online_retail(download=False)


def exercise_1(n_customers) -> Verdict:
    """Number of distinct known customers (non-null CustomerID) in the raw Online Retail table (exact)."""
    if n_customers is None:
        return unanswered("Exercise 1")
    retail = _retail()
    known = retail[data.CUSTOMER]
    return check_number(n_customers, known.nunique(), "Exercise 1",
                        "Which column identifies a customer, and what happens to the lines where it is missing? "
                        "A customer with many lines is still one customer.", sig_figs=None,
                        mistakes=[(known.nunique(dropna=False), "A missing CustomerID is not a customer: leave the "
                                   "lines without one out of the count."),
                                  (known.notna().sum(), "That counts lines with a customer; count customers.")])


def exercise_2(click_rate) -> Verdict:
    """Click rate (0-1) of the uniform-random policy on the 'men' campaign of the Open Bandit Dataset, 3 s.f."""
    if click_rate is None:
        return unanswered("Exercise 2")
    logs = data.load_open_bandit("random", "men")
    others = [(data.load_open_bandit(p, c).rewards.mean(), "Those are the logs of another policy or campaign: "
               "the exercise asks for the uniform-random policy on 'men'.")
              for p, c in (("bts", "men"), ("random", "all"))]
    return check_number(click_rate, logs.rewards.mean(), "Exercise 2",
                        "A click rate is clicks per impression. Are these the logs of the right policy and campaign, "
                        "and what reward does one impression earn?", fraction=True,
                        mistakes=[(logs.rewards.sum(), "That is the number of clicks; a rate divides it by something."),
                                  *others])


def exercise_3(busiest_country_share) -> Verdict:
    """Share of raw transaction lines (0-1) from the country with the most lines, 3 s.f."""
    if busiest_country_share is None:
        return unanswered("Exercise 3")
    retail = _retail()
    countries = retail[data.COUNTRY]
    busiest = countries.value_counts().index[0]
    by_customer = retail.drop_duplicates(data.CUSTOMER).dropna(subset=[data.CUSTOMER])[data.COUNTRY]
    return check_number(busiest_country_share, countries.value_counts(normalize=True).iloc[0], "Exercise 3",
                        "Count lines, not customers or invoices: which country has the most, and what fraction of all "
                        "lines is that?", fraction=True,
                        mistakes=[((by_customer == busiest).mean(), "That is a share of customers; the exercise "
                                   "counts transaction lines."),
                                  ((retail.drop_duplicates(data.INVOICE)[data.COUNTRY] == busiest).mean(),
                                   "That is a share of invoices; the exercise counts transaction lines.")])


def _purchase_months(retail: pd.DataFrame, *, calendar: bool = True, cancellations: bool = False) -> pd.Series:
    """Distinct months with an invoice, per known customer (index: CustomerID)."""
    known = retail[retail[data.CUSTOMER].notna()]
    if not cancellations:
        known = known[~known[data.INVOICE].str.startswith("C")]
    when = known[data.INVOICE_DATE]
    month = when.dt.to_period("M") if calendar else when.dt.month
    return month.groupby(known[data.CUSTOMER]).nunique()


def exercise_4(repeat_share) -> Verdict:
    """Fraction (0-1) of the known customers (all 4,372) with purchases in two or more calendar months, 3 s.f.

    A purchase is an invoice whose number does not start with ``C`` (a cancellation).
    """
    if repeat_share is None:
        return unanswered("Exercise 4")
    retail = _retail()
    n_known = retail[data.CUSTOMER].nunique()
    months = _purchase_months(retail)
    expected = (months >= 2).sum() / n_known
    invoices = (retail[retail[data.CUSTOMER].notna() & ~retail[data.INVOICE].str.startswith("C")]
                .groupby(data.CUSTOMER)[data.INVOICE].nunique())
    mistakes = [
        ((months >= 2).mean(), "Right count, wrong denominator: divide by all known customers, including those "
         "whose only invoices were cancellations."),
        ((_purchase_months(retail, cancellations=True) >= 2).sum() / n_known,
         "A cancellation is not a purchase: leave out the invoices that undo one."),
        ((_purchase_months(retail, calendar=False) >= 2).sum() / n_known,
         "December 2010 and December 2011 are two different months: keep the year with the month."),
        ((invoices >= 2).sum() / n_known, "That counts customers with two invoices; two invoices in one month "
         "are one month."),
        ((months >= 3).sum() / n_known, "Two or more months: a customer with exactly two counts."),
    ]
    return check_number(repeat_share, expected, "Exercise 4",
                        "Work per customer, not per line: for each known customer, in how many different months "
                        "did they buy? Then the share of customers with at least two.", fraction=True,
                        mistakes=mistakes)
