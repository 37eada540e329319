"""Cleaning rules for UCI Online Retail and the cleaning ledger that accounts for every row.

Each rule is a small pure function ``rule(frame) -> RuleResult``: it never changes its input and
returns the rows it kept (some possibly changed) and the rows it dropped, with a reason. The
pipeline (:func:`clean_transactions`) runs the rules in order and writes one **ledger** line
per rule: rows in, rows dropped, rows changed, revenue dropped. A row is charged to the first
rule that drops it, so for every rule and for the whole pipeline

    rows_in  = rows_out + rows_dropped                                  (exactly)
    revenue_in = revenue_out + revenue_dropped                          (up to float rounding)

where revenue is the signed line value ``Quantity * UnitPrice`` in GBP (cancellation lines are
negative) and ``revenue_dropped`` also counts what a rule removed by changing a row (a partial
cancellation lowers a purchase's quantity).

The frames keep the raw table's column names (:data:`helpers.data.INVOICE` ...) and its index,
so every dropped row can be traced back to its line in the raw file.

Notebook ``01_data_cleaning`` justifies each rule on the data. The order is:

1. :func:`normalise_text` - strip whitespace, upper-case StockCode and Description (changes only)
2. :func:`drop_adjustments` - ``A`` invoices (bad-debt adjustments, not sales)
3. :func:`drop_missing_customer` - no CustomerID: no history, no visit
4. :func:`drop_non_products` - postage, fees, discounts, manual lines, vouchers, samples...
5. :func:`drop_non_positive_price` - free or negative-price lines
6. :func:`canonical_descriptions` - one description per product, the most frequent (changes only)
7. :func:`drop_exact_duplicates` - the same line entered twice
8. :func:`drop_extreme_quantities` - :math:`|Quantity| >` ``max_quantity`` (two mistyped orders
   and their cancellations)
9. :func:`net_cancellations` - purchases that a later cancellation by the same customer undoes
10. :func:`drop_cancellation_lines` - the ``C`` lines themselves

The pipeline is idempotent: cleaning its output again drops and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

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
from helpers.validation import check_int, check_no_missing

#: Codes that look like products but are services (found by reading descriptions of the data).
SERVICE_CODES = {
    "POST": "postage",
    "DOT": "dotcom postage",
    "C2": "carriage",
    "23444": "next day carriage",
    "23574": "packing charge",
    "M": "manual entry",
    "D": "discount",
    "S": "samples",
    "B": "bad-debt adjustment",
    "BANK CHARGES": "bank charges",
    "AMAZONFEE": "Amazon fee",
    "CRUK": "charity commission (CRUK)",
    "PADS": "cushion pads at a token price",
}
#: A product StockCode: five digits and at most two letters (after upper-casing), e.g. ``85123A``.
PRODUCT_CODE_PATTERN = re.compile(r"^\d{5}[A-Z]{0,2}$")
#: Lines with more units than this (either sign) are treated as entry errors; see the notebook.
MAX_QUANTITY = 10_000
#: Prefixes of the invoice numbers that are not ordinary sales.
CANCELLATION_PREFIX = "C"
ADJUSTMENT_PREFIX = "A"
REVENUE = "revenue"

LEDGER_COLUMNS = ("rule", "rows_in", "rows_dropped", "rows_changed", "rows_out", "revenue_in",
                  "revenue_dropped", "revenue_out", "reason")


@dataclass(frozen=True)
class RuleResult:
    """What one cleaning rule did to a transaction table.

    Attributes:
        rule: short name of the rule (a ledger line).
        reason: one sentence saying why these rows go (or change).
        kept: the rows kept, with the input's index and columns; values may be changed.
        dropped: the rows dropped, as they were on input, with a ``why`` column (str) that
            gives the row's own reason (for example which service code it had).
        changed: index labels of rows in ``kept`` whose values the rule changed.
        revenue_changed: GBP removed from kept rows by the changes (0 for text-only changes).
        notes: extra figures the notebook reports (counts by kind, matched quantities...).
    """

    rule: str
    reason: str
    kept: pd.DataFrame
    dropped: pd.DataFrame
    changed: pd.Index = field(default_factory=lambda: pd.Index([]))
    revenue_changed: float = 0.0
    notes: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# validation and small helpers

_EXPECTED_KINDS = {
    INVOICE: "string", STOCK_CODE: "string", DESCRIPTION: "string", COUNTRY: "string",
    QUANTITY: "integer", UNIT_PRICE: "numeric", CUSTOMER: "numeric", INVOICE_DATE: "datetime",
}


#: Columns that may hold no missing value (CustomerID and Description may: rules drop or keep them).
_REQUIRED_VALUES = (INVOICE_DATE, QUANTITY, UNIT_PRICE)


def validate_transactions(frame: pd.DataFrame) -> None:
    """Raise a clear error unless ``frame`` has the eight raw columns with usable dtypes.

    Expected (as :func:`helpers.data.load_online_retail` returns them): InvoiceNo, StockCode,
    Description, Country as strings; Quantity integer; UnitPrice and CustomerID numeric
    (CustomerID may be missing); InvoiceDate datetime64. Raises ``TypeError`` for a non-frame or
    a wrong dtype and ``ValueError`` for missing columns, a repeated index label or a missing
    InvoiceDate, Quantity or UnitPrice (an undated purchase must not be netted or placed in time).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of transactions, got {type(frame).__name__}")
    missing = [c for c in RETAIL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"transaction table is missing columns {missing}; expected {list(RETAIL_COLUMNS)}")
    for column, kind in _EXPECTED_KINDS.items():
        dtype = frame[column].dtype
        ok = {
            "string": ptypes.is_string_dtype(dtype) or ptypes.is_object_dtype(dtype),
            "integer": ptypes.is_integer_dtype(dtype),
            "numeric": ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype),
            "datetime": ptypes.is_datetime64_any_dtype(dtype),
        }[kind]
        if not ok:
            raise TypeError(
                f"column {column!r} has dtype {dtype}, expected {kind}; load the table with "
                "helpers.data.load_online_retail() or convert the column first"
            )
    if not frame.index.is_unique:
        raise ValueError("the transaction table's index has repeated labels; the ledger traces each line "
                         "by its label: use frame.reset_index(drop=True) first")
    for column in _REQUIRED_VALUES:
        check_no_missing(f"column {column!r}", frame[column],
                         "a line without a date, quantity or price cannot be placed in time or valued: "
                         "drop those lines first (the UCI table has none)")


