"""The course's derived tables of UCI Online Retail, built by one call and cached with a manifest.

:func:`load_course_tables` loads the raw table through the registry (:mod:`helpers.data`), cleans
it with :func:`helpers.cleaning.clean_transactions` and derives

- ``catalogue``: one row per product (``item_id`` 0..n_items-1, ordered by StockCode);
- ``interactions``: one row per (invoice, item) of the clean lines, known customers only;
- ``visits``: one row per invoice (one invoice = one visit), with its time split;
- ``ledger``: the cleaning ledger (one row per rule).

They are written as Parquet files with a manifest (sha256 of each file, shapes, versions) under
``helpers.config.processed_dir() / "course_tables"`` (git-ignored, never committed) and reused
while the manifest verifies. Notebook ``01_data_cleaning`` explains every step.

The **discovery task** of the course (:func:`discovery_visits`): for each visit of a split by a
customer who bought before, recommend products the customer has never bought; the targets are
the products of the visit that are new to the customer. "Before" means at a strictly earlier
timestamp (minute resolution), both here and in :func:`history_before`.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import cleaning, config
from helpers import data as raw_data
from helpers.validation import check_int, check_no_missing

# ---------------------------------------------------------------------------------------------
# Column names of the derived tables, defined once.
CUSTOMER_ID = "customer_id"
ITEM_ID = "item_id"
INVOICE = "invoice"
TIMESTAMP = "timestamp"
QUANTITY = "quantity"
REVENUE = "revenue"
COUNTRY = "country"
STOCK_CODE = "stock_code"
DESCRIPTION = "description"
PRICE = "median_price"
SPLIT = "split"
FIRST_SALE = "first_sale"
LAST_SALE = "last_sale"
N_BUYERS = "n_buyers"
N_ORDERS = "n_orders"
N_UNITS = "n_units"
N_ITEMS = "n_items"
TARGETS = "targets"
N_TARGETS = "n_targets"
N_REPEATS = "n_repeats"
N_HISTORY = "n_history"

# ---------------------------------------------------------------------------------------------
# The time split (see notebook 01): train before VALID_START, October for validation,
# TEST_START to the end of the data (2011-12-09) for test. "train+valid" = before TEST_START.
VALID_START = pd.Timestamp("2011-10-01")
TEST_START = pd.Timestamp("2011-11-01")
SPLITS = ("train", "valid", "test")

#: Bump when the table layout changes. The cache is also rebuilt whenever the source of
#: ``helpers.cleaning`` or of this module changes (:func:`code_fingerprint`).
TABLES_VERSION = 1
CACHE_NAME = "course_tables"
_FILES = ("catalogue.parquet", "interactions.parquet", "visits.parquet", "ledger.parquet")


@dataclass(frozen=True)
class CourseTables:
    """The derived tables of Online Retail (see the module docstring).

    Attributes:
        catalogue: (n_items, 10) one row per product ordered by ``item_id``: item_id, stock_code,
            description (canonical), median_price (GBP per unit), first_sale, last_sale,
            n_buyers (distinct customers), n_orders (distinct invoices), n_units, revenue (GBP).
        interactions: one row per (invoice, item) with customer_id, item_id, invoice, timestamp,
            quantity (units), revenue (GBP); sorted by timestamp, invoice, item_id.
        visits: one row per invoice: invoice, customer_id, timestamp, country, n_items (distinct
            products), n_units, revenue (GBP), split (train/valid/test); sorted by time.
        ledger: the cleaning ledger (:data:`helpers.cleaning.LEDGER_COLUMNS`).
    """

    catalogue: pd.DataFrame
    interactions: pd.DataFrame
    visits: pd.DataFrame
    ledger: pd.DataFrame

    @property
    def n_items(self) -> int:
        """Number of products in the catalogue."""
        return len(self.catalogue)

    @property
    def n_customers(self) -> int:
        """Number of distinct customers with at least one clean purchase."""
        return int(self.visits[CUSTOMER_ID].nunique())


def assign_split(timestamps: pd.Series | pd.DatetimeIndex | np.ndarray,
                 valid_start: pd.Timestamp = VALID_START, test_start: pd.Timestamp = TEST_START) -> np.ndarray:
    """Name the split of each timestamp: ``train`` before ``valid_start``, ``valid`` up to
    ``test_start`` (excluded), ``test`` from ``test_start`` on. Returns an object array (n,)."""
    if not valid_start < test_start:
        raise ValueError(f"valid_start {valid_start} must be before test_start {test_start}")
    times = pd.to_datetime(pd.Series(np.asarray(timestamps))).to_numpy("datetime64[ns]")
    check_no_missing("timestamps", times, "a visit without a time belongs to no split: drop it first")
    out = np.full(len(times), "train", dtype=object)
    out[times >= np.datetime64(valid_start)] = "valid"
    out[times >= np.datetime64(test_start)] = "test"
    return out


def build_course_tables(raw: pd.DataFrame | None = None) -> CourseTables:
    """Clean the raw Online Retail table and derive the course tables (no caching).

    ``raw``: the eight-column raw table; by default :func:`helpers.data.load_online_retail`.
    Takes a few seconds. See :class:`CourseTables` for what is returned.
    """
    if raw is None:
        raw = raw_data.load_online_retail()
    result = cleaning.clean_transactions(raw)
    clean = result.clean
    lines = pd.DataFrame({
        INVOICE: clean[raw_data.INVOICE].astype(str).to_numpy(),
        STOCK_CODE: clean[raw_data.STOCK_CODE].astype(str).to_numpy(),
        DESCRIPTION: clean[raw_data.DESCRIPTION].astype(str).to_numpy(),
        CUSTOMER_ID: clean[raw_data.CUSTOMER].to_numpy().astype(np.int64),
        TIMESTAMP: clean[raw_data.INVOICE_DATE].to_numpy("datetime64[ns]"),
        QUANTITY: clean[raw_data.QUANTITY].to_numpy().astype(np.int64),
        "unit_price": clean[raw_data.UNIT_PRICE].to_numpy().astype(np.float64),
        COUNTRY: clean[raw_data.COUNTRY].astype(str).to_numpy(),
    })
    lines[REVENUE] = lines[QUANTITY] * lines["unit_price"]
    # one timestamp per invoice: its first line's (31 invoices span two minutes)
    lines[TIMESTAMP] = lines.groupby(INVOICE)[TIMESTAMP].transform("min")

    codes = np.sort(lines[STOCK_CODE].unique())
    lines[ITEM_ID] = np.searchsorted(codes, lines[STOCK_CODE].to_numpy()).astype(np.int64)
    by_item = lines.groupby(ITEM_ID)
    catalogue = pd.DataFrame({
        ITEM_ID: np.arange(len(codes), dtype=np.int64),
        STOCK_CODE: codes,
        DESCRIPTION: by_item[DESCRIPTION].first().to_numpy(),
        PRICE: by_item["unit_price"].median().to_numpy(),
        FIRST_SALE: by_item[TIMESTAMP].min().to_numpy(),
        LAST_SALE: by_item[TIMESTAMP].max().to_numpy(),
        N_BUYERS: by_item[CUSTOMER_ID].nunique().to_numpy().astype(np.int64),
        N_ORDERS: by_item[INVOICE].nunique().to_numpy().astype(np.int64),
        N_UNITS: by_item[QUANTITY].sum().to_numpy().astype(np.int64),
        REVENUE: by_item[REVENUE].sum().to_numpy(),
    })

    interactions = (lines.groupby([INVOICE, ITEM_ID], sort=False)
                    .agg(**{CUSTOMER_ID: (CUSTOMER_ID, "first"), TIMESTAMP: (TIMESTAMP, "first"),
                            QUANTITY: (QUANTITY, "sum"), REVENUE: (REVENUE, "sum")})
                    .reset_index())
    interactions = interactions[[CUSTOMER_ID, ITEM_ID, INVOICE, TIMESTAMP, QUANTITY, REVENUE]]
    interactions = interactions.sort_values([TIMESTAMP, INVOICE, ITEM_ID], kind="stable").reset_index(drop=True)

    by_invoice = lines.groupby(INVOICE, sort=False)
    visits = pd.DataFrame({
        CUSTOMER_ID: by_invoice[CUSTOMER_ID].first(),
        TIMESTAMP: by_invoice[TIMESTAMP].first(),
        COUNTRY: by_invoice[COUNTRY].first(),
        N_ITEMS: by_invoice[ITEM_ID].nunique().astype(np.int64),
        N_UNITS: by_invoice[QUANTITY].sum().astype(np.int64),
        REVENUE: by_invoice[REVENUE].sum(),
    }).rename_axis(INVOICE).reset_index()
    visits = visits.sort_values([TIMESTAMP, INVOICE], kind="stable").reset_index(drop=True)
    visits[SPLIT] = assign_split(visits[TIMESTAMP])
    for frame in (catalogue, interactions, visits):
        for column in (INVOICE, STOCK_CODE, DESCRIPTION, COUNTRY, SPLIT):
            if column in frame:
                frame[column] = frame[column].astype(str)
    ledger = result.ledger.copy()
    return CourseTables(catalogue=catalogue, interactions=interactions, visits=visits, ledger=ledger)


def cache_dir():
    """Folder of the cached course tables (``data/processed/course_tables``, git-ignored)."""
    return config.processed_dir() / CACHE_NAME


def code_fingerprint() -> str:
    """sha256 of the source of :mod:`helpers.cleaning` and this module: a cache built by other
    code (an edited rule, a changed table layout) no longer matches and is rebuilt."""
    digest = hashlib.sha256()
    for module in (cleaning, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _manifest_info(tables: CourseTables) -> dict:
    return {
        "tables_version": TABLES_VERSION,
        "code_sha256": code_fingerprint(),
        "valid_start": str(VALID_START),
        "test_start": str(TEST_START),
        "max_quantity": cleaning.MAX_QUANTITY,
        "shapes": {name: list(getattr(tables, name).shape) for name in ("catalogue", "interactions", "visits", "ledger")},
        "source": "UCI Online Retail (Chen, Sain and Guo 2012, CC BY 4.0) via helpers.data",
    }


def _write_cache(tables: CourseTables, folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        with config.atomic_path(folder / name) as tmp:
            getattr(tables, name.removesuffix(".parquet")).to_parquet(tmp, index=False)
    config.write_manifest(folder, list(_FILES), **_manifest_info(tables))


def _read_cache(folder) -> CourseTables | None:
    try:
        manifest = config.read_manifest(folder, verify=True)
        frames = {name.removesuffix(".parquet"): pd.read_parquet(folder / name) for name in _FILES}
    except (FileNotFoundError, ValueError, KeyError, OSError):
        return None
    expected = {"tables_version": TABLES_VERSION, "valid_start": str(VALID_START), "test_start": str(TEST_START),
                "max_quantity": cleaning.MAX_QUANTITY, "code_sha256": code_fingerprint()}
    if any(manifest.get(key) != value for key, value in expected.items()) or set(manifest["files"]) != set(_FILES):
        return None
    for name, frame in frames.items():
        if list(frame.shape) != manifest["shapes"][name]:
            return None
        for column in (INVOICE, STOCK_CODE, DESCRIPTION, COUNTRY, SPLIT):
            if column in frame and name != "ledger":
                frame[column] = frame[column].astype(str)
    return CourseTables(**frames)


def load_course_tables(rebuild: bool = False) -> CourseTables:
    """Return the course tables: from the cache when its manifest verifies, else built and cached.

    ``rebuild=True`` rebuilds them from the raw data whatever the cache holds. Needs Online
    Retail to be available to :func:`helpers.data.load_online_retail` when (re)building.
    """
    folder = cache_dir()
    if not rebuild:
        cached = _read_cache(folder)
        if cached is not None:
            return cached
    tables = build_course_tables()
    _write_cache(tables, folder)  # file by file atomically: a concurrent reader never sees a partial file
    return tables


# ---------------------------------------------------------------------------------------------
# baskets, histories and the discovery task


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing columns {missing}")


def basket_items(interactions: pd.DataFrame, invoices) -> list[np.ndarray]:
    """Item ids bought in each invoice, in the order of ``invoices``.

    ``interactions``: the interactions table (needs ``invoice`` and ``item_id``).
    ``invoices``: sequence of n invoice numbers (str). Returns a list of n sorted int64 arrays of
    distinct item ids. Raises ``KeyError`` naming invoices that have no interactions.
    """
    _require_columns(interactions, (INVOICE, ITEM_ID), "interactions")
    wanted = np.asarray(pd.Series(invoices, dtype=object).astype(str))
    pairs = interactions[[INVOICE, ITEM_ID]].drop_duplicates().sort_values([INVOICE, ITEM_ID], kind="stable")
    keys = pairs[INVOICE].to_numpy().astype(str)
    items = pairs[ITEM_ID].to_numpy().astype(np.int64)
    starts = np.searchsorted(keys, wanted, side="left")
    ends = np.searchsorted(keys, wanted, side="right")
    unknown = wanted[starts == ends]
    if len(unknown):
        raise KeyError(f"{len(unknown)} invoices have no interactions, e.g. {list(unknown[:5])}")
    return [items[s:e] for s, e in zip(starts, ends, strict=True)]


def first_purchases(interactions: pd.DataFrame) -> pd.DataFrame:
    """When each customer first bought each item: columns customer_id, item_id, timestamp.

    One row per distinct (customer, item) pair, sorted by customer_id, then timestamp, then item_id.
    """
    _require_columns(interactions, (CUSTOMER_ID, ITEM_ID, TIMESTAMP), "interactions")
    check_no_missing(f"interactions[{TIMESTAMP!r}]", interactions[TIMESTAMP],
                     "an undated purchase cannot be placed before or after a visit: drop it first")
    first = interactions.groupby([CUSTOMER_ID, ITEM_ID], sort=False)[TIMESTAMP].min().reset_index()
    return first.sort_values([CUSTOMER_ID, TIMESTAMP, ITEM_ID], kind="stable").reset_index(drop=True)


def history_before(interactions: pd.DataFrame, customer_ids, before) -> list[np.ndarray]:
    """Items each customer bought strictly before a time.

    ``customer_ids``: n customer ids (int). ``before``: one ``pd.Timestamp`` for all, or n
    timestamps (one per customer id, e.g. each visit's own time). Returns a list of n sorted
    int64 arrays of distinct item ids (empty for a customer with no earlier purchase or an
    unknown customer).
    """
    customers = np.asarray(customer_ids, dtype=np.int64).reshape(-1)
    times = _as_times(before, len(customers))
    first = first_purchases(interactions)
    first_customer = first[CUSTOMER_ID].to_numpy(np.int64)
    first_time = first[TIMESTAMP].to_numpy("datetime64[ns]")
    first_item = first[ITEM_ID].to_numpy(np.int64)
    starts = np.searchsorted(first_customer, customers, side="left")
    ends = np.searchsorted(first_customer, customers, side="right")
    out = []
    for start, end, when in zip(starts, ends, times, strict=True):
        count = np.searchsorted(first_time[start:end], when, side="left")
        out.append(np.sort(first_item[start:start + count]))
    return out


def history_matrix(interactions: pd.DataFrame, customer_ids, before, n_items: int):
    """The histories of :func:`history_before` as a sparse 0/1 matrix.

    Returns a ``scipy.sparse.csr_matrix`` of shape (n, n_items), float32, with a 1 where the
    customer bought the item strictly before the time: the mask of items a discovery slate
    must not contain.
    """
    from scipy import sparse

    n_items = check_int("n_items", n_items, 1)
    rows = history_before(interactions, customer_ids, before)
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    if len(indices) and indices.max() >= n_items:
        raise ValueError(f"item id {int(indices.max())} is out of range for n_items={n_items}")
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), int(n_items)))


def _as_times(before, n: int) -> np.ndarray:
    if isinstance(before, (pd.Timestamp, np.datetime64, str)) or before is None or before is pd.NaT:
        before = pd.Timestamp(before) if before is not None else pd.NaT
        check_no_missing("before", [before], "a missing time would see every purchase, the future included")
        return np.full(n, np.datetime64(before, "ns"))
    times = pd.to_datetime(pd.Series(np.asarray(before))).to_numpy("datetime64[ns]")
    if len(times) != n:
        raise ValueError(f"before has {len(times)} timestamps for {n} customers; give one, or one per customer")
    check_no_missing("before", times, "a missing time would see every purchase, the future included: "
                     "drop those visits first")
    return times


def _group_arrays(keys: np.ndarray, values: np.ndarray) -> pd.Series:
    """The runs of ``values`` that share a key, as a Series of arrays indexed by the key.

    ``keys`` (n,) must be sorted so that equal keys are adjacent; ``values`` (n,) follow them.
    (A ``groupby(...).agg`` that returns arrays does the same on pandas 3 but is refused by 2.x.)
    """
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
    groups = np.empty(len(starts), dtype=object)
    groups[:] = np.split(values, starts[1:]) if len(starts) else []
    return pd.Series(groups, index=pd.Index(keys[starts]), dtype=object)


def discovery_visits(tables: CourseTables, split: str = "test") -> pd.DataFrame:
    """The visits of the discovery task in ``split`` (``train``, ``valid`` or ``test``).

    A visit counts when its customer bought something at an earlier time (so there is a history
    to recommend from) and it holds at least one product the customer never bought before;
    visits with only repeat purchases are excluded. Returns the visits' rows (columns of
    ``tables.visits``) plus ``targets`` (sorted int64 array of the visit's new item ids),
    ``n_targets``, ``n_repeats`` (items of the visit bought before) and ``n_history``
    (distinct items bought before the visit), in time order with a fresh index.
    """
    if not isinstance(tables, CourseTables):
        raise TypeError(f"tables must be CourseTables, got {type(tables).__name__}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    inter = tables.interactions
    first = first_purchases(inter)
    customer_first_visit = tables.visits.groupby(CUSTOMER_ID)[TIMESTAMP].min()
    visits = tables.visits[tables.visits[SPLIT] == split]
    visits = visits[visits[TIMESTAMP].to_numpy() > customer_first_visit.reindex(visits[CUSTOMER_ID]).to_numpy()]
    lines = inter[inter[INVOICE].isin(set(visits[INVOICE]))]
    first_time = first.set_index([CUSTOMER_ID, ITEM_ID])[TIMESTAMP]
    bought_first = first_time.reindex(pd.MultiIndex.from_frame(lines[[CUSTOMER_ID, ITEM_ID]])).to_numpy()
    is_new = bought_first >= lines[TIMESTAMP].to_numpy()
    new_lines = lines.loc[is_new, [INVOICE, ITEM_ID]].sort_values([INVOICE, ITEM_ID])
    targets = _group_arrays(new_lines[INVOICE].to_numpy(), new_lines[ITEM_ID].to_numpy(np.int64))
    repeats = pd.Series(~is_new, index=lines.index).groupby(lines[INVOICE]).sum()
    out = visits[visits[INVOICE].isin(targets.index)].reset_index(drop=True)
    out[TARGETS] = targets.reindex(out[INVOICE]).to_numpy()
    out[N_TARGETS] = np.fromiter((len(t) for t in out[TARGETS]), dtype=np.int64, count=len(out))
    out[N_REPEATS] = repeats.reindex(out[INVOICE]).fillna(0).to_numpy().astype(np.int64)
    first_customer = first[CUSTOMER_ID].to_numpy(np.int64)
    first_ts = first[TIMESTAMP].to_numpy("datetime64[ns]")
    start = np.searchsorted(first_customer, out[CUSTOMER_ID].to_numpy(np.int64), side="left")
    end = np.searchsorted(first_customer, out[CUSTOMER_ID].to_numpy(np.int64), side="right")
    out[N_HISTORY] = np.array([np.searchsorted(first_ts[s:e], t, side="left") for s, e, t in
                               zip(start, end, out[TIMESTAMP].to_numpy("datetime64[ns]"), strict=True)],
                              dtype=np.int64)
    return out
