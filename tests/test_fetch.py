"""`newsbt data fetch`: yfinance-shaped downloads become validated price files, written atomically.

No test touches the network: sockets are blocked throughout and every download is faked (the real
yfinance adapter is exercised against a fake ``yfinance`` module).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from newsbt.core.errors import NewsbtError
from newsbt.data.fetch import fetch_prices, fetch_ticker, yfinance_download
from newsbt.data.prices import read_price_file

pytestmark = pytest.mark.usefixtures("no_network", "no_real_yfinance")


@pytest.fixture
def no_real_yfinance(monkeypatch):
    """yfinance downloads through curl_cffi (libcurl), which ``no_network``'s socket patches cannot
    see: no test may reach the real library, so ``import yfinance`` gets a module that refuses."""
    module = types.ModuleType("yfinance")

    def download(*args, **kwargs):
        raise AssertionError(f"real yfinance download attempted: {args!r}")

    module.download = download
    monkeypatch.setitem(sys.modules, "yfinance", module)

HEADER = "date,open,high,low,close,adj_close,volume\n"
# (date, open, high, low, close, adj close, volume), deliberately unsorted and over-precise
BARS = [
    ("2024-01-03", 101.123456, 103.5, 100.0, 102.987654, 101.5, 2000.0),
    ("2024-01-02", 100.0, 102.0, 99.5, 101.0, 99.55555, 1000.0),
    ("2024-01-04", 103.0, 104.0, 101.25, 101.5, 100.0, 1500.0),
]
EXPECTED = HEADER + (
    "2024-01-02,100.0,102.0,99.5,101.0,99.5556,1000\n"
    "2024-01-03,101.1235,103.5,100.0,102.9877,101.5,2000\n"
    "2024-01-04,103.0,104.0,101.25,101.5,100.0,1500\n"
)


def yahoo_frame(bars=BARS, ticker: str = "NVDA", shape: str = "flat") -> pd.DataFrame:
    """What ``yfinance.download(ticker, auto_adjust=False, actions=False)`` returns."""
    index = pd.DatetimeIndex([b[0] for b in bars], name="Date")
    fields = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    frame = pd.DataFrame([b[1:] for b in bars], index=index, columns=fields)
    frame = frame[sorted(fields)]  # yfinance sorts its columns: Adj Close, Close, High, ...
    if shape == "multi":  # the default since yfinance 0.2.48, even for one ticker
        frame.columns = pd.MultiIndex.from_product([frame.columns, [ticker]], names=["Price", "Ticker"])
    elif shape == "by_ticker":  # group_by="ticker"
        frame.columns = pd.MultiIndex.from_product([[ticker], frame.columns], names=["Ticker", "Price"])
    return frame


def fake(frames: dict[str, pd.DataFrame], calls: list | None = None):
    def download(ticker, start, end):
        if calls is not None:
            calls.append((ticker, start, end))
        return frames[ticker]
    return download


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- the happy path ------------------------------------------------------------------------------


def paths_of(fetched) -> list:
    return [f.path for f in fetched]


@pytest.mark.parametrize("shape", ["flat", "multi", "by_ticker"])
def test_download_becomes_the_exact_price_file(tmp_path, shape):
    paths = paths_of(fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path,
                                  downloader=fake({"NVDA": yahoo_frame(shape=shape)})))
    assert paths == [tmp_path / "NVDA.csv"]
    assert paths[0].read_text(encoding="utf-8") == EXPECTED
    assert files_in(tmp_path) == ["NVDA.csv"]
    assert read_price_file(paths[0])["volume"].tolist() == [1000, 2000, 1500]


def test_tickers_dates_and_progress(tmp_path):
    calls, seen = [], []
    frames = {"NVDA": yahoo_frame(), "QQQ": yahoo_frame(ticker="QQQ", shape="multi")}
    paths = paths_of(fetch_prices(["nvda", "QQQ", "NVDA"], dt.date(2024, 1, 2), "2024-01-03", tmp_path / "new",
                                  downloader=fake(frames, calls), progress=seen.append))
    assert paths == [tmp_path / "new" / "NVDA.csv", tmp_path / "new" / "QQQ.csv"]
    assert seen == ["NVDA", "QQQ"]
    assert calls == [("NVDA", dt.date(2024, 1, 2), dt.date(2024, 1, 3))] + [("QQQ", dt.date(2024, 1, 2),
                                                                             dt.date(2024, 1, 3))]
    # both ends inclusive; rows a downloader returns outside the range are not kept
    assert paths[0].read_text().splitlines()[1:] == EXPECTED.splitlines()[1:3]


def test_data_dir_defaults_to_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSBT_DATA_DIR", str(tmp_path))
    assert paths_of(fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", None,
                                 downloader=fake({"NVDA": yahoo_frame()}))) == [tmp_path / "NVDA.csv"]


# --- bad downloads never land --------------------------------------------------------------------


def test_invalid_download_is_refused_and_nothing_written(tmp_path):
    bars = [BARS[1], ("2024-01-03", 101.0, 99.0, 100.0, 100.5, 100.0, 2000.0)]  # high < low
    with pytest.raises(NewsbtError) as info:
        fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path, downloader=fake({"NVDA": yahoo_frame(bars)}))
    message = str(info.value)
    assert message.startswith("refused the download of NVDA, nothing written: NVDA.csv (downloaded):3: ")
    assert "high is below low on 2024-01-03" in message
    assert files_in(tmp_path) == []


def test_invalid_download_leaves_an_existing_file_untouched(tmp_path):
    (tmp_path / "NVDA.csv").write_text(EXPECTED)
    bars = [b if b[0] != "2024-01-04" else (*b[:4], np.nan, *b[5:]) for b in BARS]  # a NaN close
    with pytest.raises(NewsbtError, match="missing value in column close"):
        fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path, downloader=fake({"NVDA": yahoo_frame(bars)}))
    assert (tmp_path / "NVDA.csv").read_text() == EXPECTED
    assert files_in(tmp_path) == ["NVDA.csv"]


def test_empty_download_names_the_ticker(tmp_path):
    empty = yahoo_frame([], ticker="ZZZZ", shape="multi")
    with pytest.raises(NewsbtError, match=r"^no prices for ZZZZ from 2024-01-01 to 2024-01-31: unknown or delisted"):
        fetch_prices(["ZZZZ"], "2024-01-01", "2024-01-31", tmp_path, downloader=fake({"ZZZZ": empty}))
    assert files_in(tmp_path) == []


def test_download_failure_becomes_one_line(tmp_path):
    def down(ticker, start, end):
        raise ConnectionError("Failed to resolve\n 'query2.finance.yahoo.com'")

    with pytest.raises(NewsbtError) as info:
        fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path, downloader=down)
    assert str(info.value) == "could not download NVDA: Failed to resolve 'query2.finance.yahoo.com'"


def test_a_failure_stops_later_tickers_but_keeps_earlier_files(tmp_path):
    seen = []
    with pytest.raises(NewsbtError, match="ZZZZ"):
        fetch_prices(["NVDA", "ZZZZ", "QQQ"], "2024-01-01", "2024-01-31", tmp_path, progress=seen.append,
                     downloader=fake({"NVDA": yahoo_frame(), "ZZZZ": yahoo_frame([]), "QQQ": yahoo_frame()}))
    assert seen == ["NVDA"]
    assert files_in(tmp_path) == ["NVDA.csv"]


def test_adjusted_download_without_adj_close_is_refused(tmp_path):
    frame = yahoo_frame().drop(columns="Adj Close")
    with pytest.raises(NewsbtError, match=r"download of NVDA has no adj_close column \(was it downloaded with auto_"):
        fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path, downloader=fake({"NVDA": frame}))


@pytest.mark.parametrize("tickers, start, end, message", [
    ([], "2024-01-01", "2024-01-31", "no ticker given"),
    (["../etc"], "2024-01-01", "2024-01-31", "not a ticker: '../ETC'"),
    (["NVDA"], "2024-13-01", "2024-01-31", "start date '2024-13-01' is not a date; expected YYYY-MM-DD"),
    (["NVDA"], "2024-02-01", "2024-01-31", "start 2024-02-01 is after end 2024-01-31"),
])
def test_bad_arguments_are_refused_before_any_download(tmp_path, tickers, start, end, message):
    def down(*args):
        raise AssertionError("downloaded")

    with pytest.raises(NewsbtError, match=message.replace("(", r"\(").replace(".", r"\.")):
        fetch_prices(tickers, start, end, tmp_path, downloader=down)


# --- atomic writes -------------------------------------------------------------------------------


def fail_mid_write(monkeypatch):
    """Make every text write stop half-way with a full disk, as an interruption would."""
    def write_half(self, data, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", write_half)


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    fail_mid_write(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path, downloader=fake({"NVDA": yahoo_frame()}))
    assert files_in(tmp_path) == []  # neither NVDA.csv nor a hidden temporary file


def test_interrupted_write_leaves_the_existing_file_untouched(tmp_path, monkeypatch):
    old = HEADER + "2023-12-29,99.0,100.0,98.0,99.5,98.0,500\n"
    (tmp_path / "NVDA.csv").write_text(old)
    fail_mid_write(monkeypatch)
    with pytest.raises(OSError):
        fetch_prices(["NVDA"], "2023-12-29", "2024-01-31", tmp_path, downloader=fake({"NVDA": yahoo_frame()}))
    monkeypatch.undo()
    assert (tmp_path / "NVDA.csv").read_text() == old
    assert files_in(tmp_path) == ["NVDA.csv"]


# --- an existing file ----------------------------------------------------------------------------


def test_same_history_is_merged_and_new_data_wins(tmp_path):
    (tmp_path / "NVDA.csv").write_text(HEADER + "2023-12-29,99.0,100.0,98.0,99.5,98.0,500\n"
                                       "2024-01-02,100.0,102.0,99.5,101.2,99.6,999\n")
    done = fetch_prices(["NVDA"], "2024-01-02", "2024-01-31", tmp_path, downloader=fake({"NVDA": yahoo_frame()}))
    assert [(f.action, f.rows, f.note) for f in done] == [("merged", 4, "")]
    # 2024-01-02 is the download's; the old row's adj_close is rescaled by 99.5556 / 99.6
    assert (tmp_path / "NVDA.csv").read_text() == HEADER + "2023-12-29,99.0,100.0,98.0,99.5,97.9563,500\n" + \
        EXPECTED.split("\n", 1)[1]


def test_fetching_the_same_data_again_leaves_the_file_alone(tmp_path):
    down = fake({"NVDA": yahoo_frame()})
    fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path, downloader=down)
    done = fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path, downloader=down)
    assert done[0].action == "unchanged"
    assert (tmp_path / "NVDA.csv").read_text() == EXPECTED


def test_a_split_since_the_file_was_written_replaces_it(tmp_path, caplog):
    # the old file still holds pre-split prices: 10x the download's
    (tmp_path / "NVDA.csv").write_text(HEADER + "2023-12-29,990.0,1000.0,980.0,995.0,980.0,50\n"
                                       "2024-01-02,1000.0,1020.0,995.0,1010.0,995.5,100\n")
    with caplog.at_level(logging.WARNING, logger="newsbt.data.fetch"):
        done = fetch_ticker("NVDA", "2024-01-01", "2024-01-31", tmp_path, downloader=fake({"NVDA": yahoo_frame()}))
    assert done.action == "replaced"
    assert done.note.startswith("close on 2024-01-02 was 1010, now 101 (90.0% apart: a split or a revised history)")
    assert (tmp_path / "NVDA.csv").read_text() == EXPECTED
    assert "NVDA: replaced" in caplog.text


def test_a_download_that_cannot_be_checked_replaces_the_file(tmp_path):
    (tmp_path / "NVDA.csv").write_text(HEADER + "2023-06-01,99.0,100.0,98.0,99.5,98.0,500\n")
    done = fetch_ticker("NVDA", "2024-01-01", "2024-01-31", tmp_path, downloader=fake({"NVDA": yahoo_frame()}))
    assert (done.action, done.note.split(",")[0]) == ("replaced", "no date in common with the existing 2023-06-01 to "
                                                                  "2023-06-01 history")
    assert (tmp_path / "NVDA.csv").read_text() == EXPECTED


def test_a_broken_existing_file_is_not_overwritten(tmp_path):
    broken = HEADER + "2024-01-02,100.0,102.0,99.5,oops,99.6,999\n"
    (tmp_path / "NVDA.csv").write_text(broken)
    with pytest.raises(NewsbtError, match=r"NVDA.csv:2: unparseable number 'oops'.*fix or delete it"):
        fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path, downloader=fake({"NVDA": yahoo_frame()}))
    assert (tmp_path / "NVDA.csv").read_text() == broken


# --- the yfinance adapter ------------------------------------------------------------------------


def test_missing_yfinance_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # `import yfinance` now raises ImportError
    with pytest.raises(NewsbtError) as info:
        fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path)
    assert str(info.value) == 'downloading prices needs yfinance, an optional extra: pip install "newsbt[fetch]"'
    assert files_in(tmp_path) == []


def fake_yfinance(monkeypatch, download) -> list[dict]:
    calls: list[dict] = []
    module = types.ModuleType("yfinance")

    def record(tickers, **kwargs):
        calls.append({"tickers": tickers, **kwargs})
        return download(tickers)

    module.download = record
    monkeypatch.setitem(sys.modules, "yfinance", module)
    return calls


def test_the_default_downloader_asks_yfinance_for_split_adjusted_bars(tmp_path, monkeypatch):
    calls = fake_yfinance(monkeypatch, lambda t: yahoo_frame(ticker=t, shape="multi"))
    paths = paths_of(fetch_prices(["NVDA"], "2024-01-02", "2024-01-04", tmp_path))
    assert paths[0].read_text() == EXPECTED
    (call,) = calls
    assert call["tickers"] == "NVDA"
    assert (call["start"], call["end"]) == ("2024-01-02", "2024-01-05")  # yfinance's end is exclusive
    assert (call["auto_adjust"], call["actions"], call["progress"], call["interval"]) == (False, False, False, "1d")


def test_the_guard_keeps_the_real_yfinance_out(tmp_path):
    with pytest.raises(NewsbtError, match="could not download NVDA: real yfinance download attempted"):
        fetch_prices(["NVDA"], "2024-01-01", "2024-01-31", tmp_path)


def test_yfinance_failures_it_only_logs_become_errors(tmp_path, monkeypatch):
    def down(ticker):
        yf_log = logging.getLogger("yfinance")
        yf_log.warning("Cookie/crumb fetch failed, continuing without crumb")  # not an error: left out
        yf_log.error("\n1 Failed download:")
        yf_log.error("['NVDA']: ConnectionError('Failed to resolve host')")
        return yahoo_frame([], shape="multi")

    fake_yfinance(monkeypatch, down)
    with pytest.raises(NewsbtError) as info:
        yfinance_download("NVDA", dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert str(info.value) == "could not download NVDA: ['NVDA']: ConnectionError('Failed to resolve host')"
    assert logging.getLogger("yfinance").propagate  # the logger is left as it was
