"""The dataset registry, offline: mirror, cache, verification, download from a local server, errors.

The fixtures are small tables the tests build (never the real data); the verification
figures are patched to the fixture's, so the same checks run as on the real 541,909 rows.
"""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import config, data


def _fixture_table(n_rows: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        data.INVOICE: [f"{536365 + i // 4}" for i in range(n_rows)],
        data.STOCK_CODE: rng.choice(["85123A", "71053", "84406B", "POST"], n_rows),
        data.DESCRIPTION: rng.choice(["WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN", None], n_rows),
        data.QUANTITY: rng.integers(1, 30, n_rows),
        data.INVOICE_DATE: pd.date_range("2010-12-01 08:26", periods=n_rows, freq="h"),
        data.UNIT_PRICE: rng.uniform(0.5, 5, n_rows).round(2),
        data.CUSTOMER: rng.choice([17850.0, 13047.0, np.nan], n_rows),
        data.COUNTRY: "United Kingdom",
    })


@pytest.fixture
def table():
    return _fixture_table()


@pytest.fixture
def sandbox(tmp_path, monkeypatch, table):
    """Empty data/cache folders, no mirror, and verification figures matching the fixture table."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COURSE_CACHE_DIR", raising=False)
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    monkeypatch.setattr(data, "ONLINE_RETAIL_ROWS", len(table))
    monkeypatch.setattr(data, "ONLINE_RETAIL_QUANTITY_SUM", int(table[data.QUANTITY].sum()))
    monkeypatch.setattr(data, "ONLINE_RETAIL_FINGERPRINT", data.table_fingerprint(table))
    return tmp_path


def _mirror(tmp_path: Path, monkeypatch, frame: pd.DataFrame) -> Path:
    folder = tmp_path / "mirror" / "online_retail"
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "online_retail.parquet", index=False)
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(tmp_path / "mirror"))
    return folder / "online_retail.parquet"


def _zip_of_xlsx(frame: pd.DataFrame) -> bytes:
    sheet = io.BytesIO()
    frame.to_excel(sheet, index=False, engine="openpyxl")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("Online Retail.xlsx", sheet.getvalue())
    return archive.getvalue()


class _Server:
    """A local HTTP server on 127.0.0.1 serving one body, optionally cut short."""

    def __init__(self, body: bytes, claimed_length: int | None = None):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(claimed_length or len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.requests = 0
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/online+retail.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_found_through_the_mirror_and_cached(sandbox, monkeypatch, table):
    _mirror(sandbox, monkeypatch, table)
    path = data.online_retail_path(download=False)
    assert path == config.raw_dir() / "online_retail.parquet"
    loaded = pd.read_parquet(path)
    assert len(loaded) == len(table)
    assert loaded[data.QUANTITY].sum() == table[data.QUANTITY].sum()
    assert loaded[data.STOCK_CODE].tolist() == table[data.STOCK_CODE].tolist()


def test_cache_is_reused_without_reading_the_source(sandbox, monkeypatch, table):
    source = _mirror(sandbox, monkeypatch, table)
    data.online_retail_path(download=False)
    source.unlink()  # the source is gone ...

    def fail(_path):
        raise AssertionError("the source was read again")

    monkeypatch.setattr(data, "_read_retail_file", fail)  # ... and reading any file would fail
    assert len(data.load_online_retail(download=False)) == len(table)


@pytest.mark.parametrize(
    ("damage", "check"),
    [
        (lambda f: f.iloc[:-1], "rows"),
        (lambda f: f.assign(**{data.QUANTITY: f[data.QUANTITY] + 1}), "quantity_sum"),
        (lambda f: f.drop(columns=[data.COUNTRY]), "columns"),
        (lambda f: f.assign(**{data.UNIT_PRICE: 0.0}), "content"),
        (lambda f: f.assign(**{data.INVOICE_DATE: f[data.INVOICE_DATE] + pd.Timedelta(days=365)}), "content"),
        (lambda f: f.assign(**{data.CUSTOMER: f[data.CUSTOMER].sample(frac=1, random_state=1).to_numpy()}),
         "content"),
        (lambda f: f.assign(**{data.QUANTITY: f[data.QUANTITY] + np.r_[1000, -1000, np.zeros(len(f) - 2, int)]}),
         "content"),
        (lambda f: f.assign(**{data.DESCRIPTION: f[data.DESCRIPTION].str.strip()}).replace(
            {data.DESCRIPTION: {"WHITE METAL LANTERN": "WHITE METAL LANTERN "}}), "content"),
    ],
    ids=["truncated", "altered", "missing-column", "prices-zeroed", "dates-shifted", "customers-shuffled",
         "quantities-plus-minus-1000", "description-space"],
)
def test_a_wrong_file_is_rejected_naming_the_check(sandbox, monkeypatch, table, damage, check):
    _mirror(sandbox, monkeypatch, damage(table))
    with pytest.raises(data.DataVerificationError, match=f"check '{check}' failed"):
        data.online_retail_path(download=False)
    assert not (config.raw_dir() / "online_retail.parquet").exists(), "a rejected file was cached"


def test_an_unreadable_file_is_rejected(sandbox, monkeypatch, table):
    folder = sandbox / "mirror" / "online_retail"
    folder.mkdir(parents=True)
    (folder / "online_retail.parquet").write_bytes(b"PAR1 this is not parquet")
    monkeypatch.setenv("COURSE_DATA_MIRROR", str(sandbox / "mirror"))
    with pytest.raises(data.DataVerificationError, match="check 'readable' failed"):
        data.online_retail_path(download=False)


def test_a_tampered_cache_is_verified_again_by_content(sandbox, monkeypatch, table):
    _mirror(sandbox, monkeypatch, table)
    cache = data.online_retail_path(download=False)
    table.iloc[:-2].to_parquet(cache, index=False)  # edited behind the registry's back
    with pytest.raises(data.DataVerificationError, match="check 'rows' failed"):
        data.online_retail_path(download=False)


def test_download_from_a_local_server_converts_once_to_parquet(sandbox, table):
    with _Server(_zip_of_xlsx(table)) as server:
        path = data.online_retail_path(url=server.url, timeout=10)
        again = data.online_retail_path(url=server.url, timeout=10)
    assert server.requests == 1, "the second call should use the cache"
    assert path == again and path.suffix == ".parquet"
    loaded = pd.read_parquet(path)
    assert loaded[data.INVOICE].tolist() == table[data.INVOICE].tolist()
    assert sorted(p.name for p in config.raw_dir().iterdir()) == ["online_retail.parquet",
                                                                   "online_retail.parquet.sha256"]


def test_an_interrupted_download_leaves_no_partial_cache(sandbox, table):
    body = _zip_of_xlsx(table)
    with _Server(body[: len(body) // 2], claimed_length=len(body)) as server, pytest.raises(
        (data.DataNotFoundError, data.DataVerificationError)
    ):
        data.online_retail_path(url=server.url, timeout=10)
    leftovers = list(config.raw_dir().iterdir()) if config.raw_dir().exists() else []
    assert leftovers == [], f"partial files left behind: {leftovers}"


def test_missing_and_offline_says_what_to_do(sandbox):
    closed_port_url = "http://127.0.0.1:9/online+retail.zip"
    with pytest.raises(data.DataNotFoundError) as info:
        data.online_retail_path(url=closed_port_url, timeout=2)
    message = str(info.value)
    assert "COURSE_DATA_MIRROR" in message and data.ONLINE_RETAIL_URL in message
    with pytest.raises(data.DataNotFoundError, match="downloading was turned off"):
        data.online_retail_path(download=False)


def test_explicit_path_wins(sandbox, table, tmp_path):
    explicit = tmp_path / "my_copy.parquet"
    table.to_parquet(explicit, index=False)
    assert len(data.load_online_retail(path=explicit, download=False)) == len(table)
    with pytest.raises(data.DataNotFoundError):
        data.online_retail_path(tmp_path / "nowhere.parquet")


@pytest.mark.skipif(config.mirror_dir() is None, reason="COURSE_DATA_MIRROR is not set")
def test_the_real_dataset_verifies(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    frame = data.load_online_retail(download=False)
    assert len(frame) == 541_909 and frame[data.QUANTITY].sum() == 5_176_450
    assert frame[data.CUSTOMER].nunique() == 4_372 and frame[data.STOCK_CODE].nunique() == 4_070


@pytest.mark.parametrize("campaign", data.OBD_CAMPAIGNS)
def test_open_bandit_loader(campaign):
    logs = data.load_open_bandit("random", campaign)
    n_items = {"all": 80, "men": 34, "women": 46}[campaign]
    assert logs.n_rounds == 10_000 and logs.n_actions == n_items
    assert logs.actions.min() >= 0 and logs.actions.max() < n_items
    assert set(np.unique(logs.positions)) == {0, 1, 2}
    np.testing.assert_allclose(logs.pscores, 1 / n_items)
    assert logs.context.shape[0] == logs.affinity.shape[0] == 10_000
    assert logs.affinity.shape[1] == n_items
    assert np.all(np.diff(logs.timestamps.astype("int64")) >= 0), "rows are not in time order"
    assert logs.rewards.sum() == {"all": 38, "men": 46, "women": 46}[campaign]


def test_open_bandit_loader_rejects_unknown_names():
    with pytest.raises(ValueError, match="policy must be one of"):
        data.load_open_bandit("greedy", "all")
    with pytest.raises(ValueError, match="campaign must be one of"):
        data.load_open_bandit("random", "kids")


@pytest.mark.parametrize("column", data.RETAIL_COLUMNS)
def test_the_content_check_names_the_edited_column(sandbox, monkeypatch, table, column):
    edited = table.copy()
    value = edited[column].iloc[3]
    if column == data.INVOICE_DATE:
        value = value + pd.Timedelta(minutes=1)
    elif column in (data.QUANTITY, data.UNIT_PRICE, data.CUSTOMER):
        value = (0 if pd.isna(value) else value) + 1
    else:
        value = f"{value}x"
    edited.loc[3, column] = value
    _mirror(sandbox, monkeypatch, edited)
    monkeypatch.setattr(data, "ONLINE_RETAIL_QUANTITY_SUM", int(edited[data.QUANTITY].sum()))
    with pytest.raises(data.DataVerificationError, match=rf"check 'content' failed: column\(s\) \['{column}'\]"):
        data.online_retail_path(download=False)
    assert not (config.raw_dir() / "online_retail.parquet").exists(), "a rejected file was cached"


def test_the_fingerprint_does_not_depend_on_the_reader(table, tmp_path):
    """xlsx (openpyxl), CSV and Parquet copies, datetime units ns and us, object and string dtypes."""
    expected = data.table_fingerprint(table)
    (tmp_path / "t.xlsx").write_bytes(zipfile.ZipFile(io.BytesIO(_zip_of_xlsx(table))).read("Online Retail.xlsx"))
    table.to_csv(tmp_path / "t.csv", index=False)
    table.to_parquet(tmp_path / "t.parquet", index=False)
    for name in ("t.xlsx", "t.csv", "t.parquet"):
        frame = data._normalise_retail(data._read_retail_file(tmp_path / name))
        assert data.table_fingerprint(frame) == expected, name
    engines = ["openpyxl"] + (["calamine"] if data.xlsx_engine() == "calamine" else [])
    for engine in engines:
        frame = pd.read_excel(tmp_path / "t.xlsx", dtype={data.INVOICE: str, data.STOCK_CODE: str}, engine=engine)
        assert data.table_fingerprint(data._normalise_retail(frame)) == expected, engine
    variant = table.astype({data.INVOICE_DATE: "datetime64[us]", data.COUNTRY: "string",
                            data.DESCRIPTION: object})
    assert data.table_fingerprint(variant) == expected


def test_an_old_cache_stamp_is_verified_again(sandbox, monkeypatch, table):
    """A cache stamped by the weaker check of an earlier version is verified by content again."""
    _mirror(sandbox, monkeypatch, table)
    cache = data.online_retail_path(download=False)
    stamp = cache.parent / (cache.name + ".sha256")
    stamp.write_text(config.sha256_of(cache))  # the old stamp: a sha256 alone
    assert not data._cache_is_intact(cache)
    data.online_retail_path(download=False)
    assert data._cache_is_intact(cache)


def test_a_zero_byte_cache_is_not_reported_available(sandbox):
    config.raw_dir().mkdir(parents=True)
    (config.raw_dir() / "online_retail.parquet").write_bytes(b"")
    status = data.dataset_status().set_index("dataset")
    assert status.loc["UCI Online Retail", "available"] != "yes"


class _TrickleServer(_Server):
    """Announces a large body and sends it one byte at a time, each byte within the socket timeout."""

    def __init__(self, n_bytes: int, pause: float):
        import time

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(n_bytes))
                self.end_headers()
                try:
                    for _ in range(n_bytes):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(pause)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.requests = 0
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/online+retail.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


def test_a_trickling_download_ends_at_the_deadline(sandbox):
    import time

    with _TrickleServer(10_000, pause=0.02) as server:
        start = time.monotonic()
        with pytest.raises(data.DataNotFoundError, match="longer than 0.5 s"):
            data.online_retail_path(url=server.url, timeout=5, deadline=0.5)
        assert time.monotonic() - start < 5
    leftovers = list(config.raw_dir().iterdir()) if config.raw_dir().exists() else []
    assert leftovers == [], f"partial files left behind: {leftovers}"


def test_a_download_larger_than_the_limit_is_refused(sandbox, monkeypatch, table):
    monkeypatch.setattr(data, "DOWNLOAD_MAX_BYTES", 100)
    with _Server(_zip_of_xlsx(table)) as server, pytest.raises(data.DataVerificationError, match="download_size"):
        data.online_retail_path(url=server.url, timeout=5)
    assert list(config.raw_dir().iterdir()) == []


def test_bad_download_settings_are_refused(sandbox):
    with pytest.raises(ValueError, match="deadline must be a finite positive number"):
        data.online_retail_path(deadline=0)


# --- Open Bandit Dataset files are validated, and a bad one is named -------------------------

@pytest.fixture
def obd_copy(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(data.obd_dir(), tmp_path / "data" / "open_bandit_dataset")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "open_bandit_dataset" / "random" / "men"


def _rewrite(path: Path, edit) -> None:
    frame = pd.read_csv(path, index_col=0)
    edit(frame).to_csv(path, compression="gzip")


@pytest.mark.parametrize(("edit", "check"), [
    (lambda f: pd.concat([f, pd.DataFrame(index=[len(f)], columns=f.columns)]), "item_id"),
    (lambda f: f.assign(propensity_score=f["propensity_score"].where(f.index != 5, 0.0)), "propensity_score"),
    (lambda f: f.assign(propensity_score=f["propensity_score"].where(f.index != 5, 1.5)), "propensity_score"),
    (lambda f: f.assign(item_id=f["item_id"].where(f.index != 5, 34)), "item_id"),
    (lambda f: f.assign(position=f["position"].where(f.index != 5, 0)), "position"),
    (lambda f: f.assign(click=f["click"].where(f.index != 5, 2)), "click"),
    (lambda f: f.drop(columns=["propensity_score"]), "columns"),
], ids=["empty-row", "zero-propensity", "propensity-above-1", "unknown-item", "position-0", "click-2",
        "missing-column"])
def test_a_damaged_open_bandit_file_is_named(obd_copy, edit, check):
    _rewrite(obd_copy / "men.csv.gz", edit)
    with pytest.raises(data.DataVerificationError, match=rf"men\.csv\.gz: check '{check}' failed"):
        data.load_open_bandit("random", "men")


def test_a_truncated_open_bandit_file_is_named(obd_copy):
    path = obd_copy / "men.csv.gz"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(data.DataVerificationError, match=r"men\.csv\.gz: check 'readable' failed.*restore"):
        data.load_open_bandit("random", "men")


@pytest.mark.skipif(config.mirror_dir() is None, reason="COURSE_DATA_MIRROR is not set")
def test_the_real_dataset_with_one_edited_price_fails_naming_the_column():
    frame = data._normalise_retail(pd.read_parquet(config.mirror_dir() / "online_retail" / "online_retail.parquet"))
    data.verify_online_retail(frame)
    frame.loc[1000, data.UNIT_PRICE] += 0.01
    with pytest.raises(data.DataVerificationError, match=r"\['UnitPrice'\]"):
        data.verify_online_retail(frame)


def test_calamine_and_openpyxl_read_the_same_table(tmp_path):
    """The fast reader and the fallback give one canonical table, so either verifies the same way."""
    pytest.importorskip("python_calamine")
    frame = _fixture_table(60).astype({data.INVOICE: object, data.STOCK_CODE: object})
    frame.loc[::3, data.INVOICE] = 536365  # the UCI sheet stores most invoice numbers as numbers
    frame.loc[1, data.INVOICE] = "C536379"  # and cancellations as text
    frame.loc[::5, data.STOCK_CODE] = 22423
    frame.loc[7, data.DESCRIPTION] = "ROSES REGENCY TEACUP AND SAUCER "
    path = tmp_path / "Online Retail.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    read = {engine: data._normalise_retail(pd.read_excel(path, dtype={data.INVOICE: str, data.STOCK_CODE: str},
                                                         engine=engine))
            for engine in ("openpyxl", "calamine")}
    pd.testing.assert_frame_equal(read["openpyxl"], read["calamine"])
    assert data.table_fingerprint(read["openpyxl"]) == data.table_fingerprint(read["calamine"])
    assert read["calamine"][data.INVOICE].iloc[0] == "536365" and read["calamine"][data.INVOICE].iloc[1] == "C536379"
    assert data.xlsx_engine() == "calamine"
