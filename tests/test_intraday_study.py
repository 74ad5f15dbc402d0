"""Intraday event studies: other grids put on the studied ticker's bars, bar 0 the first bar after the news."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from newsbt.data.intraday import validate_intraday
from newsbt.study import run_study
from newsbt.study.intraday import first_bars, grid_returns, on_grid, session_grid
from tests.intraday_bars import HEADER, NEW_YORK, hourly
from tests.test_news_reaction import news

ROOT = Path(__file__).resolve().parents[1]


def five_minute(day: str, start: str = "09:30", end: str = "16:55") -> pd.DataFrame:
    """5-minute bars of ``day``; bar k closes at 200 + k (opens 0.5 lower)."""
    stamps = pd.date_range(f"{day} {start}", f"{day} {end}", freq="5min", tz=NEW_YORK)
    rows = []
    for k, t in enumerate(stamps):
        session = "regular" if t.hour * 60 + t.minute < 16 * 60 else "post"
        rows.append([t.isoformat(), 199.5 + k, 200.25 + k, 199.25 + k, 200 + k, 10, session, "T"])
    return validate_intraday(pd.DataFrame(rows, columns=HEADER.split(",")).astype(str))


def test_5_minute_closes_go_on_the_hourly_grid_as_the_last_close_inside_each_bar():
    grid = session_grid(hourly(["2024-07-30"]), ["regular"])  # 09:30, 10:30, ..., 14:30, 15:30
    closes = on_grid(five_minute("2024-07-30").loc[lambda f: f["nyse_session"] == "regular"], grid)
    # 09:30 takes the 10:25 bar (k = 11), 10:30 the 11:25 bar (k = 23), ..., 15:30 the 15:55 bar (k = 77)
    assert list(closes) == [211, 223, 235, 247, 259, 271, 277]
    assert list(closes.index) == list(grid)


def test_a_grid_onto_itself_is_the_identity_and_bars_never_cross_days():
    frame = hourly(["2024-07-30", "2024-07-31"])
    pd.testing.assert_series_equal(on_grid(frame, frame.index), frame["close"], check_freq=False)
    later = five_minute("2024-07-31", "09:30", "09:55")  # nothing on 07-30: NaN there, not 07-31's closes
    grid = session_grid(frame, ["regular"])
    closes = on_grid(later, grid)
    assert closes.iloc[:7].isna().all() and closes.iloc[7] == 205 and closes.iloc[8:].isna().all()


def test_grid_returns_are_close_to_close_with_the_overnight_move_in_the_first_bar():
    frame = hourly(["2024-07-30", "2024-07-31"], ["regular"])
    returns = grid_returns({"AAA": frame}, frame.index, ["regular"])
    assert returns.index[7] == pd.Timestamp("2024-07-31 09:30")  # New York wall clock
    assert returns["AAA"].iloc[7] == pytest.approx(107.5 / 106.5 - 1, abs=1e-15)  # 07-30 15:30 -> 07-31 09:30
    assert np.isnan(returns["AAA"].iloc[0])


def test_bar_0_is_the_first_bar_starting_strictly_after_the_news():
    grid = session_grid(hourly(["2024-07-30", "2024-07-31"]), ["regular"])
    events = news(("2024-07-30T10:30:00-04:00", "AAA", 1, ""), ("2024-07-30T16:05:00-04:00", "AAA", 1, ""),
                  ("2024-07-31T20:00:00-04:00", "AAA", 1, ""))
    assert first_bars(events, grid) == {"n0": pd.Timestamp("2024-07-30 11:30"), "n1": pd.Timestamp("2024-07-31 09:30")}


@pytest.mark.realdata
def test_deepseek_intraday_study_on_nvda_hourly_bars_against_qqq(real_data_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NEWSBT_INTRADAY_DIR", raising=False)  # NVDA_1h and QQQ_5m: the embedded sample
    outcome = run_study(ROOT / "backtests" / "deepseek_intraday_study.toml", data_dir=real_data_dir)
    [event] = outcome.events
    assert event.day0 == pd.Timestamp("2025-01-27 09:30")  # news public Sunday 20:00: Monday's first bar
    abnormal = outcome.result.abnormal.loc[("deepseek-app-2025-01-26", "NVDA")]
    assert abnormal[0] < -0.05  # the open's gap: NVDA -12.5 % against QQQ -3.5 % in the first bar
    path = outcome.result.path
    assert list(path.index) == list(range(-7, 14))  # 2025-01-24 .. 2025-01-28, 7 bars a session
    car = outcome.result.caar.set_index("window")["caar"]
    assert car["[0,6]"] < -0.10 < 0 < car["[7,13]"]  # the selloff day, then the rebound day
    page = outcome.write(tmp_path)
    assert "estimated on 1h bars -147..-8" in page.read_text()
