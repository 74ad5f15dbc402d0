"""`newsbt events check|scan` and `newsbt data fetch` from the command line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newsbt.cli import main

ROOT = Path(__file__).resolve().parents[1]


def newsbt(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    return exit_.value.code


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")


def test_events_check_shows_session_first_bar_and_reaction(real_data_dir, capsys):
    assert newsbt("events", "check", str(ROOT / "data/events/ai_news.csv"), "--data-dir", str(real_data_dir)) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    apple = lines["apple-tpu-2024-07-29"].split()
    assert apple[3:8] == ["after_close", "2024-07-30", "2024-07-30", "NVDA", "-7.04%"]
    amd = lines["amd-earnings-2024-07-30"].split()
    assert amd[3:5] == ["after_close", "2024-07-31"]


def test_broken_event_file_lists_every_problem_with_its_line(real_data_dir, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "event_id,published_at,tickers,headline,category,direction,source,notes\n"
        "a,2025-01-27T09:00:00,NVDA,x,earnings,1,s,\n"
        "b,2025-01-27T09:00:00-05:00,NVDA,x,rumour,2,s,\n"
    )
    assert newsbt("events", "check", str(bad), "--data-dir", str(real_data_dir)) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err and "UTC offset" in err
    assert f"{bad}:3:" in err and "rumour" in err and "2" in err


def test_shock_scan_lists_the_seed_days_and_their_news(real_data_dir, tmp_path, capsys):
    code = newsbt("events", "scan", "NVDA", "--threshold-pct", "7", "--start", "2024-01-01", "--end", "2025-12-31",
                  "--events", str(ROOT / "data/events/ai_news.csv"), "--data-dir", str(real_data_dir),
                  "--write", str(tmp_path / "shocks.csv"))
    assert code == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()[:2] == "20"}
    assert "apple-tpu-2024-07-29" in rows["2024-07-30"]
    assert "deepseek" in rows["2025-01-27"]
    assert "no news" in rows["2024-04-19"]
    from newsbt.data.events import event_timing, load_events

    shocks = load_events(tmp_path / "shocks.csv", ["NVDA"])  # a valid event file, one event per shock
    assert len(shocks) == len(rows) and {e.category.value for e in shocks} == {"market_move"}
    reaction = event_timing(shocks)["reaction_day"].dt.strftime("%Y-%m-%d").tolist()
    assert reaction == sorted(rows)  # each shock event reacts on its own day


def test_data_fetch_writes_validated_csv_with_a_fake_downloader(tmp_path, monkeypatch, no_network, capsys):
    import newsbt.data.fetch as fetch

    def fake(ticker, start, end):
        index = pd.DatetimeIndex(["2025-01-02", "2025-01-03"], name="Date")
        return pd.DataFrame({"Open": [10.0, 11.0], "High": [12.0, 12.0], "Low": [9.0, 10.0], "Close": [11.0, 11.5],
                             "Adj Close": [11.0, 11.5], "Volume": [100, 200]}, index=index)

    monkeypatch.setattr(fetch, "yfinance_download", fake)
    assert newsbt("data", "fetch", "nvda", "--start", "2025-01-02", "--end", "2025-01-03",
                  "--data-dir", str(tmp_path)) == 0
    assert (tmp_path / "NVDA.csv").read_text().splitlines()[0] == "date,open,high,low,close,adj_close,volume"
    assert "NVDA: created" in capsys.readouterr().out
