"""The dataset registry: where each raw dataset comes from, how it is verified, where it is cached.

UCI Online Retail (Chen, Sain and Guo 2012, CC BY 4.0) is looked for, in order, in

1. an explicit ``path`` given by the caller,
2. the cache ``data/raw/online_retail.parquet`` (see :func:`helpers.config.raw_dir`),
3. the teacher's mirror ``$COURSE_DATA_MIRROR/online_retail/`` (Parquet, or the original
   zip / ``Online Retail.xlsx``),
4. the UCI repository (a zip holding ``Online Retail.xlsx``, about 23 MB).

Whatever the source, the table is verified by content (:func:`verify_online_retail`) before
it is used, then written to the cache atomically as Parquet.

The Open Bandit Dataset small sample (Saito et al. 2021, CC BY 4.0) is committed under
``data/open_bandit_dataset/``; :func:`load_open_bandit` returns it as arrays.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import config
from helpers.validation import check_choice, check_positive

# ---------------------------------------------------------------------------------------------
# Column names of the raw Online Retail table, defined once.
INVOICE = "InvoiceNo"
STOCK_CODE = "StockCode"
DESCRIPTION = "Description"
QUANTITY = "Quantity"
INVOICE_DATE = "InvoiceDate"
UNIT_PRICE = "UnitPrice"
CUSTOMER = "CustomerID"
COUNTRY = "Country"
RETAIL_COLUMNS = (INVOICE, STOCK_CODE, DESCRIPTION, QUANTITY, INVOICE_DATE, UNIT_PRICE, CUSTOMER, COUNTRY)

ONLINE_RETAIL_URL = "https://archive.ics.uci.edu/static/public/352/online+retail.zip"
ONLINE_RETAIL_CACHE_NAME = "online_retail.parquet"
ONLINE_RETAIL_ROWS = 541_909
ONLINE_RETAIL_QUANTITY_SUM = 5_176_450
#: sha256 of each column of the canonical table, in file order (see :func:`table_fingerprint`),
#: computed once from the course's verified copy of the UCI file: any edited cell changes one.
ONLINE_RETAIL_FINGERPRINT = {
    INVOICE: "77135ab349c171fbbe96be87b4eb90b7f89ce0e0b3dd080ee7ad0c72207f42a5",
    STOCK_CODE: "4d0e2eed223ebf2f7d28988c6a64a623774d22206debfae08a37666d28805bd5",
    DESCRIPTION: "a3b7affee1e5f841654ad1d4d57c1ae25ff2d0d8ad66369317cb3293a7151780",
    QUANTITY: "34910330c5c0df1248b1e1e66c7f354b89df299e9ae3a7ab9820e7a766791949",
    INVOICE_DATE: "f1553643e05fd5d0effbd1ef37c5c64cf6a1e1c93d5f01d0badf0417cb01fd66",
    UNIT_PRICE: "b750eb201baa49435a07c15ba9064db324026c310ea4ef7acb113b577038ace8",
    CUSTOMER: "ec7d5d0abfb73e4ba3f02875814a0bb0570882881885227c384a087878cb11ee",
    COUNTRY: "515a48fc858ba3226b013a9d62450a77c0711ed936f3dcf5a0fa4b76b898be17",
}
#: How each column is put in canonical form before hashing (see :func:`table_fingerprint`).
_COLUMN_KINDS = {INVOICE: "text", STOCK_CODE: "text", DESCRIPTION: "text", QUANTITY: "int",
                 INVOICE_DATE: "datetime", UNIT_PRICE: "float", CUSTOMER: "float", COUNTRY: "text"}
#: Written beside the cache's sha256: a cache verified by an older, weaker check is verified again.
_VERIFICATION_VERSION = "fingerprint-v1"
#: A download is abandoned past this many bytes (the UCI zip is about 23 MB) or seconds.
DOWNLOAD_MAX_BYTES = 200 * 2**20
DOWNLOAD_DEADLINE_S = 900.0
_MIRROR_NAMES = ("online_retail.parquet", "Online Retail.xlsx", "online_retail.xlsx", "online+retail.zip",
                 "online_retail.zip")


class DataVerificationError(ValueError):
    """A dataset file was found but its content is not the expected dataset."""


class DataNotFoundError(FileNotFoundError):
    """A dataset could not be found locally nor downloaded."""


def _column_digest(values: pd.Series, kind: str) -> str:
    """sha256 of one column's values in file order, in a representation that does not depend on
    the reader (Parquet, openpyxl, calamine, CSV) nor on the pandas, numpy or pyarrow version.

    text: each value as UTF-8, a missing value as NUL, joined by the unit separator (pandas 3's
    ``str`` dtype and the object dtype give the same bytes). int: little-endian int64.
    float: little-endian int64 of the value in millionths (robust to a last-digit difference
    between readers), plus the missing-value mask. datetime: whole seconds since 1970 as int64
    (whatever the unit, ns or us, and however a reader rounds an Excel serial date), plus the mask.
    """
    digest = hashlib.sha256(f"{kind}:".encode())
    if kind == "text":
        parts = ["\x00" if pd.isna(v) else str(v) for v in values.astype(object).tolist()]
        digest.update("\x1f".join(parts).encode("utf-8", "surrogatepass"))
    elif kind == "int":
        digest.update(pd.to_numeric(values).to_numpy(dtype="<i8").tobytes())
    elif kind == "float":
        x = pd.to_numeric(values).astype("float64").to_numpy(dtype="<f8", na_value=np.nan)
        missing = np.isnan(x)
        digest.update(missing.tobytes())
        digest.update(np.rint(np.where(missing, 0.0, x) * 1e6).astype("<i8").tobytes())
    elif kind == "datetime":
        stamps = pd.to_datetime(values).astype("datetime64[ns]")
        missing = stamps.isna().to_numpy()
        nanos = np.where(missing, 0, stamps.to_numpy().view("i8"))
        digest.update(missing.tobytes())
        digest.update(((nanos + 500_000_000) // 1_000_000_000).astype("<i8").tobytes())
    else:  # pragma: no cover - _COLUMN_KINDS is fixed
        raise ValueError(f"unknown column kind {kind!r}")
    return digest.hexdigest()


def table_fingerprint(frame: pd.DataFrame) -> dict[str, str]:
    """sha256 of each of the eight Online Retail columns of ``frame``, in file order.

    The same table read from the original xlsx, the zip, a CSV or Parquet gives the same
    fingerprint on every supported library version; any edited cell changes its column's.
    """
    return {column: _column_digest(frame[column], _COLUMN_KINDS[column]) for column in RETAIL_COLUMNS}


def verify_online_retail(frame: pd.DataFrame, source: str = "table") -> None:
    """Check that ``frame`` is the complete UCI Online Retail table; raise naming the failed check.

    Checks: the eight columns, 541,909 rows, sum of Quantity 5,176,450 (the row count the UCI
    page gives and the Quantity total of the original ``Online Retail.xlsx``), then the content:
    each column's sha256 (:func:`table_fingerprint`) equals :data:`ONLINE_RETAIL_FINGERPRINT`,
    so a copy with one edited price, date, customer or quantity fails, naming the column.
    """
    missing = [c for c in RETAIL_COLUMNS if c not in frame.columns]
    if missing:
        raise DataVerificationError(f"{source}: check 'columns' failed: missing {missing}")
    if len(frame) != ONLINE_RETAIL_ROWS:
        raise DataVerificationError(
            f"{source}: check 'rows' failed: {len(frame):,} rows, expected {ONLINE_RETAIL_ROWS:,} "
            "(a truncated or different file)"
        )
    total = int(pd.to_numeric(frame[QUANTITY], errors="coerce").fillna(0).sum())
    if total != ONLINE_RETAIL_QUANTITY_SUM:
        raise DataVerificationError(
            f"{source}: check 'quantity_sum' failed: sum of Quantity is {total:,}, "
            f"expected {ONLINE_RETAIL_QUANTITY_SUM:,} (the file was altered)"
        )
    actual = table_fingerprint(frame)
    differ = [c for c in RETAIL_COLUMNS if actual[c] != ONLINE_RETAIL_FINGERPRINT[c]]
    if differ:
        raise DataVerificationError(
            f"{source}: check 'content' failed: column(s) {differ} differ from the original UCI file "
            "(an edited, shuffled or re-encoded copy); use the original file or the course's mirror"
        )


def _normalise_retail(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a freshly read table the canonical dtypes (codes as text, dates as datetimes)."""
    frame = frame.loc[:, [c for c in RETAIL_COLUMNS if c in frame.columns]].copy()
    for column in (INVOICE, STOCK_CODE, DESCRIPTION, COUNTRY):
        if column in frame:
            values = frame[column]
            frame[column] = values.where(values.isna(), values.astype(str)).astype("string")
    if INVOICE_DATE in frame:
        frame[INVOICE_DATE] = pd.to_datetime(frame[INVOICE_DATE])
    for column in (UNIT_PRICE, CUSTOMER):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
    if QUANTITY in frame:
        frame[QUANTITY] = pd.to_numeric(frame[QUANTITY]).astype("int64")
    return frame


