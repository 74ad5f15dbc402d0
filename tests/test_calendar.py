"""Session mapping on the real NYSE calendar, and the point-in-time rule as properties."""

from __future__ import annotations

from datetime import timedelta, timezone

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbt.data.calendar import (
    SessionLabel,
    is_public_before,
    map_event,
    map_events,
    nyse_calendar,
    session_closes,
)
from newsbt.core.errors import NewsbtError

PRE, REG, AFTER, CLOSED = (
    SessionLabel.PRE_MARKET, SessionLabel.REGULAR, SessionLabel.AFTER_CLOSE, SessionLabel.CLOSED_DAY
)

# (instant with its offset, label, reaction_day, first_bar); 2024-07-30 is a Tuesday, EDT (UTC-4)
CASES = [
    pytest.param("2024-07-30T08:00:00-04:00", PRE, "2024-07-30", "2024-07-30", id="pre-market"),
    pytest.param("2024-07-30T00:30:00-04:00", PRE, "2024-07-30", "2024-07-30", id="just-after-midnight"),
    pytest.param("2024-07-30T09:29:59-04:00", PRE, "2024-07-30", "2024-07-30", id="second-before-open"),
    pytest.param("2024-07-30T09:30:00-04:00", REG, "2024-07-30", "2024-07-31", id="exactly-at-open"),
    pytest.param("2024-07-30T11:00:00-04:00", REG, "2024-07-30", "2024-07-31", id="regular-hours"),
    pytest.param("2024-07-30T15:59:59-04:00", REG, "2024-07-30", "2024-07-31", id="second-before-close"),
    pytest.param("2024-07-30T16:00:00-04:00", AFTER, "2024-07-31", "2024-07-31", id="exactly-at-close"),
    pytest.param("2024-07-30T16:05:00-04:00", AFTER, "2024-07-31", "2024-07-31", id="16:05-earnings"),
    pytest.param("2024-07-30T20:05:00Z", AFTER, "2024-07-31", "2024-07-31", id="16:05-written-in-utc"),
    pytest.param("2025-01-24T19:00:00-05:00", AFTER, "2025-01-27", "2025-01-27", id="friday-evening"),
    # Friday 22:00 in New York is already Saturday in UTC: the label follows New York's date
    pytest.param("2025-01-25T03:00:00Z", AFTER, "2025-01-27", "2025-01-27", id="friday-night-saturday-utc"),
    pytest.param("2025-01-25T12:00:00-05:00", CLOSED, "2025-01-27", "2025-01-27", id="saturday"),
    pytest.param("2025-01-26T23:59:00-05:00", CLOSED, "2025-01-27", "2025-01-27", id="sunday-late"),
    pytest.param("2025-01-27T00:30:00-05:00", PRE, "2025-01-27", "2025-01-27", id="monday-early"),
    # 2025-01-09: national day of mourning, NYSE closed
    pytest.param("2025-01-08T17:00:00-05:00", AFTER, "2025-01-10", "2025-01-10", id="evening-before-holiday"),
    pytest.param("2025-01-09T10:00:00-05:00", CLOSED, "2025-01-10", "2025-01-10", id="holiday-2025-01-09"),
    pytest.param("2025-01-20T12:00:00-05:00", CLOSED, "2025-01-21", "2025-01-21", id="holiday-mlk-day"),
    # 2024-11-29 and 2024-12-24 close at 13:00 ET (18:00 UTC); 2024-12-25 is a holiday
    pytest.param("2024-11-29T12:59:00-05:00", REG, "2024-11-29", "2024-12-02", id="early-close-before-1pm"),
    pytest.param("2024-11-29T13:30:00-05:00", AFTER, "2024-12-02", "2024-12-02", id="early-close-13:30"),
    pytest.param("2024-12-24T13:00:00-05:00", AFTER, "2024-12-26", "2024-12-26", id="christmas-eve-at-close"),
    # DST starts Sunday 2024-03-10: the open moves from 14:30 to 13:30 UTC
    pytest.param("2024-03-08T14:15:00Z", PRE, "2024-03-08", "2024-03-08", id="dst-march-friday-09:15-est"),
    pytest.param("2024-03-10T12:00:00-04:00", CLOSED, "2024-03-11", "2024-03-11", id="dst-march-switch-sunday"),
    pytest.param("2024-03-11T13:15:00Z", PRE, "2024-03-11", "2024-03-11", id="dst-march-monday-09:15-edt"),
    pytest.param("2024-03-11T13:45:00Z", REG, "2024-03-11", "2024-03-12", id="dst-march-monday-09:45-edt"),
    # DST ends Sunday 2024-11-03: the close moves from 20:00 to 21:00 UTC
    pytest.param("2024-11-01T20:30:00Z", AFTER, "2024-11-04", "2024-11-04", id="dst-november-friday-16:30-edt"),
    pytest.param("2024-11-04T14:00:00Z", PRE, "2024-11-04", "2024-11-04", id="dst-november-monday-09:00-est"),
    pytest.param("2024-11-04T20:30:00Z", REG, "2024-11-04", "2024-11-05", id="dst-november-monday-15:30-est"),
]


