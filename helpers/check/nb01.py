"""Checkers for the exercises of notebook 01 (data cleaning).

Each checker computes the right answer from the data and the package (nothing is stored), prints
a verdict with :func:`helpers.check.report` and returns ``True`` or ``False``. Hints say what to
think about, never the code: the stored outputs of the course notebook show them to every student.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from helpers import cleaning, tables
from helpers import data as raw_data
from helpers.check import (
    SIG_FIGS,
    Verdict,
    check_number,
    is_close,
    not_a_function,
    report,
    unanswered,
    within_sig_figs,
)

BULK_UNITS = 1_000


def _raw() -> pd.DataFrame:
    return raw_data.load_online_retail()


def exercise_1(answer) -> Verdict:
    """Share (0..1) of the raw table's total line value that sits on lines without a CustomerID, 3 s.f.

    Line value is ``Quantity * UnitPrice`` in GBP, summed with its sign over all 541,909 raw lines.
    """
    if answer is None:
        return unanswered("Exercise 1")
    raw = _raw()
    value = cleaning.line_revenue(raw)
    missing = raw[raw_data.CUSTOMER].isna()
    mistakes = [
        (value[~missing].sum() / value.sum(), "That is the share of the lines WITH a CustomerID."),
        (missing.mean(), "That is a share of lines; the exercise asks for a share of value (quantity times price)."),
        (value[missing].sum(), "That is the value itself, in GBP; divide it by the value of the whole table."),
        (value[missing].clip(lower=0).sum() / value.clip(lower=0).sum(),
         "Keep the sign: returns and cancellations subtract value, in both sums."),
    ]
    return check_number(answer, value[missing].sum() / value.sum(), "Exercise 1",
                        "Which lines have no customer, what is each line worth, and what is the whole table worth? "
                        "Section 2.3 computes the line values.", fraction=True, mistakes=mistakes)


def _bulk_fixture() -> pd.DataFrame:
    rows = [("700001", "10001", "MUG", q, "2011-05-01 10:00", 1.0, 1.0, "United Kingdom")
            for q in (5, BULK_UNITS, BULK_UNITS + 1, 5_000)]
    frame = pd.DataFrame(rows, columns=list(raw_data.RETAIL_COLUMNS))
    for column in (raw_data.INVOICE, raw_data.STOCK_CODE, raw_data.DESCRIPTION, raw_data.COUNTRY):
        frame[column] = frame[column].astype("string")
    frame[raw_data.INVOICE_DATE] = pd.to_datetime(frame[raw_data.INVOICE_DATE])
    return frame


def exercise_2(rule: Callable, result: cleaning.CleaningResult) -> bool:
    """Check a rule that drops lines of more than 1,000 units and the pipeline run that appends it.

    ``rule``: a function ``frame -> RuleResult``. ``result``: the :class:`CleaningResult` of
    ``clean_transactions(raw, rules=cleaning.default_rules() + [rule])``.
    """
    name = "Exercise 2"
    if (verdict := not_a_function(rule, name, "Pass your rule function itself (no call), then the pipeline's "
                                  "result.")) is not None:
        return verdict
    fixture = _bulk_fixture()
    before = fixture.copy()
    try:
        out = rule(fixture)
    except Exception as exc:  # a student's rule may fail in any way: say how
        return report(False, name, f"Your rule raised {type(exc).__name__}: {exc}")
    if out is None and result is None:  # the stub as given
        return unanswered(name)
    if not isinstance(out, cleaning.RuleResult):
        return report(False, name, "A rule returns a cleaning.RuleResult (show_source(cleaning.RuleResult) shows its fields).")
    if not fixture.equals(before):
        return report(False, name, "A rule must not change the table it is given: work on a copy or a mask.")
    dropped_units = sorted(out.dropped[raw_data.QUANTITY])
    if dropped_units != [BULK_UNITS + 1, 5_000] or len(out.kept) != 2:
        return report(False, name, f"Drop the lines of MORE than {BULK_UNITS:,} units, and only those "
                      f"(on a test table your rule dropped quantities {dropped_units}).")
    if not isinstance(result, cleaning.CleaningResult):
        return report(False, name, "Pass the CleaningResult returned by cleaning.clean_transactions(...) second.")
    ledger = result.ledger
    default_rules = tables.load_course_tables().ledger
    if len(ledger) != len(default_rules) + 1:
        return report(False, name, f"Run the default rules plus yours: the ledger should have {len(default_rules) + 1} lines.")
    try:
        cleaning.check_ledger(ledger, raw_data.ONLINE_RETAIL_ROWS, len(result.clean))
    except AssertionError as exc:
        return report(False, name, f"The ledger does not add up: {exc}")
    expected_in = int(default_rules["rows_out"].iloc[-1])
    last = ledger.iloc[-1]
    seen = pd.concat([result.clean[raw_data.QUANTITY],
                      result.dropped.loc[result.dropped["rule"] == last["rule"], raw_data.QUANTITY]])
    expected_drop = int((seen > BULK_UNITS).sum())  # lines of more than 1,000 units among those it saw
    ok = (int(last["rows_in"]) == expected_in and int(last["rows_dropped"]) == expected_drop
          and int(result.clean[raw_data.QUANTITY].max()) <= BULK_UNITS)
    return report(ok, name, "Append your rule after the default ones (rules=cleaning.default_rules() + [rule]).")


def exercise_3(answer) -> Verdict:
    """Mean number of new (never bought before) items per discovery visit of the validation month, 3 s.f."""
    if answer is None:
        return unanswered("Exercise 3")
    course = tables.load_course_tables()
    visits = tables.discovery_visits(course, "valid")
    mistakes = [
        (tables.discovery_visits(course, "test")[tables.N_TARGETS].mean(),
         "That is the test month; the exercise asks for the validation month ('valid')."),
        (visits[tables.N_ITEMS].mean(), "That counts every product of the visit; count only the new ones."),
        (visits[tables.N_TARGETS].median(), "That is the median; the exercise asks for the mean."),
    ]
    return check_number(answer, visits[tables.N_TARGETS].mean(), "Exercise 3",
                        "Which visits make up the discovery task of the validation month, and which of a visit's "
                        "products count as new: all of its basket, or only what the customer never bought before?",
                        mistakes=mistakes)


def exercise_4(answer) -> Verdict:
    """``(count, share)`` for the raw table: lines that repeat an earlier line in all eight columns
    (exact count), and their share (0..1, 3 s.f.) of the raw total value, with its sign."""
    name = "Exercise 4"
    if answer is None:
        return unanswered(name)
    raw = _raw()
    value = cleaning.line_revenue(raw)
    repeats = raw.duplicated(keep="first")
    every_copy = raw.duplicated(keep=False)
    try:
        count, share = (np.asarray(part, dtype=float) for part in answer)
    except (TypeError, ValueError):
        return report(False, name, "Give a pair (count, share): two numbers.")
    expected_share = value[repeats].sum() / value.sum()
    count_ok = is_close(count, int(repeats.sum()), rtol=0, atol=0)
    share_ok = within_sig_figs(share, expected_share, SIG_FIGS)
    if count_ok and share_ok:
        return report(True, name)
    if is_close(count, int(every_copy.sum()), rtol=0, atol=0):
        hint = "That counts every copy, the first one too; a line is a duplicate only if an earlier line is identical."
    elif is_close(count, int(raw.duplicated(subset=[c for c in raw.columns if c != raw_data.INVOICE_DATE]).sum()),
                  rtol=0, atol=0):
        hint = "Compare all eight columns, the invoice date too."
    elif count_ok and within_sig_figs(share, 100 * expected_share, SIG_FIGS):
        hint = "Right count; give the share as a fraction between 0 and 1, not a percentage."
    elif count_ok and within_sig_figs(share, value[every_copy].sum() / value.sum(), SIG_FIGS):
        hint = "Right count; the share should cover the same lines (the repeats, not their first copies)."
    elif count_ok:
        hint = "Right count; the share divides the repeats' value by the value of all 541,909 raw lines."
    else:
        hint = ("Which pandas method tells, line by line, whether an identical line came before? Count those lines "
                "(the ledger's 5,222 is not the answer: that rule saw a table the earlier rules had already changed).")
    return report(False, name, hint)
