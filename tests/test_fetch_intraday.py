"""`newsbt data fetch --interval 1m|5m|1h --prepost`: yfinance intraday bars become validated files (faked)."""

from __future__ import annotations

import pandas as pd
import pytest

from newsbt.cli import main
from newsbt.core.errors import NewsbtError
from newsbt.data import intraday_fetch
from newsbt.data.intraday import read_intraday_file
from newsbt.data.intraday_fetch import fetch_intraday
from tests.test_fetch import no_real_yfinance  # noqa: F401 - the fixture, used below

pytestmark = pytest.mark.usefixtures("no_network", "no_real_yfinance")

# (New York bar start, open, high, low, close, volume): Friday 2024-11-29 closes at 13:00
BARS = [
    ("2024-11-29 12:00", 136.123456, 137.0, 135.5, 136.5, 1000.0),
    ("2024-11-29 09:30", 135.0, 136.25, 134.75, 136.0, 5000.0),  # out of order, as a download may be
    ("2024-11-29 13:00", 136.5, 136.75, 136.25, 136.6, 0.0),
    ("2024-12-02 08:00", 137.0, 137.5, 136.9, 137.2, 0.0),
]
EXPECTED = (
    "timestamp,open,high,low,close,volume,session,source\n"
    "2024-11-29T09:30:00-05:00,135.0,136.25,134.75,136.0,5000,regular,yfinance\n"
    "2024-11-29T12:00:00-05:00,136.1235,137.0,135.5,136.5,1000,regular,yfinance\n"
    "2024-11-29T13:00:00-05:00,136.5,136.75,136.25,136.6,0,post,yfinance\n"
    "2024-12-02T08:00:00-05:00,137.0,137.5,136.9,137.2,0,pre,yfinance\n"
)


def yahoo_intraday(bars=BARS, ticker: str = "NVDA", tz: str | None = "America/New_York") -> pd.DataFrame:
    """What ``yfinance.download(ticker, interval="1h", prepost=True, auto_adjust=False)`` returns."""
    index = pd.DatetimeIndex([pd.Timestamp(b[0]) for b in bars], name="Datetime")
    index = index.tz_localize(tz) if tz else index
    fields = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    frame = pd.DataFrame([(*b[1:5], b[4], b[5]) for b in bars], index=index, columns=fields)
    frame.columns = pd.MultiIndex.from_product([frame.columns, [ticker]], names=["Price", "Ticker"])
    return frame


def fake(frame: pd.DataFrame, calls: list | None = None):
    def download(ticker, start, end, interval, prepost):
        if calls is not None:
            calls.append((ticker, str(start), str(end), interval, prepost))
        return frame
    return download


def test_download_becomes_the_exact_intraday_file_with_calendar_sessions(tmp_path):
    calls = []
    [done] = fetch_intraday(["nvda"], "1h", "2024-11-29", "2024-12-02", tmp_path, prepost=True,
                            downloader=fake(yahoo_intraday(), calls))
    assert calls == [("NVDA", "2024-11-29", "2024-12-02", "1h", True)]
    assert (done.path, done.action, done.rows) == (tmp_path / "NVDA_1h.csv", "created", 4)
    assert done.path.read_text() == EXPECTED
    assert len(read_intraday_file(done.path)) == 4


def test_a_utc_download_is_written_in_new_york_time(tmp_path):
    utc = [(pd.Timestamp(b[0], tz="America/New_York").tz_convert("UTC").tz_localize(None).isoformat(), *b[1:])
           for b in BARS]
    frame = yahoo_intraday(utc, tz="UTC")
    fetch_intraday(["NVDA"], "1h", "2024-11-29", "2024-12-02", tmp_path, downloader=fake(frame))
    assert (tmp_path / "NVDA_1h.csv").read_text() == EXPECTED


def test_a_download_without_time_zone_is_refused_and_nothing_written(tmp_path):
    with pytest.raises(NewsbtError, match="bar times without a time zone; refusing to guess one"):
        fetch_intraday(["NVDA"], "5m", "2024-11-29", "2024-12-02", tmp_path, downloader=fake(yahoo_intraday(tz=None)))
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_download_is_refused_with_its_line_and_nothing_written(tmp_path):
    bad = [*BARS[:3], ("2024-12-02 08:00", 137.0, 136.0, 136.9, 137.2, 0.0)]  # high below low
    with pytest.raises(NewsbtError) as info:
        fetch_intraday(["NVDA"], "1h", "2024-11-29", "2024-12-02", tmp_path, downloader=fake(yahoo_intraday(bad)))
    assert str(info.value) == "refused the NVDA bars, nothing written: NVDA_1h.csv:5: high is below low"
    assert list(tmp_path.iterdir()) == []


def test_fetching_again_keeps_older_bars_and_replaces_the_downloaded_span(tmp_path):
    fetch_intraday(["NVDA"], "1h", "2024-11-29", "2024-12-02", tmp_path, downloader=fake(yahoo_intraday()))
    newer = [("2024-12-02 08:00", 137.0, 137.5, 136.9, 137.3, 0.0), ("2024-12-02 09:30", 137.3, 138.0, 137.0, 137.9, 10.0)]
    [done] = fetch_intraday(["NVDA"], "1h", "2024-12-02", "2024-12-02", tmp_path, downloader=fake(yahoo_intraday(newer)))
    assert (done.action, done.rows) == ("merged", 5)
    lines = done.path.read_text().splitlines()
    assert lines[1:4] == EXPECTED.splitlines()[1:4]  # the 11-29 bars, kept
    assert lines[4:] == ["2024-12-02T08:00:00-05:00,137.0,137.5,136.9,137.3,0,pre,yfinance",
                         "2024-12-02T09:30:00-05:00,137.3,138.0,137.0,137.9,10,regular,yfinance"]
    [again] = fetch_intraday(["NVDA"], "1h", "2024-12-02", "2024-12-02", tmp_path,
                             downloader=fake(yahoo_intraday(newer)))
    assert again.action == "unchanged"


def test_an_unknown_interval_is_refused_before_any_download(tmp_path):
    with pytest.raises(NewsbtError, match="interval '2h': expected one of 1m, 5m, 1h"):
        fetch_intraday(["NVDA"], "2h", "2024-11-29", None, tmp_path, downloader=fake(yahoo_intraday()))


def test_the_cli_fetches_intraday_bars_into_the_intraday_dir(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(intraday_fetch, "yfinance_intraday", fake(yahoo_intraday(), calls))
    with pytest.raises(SystemExit) as exit_:
        main(["data", "fetch", "NVDA", "--interval", "1h", "--prepost", "--start", "2024-11-29", "--end", "2024-12-02",
              "--intraday-dir", str(tmp_path)])
    assert exit_.value.code == 0
    assert calls == [("NVDA", "2024-11-29", "2024-12-02", "1h", True)]
    assert (tmp_path / "NVDA_1h.csv").read_text() == EXPECTED


def test_prepost_without_an_intraday_interval_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["data", "fetch", "NVDA", "--prepost", "--start", "2024-11-29", "--data-dir", str(tmp_path)])
    assert exit_.value.code == 1
    assert capsys.readouterr().err.strip() == "error: --prepost needs intraday bars: --interval 1m, 5m or 1h"