def line_revenue(frame: pd.DataFrame) -> pd.Series:
    """Signed value of each line in GBP: ``Quantity * UnitPrice`` (negative on cancellations)."""
    values = frame[QUANTITY].to_numpy(dtype="float64") * frame[UNIT_PRICE].to_numpy(dtype="float64")
    return pd.Series(values, index=frame.index, name=REVENUE)


def _is_prefixed(frame: pd.DataFrame, prefix: str) -> pd.Series:
    return frame[INVOICE].astype("string").str.startswith(prefix).fillna(False).astype(bool)


def _split(frame: pd.DataFrame, drop: pd.Series, rule: str, reason: str, why=None, **notes) -> RuleResult:
    """Build a RuleResult from a boolean mask of rows to drop (``why``: per-row reasons)."""
    drop = drop.to_numpy(dtype=bool) if isinstance(drop, pd.Series) else np.asarray(drop, dtype=bool)
    dropped = frame.loc[drop].copy()
    if why is None:
        dropped["why"] = reason
    else:
        dropped["why"] = np.asarray(why, dtype=object)[drop] if not isinstance(why, str) else why
    dropped["why"] = dropped["why"].astype("string")
    return RuleResult(rule=rule, reason=reason, kept=frame.loc[~drop], dropped=dropped, notes=notes)


# ---------------------------------------------------------------------------------------------
# the rules


def _clean_text(values: pd.Series) -> pd.Series:
    text = values.astype("string")
    return text.str.strip().str.replace(r"\s+", " ", regex=True).str.upper()


