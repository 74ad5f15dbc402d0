"""The bundled sample and the order of price sources: directory, cache, sample.

The sample must be the shared real prices value for value (checked against NEWSBT_DATA_DIR when set),
ship in a built wheel, be validated like a CSV, and serve only what the directory and cache lack.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from newsbt.cli import app
from newsbt.core.errors import NewsbtError
from newsbt.data import sample
from newsbt.data.prices import available_tickers, read_price_file
from newsbt.data.sources import price_sources
from tests.conftest import write_price_files

ROOT = Path(__file__).resolve().parents[1]
TICKERS = ["AAPL", "AMD", "AMZN", "ANET", "ARM", "AVGO", "GOOGL", "IWM", "META", "MSFT", "MU", "NVDA", "ORCL",
           "QQQ", "SMCI", "SMH", "SPY", "TSM"]


def frame(closes: list[float], start: str = "2024-01-02") -> pd.DataFrame:
    """A valid daily frame (business days) with the given closes."""
    close = pd.Series(closes, index=pd.bdate_range(start, periods=len(closes), name="date"), dtype=float)
    return pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                         "adj_close": close, "volume": 1000}).astype({"volume": "int64"})


# --- the sample itself ---------------------------------------------------------------------------


def test_sample_equals_the_shared_price_files_value_for_value(real_data_dir):
    assert sample.sample_tickers() == available_tickers(real_data_dir) == TICKERS
    served = sample.load_sample(TICKERS)
    for ticker in TICKERS:
        path = real_data_dir / f"{ticker}.csv"
        expected = read_price_file(path)
        pd.testing.assert_frame_equal(served[ticker], expected, check_exact=True)
        raw = pd.read_csv(path, dtype=str)  # and against the file's own text, column by column
        assert served[ticker].index.strftime("%Y-%m-%d").tolist() == raw["date"].tolist()
        for col in ("open", "high", "low", "close", "adj_close"):
            assert served[ticker][col].tolist() == [float(v) for v in raw[col]], (ticker, col)
        assert served[ticker]["volume"].tolist() == [int(v) for v in raw["volume"]], ticker


def test_sample_covers_the_documented_range():
    coverage = sample.DAILY.coverage()
    assert coverage.index.tolist() == TICKERS
    assert str(coverage["first"].min()) == "2015-01-02" and str(coverage.loc["ARM", "first"]) == "2023-09-14"
    assert str(coverage.loc["NVDA", "last"]) == "2026-05-15" and coverage.loc["NVDA", "rows"] == 2859
    assert sample.DAILY.path.stat().st_size < 3_000_000


def test_sample_ships_the_seed_event_calendar_unchanged():
    assert sample.EVENTS_FILE.read_bytes() == (ROOT / "data" / "events" / "ai_news.csv").read_bytes()


def test_a_built_wheel_holds_the_sample(tmp_path):
    """A non-editable install gets the data: package-data in pyproject ships embedded/ in the wheel.

    Built offline from a copy of the sources (setuptools writes build/ beside them)."""
    source = tmp_path / "source"
    for name in ("newsbt", "strategies"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist")], check=True, capture_output=True)
    [wheel] = (tmp_path / "dist").glob("newsbt-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "newsbt/data/embedded/prices.parquet" in names and "newsbt/data/embedded/ai_news.csv" in names


# --- packing, and validation of what is packed ---------------------------------------------------


def test_pack_round_trips_exact_values(tmp_path, monkeypatch):
    frames = {"BBB": frame([10.1, 10.2, 9.87654321]), "AAA": frame([1 / 3, 0.5032, 123456.7891], "2024-03-01")}
    out = sample.pack_daily(write_price_files(tmp_path / "prices", frames), tmp_path / "embedded" / "prices.parquet")
    assert pq.read_table(out).column_names == ["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]
    monkeypatch.setattr(sample, "EMBEDDED", tmp_path / "embedded")
    assert sample.sample_tickers() == ["AAA", "BBB"]
    loaded = sample.load_sample(["BBB", "AAA"])
    for ticker, expected in frames.items():
        pd.testing.assert_frame_equal(loaded[ticker], read_price_file(tmp_path / "prices" / f"{ticker}.csv"),
                                      check_exact=True)
        assert loaded[ticker]["close"].tolist() == expected["close"].tolist()  # 1/3 survives, bit for bit


@settings(max_examples=25, deadline=None)
@given(closes=st.lists(st.floats(min_value=1e-4, max_value=1e6, allow_nan=False, allow_infinity=False),
                       min_size=1, max_size=20),
       volume=st.integers(min_value=0, max_value=2**53))
def test_any_valid_prices_survive_packing_bit_for_bit(closes, volume):
    expected = frame(closes).assign(volume=volume)
    with tempfile.TemporaryDirectory() as tmp:
        prices = write_price_files(Path(tmp) / "prices", {"AAA": expected})
        sample.pack_daily(prices, Path(tmp) / "embedded" / "prices.parquet")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sample, "EMBEDDED", Path(tmp) / "embedded")
            loaded = sample.load_sample(["AAA"])["AAA"]
        pd.testing.assert_frame_equal(loaded, read_price_file(prices / "AAA.csv"), check_exact=True)


def test_packed_rows_are_validated_like_a_csv(tmp_path, monkeypatch):
    bad = frame([10.0, 11.0])
    out = sample.pack_daily(write_price_files(tmp_path / "prices", {"AAA": bad}), tmp_path / "embedded" / "prices.parquet")
    table = pq.read_table(out).to_pandas()
    table.loc[1, "high"] = 1.0  # below low: a CSV with this row is refused, so is the sample
    table.to_parquet(out)
    monkeypatch.setattr(sample, "EMBEDDED", tmp_path / "embedded")
    with pytest.raises(NewsbtError, match=r"prices\.parquet\[AAA\]:3: high is below low on 2024-01-03"):
        sample.load_sample(["AAA"])


def test_pack_refuses_a_directory_without_price_files(tmp_path):
    with pytest.raises(NewsbtError, match="no price files"):
        sample.pack_daily(tmp_path, tmp_path / "x.parquet")


def test_sample_names_what_it_lacks():
    with pytest.raises(NewsbtError, match="the bundled sample has no prices for ZZZ; it holds AAPL, AMD"):
        sample.load_sample(["ZZZ"])


# --- the order of sources ------------------------------------------------------------------------


@pytest.fixture
def layered(tmp_path, monkeypatch) -> Path:
    """A working directory whose cache holds AMD, and a price directory holding NVDA (both synthetic)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSBT_DATA_DIR", raising=False)
    write_price_files(tmp_path / "data" / "prices", {"AMD": frame([5.0, 6.0])})
    return write_price_files(tmp_path / "mine", {"NVDA": frame([100.0, 90.0]), "AMD": frame([7.0, 8.0])})


