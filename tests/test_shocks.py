"""Price-shock detection from prices alone, and joining shocks with the news that explains them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from newsbt.data.calendar import map_event, nyse_calendar
from newsbt.core.errors import NewsbtError
from newsbt.data.events import Category, Event, format_events, load_events, parse_events
from newsbt.data.prices import available_tickers, load_prices, validate_prices
from newsbt.data.shocks import Shock, explain_shocks, find_shocks

SEED = Path(__file__).resolve().parents[1] / "data" / "events" / "ai_news.csv"
# Mon 2024-11-25 .. Fri 2024-12-06; Thanksgiving 11-28 is skipped, 11-29 closes at 13:00 ET
DAYS = list(nyse_calendar().sessions_in_range("2024-11-25", "2024-12-06"))


def prices(closes: Sequence[float], days: Sequence[pd.Timestamp] = DAYS) -> pd.DataFrame:
    """A validated frame with open = high = low = close = adj_close."""
    text = [f"{c}" for c in closes]
    raw = pd.DataFrame({
        "date": [d.strftime("%Y-%m-%d") for d in days[: len(closes)]],
        "open": text, "high": text, "low": text, "close": text, "adj_close": text, "volume": "1000",
    })
    return validate_prices(raw)


def news(event_id: str, at: str, tickers: tuple[str, ...] = ("NVDA",), category: str = "other") -> Event:
    stamp = pd.Timestamp(at).tz_convert("UTC")
    return Event(event_id, stamp, stamp, tickers, f"headline {event_id}", Category(category), -1, "test", "")


def test_absolute_shocks_are_listed_with_exact_returns_and_close_times() -> None:
    # 11-25 100, 11-26 125 (+25 %), 11-27 125, 11-29 100 (-20 %, early close), 12-02 102 (+2 %)
    shocks = find_shocks({"NVDA": prices([100, 125, 125, 100, 102])}, 0.1)
    assert shocks == (
        Shock("NVDA", pd.Timestamp("2024-11-26"), 125 / 100 - 1, None, None, 125 / 100 - 1,
              pd.Timestamp("2024-11-26T21:00:00Z")),
        Shock("NVDA", pd.Timestamp("2024-11-29"), 100 / 125 - 1, None, None, 100 / 125 - 1,
              pd.Timestamp("2024-11-29T18:00:00Z")),
    )


def test_threshold_is_strict_and_must_be_positive() -> None:
    frame = {"NVDA": prices([100, 125])}  # exactly +25 %
    assert find_shocks(frame, 0.25) == ()
    assert len(find_shocks(frame, 0.2499)) == 1
    with pytest.raises(NewsbtError, match="positive fraction"):
        find_shocks(frame, 0)


def test_shocks_relative_to_a_benchmark_use_the_excess_return() -> None:
    frames = {
        "NVDA": prices([100, 110, 111.1, 100]),  # +10 %, +1 %, about -10 %
        "QQQ": prices([100, 108, 117.72, 90]),  # +8 %, +9 %, about -23.5 %
    }
    shocks = find_shocks(frames, 0.05, benchmark="QQQ")
    days = [(s.ticker, s.day.date().isoformat()) for s in shocks]
    assert days == [("NVDA", "2024-11-27"), ("NVDA", "2024-11-29")]
    up_but_lagging = shocks[0]
    assert (up_but_lagging.ret, up_but_lagging.benchmark_ret) == (111.1 / 110 - 1, 117.72 / 108 - 1)
    assert up_but_lagging.move == up_but_lagging.ret - up_but_lagging.benchmark_ret
    event = up_but_lagging.to_event()
    assert event.direction == -1  # the stock rose, but far less than its benchmark
    assert event.headline == "NVDA +1.00% close to close on 2024-11-27 (-8.00% vs QQQ +9.00%)"


def test_days_missing_from_the_benchmark_are_not_scanned() -> None:
    frames = {"NVDA": prices([100, 150, 150]), "QQQ": prices([100, 100], days=[DAYS[0], DAYS[2]])}
    assert find_shocks(frames, 0.05, benchmark="QQQ") == ()


def test_scan_window_is_inclusive_and_tickers_can_be_chosen() -> None:
    frames = {"NVDA": prices([100, 125, 100, 125]), "AMD": prices([100, 200, 200, 200])}
    in_window = find_shocks(frames, 0.1, start="2024-11-27", end="2024-11-29")
    assert [(s.ticker, s.day.day) for s in in_window] == [("NVDA", 27), ("NVDA", 29)]
    assert [s.ticker for s in find_shocks(frames, 0.1, tickers=["AMD"])] == ["AMD"]


def test_scan_refusals() -> None:
    with pytest.raises(NewsbtError, match="no prices loaded for QQQ"):
        find_shocks({"NVDA": prices([100, 125])}, 0.1, benchmark="QQQ")
    thanksgiving = [pd.Timestamp("2024-11-27"), pd.Timestamp("2024-11-28")]
    with pytest.raises(NewsbtError, match="not an NYSE session: 2024-11-28"):
        find_shocks({"NVDA": prices([100, 125], days=thanksgiving)}, 0.1)


def test_a_shock_event_is_tradable_only_from_the_next_open_and_round_trips() -> None:
    (shock,) = find_shocks({"NVDA": prices([100, 100, 100, 100, 125])}, 0.1)  # +25 % on Mon 12-02
    event = shock.to_event()
    assert (event.event_id, event.category, event.direction) == ("shock-NVDA-2024-12-02", "market_move", 1)
    assert event.available_at == event.published_at == pd.Timestamp("2024-12-02T21:00:00Z")
    assert map_event(event.available_at).first_bar == pd.Timestamp("2024-12-03")
    assert parse_events(format_events([event]), ["NVDA"]) == (event,)


def test_explain_joins_same_ticker_news_whose_reaction_day_is_the_shock_day() -> None:
    shocks = find_shocks({"NVDA": prices([100, 100, 100, 100, 125, 125])}, 0.1)  # shock on Mon 12-02
    events = [
        news("friday-after-early-close", "2024-11-29T13:30:00-05:00"),  # reacts Mon 12-02
        news("weekend", "2024-11-30T10:00:00-05:00"),
        news("monday-pre-market", "2024-12-02T08:00:00-05:00"),
        news("monday-regular", "2024-12-02T15:59:00-05:00"),
        news("monday-after-close", "2024-12-02T16:00:00-05:00"),  # reacts Tue 12-03
        news("friday-regular", "2024-11-29T12:00:00-05:00"),  # reacts Fri 11-29
        news("other-ticker", "2024-12-02T08:00:00-05:00", tickers=("AMD",)),
        news("the-move-itself", "2024-12-01T12:00:00-05:00", category="market_move"),
    ]
    (explained,) = explain_shocks(shocks, events)
    assert explained.shock == shocks[0]
    assert [e.event_id for e in explained.news] == [
        "friday-after-early-close", "weekend", "monday-pre-market", "monday-regular",
    ]


def test_explain_uses_published_at_not_the_conservative_available_at() -> None:
    (shock,) = find_shocks({"NVDA": prices([100, 100, 100, 100, 125])}, 0.1)  # Mon 12-02
    published = pd.Timestamp("2024-12-02T10:00:00-05:00").tz_convert("UTC")
    late = Event("day-only", published, published + pd.Timedelta(hours=10), ("NVDA",), "h", Category.OTHER,
                 1, "", "")
    assert explain_shocks([shock], [late])[0].news == (late,)
    assert explain_shocks([shock], [])[0].news == ()


@pytest.mark.realdata
def test_nvda_shocks_2024_2025_and_their_news(real_data_dir: Path) -> None:
    frames = load_prices(["NVDA", "QQQ"], real_data_dir)
    shocks = find_shocks(frames, 0.07, tickers=["NVDA"], start="2024-01-01", end="2025-12-31")
    days = {s.day.date().isoformat(): s for s in shocks}
    assert {"2024-07-30", "2025-01-27"} <= days.keys()
    assert round(days["2024-07-30"].ret, 4) == -0.0704
    assert round(days["2025-01-27"].ret, 4) == -0.1697
    seed = load_events(SEED, available_tickers(real_data_dir))
    explained = {
        x.shock.day.date().isoformat(): [e.event_id for e in x.news] for x in explain_shocks(shocks, seed)
    }
    assert explained["2024-07-30"] == ["apple-tpu-2024-07-29"]
    assert "deepseek-app-2025-01-26" in explained["2025-01-27"]
    assert explained["2024-04-19"] == []  # a big move with no news in the seed file
    relative = find_shocks(frames, 0.07, tickers=["NVDA"], benchmark="QQQ", start="2025-01-27",
                           end="2025-01-27")
    assert [round(s.move, 4) for s in relative] == [-0.1406]  # -16.97 % vs QQQ -2.91 %
