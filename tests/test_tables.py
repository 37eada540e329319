"""Tests of helpers.tables on a hand-made raw table whose derived tables can be checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import tables
from helpers.data import (
    COUNTRY,
    CUSTOMER,
    DESCRIPTION,
    INVOICE,
    INVOICE_DATE,
    QUANTITY,
    STOCK_CODE,
    UNIT_PRICE,
)

NAN = np.nan
# (invoice, code, description, quantity, date, price, customer); item ids: 10001->0 ... 10004->3
RAW_ROWS = [
    ("600001", "10001", "CANDLE", 2, "2011-01-05 10:00", 1.0, 1),
    ("600001", "10002", "MUG", 1, "2011-01-05 10:00", 2.0, 1),
    ("C600009", "10001", "CANDLE", -1, "2011-01-06 10:00", 1.0, 1),  # 600001's candle: 2 -> 1
    ("600002", "10001", "CANDLE", 1, "2011-10-10 10:00", 1.0, 1),
    ("600002", "10003", "JAR", 3, "2011-10-10 10:00", 0.5, 1),
    ("600003", "10001", "CANDLE", 1, "2011-11-15 10:00", 1.2, 1),
    ("600003", "10004", "BOWL", 2, "2011-11-15 10:00", 3.0, 1),
    ("600003", "10002", "MUG", 1, "2011-11-15 10:00", 2.0, 1),
    ("600004", "10002", "MUG", 5, "2011-11-20 10:00", 2.0, 2),
    ("600005", "10002", "MUG", 1, "2011-11-25 10:00", 2.0, 2),
    ("600006", "10003", "JAR", 1, "2011-12-01 10:00", 0.5, 2),
    ("600006", "10003", "JAR", 2, "2011-12-01 10:00", 0.6, 2),  # same item twice in one invoice
    ("600007", "10001", "CANDLE", 1, "2011-11-02 10:00", 1.0, 3),
    ("600008", "10001", "CANDLE", 1, "2011-11-02 10:00", 1.0, 3),  # same minute as 600007
    ("600008", "10002", "MUG", 1, "2011-11-02 10:00", 2.0, 3),
    ("600010", "10004", "BOWL", 1, "2011-11-03 10:00", 3.0, NAN),  # unknown customer
]


def raw_frame() -> pd.DataFrame:
    frame = pd.DataFrame([(*row, "United Kingdom") for row in RAW_ROWS],
                         columns=[INVOICE, STOCK_CODE, DESCRIPTION, QUANTITY, INVOICE_DATE, UNIT_PRICE, CUSTOMER,
                                  COUNTRY])
    for column in (INVOICE, STOCK_CODE, DESCRIPTION, COUNTRY):
        frame[column] = frame[column].astype("string")
    frame[INVOICE_DATE] = pd.to_datetime(frame[INVOICE_DATE])
    frame[CUSTOMER] = frame[CUSTOMER].astype("float64")
    return frame


@pytest.fixture(scope="module")
def built() -> tables.CourseTables:
    return tables.build_course_tables(raw_frame())


def test_catalogue(built):
    cat = built.catalogue
    assert list(cat[tables.ITEM_ID]) == [0, 1, 2, 3]
    assert list(cat[tables.STOCK_CODE]) == ["10001", "10002", "10003", "10004"]
    assert list(cat[tables.N_BUYERS]) == [2, 3, 2, 1]
    assert list(cat[tables.N_ORDERS]) == [5, 5, 2, 1]
    assert list(cat[tables.PRICE]) == pytest.approx([1.0, 2.0, 0.5, 3.0])
    assert cat.loc[0, tables.N_UNITS] == 1 + 1 + 1 + 1 + 1  # the cancelled candle is gone
    assert cat.loc[3, tables.FIRST_SALE] == pd.Timestamp("2011-11-15 10:00")
    assert built.n_items == 4 and built.n_customers == 3


def test_interactions_aggregate_lines_of_an_invoice(built):
    inter = built.interactions
    assert list(inter.columns) == [tables.CUSTOMER_ID, tables.ITEM_ID, tables.INVOICE, tables.TIMESTAMP,
                                   tables.QUANTITY, tables.REVENUE]
    jar = inter[(inter[tables.INVOICE] == "600006")]
    assert len(jar) == 1
    assert jar[tables.QUANTITY].item() == 3
    assert jar[tables.REVENUE].item() == pytest.approx(0.5 + 1.2)
    assert len(inter) == 13
    assert inter[tables.TIMESTAMP].is_monotonic_increasing
    assert "600010" not in set(inter[tables.INVOICE])  # unknown customer


def test_visits_and_split(built):
    visits = built.visits
    assert list(visits[tables.INVOICE]) == ["600001", "600002", "600007", "600008", "600003", "600004", "600005",
                                            "600006"]
    assert list(visits[tables.SPLIT]) == ["train", "valid"] + ["test"] * 6
    first = visits.set_index(tables.INVOICE).loc["600003"]
    assert first[tables.N_ITEMS] == 3
    assert first[tables.REVENUE] == pytest.approx(1.2 + 6.0 + 2.0)


def test_assign_split_boundaries():
    times = [tables.VALID_START - pd.Timedelta(minutes=1), tables.VALID_START, tables.TEST_START,
             tables.TEST_START - pd.Timedelta(minutes=1)]
    assert list(tables.assign_split(times)) == ["train", "valid", "test", "valid"]
    with pytest.raises(ValueError, match="before"):
        tables.assign_split(times, valid_start=tables.TEST_START, test_start=tables.VALID_START)


def test_discovery_visits(built):
    test = tables.discovery_visits(built, "test")
    # 600007/600008: no strictly earlier purchase; 600004: first visit; 600005: repeat only
    assert list(test[tables.INVOICE]) == ["600003", "600006"]
    assert [list(t) for t in test[tables.TARGETS]] == [[3], [2]]
    assert list(test[tables.N_REPEATS]) == [2, 0]
    assert list(test[tables.N_HISTORY]) == [3, 1]
    valid = tables.discovery_visits(built, "valid")
    assert list(valid[tables.INVOICE]) == ["600002"]
    assert [list(t) for t in valid[tables.TARGETS]] == [[2]]
    with pytest.raises(ValueError, match="split"):
        tables.discovery_visits(built, "holdout")


def test_targets_are_never_in_the_history(built):
    test = tables.discovery_visits(built, "test")
    history = tables.history_before(built.interactions, test[tables.CUSTOMER_ID], test[tables.TIMESTAMP])
    for items, targets in zip(history, test[tables.TARGETS], strict=True):
        assert np.intersect1d(items, targets).size == 0


def test_history_before(built):
    history = tables.history_before(built.interactions, [1, 2, 3, 99], pd.Timestamp("2011-11-02 10:00"))
    assert [list(h) for h in history] == [[0, 1, 2], [], [], []]
    per_customer = tables.history_before(built.interactions, [3, 3], ["2011-11-02 10:00", "2011-11-02 10:01"])
    assert [list(h) for h in per_customer] == [[], [0, 1]]
    with pytest.raises(ValueError, match="one per customer"):
        tables.history_before(built.interactions, [1, 2], ["2011-11-02", "2011-11-03", "2011-11-04"])


def test_history_matrix(built):
    matrix = tables.history_matrix(built.interactions, [1, 2], pd.Timestamp("2011-12-31"), n_items=4)
    assert matrix.shape == (2, 4)
    np.testing.assert_array_equal(matrix.toarray(), [[1, 1, 1, 1], [0, 1, 1, 0]])
    with pytest.raises(ValueError, match="n_items"):
        tables.history_matrix(built.interactions, [1], pd.Timestamp("2011-12-31"), n_items=2)


def test_basket_items(built):
    baskets = tables.basket_items(built.interactions, ["600006", "600001", "600003"])
    assert [list(b) for b in baskets] == [[2], [0, 1], [0, 1, 3]]
    with pytest.raises(KeyError, match="999999"):
        tables.basket_items(built.interactions, ["999999"])
    with pytest.raises(ValueError, match="missing columns"):
        tables.basket_items(built.interactions.drop(columns=[tables.ITEM_ID]), ["600001"])


def test_cache_is_reused_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    calls = []
    real_build = tables.build_course_tables

    def fake_build(raw=None):
        calls.append(1)
        return real_build(raw_frame())

    monkeypatch.setattr(tables, "build_course_tables", fake_build)
    first = tables.load_course_tables()
    assert len(calls) == 1
    assert (tmp_path / "processed" / "course_tables" / "manifest.json").is_file()
    second = tables.load_course_tables()
    assert len(calls) == 1
    for name in ("catalogue", "interactions", "visits", "ledger"):
        pd.testing.assert_frame_equal(getattr(second, name), getattr(first, name), check_dtype=False)
    with open(tmp_path / "processed" / "course_tables" / "visits.parquet", "ab") as handle:
        handle.write(b"damage")
    tables.load_course_tables()
    assert len(calls) == 2
    tables.load_course_tables(rebuild=True)
    assert len(calls) == 3
    monkeypatch.setattr(tables, "TABLES_VERSION", tables.TABLES_VERSION + 1)
    tables.load_course_tables()
    assert len(calls) == 4