def normalise_text(frame: pd.DataFrame) -> RuleResult:
    """Strip and collapse whitespace and upper-case StockCode and Description (no row dropped).

    ``85123a`` and ``85123A`` are the same product, as are ``" WHITE HANGING HEART"`` and
    ``"WHITE HANGING HEART"``. Country and InvoiceNo are stripped only. Rows are changed, never
    dropped; an empty Description becomes missing.
    """
    validate_transactions(frame)
    out = frame.copy()
    out[STOCK_CODE] = _clean_text(frame[STOCK_CODE])
    description = _clean_text(frame[DESCRIPTION])
    out[DESCRIPTION] = description.mask(description == "")
    for column in (INVOICE, COUNTRY):
        out[column] = frame[column].astype("string").str.strip()
    changed = np.zeros(len(frame), dtype=bool)
    for column in (STOCK_CODE, DESCRIPTION, INVOICE, COUNTRY):
        before, after = frame[column].astype("string"), out[column]
        changed |= ~(before.eq(after).fillna(before.isna() & after.isna())).to_numpy(dtype=bool)
    codes_changed = int((frame[STOCK_CODE].astype("string") != out[STOCK_CODE]).fillna(False).sum())
    return RuleResult(
        rule="normalise text",
        reason="whitespace and letter case are typing noise: 85123a is 85123A",
        kept=out,
        dropped=frame.iloc[0:0].assign(why=pd.Series(dtype="string")),
        changed=frame.index[changed],
        notes={"stock_codes_changed": codes_changed},
    )


def drop_adjustments(frame: pd.DataFrame) -> RuleResult:
    """Drop lines of ``A`` invoices: accounting adjustments of bad debt, not sales."""
    validate_transactions(frame)
    return _split(frame, _is_prefixed(frame, ADJUSTMENT_PREFIX), "adjustments (A invoices)",
                  "bad-debt adjustments are bookkeeping, not purchases")


def drop_missing_customer(frame: pd.DataFrame) -> RuleResult:
    """Drop lines without a CustomerID: they have no history and cannot form a customer's visit."""
    validate_transactions(frame)
    return _split(frame, frame[CUSTOMER].isna(), "missing customer",
                  "no CustomerID: the line belongs to no customer history and no visit")


def non_product_reason(codes: pd.Series) -> pd.Series:
    """For each StockCode, why it is not a product (missing string when it is one).

    A product code is five digits and at most two letters (:data:`PRODUCT_CODE_PATTERN`) and is
    not one of the :data:`SERVICE_CODES`. Gift vouchers (``GIFT_0001_20``), eBay lines
    (``DCGS...``) and other irregular codes fail the pattern.
    """
    codes = codes.astype("string")
    service = codes.map(lambda c: SERVICE_CODES.get(c) if isinstance(c, str) else None)
    reason = pd.Series(pd.NA, index=codes.index, dtype="string")
    is_service = service.notna().to_numpy(dtype=bool)
    reason[is_service] = ("service code " + codes[is_service] + " (" + service[is_service].astype(str) + ")")
    pattern_ok = codes.str.match(PRODUCT_CODE_PATTERN.pattern).fillna(False).to_numpy(dtype=bool)
    irregular = ~pattern_ok & ~is_service
    reason[irregular] = "irregular code " + codes[irregular].fillna("<missing>")
    return reason


def drop_non_products(frame: pd.DataFrame) -> RuleResult:
    """Drop lines whose StockCode is a service, fee, discount, voucher or other non-product."""
    validate_transactions(frame)
    reason = non_product_reason(frame[STOCK_CODE])
    drop = reason.notna()
    return _split(frame, drop, "non-product codes",
                  "postage, carriage, fees, discounts, manual lines and vouchers are not products",
                  why=reason.fillna("").to_numpy(dtype=object))


