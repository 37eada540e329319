"""Tests of helpers.cleaning on a synthetic messy transaction table with planted defects.

Every defect is planted with a known count and value, so each ledger line can be checked by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import cleaning
from helpers.data import (
    COUNTRY,
    CUSTOMER,
    DESCRIPTION,
    INVOICE,
    INVOICE_DATE,
    QUANTITY,
    RETAIL_COLUMNS,
    STOCK_CODE,
    UNIT_PRICE,
)

UK = "United Kingdom"


def frame_of(rows: list[tuple]) -> pd.DataFrame:
    """A raw-shaped table from (invoice, code, description, quantity, date, price, customer) tuples."""
    frame = pd.DataFrame(
        [(*row, UK) if len(row) == 7 else row for row in rows],
        columns=list(RETAIL_COLUMNS),
    )
    for column in (INVOICE, STOCK_CODE, DESCRIPTION, COUNTRY):
        frame[column] = frame[column].astype("string")
    frame[QUANTITY] = frame[QUANTITY].astype("int64")
    frame[INVOICE_DATE] = pd.to_datetime(frame[INVOICE_DATE])
    frame[UNIT_PRICE] = frame[UNIT_PRICE].astype("float64")
    frame[CUSTOMER] = frame[CUSTOMER].astype("float64")
    return frame


NAN = np.nan
# The planted defects and how many rows each rule must drop (or change), by hand.
MESSY_ROWS = [
    # clean purchases
    ("500001", "10001A", "WHITE HEART", 6, "2011-01-10 10:00", 2.55, 101),
    ("500001", "10002", "RED MUG", 12, "2011-01-10 10:00", 1.25, 101),
    ("500001", "10003", "BLUE BOWL", 4, "2011-01-10 10:00", 3.00, 101),
    ("500002", "10002", "RED MUG", 24, "2011-02-01 09:00", 1.10, 102),
    ("500002", "10004", "GREEN JAR", 10, "2011-02-01 09:00", 0.85, 102),      # partly cancelled (4)
    ("500003", "10003", "BLUE BOWL", 6, "2011-03-05 11:00", 3.00, 101),       # fully cancelled
    ("500004", "10001A", "WHITE HEART", 1, "2011-11-02 12:00", 2.95, 103),
    ("500004", "10002", "RED MUGG", 2, "2011-11-02 12:00", 1.25, 103),        # renamed variant
    # whitespace and case (normalise text changes these 4 rows)
    ("500004", " 10001a", "white heart ", 3, "2011-11-02 12:00", 2.95, 103),
    ("500001", "M", "Manual", 1, "2011-01-10 10:00", 5.00, 101),                 # also a non-product
    ("A500006", "B", "Adjust bad debt", 1, "2011-05-01 10:00", -100.0, NAN),  # also an adjustment
    ("500004", "gift_0001_10", "Dotcomgiftshop Gift Voucher £10.00", 1, "2011-11-02 12:00", 10.0, 103),
    # missing customer (3)
    ("500005", "10002", "RED MUG", 1, "2011-04-01 10:00", 1.25, NAN),
    ("500005", "10003", "BLUE BOWL", 2, "2011-04-01 10:00", 3.00, NAN),
    ("500005", "10004", "GREEN JAR", 3, "2011-04-01 10:00", 0.85, NAN),
    # non-products (POST, 23444 and the M and gift lines above: 4)
    ("500002", "POST", "POSTAGE", 1, "2011-02-01 09:00", 18.0, 102),
    ("500002", "23444", "NEXT DAY CARRIAGE", 1, "2011-02-01 09:00", 15.0, 102),
    # zero and negative prices (2)
    ("500002", "10005", "FREE GIFT", 3, "2011-02-01 09:00", 0.0, 102),
    ("500003", "10004", "GREEN JAR", 1, "2011-03-05 11:00", -1.0, 101),
    # exact duplicates of the RED MUG line of 500001 (2 dropped, the first kept)
    ("500001", "10002", "RED MUG", 12, "2011-01-10 10:00", 1.25, 101),
    ("500001", "10002", "RED MUG", 12, "2011-01-10 10:00", 1.25, 101),
    # extreme quantity and its cancellation (2)
    ("500007", "10006", "PAPER CRAFT", 20_000, "2011-06-01 09:15", 2.08, 104),
    ("C500008", "10006", "PAPER CRAFT", -20_000, "2011-06-01 09:27", 2.08, 104),
    # cancellations: partial, exact, unmatched (3 C lines)
    ("C500009", "10004", "GREEN JAR", -4, "2011-02-03 10:00", 0.85, 102),
    ("C500010", "10003", "BLUE BOWL", -6, "2011-03-06 10:00", 3.00, 101),
    ("C500011", "10001A", "WHITE HEART", -2, "2011-01-01 10:00", 2.55, 103),  # before any purchase
]

EXPECTED = {  # rule: (rows dropped, rows changed, revenue dropped in GBP)
    "normalise text": (0, 4, 0.0),
    "adjustments (A invoices)": (1, 0, -100.0),
    "missing customer": (3, 0, 1.25 + 6.0 + 2.55),
    "non-product codes": (4, 0, 5.0 + 10.0 + 18.0 + 15.0),
    "zero or negative price": (2, 0, -1.0),
    "canonical descriptions": (0, 1, 0.0),
    "exact duplicates": (2, 0, 30.0),
    "extreme quantities": (2, 0, 0.0),
    "cancelled purchases": (1, 1, 18.0 + 3.40),
    "cancellation lines": (3, 0, -(3.40 + 18.0 + 5.10)),
}


@pytest.fixture
def messy() -> pd.DataFrame:
    return frame_of(MESSY_ROWS)


def test_ledger_matches_planted_defects(messy):
    result = cleaning.clean_transactions(messy)
    ledger = result.ledger.set_index("rule")
    assert list(ledger.index) == list(EXPECTED)
    for rule, (dropped, changed, revenue) in EXPECTED.items():
        assert ledger.loc[rule, "rows_dropped"] == dropped, rule
        assert ledger.loc[rule, "rows_changed"] == changed, rule
        assert ledger.loc[rule, "revenue_dropped"] == pytest.approx(revenue, abs=1e-9), rule
    assert len(result.clean) == len(messy) - sum(d for d, _, _ in EXPECTED.values())
    cleaning.check_ledger(result.ledger, len(messy), len(result.clean))
    assert len(result.dropped) == int(ledger["rows_dropped"].sum())
    assert set(result.dropped.index).isdisjoint(result.clean.index)
    assert set(result.dropped.index) | set(result.clean.index) == set(messy.index)


def test_clean_table_content(messy):
    clean = cleaning.clean_transactions(messy).clean
    assert not clean[INVOICE].str.startswith("C").any()
    assert set(clean[STOCK_CODE]) == {"10001A", "10002", "10003", "10004"}
    assert (clean.loc[clean[STOCK_CODE] == "10002", DESCRIPTION] == "RED MUG").all()
    assert (clean.loc[clean[STOCK_CODE] == "10001A", DESCRIPTION] == "WHITE HEART").all()
    # the partly cancelled purchase keeps 6 units; the fully cancelled one is gone
    assert clean.loc[4, QUANTITY] == 6
    assert 5 not in clean.index
    # the earlier BLUE BOWL purchase of 4 units is untouched (exact match preferred over LIFO order)
    assert clean.loc[2, QUANTITY] == 4


def test_dropping_only_cancellation_lines_is_not_enough(messy):
    only_c = messy[~messy[INVOICE].str.startswith("C")]
    assert 5 in only_c.index  # the cancelled purchase would stay a purchase
    assert 5 not in cleaning.clean_transactions(messy).clean.index


def test_pipeline_is_idempotent(messy):
    first = cleaning.clean_transactions(messy)
    second = cleaning.clean_transactions(first.clean)
    assert second.ledger["rows_dropped"].sum() == 0
    assert second.ledger["rows_changed"].sum() == 0
    pd.testing.assert_frame_equal(second.clean, first.clean)


@pytest.mark.parametrize("rule", cleaning.default_rules())
def test_rules_are_pure(messy, rule):
    before = messy.copy(deep=True)
    result = rule(messy)
    pd.testing.assert_frame_equal(messy, before)
    assert len(result.kept) + len(result.dropped) == len(messy)
    assert "why" in result.dropped.columns


def test_each_rule_alone_on_the_raw_table(messy):
    assert len(cleaning.drop_missing_customer(messy).dropped) == 4  # the A line has no customer either
    assert len(cleaning.drop_adjustments(messy).dropped) == 1
    assert len(cleaning.drop_exact_duplicates(messy).dropped) == 2
    assert len(cleaning.drop_extreme_quantities(messy, max_quantity=10_000).dropped) == 2
    assert len(cleaning.drop_extreme_quantities(messy, max_quantity=19).dropped) == 3  # also the 24-unit line
    normalised = cleaning.normalise_text(messy).kept
    why = cleaning.drop_non_products(normalised).dropped["why"]
    assert sorted(why) == sorted([
        "service code M (manual entry)", "service code B (bad-debt adjustment)",
        "irregular code GIFT_0001_10", "service code POST (postage)", "service code 23444 (next day carriage)",
    ])


def test_normalise_text_merges_case_and_whitespace(messy):
    kept = cleaning.normalise_text(messy).kept
    assert kept.loc[8, STOCK_CODE] == "10001A"
    assert kept.loc[8, DESCRIPTION] == "WHITE HEART"
    assert kept.loc[11, STOCK_CODE] == "GIFT_0001_10"


def test_partial_cancellation_never_creates_duplicates():
    rows = [
        ("577503", "84086B", "RADIO", 2, "2011-11-20 12:34", 2.95, 18110),
        ("577503", "84086B", "RADIO", 3, "2011-11-20 12:34", 2.95, 18110),
        ("C577513", "84086B", "RADIO", -1, "2011-11-20 12:59", 2.95, 18110),
    ]
    result = cleaning.net_cancellations(frame_of(rows))
    assert sorted(result.kept.loc[[0, 1], QUANTITY]) == [1, 3]
    assert list(result.changed) == [0]
    assert result.revenue_changed == pytest.approx(2.95)


def test_cancellation_matches_latest_purchase_first():
    rows = [
        ("500001", "10001", "A", 5, "2011-01-01 10:00", 1.0, 1),
        ("500002", "10001", "A", 5, "2011-02-01 10:00", 1.0, 1),
        ("C500003", "10001", "A", -7, "2011-03-01 10:00", 1.0, 1),
        ("500004", "10001", "A", 5, "2011-04-01 10:00", 1.0, 1),  # after the cancellation: untouched
    ]
    result = cleaning.net_cancellations(frame_of(rows))
    assert list(result.dropped.index) == [1]
    assert result.kept.loc[0, QUANTITY] == 3
    assert result.kept.loc[3, QUANTITY] == 5
    assert result.notes["cancellation_lines_fully_matched"] == 1


def test_description_variants_lists_renamed_products(messy):
    normalised = cleaning.normalise_text(messy).kept
    variants = cleaning.description_variants(normalised)
    assert set(variants[STOCK_CODE]) == {"10002"}
    canonical = variants.loc[variants["canonical"], DESCRIPTION]
    assert list(canonical) == ["RED MUG"]


def test_canonical_descriptions_reports_what_it_counted_and_chose():
    rows = [
        ("500001", "10001", "BLUE MUG", 2, "2011-01-10 10:00", 1.0, 1),
        ("500002", "10001", "MUG BLUE", 2, "2011-02-10 10:00", 1.0, 1),
        ("C500003", "10001", "MUG BLUE", -2, "2011-02-11 10:00", 1.0, 1),  # counts for rule 6, then goes
    ]
    result = cleaning.clean_transactions(frame_of(rows))
    notes = result.notes["canonical descriptions"]
    variants = notes["variants"]
    assert notes["products_with_several_descriptions"] == 1
    assert dict(zip(variants[DESCRIPTION], variants["lines"], strict=True)) == {"MUG BLUE": 2, "BLUE MUG": 1}
    assert list(variants.loc[variants["canonical"], DESCRIPTION]) == ["MUG BLUE"]
    # the clean table keeps only the BLUE MUG line, renamed to the description the rule chose
    assert list(result.clean[DESCRIPTION]) == ["MUG BLUE"]
    pd.testing.assert_frame_equal(variants, cleaning.description_variants(frame_of(rows)))


def test_variants_note_agrees_with_the_clean_table(messy):
    result = cleaning.clean_transactions(messy)
    variants = result.notes["canonical descriptions"]["variants"]
    chosen = variants.loc[variants["canonical"]].set_index(STOCK_CODE)[DESCRIPTION]
    clean = result.clean[result.clean[STOCK_CODE].isin(chosen.index)]
    assert len(clean) and (clean[DESCRIPTION].to_numpy() == chosen[clean[STOCK_CODE]].to_numpy()).all()


def test_unmatched_cancellation_lines_are_listed(messy):
    result = cleaning.clean_transactions(messy)
    notes = result.notes["cancelled purchases"]
    assert list(notes["unmatched_lines"]) == [len(MESSY_ROWS) - 1]  # C500011, before any purchase
    assert notes["cancellation_lines_unmatched"] == 1


def test_max_quantity_reaches_the_pipeline(messy):
    default = cleaning.clean_transactions(messy).ledger.set_index("rule")
    strict = cleaning.clean_transactions(messy, rules=cleaning.default_rules(max_quantity=19)).ledger.set_index("rule")
    assert default.loc["extreme quantities", "rows_dropped"] == 2
    assert strict.loc["extreme quantities", "rows_dropped"] == 3  # also the 24-unit RED MUG line
    assert "more than 19 units" in strict.loc["extreme quantities", "reason"]


def test_missing_column_gives_a_clear_error(messy):
    with pytest.raises(ValueError, match="CustomerID"):
        cleaning.clean_transactions(messy.drop(columns=[CUSTOMER]))


@pytest.mark.parametrize(("column", "bad"), [(QUANTITY, "float"), (INVOICE_DATE, "text"), (UNIT_PRICE, "text")])
def test_wrong_dtype_gives_a_clear_error(messy, column, bad):
    broken = messy.copy()
    broken[column] = broken[column].astype("float64") if bad == "float" else broken[column].astype(str)
    with pytest.raises(TypeError, match=column):
        cleaning.clean_transactions(broken)


def test_bad_arguments():
    with pytest.raises(TypeError, match="DataFrame"):
        cleaning.validate_transactions([1, 2, 3])
    with pytest.raises(ValueError, match="max_quantity"):
        cleaning.drop_extreme_quantities(frame_of(MESSY_ROWS), max_quantity=0)


def test_check_ledger_detects_a_lost_row(messy):
    result = cleaning.clean_transactions(messy)
    broken = result.ledger.copy()
    broken.loc[3, "rows_dropped"] -= 1
    with pytest.raises(AssertionError):
        cleaning.check_ledger(broken, len(messy), len(result.clean))
    with pytest.raises(AssertionError):
        cleaning.check_ledger(result.ledger, len(messy) + 1, len(result.clean))


def test_a_rule_that_loses_rows_is_caught(messy):
    def leaky(frame):
        result = cleaning.drop_missing_customer(frame)
        return cleaning.RuleResult(rule="leaky", reason="loses a row", kept=result.kept.iloc[1:],
                                   dropped=result.dropped)

    with pytest.raises(AssertionError, match="leaky"):
        cleaning.clean_transactions(messy, rules=[leaky])


# property test: on random messy tables the ledger always adds up and cleaning is idempotent
_row = st.tuples(
    st.sampled_from(["500001", "500002", "500003", "C500004", "C500005", "A500006"]),
    st.sampled_from(["10001", "10001a", " 10002 ", "10002", "POST", "M", "gift_0001_10"]),
    st.sampled_from(["MUG", "mug ", "JAR", None]),
    st.integers(-30_000, 30_000).filter(lambda q: q != 0),
    st.sampled_from(["2011-01-01 10:00", "2011-01-01 10:01", "2011-02-01 09:00"]),
    st.sampled_from([-1.0, 0.0, 0.5, 2.0]),
    st.sampled_from([NAN, 1.0, 2.0]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_row, min_size=1, max_size=25))
def test_ledger_adds_up_and_cleaning_is_idempotent_on_random_tables(rows):
    frame = frame_of(rows)
    first = cleaning.clean_transactions(frame)
    cleaning.check_ledger(first.ledger, len(frame), len(first.clean))
    second = cleaning.clean_transactions(first.clean)
    assert second.ledger["rows_dropped"].sum() == 0
    assert second.ledger["rows_changed"].sum() == 0
    assert (first.clean[QUANTITY] > 0).all()
    assert (first.clean[UNIT_PRICE] > 0).all()