def xlsx_engine() -> str:
    """The engine that reads ``Online Retail.xlsx``: ``calamine`` when installed, else ``openpyxl``.

    Both give the same table (the verification below checks it either way); calamine, a Rust
    reader (the ``python-calamine`` package), reads the 541,909-row sheet about ten times faster.
    """
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return "openpyxl"
    return "calamine"


def _read_xlsx(source) -> pd.DataFrame:
    return pd.read_excel(source, dtype={INVOICE: str, STOCK_CODE: str}, engine=xlsx_engine())


def _read_retail_file(path: Path) -> pd.DataFrame:
    """Read a Parquet, CSV, xlsx or zip (holding one xlsx or csv) copy of Online Retail."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in {".csv", ".gz"}:
        return pd.read_csv(path, dtype={INVOICE: str, STOCK_CODE: str}, encoding="latin-1")
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.lower().endswith((".xlsx", ".csv"))]
            if not members:
                raise DataVerificationError(f"{path}: check 'archive' failed: no .xlsx or .csv inside")
            data = io.BytesIO(archive.read(members[0]))
        if members[0].lower().endswith(".xlsx"):
            return _read_xlsx(data)
        return pd.read_csv(data, dtype={INVOICE: str, STOCK_CODE: str}, encoding="latin-1")
    raise DataVerificationError(f"{path}: check 'format' failed: unknown file type {suffix!r}")


def _load_verified(path: Path) -> pd.DataFrame:
    try:
        frame = _read_retail_file(path)
    except DataVerificationError:
        raise
    except Exception as exc:  # a damaged file raises many kinds of errors; name it once
        raise DataVerificationError(f"{path}: check 'readable' failed: {type(exc).__name__}: {exc}") from exc
    frame = _normalise_retail(frame)
    verify_online_retail(frame, source=str(path))
    return frame


def _stamp(cache: Path) -> Path:
    return cache.parent / (cache.name + ".sha256")


def _write_cache(frame: pd.DataFrame, cache: Path) -> None:
    with config.atomic_path(cache) as tmp:
        frame.to_parquet(tmp, index=False)
    with config.atomic_path(_stamp(cache)) as tmp:
        tmp.write_text(f"{config.sha256_of(cache)} {_VERIFICATION_VERSION}", encoding="utf-8")


def _cache_is_intact(cache: Path) -> bool:
    """The cache exists, is not empty and is the file this version of the registry verified."""
    stamp = _stamp(cache)
    if not (cache.is_file() and cache.stat().st_size > 0 and stamp.is_file()):
        return False
    return stamp.read_text(encoding="utf-8").split() == [config.sha256_of(cache), _VERIFICATION_VERSION]


def _mirror_candidates() -> list[Path]:
    mirror = config.mirror_dir()
    if mirror is None:
        return []
    folder = mirror / "online_retail"
    return [folder / name for name in _MIRROR_NAMES if (folder / name).is_file()]


def _download(url: str, target: Path, timeout: float, deadline: float | None = None,
              max_bytes: int | None = None) -> None:
    """Stream ``url`` to ``target`` atomically: an interrupted download leaves nothing behind.

    ``timeout`` bounds each socket read; ``deadline`` (seconds, default
    :data:`DOWNLOAD_DEADLINE_S`) bounds the whole download, so a server that trickles bytes cannot
    hold it forever; ``max_bytes`` (default :data:`DOWNLOAD_MAX_BYTES`) bounds its size.
    """
    deadline = DOWNLOAD_DEADLINE_S if deadline is None else deadline
    max_bytes = DOWNLOAD_MAX_BYTES if max_bytes is None else max_bytes
    give_up = time.monotonic() + deadline
    with config.atomic_path(target) as tmp, urllib.request.urlopen(url, timeout=timeout) as response:
        expected = response.headers.get("Content-Length")
        if expected is not None and expected.isdigit() and int(expected) > max_bytes:
            raise DataVerificationError(f"{url}: check 'download_size' failed: the server announces "
                                        f"{int(expected):,} bytes, more than the limit of {max_bytes:,}")
        received = 0
        with open(tmp, "wb") as handle:
            while block := response.read1(1 << 16):
                received += len(block)
                if received > max_bytes:
                    raise DataVerificationError(f"{url}: check 'download_size' failed: more than "
                                                f"{max_bytes:,} bytes, the limit")
                handle.write(block)
                if time.monotonic() > give_up:
                    raise TimeoutError(f"the download took longer than {deadline:g} s "
                                       f"({received:,} bytes received); the server is too slow")
        if expected is not None and tmp.stat().st_size != int(expected):
            raise DataVerificationError(
                f"{url}: check 'download_size' failed: got {tmp.stat().st_size:,} of {int(expected):,} bytes"
            )


def online_retail_path(path: str | os.PathLike | None = None, *, download: bool = True,
                       url: str = ONLINE_RETAIL_URL, timeout: float = 60.0,
                       deadline: float = DOWNLOAD_DEADLINE_S) -> Path:
    """Return the path of the verified, cached Parquet copy of UCI Online Retail.

    Looks in ``path``, the cache, ``$COURSE_DATA_MIRROR/online_retail/`` and finally downloads
    from ``url`` (when ``download``; ``timeout`` seconds per socket read, ``deadline`` seconds for
    the whole download). Raises :class:`DataVerificationError` naming the failed check for a
    wrong or truncated file, and :class:`DataNotFoundError` with instructions when the data is
    nowhere and cannot be downloaded.
    """
    timeout = check_positive("timeout", timeout)
    deadline = check_positive("deadline", deadline)
    cache = config.raw_dir() / ONLINE_RETAIL_CACHE_NAME
    if path is not None:
        source = Path(path)
        if not source.is_file():
            raise DataNotFoundError(f"No file at {source}")
        _write_cache(_load_verified(source), cache)
        return cache
    if _cache_is_intact(cache):
        return cache
    if cache.is_file():  # written by another tool, edited or damaged: verify by content first
        frame = _load_verified(cache)
        _write_cache(frame, cache)
        return cache
    for candidate in _mirror_candidates():
        _write_cache(_load_verified(candidate), cache)
        return cache
    if download:
        archive = config.raw_dir() / "online_retail_download.zip"
        try:
            _download(url, archive, timeout, deadline)
        except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
            raise DataNotFoundError(
                _not_found_message(f"the download from {url} failed ({type(exc).__name__}: {exc})")
            ) from exc
        try:
            _write_cache(_load_verified(archive), cache)
        finally:
            archive.unlink(missing_ok=True)
        return cache
    raise DataNotFoundError(_not_found_message("downloading was turned off"))


def _not_found_message(reason: str) -> str:
    mirror = config.mirror_dir()
    where = f"COURSE_DATA_MIRROR={mirror} has no online_retail/ file" if mirror else "COURSE_DATA_MIRROR is not set"
    return (
        f"UCI Online Retail is not available: {where}, there is no cache at "
        f"{config.raw_dir() / ONLINE_RETAIL_CACHE_NAME}, and {reason}.\n"
        "Fix it in one of these ways:\n"
        "  - export COURSE_DATA_MIRROR=/path/to/mirror, a folder holding "
        "online_retail/online_retail.parquet or online_retail/Online Retail.xlsx;\n"
        f"  - connect to the internet and run again (it downloads {ONLINE_RETAIL_URL});\n"
        "  - or pass the path of a copy you have: load_online_retail(path=...)."
    )


def load_online_retail(path: str | os.PathLike | None = None, *, download: bool = True) -> pd.DataFrame:
    """Load the verified UCI Online Retail table: 541,909 rows, the eight original columns.

    See :func:`online_retail_path` for where it is looked for.
    """
    return pd.read_parquet(online_retail_path(path, download=download))


def dataset_status() -> pd.DataFrame:
    """One row per dataset: whether it is available here, where from, and what to do if not."""
    cache = config.raw_dir() / ONLINE_RETAIL_CACHE_NAME
    mirror = _mirror_candidates()
    if _cache_is_intact(cache):
        retail = ("yes", "cache data/raw/", "")
    elif cache.is_file() and cache.stat().st_size > 0:
        retail = ("check", "cache data/raw/ (not yet verified)", "verified by content on first use")
    elif mirror:
        retail = ("yes", "COURSE_DATA_MIRROR", "")
    else:
        retail = ("download", "UCI repository", "needs internet, or set COURSE_DATA_MIRROR")
    obd = obd_dir()
    obd_ok = all((obd / p / c / f"{c}.csv.gz").is_file() for p in OBD_POLICIES for c in OBD_CAMPAIGNS)
    rows = [
        ("UCI Online Retail", *retail),
        ("Open Bandit Dataset (sample)", *(("yes", "data/open_bandit_dataset/", "") if obd_ok
                                          else ("no", "-", "restore data/open_bandit_dataset/ from git"))),
    ]
    return pd.DataFrame(rows, columns=["dataset", "available", "source", "what to do"])


# ---------------------------------------------------------------------------------------------
# Open Bandit Dataset (small sample)
OBD_POLICIES = ("random", "bts")
OBD_CAMPAIGNS = ("all", "men", "women")
OBD_LEN_LIST = 3


def obd_dir() -> Path:
    """Folder of the committed Open Bandit Dataset sample."""
    return config.data_dir() / "open_bandit_dataset"


_OBD_LOG_COLUMNS = ("timestamp", "item_id", "position", "click", "propensity_score")
_RESTORE = "restore data/open_bandit_dataset/ from the repository (git checkout -- data/open_bandit_dataset)"


def _read_obd_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read one gzipped CSV of the sample; a missing, truncated or incomplete file is named."""
    if not path.is_file():
        raise DataNotFoundError(f"{path} is missing: {_RESTORE}")
    try:
        frame = pd.read_csv(path, index_col=0)
    except Exception as exc:  # EOFError, BadGzipFile, zlib.error, ParserError, UnicodeDecodeError...
        raise DataVerificationError(
            f"{path}: check 'readable' failed ({type(exc).__name__}: {exc}); the file is truncated or "
            f"damaged: {_RESTORE}") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataVerificationError(f"{path}: check 'columns' failed: missing {missing}; {_RESTORE}")
    return frame