def drop_non_positive_price(frame: pd.DataFrame) -> RuleResult:
    """Drop lines with ``UnitPrice <= 0``: free samples, write-offs and corrections, not sales."""
    validate_transactions(frame)
    price = frame[UNIT_PRICE].astype("float64")
    return _split(frame, ~(price > 0), "zero or negative price",
                  "a line at a price of 0 or less is a write-off or a correction, not a sale")


def drop_exact_duplicates(frame: pd.DataFrame) -> RuleResult:
    """Drop second and later copies of a line identical in all eight columns (the first is kept)."""
    validate_transactions(frame)
    duplicated = frame.duplicated(subset=list(RETAIL_COLUMNS), keep="first")
    return _split(frame, duplicated, "exact duplicates",
                  "the same invoice line twice (same product, quantity, price and minute) is an entry repeat")


def drop_extreme_quantities(frame: pd.DataFrame, max_quantity: int = MAX_QUANTITY) -> RuleResult:
    """Drop lines with ``|Quantity| > max_quantity`` units (purchases and cancellations alike).

    In the course's pipeline, once the earlier rules have run (the price rule drops a
    12,540-unit line at a price of 0), the only Online Retail lines above 10,000 units are two
    purchases (80,995 and 74,215 units) and the cancellations that took them back minutes later;
    dropping both signs removes each error and its correction together. On the raw table, five
    lines lie above 10,000 units.
    """
    validate_transactions(frame)
    try:
        max_quantity = check_int("max_quantity", max_quantity, 1)
    except TypeError as exc:  # a bool or a float is no count; ValueError like the range check
        raise ValueError(str(exc)) from None
    return _split(frame, frame[QUANTITY].abs() > max_quantity, "extreme quantities",
                  f"more than {max_quantity:,} units on one line: mistyped orders and their cancellations")


