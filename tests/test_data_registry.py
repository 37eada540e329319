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
    ],
    ids=["truncated", "altered", "missing-column"],
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
    assert read["calamine"][data.INVOICE].iloc[0] == "536365" and read["calamine"][data.INVOICE].iloc[1] == "C536379"
    assert data.xlsx_engine() == "calamine"