def test_each_ticker_comes_from_the_first_source_holding_it(layered):
    sources = price_sources(layered)
    assert [s.kind for s in sources.sources] == ["directory", "cache", "sample"]
    origins = sources.origins(["NVDA", "AMD", "QQQ"])
    assert {t: s.kind for t, s in origins.items()} == {"NVDA": "directory", "AMD": "directory", "QQQ": "sample"}
    prices = sources.load(["QQQ", "NVDA", "AMD"])
    assert list(prices) == ["QQQ", "NVDA", "AMD"]
    assert prices["NVDA"]["close"].tolist() == [100.0, 90.0] and prices["AMD"]["close"].tolist() == [7.0, 8.0]
    assert prices["QQQ"]["close"].iloc[0] == sample.load_sample(["QQQ"])["QQQ"]["close"].iloc[0]


def test_the_cache_comes_before_the_sample(layered):
    sources = price_sources()  # no --data-dir, no NEWSBT_DATA_DIR: the cache, then the sample
    assert [s.kind for s in sources.sources] == ["cache", "sample"]
    assert sources.load(["AMD"])["AMD"]["close"].tolist() == [5.0, 6.0]
    assert "AAPL" in sources.tickers() and "AMD" in sources.tickers()


def test_the_environment_names_the_directory_and_is_not_searched_twice(layered, monkeypatch):
    monkeypatch.setenv("NEWSBT_DATA_DIR", str(layered))
    assert [(s.kind, s.label) for s in price_sources().sources][0] == ("directory", f"$NEWSBT_DATA_DIR {layered}")
    monkeypatch.setenv("NEWSBT_DATA_DIR", "data/prices")
    assert [s.kind for s in price_sources().sources] == ["directory", "sample"]


def test_the_note_names_only_what_the_sample_serves(layered):
    note = price_sources(layered).sample_note(["NVDA", "QQQ", "SPY"])
    assert note == ("prices for QQQ, SPY come from the sample bundled with newsbt (daily, up to 2026-05-15); "
                    "for fresh prices: newsbt data fetch QQQ SPY --start 2015-01-02")
    assert price_sources(layered).sample_note(["NVDA", "AMD"]) is None


def test_a_ticker_no_source_holds_names_every_place_searched(layered):
    with pytest.raises(NewsbtError) as info:
        price_sources(layered).load(["NVDA", "ZZZ"], (pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-06-30").date()))
    assert str(info.value) == (
        f"no price file for ZZZ in {layered.resolve()} or {(layered.parent / 'data' / 'prices').resolve()} "
        "(looked for ZZZ.csv), nor in the bundled sample; set --data-dir or NEWSBT_DATA_DIR, "
        "or download them with: newsbt data fetch ZZZ --start 2024-01-01 --end 2024-06-30")


# --- the command line ----------------------------------------------------------------------------


def test_data_list_shows_sources_in_order_and_where_each_ticker_is_read(layered):
    result = CliRunner().invoke(app, ["data", "list", "--data-dir", str(layered)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == ["Each ticker is read from the first source that has it:",
                         f"  1. --data-dir {layered}: 2 tickers", "  2. cache data/prices/: 1 tickers",
                         "  3. sample bundled with newsbt (prices.parquet): 18 tickers"]
    rows = {line.split()[0]: line.split() for line in lines[5:] if line.split() and line.split()[0] in TICKERS}
    assert rows["NVDA"] == ["NVDA", "2024-01-02..2024-01-03", "(2)", "-", "2015-01-02..2026-05-15", "(2859)",
                            "1.", "directory"]
    assert rows["AMD"][-2:] == ["1.", "directory"] and rows["AMD"][3:5] == ["2024-01-02..2024-01-03", "(2)"]
    assert rows["QQQ"][:3] == ["QQQ", "-", "-"] and rows["QQQ"][-2:] == ["3.", "sample"]
    assert len(rows) == 18
    assert f"sample seed event calendar: {sample.EVENTS_FILE}" in result.output


def test_data_pack_writes_the_file_it_names(tmp_path):
    prices = write_price_files(tmp_path / "prices", {"AAA": frame([1.0, 2.0])})
    result = CliRunner().invoke(app, ["data", "pack", str(prices), "--out", str(tmp_path / "p.parquet")],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"packed 1 tickers of {prices} into {tmp_path / 'p.parquet'} (")
    assert pq.read_table(tmp_path / "p.parquet").num_rows == 2