def net_cancellations(frame: pd.DataFrame) -> RuleResult:
    """Undo the purchases that cancellations (``C`` invoices) cancel; keep the ``C`` lines.

    Each cancellation line of ``q`` units is matched with purchases of the same customer and
    StockCode made at or before its time: the latest purchase line of exactly ``q`` units if
    there is one, otherwise the latest lines first (at equal times the smallest first), until
    ``q`` units are found. A purchase fully cancelled is dropped; a partly cancelled one keeps
    its remaining units (a changed row). Cancelled units with no earlier purchase left to net
    them against (none in the data, one dropped by an earlier rule, or one already taken back by
    earlier cancellations) are left unmatched and counted in ``notes``; ``notes["unmatched_lines"]``
    holds the index labels of the cancellation lines that matched nothing at all.
    The ``C`` lines themselves are dropped by :func:`drop_cancellation_lines`.

    Why: dropping only the ``C`` lines keeps the purchases they undo, so a customer who ordered
    80,995 units by mistake and cancelled would still count as a buyer of them.
    """
    validate_transactions(frame)
    is_cancel = _is_prefixed(frame, CANCELLATION_PREFIX) & frame[CUSTOMER].notna()
    is_purchase = ~_is_prefixed(frame, CANCELLATION_PREFIX) & (frame[QUANTITY] > 0) & frame[CUSTOMER].notna()
    cancels = frame.loc[is_cancel & (frame[QUANTITY] < 0), [CUSTOMER, STOCK_CODE, INVOICE_DATE, QUANTITY]]
    keys = pd.MultiIndex.from_frame(cancels[[CUSTOMER, STOCK_CODE]])
    purchases = frame.loc[is_purchase, [CUSTOMER, STOCK_CODE, INVOICE_DATE, QUANTITY]]
    purchases = purchases[pd.MultiIndex.from_frame(purchases[[CUSTOMER, STOCK_CODE]]).isin(keys)]
    purchases = purchases.sort_values([INVOICE_DATE], kind="stable")
    by_key: dict[tuple, list] = {}
    for label, customer, code, when in zip(purchases.index, purchases[CUSTOMER], purchases[STOCK_CODE],
                                           purchases[INVOICE_DATE].to_numpy("datetime64[ns]").astype("int64"),
                                           strict=True):
        by_key.setdefault((customer, code), []).append((when, label))
    remaining = dict(zip(purchases.index, purchases[QUANTITY].astype(int), strict=True))
    cancels = cancels.sort_values([INVOICE_DATE], kind="stable")
    matched_units = unmatched_units = fully = partly = 0
    unmatched_labels = []
    cancel_times = cancels[INVOICE_DATE].to_numpy("datetime64[ns]").astype("int64")
    for cancel_label, customer, code, when, quantity in zip(cancels.index, cancels[CUSTOMER], cancels[STOCK_CODE],
                                                            cancel_times, cancels[QUANTITY], strict=True):
        need = -int(quantity)
        # latest first; at the same time, the smallest line first (so that no partly cancelled
        # line ends equal to another line of its invoice: the pipeline stays idempotent)
        candidates = sorted(((bought_at, label) for bought_at, label in by_key.get((customer, code), [])
                             if bought_at <= when and remaining[label] > 0),
                            key=lambda pair: (-pair[0], remaining[pair[1]]))
        candidates = [label for _, label in candidates]
        exact = [label for label in candidates if remaining[label] == need]
        for label in exact[:1] + candidates:
            if need == 0:
                break
            take = min(need, remaining[label])
            remaining[label] -= take
            need -= take
        matched_units += -int(quantity) - need
        unmatched_units += need
        if need == -int(quantity):
            unmatched_labels.append(cancel_label)
        elif need == 0:
            fully += 1
        else:
            partly += 1
    new_quantity = pd.Series(remaining, dtype="int64")
    original = frame.loc[new_quantity.index, QUANTITY].astype("int64")
    reduced = new_quantity[new_quantity < original]
    drop_labels = reduced.index[reduced.to_numpy() == 0]
    change_labels = reduced.index[reduced.to_numpy() > 0]
    drop = frame.index.isin(drop_labels)
    result = _split(
        frame, pd.Series(drop, index=frame.index), "cancelled purchases",
        "a purchase undone by a later cancellation of the same customer and product never happened",
        cancellation_lines_fully_matched=fully, cancellation_lines_partly_matched=partly,
        cancellation_lines_unmatched=len(unmatched_labels), units_matched=matched_units,
        units_unmatched=unmatched_units, unmatched_lines=pd.Index(unmatched_labels),
    )
    kept = result.kept.copy()
    if len(change_labels):
        before = line_revenue(kept.loc[change_labels])
        kept.loc[change_labels, QUANTITY] = new_quantity[change_labels].to_numpy()
        revenue_changed = float((before - line_revenue(kept.loc[change_labels])).sum())
    else:
        revenue_changed = 0.0
    return RuleResult(rule=result.rule, reason=result.reason, kept=kept, dropped=result.dropped,
                      changed=pd.Index(change_labels), revenue_changed=revenue_changed, notes=result.notes)


def drop_cancellation_lines(frame: pd.DataFrame) -> RuleResult:
    """Drop the ``C`` (cancellation) lines and any other line of 0 or fewer units.

    The purchases they cancel were netted by :func:`net_cancellations`, which must run first.
    """
    validate_transactions(frame)
    return _split(frame, _is_prefixed(frame, CANCELLATION_PREFIX) | (frame[QUANTITY] <= 0),
                  "cancellation lines",
                  "a cancellation (or any line of 0 or fewer units) is not a purchase; what it undid is already removed")


def _description_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Lines per (StockCode, Description), with ``canonical`` marking each product's chosen text."""
    counts = (frame.dropna(subset=[DESCRIPTION]).groupby([STOCK_CODE, DESCRIPTION], observed=True)
              .size().rename("lines").reset_index())
    counts = counts.sort_values([STOCK_CODE, "lines", DESCRIPTION], ascending=[True, False, True], kind="stable")
    counts["canonical"] = ~counts.duplicated(subset=[STOCK_CODE], keep="first")
    return counts


def _several(counts: pd.DataFrame) -> pd.DataFrame:
    several = counts.groupby(STOCK_CODE)[DESCRIPTION].transform("size") > 1
    return counts.loc[several].reset_index(drop=True)


