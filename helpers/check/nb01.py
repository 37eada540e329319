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
from helpers.check import as_number, is_close, report

BULK_UNITS = 1_000
NO_ANSWER = "No answer given yet."


def _raw() -> pd.DataFrame:
    return raw_data.load_online_retail()


def exercise_1(answer) -> bool:
    """Share (0..1) of the raw table's total line value that sits on lines without a CustomerID.

    Line value is ``Quantity * UnitPrice`` in GBP, summed with its sign over all 541,909 raw lines.
    """
    if answer is None:
        return report(False, "Exercise 1", NO_ANSWER)
    raw = _raw()
    value = cleaning.line_revenue(raw)
    expected = float(value[raw[raw_data.CUSTOMER].isna()].sum() / value.sum())
    if is_close(answer, expected, rtol=1e-4, atol=0):
        return report(True, "Exercise 1")
    hint = "Sum Quantity × UnitPrice over the raw lines whose CustomerID is missing and divide by the sum over all lines."
    value = as_number(answer)
    if value is None:
        hint = "Give one number, a share between 0 and 1."
    elif is_close(value, expected * 100, rtol=1e-4, atol=0):
        hint = "Give a share between 0 and 1, not a percentage."
    return report(False, "Exercise 1", hint)


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
    if rule is None:
        return report(False, name, NO_ANSWER)
    if not callable(rule):
        return report(False, name, "Pass your rule function itself (no call), then the pipeline's result.")
    fixture = _bulk_fixture()
    before = fixture.copy()
    try:
        out = rule(fixture)
    except Exception as exc:  # a student's rule may fail in any way: say how
        return report(False, name, f"Your rule raised {type(exc).__name__}: {exc}")
    if out is None and result is None:  # the stub as given
        return report(False, name, NO_ANSWER)
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


def exercise_3(answer) -> bool:
    """Mean number of new (never bought before) items per discovery visit of the validation month.

    Accepted within 0.05 of the exact value, so an answer rounded to one decimal passes.
    """
    if answer is None:
        return report(False, "Exercise 3", NO_ANSWER)
    visits = tables.discovery_visits(tables.load_course_tables(), "valid")
    expected = float(visits[tables.N_TARGETS].mean())
    ok = is_close(answer, expected, rtol=0, atol=0.05)
    hint = ("Which visits make up the discovery task of the validation month, and which of a visit's "
            "products count as new: all of its basket, or only what the customer never bought before?")
    if not ok and np.ndim(answer) == 0:
        try:
            if is_close(answer, float(tables.discovery_visits(tables.load_course_tables(), "test")[tables.N_TARGETS].mean()),
                        rtol=0, atol=0.05):
                hint = "That is the test month; the exercise asks for the validation month ('valid')."
        except (TypeError, ValueError):
            pass
    return report(ok, "Exercise 3", hint)
