"""Properties of the point-in-time rule: no fill at or before an event's availability, ever.

Events get random ``available_at`` instants with random UTC offsets over seven weeks of NYSE
sessions (weekends, 2025-01-09, MLK and Presidents' Day included); prices are random walks drawn
once. Each example runs news_reaction twice: as drawn, and with every ``available_at`` moved later.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbt.api import run
from newsbt.data.calendar import is_public_before, nyse_calendar
from newsbt.data.events import Event
from newsbt.data.newsgate import NewsGate
from strategies.news_reaction import reaction_confirms
from tests.synthetic import bars
from tests.test_news_reaction import DAY, SESS, entries, news, prices, spec

TICKERS = ("AAA", "BBB", "CCC")
FIRST = pd.Timestamp("2025-01-04T00:00:00Z")  # a Saturday; news is published in the six weeks after it
MINUTES = 6 * 7 * 24 * 60  # plus up to 8 days of delays: every event is still tradable before 02-28
OFFSETS = (-5.0, -4.0, 0.0, 1.0, 5.5, 8.0, 9.0)  # New York winter/summer, UTC, Paris, India, China, Tokyo


def random_walks(count: int, seed: int = 7) -> list[pd.DataFrame]:
    """Frames with daily moves of several %, so reaction filters pass for some events and not others."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.05, len(SESS))))
        opens = np.r_[100.0, closes[:-1]] * np.exp(rng.normal(0, 0.02, len(SESS)))
        frames.append(bars(opens.round(2), closes.round(2), dates=SESS))
    return frames


WALKS = random_walks(4)


def stamp(minute: int, offset_hours: float) -> str:
    """An ISO 8601 instant ``minute`` minutes after FIRST, written with a UTC offset."""
    zone = dt.timezone(dt.timedelta(hours=offset_hours))
    return (FIRST + pd.Timedelta(minutes=minute)).tz_convert(zone).isoformat()


@st.composite
def scenario(draw) -> dict:
    """Per ticker at most one event (so each fill has one cause), its later copy, prices, parameters."""
    rows, shifted = [], []
    for ticker in draw(st.lists(st.sampled_from(TICKERS), min_size=1, max_size=3, unique=True)):
        published = draw(st.integers(0, MINUTES))
        available = published + draw(st.integers(0, 3 * 24 * 60))
        later = available + draw(st.integers(0, 5 * 24 * 60))
        direction, offset = draw(st.sampled_from((-1, 0, 1))), draw(st.sampled_from(OFFSETS))
        rows.append((stamp(available, offset), ticker, direction, stamp(published, offset)))
        shifted.append((stamp(later, offset), ticker, direction, stamp(published, offset)))
    return {
        "events": news(*rows), "later": news(*shifted),
        "walks": {t: WALKS[draw(st.integers(0, len(WALKS) - 1))] for t in TICKERS},
        "params": {"tickers": list(TICKERS), "position_pct": 10, "mode": draw(st.sampled_from(("follow", "fade"))),
                   "hold_days": draw(st.integers(1, 3)), "min_reaction_pct": draw(st.sampled_from((None, 2.0)))},
    }


def first_entries(events: tuple[Event, ...], walks: dict, params: dict) -> dict[str, dt.date]:
    result = run(spec(**params), prices=prices(**walks), events=events)
    opens = nyse_calendar().opens
    by_ticker = {e.tickers[0]: e for e in events}
    for ticker, day in result.run.fills[["ticker", "date"]].itertuples(index=False):
        assert opens[pd.Timestamp(day)] > by_ticker[ticker].available_at  # never at or before it is public
    return {ticker: day for ticker, day, _ in entries(result)}


def expected_entry(event: Event, walk: pd.DataFrame, min_reaction: float | None) -> dt.date | None:
    """The first open at which the event is public; with a reaction filter, after the reaction day too."""
    gate = NewsGate([event])
    (timed,) = gate.visible(SESS[-1].date())
    move = walk["close"].pct_change()[pd.Timestamp(timed.reaction_day)]
    if not event.direction or not reaction_confirms(move, event.direction, min_reaction):
        return None
    return max(timed.first_bar, gate.horizon(timed.reaction_day)) if min_reaction else timed.first_bar


@settings(max_examples=25, deadline=None)
@given(scenario())
def test_no_fill_before_the_news_is_public_and_later_news_never_trades_earlier(case):
    params = case["params"]
    now = first_entries(case["events"], case["walks"], params)
    later = first_entries(case["later"], case["walks"], params)
    assert now.keys() == later.keys()  # same news, same reaction day: only the timing moves
    for event in case["events"]:
        ticker = event.tickers[0]
        assert now.get(ticker) == expected_entry(event, case["walks"][ticker], params["min_reaction_pct"])
        if ticker in now:
            assert later[ticker] >= now[ticker]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, MINUTES), st.sampled_from(OFFSETS)), min_size=1, max_size=8))
def test_the_gate_releases_each_event_once_exactly_when_it_becomes_public(instants):
    events = news(*[(stamp(m, off), "AAA", 1, "") for m, off in instants])
    gate, opens, released, after = NewsGate(events), nyse_calendar().opens, [], None
    for day in SESS[: DAY[dt.date(2025, 2, 18)]]:  # the last horizon is 02-18: after every event
        next_open = opens[pd.Timestamp(gate.horizon(day.date()))]
        visible = {n.event.event_id for n in gate.visible(day.date())}
        assert visible == {e.event_id for e in events if is_public_before(e.available_at, next_open)}
        released += [n.event.event_id for n in gate.visible(day.date(), after)]
        after = gate.horizon(day.date())
    assert sorted(released) == sorted(e.event_id for e in events)


def test_a_gate_without_news_never_builds_the_calendar(monkeypatch):
    def no_calendar():
        raise AssertionError("the NYSE calendar was built")

    monkeypatch.setattr("newsbt.data.newsgate._session_days", no_calendar)
    gate = NewsGate(())
    assert gate.visible(dt.date(2025, 1, 27)) == () and gate.signals(dt.date(2025, 1, 27)).empty
    with pytest.raises(AssertionError, match="calendar was built"):  # a horizon is asked for: now it is built
        gate.horizon(dt.date(2025, 1, 27))
