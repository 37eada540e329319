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

import http.client
import io
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import config

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
_MIRROR_NAMES = ("online_retail.parquet", "Online Retail.xlsx", "online_retail.xlsx", "online+retail.zip",
                 "online_retail.zip")


class DataVerificationError(ValueError):
    """A dataset file was found but its content is not the expected dataset."""


class DataNotFoundError(FileNotFoundError):
    """A dataset could not be found locally nor downloaded."""


def verify_online_retail(frame: pd.DataFrame, source: str = "table") -> None:
    """Check that ``frame`` is the complete UCI Online Retail table; raise naming the failed check.

    Checks: the eight columns, 541,909 rows, sum of Quantity 5,176,450: the row count the UCI
    page gives and the Quantity total of the original ``Online Retail.xlsx``, which a truncated or
    altered copy fails.
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


def _write_cache(frame: pd.DataFrame, cache: Path) -> None:
    with config.atomic_path(cache) as tmp:
        frame.to_parquet(tmp, index=False)
    (cache.parent / (cache.name + ".sha256")).write_text(config.sha256_of(cache), encoding="utf-8")


def _cache_is_intact(cache: Path) -> bool:
    stamp = cache.parent / (cache.name + ".sha256")
    return cache.is_file() and stamp.is_file() and stamp.read_text().strip() == config.sha256_of(cache)


def _mirror_candidates() -> list[Path]:
    mirror = config.mirror_dir()
    if mirror is None:
        return []
    folder = mirror / "online_retail"
    return [folder / name for name in _MIRROR_NAMES if (folder / name).is_file()]


def _download(url: str, target: Path, timeout: float) -> None:
    """Stream ``url`` to ``target`` atomically: an interrupted download leaves nothing behind."""
    with config.atomic_path(target) as tmp, urllib.request.urlopen(url, timeout=timeout) as response:
        expected = response.headers.get("Content-Length")
        with open(tmp, "wb") as handle:
            shutil.copyfileobj(response, handle, length=1 << 20)
        if expected is not None and tmp.stat().st_size != int(expected):
            raise DataVerificationError(
                f"{url}: check 'download_size' failed: got {tmp.stat().st_size:,} of {int(expected):,} bytes"
            )


def online_retail_path(path: str | os.PathLike | None = None, *, download: bool = True,
                       url: str = ONLINE_RETAIL_URL, timeout: float = 60.0) -> Path:
    """Return the path of the verified, cached Parquet copy of UCI Online Retail.

    Looks in ``path``, the cache, ``$COURSE_DATA_MIRROR/online_retail/`` and finally downloads
    from ``url`` (when ``download``). Raises :class:`DataVerificationError` naming the failed check
    for a wrong or truncated file, and :class:`DataNotFoundError` with instructions when the data
    is nowhere and cannot be downloaded.
    """
    cache = config.raw_dir() / ONLINE_RETAIL_CACHE_NAME
    if path is not None:
        source = Path(path)
        if not source.is_file():
            raise DataNotFoundError(f"No file at {source}")
        _write_cache(_load_verified(source), cache)
        return cache
    if _cache_is_intact(cache):
        return cache
    if cache.is_file():  # written by another tool or edited: verify by content before trusting it
        frame = _load_verified(cache)
        _write_cache(frame, cache)
        return cache
    for candidate in _mirror_candidates():
        _write_cache(_load_verified(candidate), cache)
        return cache
    if download:
        archive = config.raw_dir() / "online_retail_download.zip"
        try:
            _download(url, archive, timeout)
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
    if cache.is_file():
        retail = ("yes", "cache data/raw/", "")
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
    if policy not in OBD_POLICIES:
        raise ValueError(f"policy must be one of {OBD_POLICIES}, got {policy!r}")
    if campaign not in OBD_CAMPAIGNS:
        raise ValueError(f"campaign must be one of {OBD_CAMPAIGNS}, got {campaign!r}")
    folder = obd_dir() / policy / campaign
    log_file = folder / f"{campaign}.csv.gz"
    if not log_file.is_file():
        raise DataNotFoundError(f"{log_file} is missing: restore data/open_bandit_dataset/ from the repository")
    logs = pd.read_csv(log_file, index_col=0)
    logs["timestamp"] = pd.to_datetime(logs["timestamp"], utc=True).dt.tz_convert(None)
    logs = logs.sort_values("timestamp", kind="stable").reset_index(drop=True)
    items = pd.read_csv(folder / "item_context.csv.gz", index_col=0)
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