@pytest.mark.parametrize(("at", "label", "reaction_day", "first_bar"), CASES)
def test_map_event_cases(at: str, label: SessionLabel, reaction_day: str, first_bar: str) -> None:
    mapping = map_event(pd.Timestamp(at))
    assert mapping.at == pd.Timestamp(at)
    assert str(mapping.at.tz) == "UTC"
    assert mapping.session is label
    assert mapping.reaction_day == pd.Timestamp(reaction_day)
    assert mapping.first_bar == pd.Timestamp(first_bar)
    assert map_event(pd.Timestamp(at)).first_bar == pd.Timestamp(first_bar)


def test_map_events_matches_map_event_and_keeps_the_index() -> None:
    stamps = pd.Series([pd.Timestamp(c.values[0]) for c in CASES], index=[c.id for c in CASES])
    frame = map_events(stamps)
    assert list(frame.index) == list(stamps.index)
    for key, at in stamps.items():
        one = map_event(at)
        row = frame.loc[key]
        assert (row["at"], row["session"], row["reaction_day"], row["first_bar"]) == (
            one.at, one.session.value, one.reaction_day, one.first_bar
        )


def test_calendar_knows_early_closes_and_holidays() -> None:
    cal = nyse_calendar()
    assert cal is nyse_calendar()  # built once per process
    assert cal.session_close("2024-11-29") == pd.Timestamp("2024-11-29T18:00:00Z")
    assert not cal.is_session("2025-01-09")
    closes = session_closes([pd.Timestamp("2024-12-24"), pd.Timestamp("2024-07-30")])
    assert list(closes) == [pd.Timestamp("2024-12-24T18:00:00Z"), pd.Timestamp("2024-07-30T20:00:00Z")]


def test_session_closes_refuses_a_non_session_day() -> None:
    with pytest.raises(NewsbtError, match="not an NYSE session: 2025-01-09"):
        session_closes([pd.Timestamp("2025-01-09")])


def test_is_public_before_is_strict() -> None:
    bar_open = pd.Timestamp("2024-07-31T13:30:00Z")
    assert is_public_before(bar_open - pd.Timedelta("1ns"), bar_open)
    assert not is_public_before(bar_open, bar_open)


def test_naive_and_out_of_range_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        map_event(pd.Timestamp("2024-07-30 16:05"))
    with pytest.raises(NewsbtError, match="outside the NYSE calendar"):
        map_event(pd.Timestamp("1999-06-01T12:00:00Z"))
    with pytest.raises(NewsbtError, match="outside the NYSE calendar"):
        map_event(pd.Timestamp("2031-01-05T12:00:00Z"))


# random instants 2001..2029, to the second
instants = st.integers(
    min_value=int(pd.Timestamp("2001-01-01T00:00:00Z").timestamp()),
    max_value=int(pd.Timestamp("2029-12-01T00:00:00Z").timestamp()),
).map(lambda s: pd.Timestamp(s, unit="s", tz="UTC"))


def _open(session: pd.Timestamp) -> pd.Timestamp:
    return nyse_calendar().session_open(session)


@settings(max_examples=300, deadline=None)
@given(instants)
def test_first_bar_is_the_first_open_strictly_after(at: pd.Timestamp) -> None:
    mapping = map_event(at)
    assert is_public_before(at, _open(mapping.first_bar))
    previous = nyse_calendar().previous_session(mapping.first_bar)
    assert not is_public_before(at, _open(previous))  # the bar before opened at or before ``at``


@settings(max_examples=300, deadline=None)
@given(instants)
def test_reaction_day_is_the_first_close_strictly_after(at: pd.Timestamp) -> None:
    mapping = map_event(at)
    cal = nyse_calendar()
    assert cal.session_close(mapping.reaction_day) > at
    assert cal.session_close(cal.previous_session(mapping.reaction_day)) <= at
    # one can only trade a day later than the reaction day when the news came in regular hours
    expected_gap = 1 if mapping.session is SessionLabel.REGULAR else 0
    assert cal.sessions.get_loc(mapping.first_bar) - cal.sessions.get_loc(mapping.reaction_day) == expected_gap


@settings(max_examples=300, deadline=None)
@given(instants, st.integers(min_value=0, max_value=10 * 24 * 3600))
def test_later_availability_never_makes_first_bar_earlier(at: pd.Timestamp, delay_s: int) -> None:
    later = at + pd.Timedelta(seconds=delay_s)
    assert map_event(later).first_bar >= map_event(at).first_bar
    assert map_event(later).reaction_day >= map_event(at).reaction_day


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=-12 * 60, max_value=14 * 60))
def test_mapping_ignores_the_offset_the_instant_is_written_in(at: pd.Timestamp, minutes: int) -> None:
    written = at.tz_convert(timezone(timedelta(minutes=minutes)))
    assert map_event(written) == map_event(at)


@settings(max_examples=100, deadline=None)
@given(st.lists(instants, min_size=1, max_size=40), st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"]))
def test_a_column_of_instants_maps_exactly_as_each_instant_alone(stamps: list[pd.Timestamp], zone: str) -> None:
    """News stores map whole tz-aware columns at once (the fast path of ``map_events``); every row must
    be what the one-event rule gives that instant."""
    column = pd.Series(pd.DatetimeIndex(stamps).tz_convert(zone))
    frame = map_events(column)
    for at, row in zip(stamps, frame.itertuples()):
        one = map_event(at)
        assert (row.at, row.session, row.reaction_day, row.first_bar) == (
            one.at, one.session.value, one.reaction_day, one.first_bar)