def description_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """The products of ``frame`` sold under more than one description, with each variant's line count.

    Returns a DataFrame with columns StockCode, Description, lines (int, lines of ``frame``),
    canonical (bool: the most frequent variant, ties broken alphabetically: the one
    :func:`canonical_descriptions` would choose on ``frame``), sorted by StockCode and then by
    lines descending. Missing descriptions are ignored. The table of what the pipeline itself
    chose is ``notes["variants"]`` of :func:`canonical_descriptions`.
    """
    validate_transactions(frame)
    return _several(_description_counts(frame))


def canonical_descriptions(frame: pd.DataFrame) -> RuleResult:
    """Give every product its most frequent description (ties: alphabetically first); no row dropped.

    A product (StockCode) appears under several names (typos, renamings, ``?``); the model reads
    one text per product. Lines of a product with no description at all keep a missing value.
    The counts are over every line of ``frame`` (in the pipeline: the lines left by rules 1-5,
    purchases and cancellations alike, duplicates included). ``notes["variants"]`` is the table
    of :func:`description_variants` on ``frame``: each product seen under several descriptions,
    each variant's line count and which one was chosen (``canonical``).
    """
    validate_transactions(frame)
    counts = _description_counts(frame)
    canonical = counts.loc[counts["canonical"]].set_index(STOCK_CODE)[DESCRIPTION]
    new = frame[STOCK_CODE].map(canonical).astype("string")
    new = new.fillna(frame[DESCRIPTION].astype("string"))
    old = frame[DESCRIPTION].astype("string")
    differs = ~(old.eq(new).fillna(old.isna() & new.isna())).to_numpy(dtype=bool)
    out = frame.copy()
    out[DESCRIPTION] = new
    variants = _several(counts)
    return RuleResult(
        rule="canonical descriptions",
        reason="one product, one text: the most frequent of its descriptions",
        kept=out,
        dropped=frame.iloc[0:0].assign(why=pd.Series(dtype="string")),
        changed=frame.index[differs],
        notes={"products_with_several_descriptions": int(variants[STOCK_CODE].nunique()), "variants": variants},
    )


# ---------------------------------------------------------------------------------------------
# the pipeline and its ledger

Rule = Callable[[pd.DataFrame], RuleResult]


def default_rules(max_quantity: int = MAX_QUANTITY) -> list[Rule]:
    """The course's rules, in the order they run (see the module docstring)."""
    try:
        max_quantity = check_int("max_quantity", max_quantity, 1)
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    return [
        normalise_text,
        drop_adjustments,
        drop_missing_customer,
        drop_non_products,
        drop_non_positive_price,
        canonical_descriptions,
        drop_exact_duplicates,
        partial(drop_extreme_quantities, max_quantity=max_quantity),
        net_cancellations,
        drop_cancellation_lines,
    ]


@dataclass(frozen=True)
class CleaningResult:
    """Output of :func:`clean_transactions`.

    Attributes:
        clean: the clean transaction lines (raw column names, raw index labels).
        ledger: one row per rule with columns :data:`LEDGER_COLUMNS` (revenue in GBP).
        dropped: every dropped line as it was when dropped, with ``rule`` and ``why`` columns.
        changed: index labels of changed lines per rule (``{rule: Index}``).
        notes: each rule's extra figures (``{rule: dict}``).
    """

    clean: pd.DataFrame
    ledger: pd.DataFrame
    dropped: pd.DataFrame
    changed: dict
    notes: dict