def _whole_numbers(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """``frame[column]`` as int64, or an error naming the file, column and first bad row."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataVerificationError(
            f"{path}: check '{column}' failed: {int(bad.sum())} value(s) are missing or not whole numbers "
            f"(first at data row {row}: {frame[column].iloc[row]!r}); {_RESTORE}")
    return values.astype(np.int64)


def _validate_obd_logs(logs: pd.DataFrame, n_items: int, path: Path) -> None:
    """Types and ranges of the logged columns: item ids known, positions 1..3, clicks 0/1,
    propensities in (0, 1], timestamps and features present."""
    def fail(check: str, what: str, mask: np.ndarray) -> None:
        row = int(np.flatnonzero(mask)[0])
        raise DataVerificationError(f"{path}: check '{check}' failed: {int(mask.sum())} row(s) {what} "
                                    f"(first at data row {row}); {_RESTORE}")

    for column, low, high in (("item_id", 0, n_items - 1), ("position", 1, OBD_LEN_LIST), ("click", 0, 1)):
        values = _whole_numbers(logs, column, path)
        outside = (values < low) | (values > high)
        if outside.any():
            fail(column, f"have {column} outside {low}..{high}", outside)
    pscores = pd.to_numeric(logs["propensity_score"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(pscores) & (pscores > 0) & (pscores <= 1))
    if bad.any():
        fail("propensity_score", "have a propensity missing or outside (0, 1]", bad)
    stamps = pd.to_datetime(logs["timestamp"], utc=True, errors="coerce")
    if stamps.isna().any():
        fail("timestamp", "have a missing or unreadable timestamp", stamps.isna().to_numpy())
    features = [c for c in logs.columns if c.startswith(("user_feature_", "user-item_affinity_"))]
    empty = logs[features].isna().any(axis=1).to_numpy()
    if empty.any():
        fail("features", "have a missing user feature or affinity", empty)


@dataclass(frozen=True)
class OpenBanditData:
    """Logged bandit feedback of one policy and campaign (Saito et al. 2021).

    Attributes (``n`` logged rounds, ``n_actions`` items, ``len_list`` = 3 slots):
        actions: (n,) int, the item shown.
        positions: (n,) int, its slot, 0 = left, 1 = centre, 2 = right.
        rewards: (n,) int, click (1) or not (0).
        pscores: (n,) float, the logging policy's probability of this item at this slot.
        context: (n, d) float, one-hot encoded user features.
        affinity: (n, n_actions) float, user-item affinity scores.
        timestamps: (n,) datetime64 (UTC), time of each impression (rows are in time order).
        item_context: DataFrame with one row per item (``item_id``, ``item_feature_0..3``).
        policy, campaign, n_actions, len_list.
    """

    policy: str
    campaign: str
    actions: np.ndarray
    positions: np.ndarray
    rewards: np.ndarray
    pscores: np.ndarray
    context: np.ndarray
    affinity: np.ndarray
    timestamps: np.ndarray
    item_context: pd.DataFrame
    n_actions: int
    len_list: int = OBD_LEN_LIST

    @property
    def n_rounds(self) -> int:
        """Number of logged impressions."""
        return len(self.actions)


def load_open_bandit(policy: str = "random", campaign: str = "all") -> OpenBanditData:
    """Load the Open Bandit Dataset sample for a logging ``policy`` and ``campaign``.

    ``policy``: ``random`` (uniform) or ``bts`` (Bernoulli Thompson sampling);
    ``campaign``: ``all`` (80 items), ``men`` (34) or ``women`` (46). Rows are sorted by time.
    """
    check_choice("policy", policy, OBD_POLICIES)
    check_choice("campaign", campaign, OBD_CAMPAIGNS)
    folder = obd_dir() / policy / campaign
    log_file = folder / f"{campaign}.csv.gz"
    items = _read_obd_csv(folder / "item_context.csv.gz", ("item_id",))
    n_items = len(items)
    if not np.array_equal(_whole_numbers(items, "item_id", folder / "item_context.csv.gz"), np.arange(n_items)):
        raise DataVerificationError(f"{folder / 'item_context.csv.gz'}: check 'item_id' failed: "
                                    f"item ids must be 0..{n_items - 1} in order")
    logs = _read_obd_csv(log_file, _OBD_LOG_COLUMNS)
    _validate_obd_logs(logs, n_items, log_file)
    logs["timestamp"] = pd.to_datetime(logs["timestamp"], utc=True).dt.tz_convert(None)
    logs = logs.sort_values("timestamp", kind="stable").reset_index(drop=True)
    user_columns = [c for c in logs.columns if c.startswith("user_feature_")]
    context = pd.get_dummies(logs[user_columns].astype(str), dtype=float).to_numpy()
    affinity = logs[[c for c in logs.columns if c.startswith("user-item_affinity_")]].to_numpy(float)
    return OpenBanditData(
        policy=policy,
        campaign=campaign,
        actions=logs["item_id"].to_numpy(np.int64),
        positions=logs["position"].to_numpy(np.int64) - 1,
        rewards=logs["click"].to_numpy(np.int64),
        pscores=logs["propensity_score"].to_numpy(float),
        context=context,
        affinity=affinity,
        timestamps=logs["timestamp"].to_numpy(),
        item_context=items,
        n_actions=len(items),
    )