def clean_transactions(raw: pd.DataFrame, rules: Sequence[Rule] | None = None) -> CleaningResult:
    """Run the cleaning ``rules`` (default :func:`default_rules`) in order and keep the ledger.

    ``raw``: a transaction table with the eight raw columns (validated). Each rule sees the
    previous rule's kept rows. The ledger's identities (rows and revenue) are checked before
    returning; a rule that breaks them raises ``AssertionError`` naming it.
    """
    validate_transactions(raw)
    rules = default_rules() if rules is None else list(rules)
    frame = raw
    lines, dropped, changed, notes = [], [], {}, {}
    for rule in rules:
        revenue_in = float(line_revenue(frame).sum())
        result = rule(frame)
        if not isinstance(result, RuleResult):
            raise TypeError(f"a cleaning rule must return a RuleResult, {rule!r} returned {type(result).__name__}")
        rows_in, rows_out, rows_dropped = len(frame), len(result.kept), len(result.dropped)
        if rows_in != rows_out + rows_dropped:
            raise AssertionError(f"rule {result.rule!r}: {rows_in} rows in != {rows_out} kept + {rows_dropped} dropped")
        revenue_dropped = float(line_revenue(result.dropped).sum()) + result.revenue_changed
        revenue_out = float(line_revenue(result.kept).sum())
        if not np.isclose(revenue_in, revenue_out + revenue_dropped, rtol=0, atol=1e-6 * max(1.0, abs(revenue_in))):
            raise AssertionError(f"rule {result.rule!r}: revenue in {revenue_in} != out {revenue_out} + dropped "
                                 f"{revenue_dropped}")
        lines.append({"rule": result.rule, "rows_in": rows_in, "rows_dropped": rows_dropped,
                      "rows_changed": len(result.changed), "rows_out": rows_out, "revenue_in": revenue_in,
                      "revenue_dropped": revenue_dropped, "revenue_out": revenue_out, "reason": result.reason})
        if rows_dropped:
            dropped.append(result.dropped.assign(rule=result.rule))
        changed[result.rule] = result.changed
        notes[result.rule] = result.notes
        frame = result.kept
    ledger = pd.DataFrame(lines, columns=list(LEDGER_COLUMNS))
    if dropped:
        all_dropped = pd.concat(dropped)
    else:
        all_dropped = raw.iloc[0:0].assign(why=pd.Series(dtype="string"), rule=pd.Series(dtype="string"))
    all_dropped["rule"] = all_dropped["rule"].astype("string")
    return CleaningResult(clean=frame, ledger=ledger, dropped=all_dropped, changed=changed, notes=notes)


def check_ledger(ledger: pd.DataFrame, rows_raw: int, rows_clean: int) -> None:
    """Assert the ledger accounts for every row: chained rule by rule and summing to the totals.

    Raises ``AssertionError`` naming the first identity that fails.
    """
    missing = [c for c in LEDGER_COLUMNS if c not in ledger.columns]
    if missing:
        raise ValueError(f"ledger is missing columns {missing}")
    if ledger.empty:
        raise AssertionError("the ledger is empty")
    rows_in = ledger["rows_in"].to_numpy()
    rows_out = ledger["rows_out"].to_numpy()
    if rows_in[0] != rows_raw:
        raise AssertionError(f"first rule sees {rows_in[0]} rows, the raw table has {rows_raw}")
    if rows_out[-1] != rows_clean:
        raise AssertionError(f"last rule keeps {rows_out[-1]} rows, the clean table has {rows_clean}")
    if not np.array_equal(rows_in[1:], rows_out[:-1]):
        raise AssertionError("a rule's rows_in differs from the previous rule's rows_out")
    if not np.array_equal(rows_in, rows_out + ledger["rows_dropped"].to_numpy()):
        raise AssertionError("rows_in != rows_out + rows_dropped for some rule")
    if rows_raw != rows_clean + int(ledger["rows_dropped"].sum()):
        raise AssertionError(f"{rows_raw} raw rows != {rows_clean} clean + {int(ledger['rows_dropped'].sum())} dropped")
    revenue_gap = ledger["revenue_in"].iloc[0] - ledger["revenue_out"].iloc[-1] - ledger["revenue_dropped"].sum()
    if abs(revenue_gap) > 1e-6 * max(1.0, abs(ledger["revenue_in"].iloc[0])):
        raise AssertionError(f"revenue does not add up: gap of {revenue_gap:.6f} GBP")
