"""Event files: parsing, every refusal (all reported together, with lines), round trip, seed file."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbt.data.calendar import SessionLabel, is_public_before, nyse_calendar
from newsbt.core.errors import NewsbtError
from newsbt.data.events import COLUMNS, Category, Event, event_timing, format_events, load_events, parse_events
from newsbt.data.prices import available_tickers

KNOWN = ("NVDA", "AMD", "QQQ", "MSFT")
SEED = Path(__file__).resolve().parents[1] / "data" / "events" / "ai_news.csv"
# the tickers the seed file may use: those of the shared price directory
UNIVERSE = ("NVDA", "AMD", "AVGO", "MU", "TSM", "ARM", "SMCI", "ORCL", "MSFT", "META", "GOOGL", "AAPL", "AMZN",
            "ANET", "QQQ", "IWM", "SPY", "SMH")

GOOD = {
    "event_id": "amd-q2", "published_at": "2024-07-30T16:05:00-04:00", "available_at": "",
    "tickers": "AMD;NVDA", "headline": "AMD raises MI300 outlook", "category": "earnings",
    "direction": "+1", "source": "press release", "notes": "",
}


def csv_text(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def row(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def problems(text: str) -> list[str]:
    """The per-line problems of a refused file (the message's lines after the summary)."""
    with pytest.raises(NewsbtError) as info:
        parse_events(text, KNOWN, "events.csv")
    return str(info.value).splitlines()[1:]


def test_a_valid_file_parses_into_typed_utc_events(tmp_path: Path) -> None:
    headline = 'Nvidia says "DeepSeek is excellent", shares <script>alert(1)</script> rebound,\nsecond line'
    path = tmp_path / "events.csv"
    path.write_text(csv_text([row(), row(event_id="nv", tickers=" NVDA ", available_at="2024-07-31T00:00:00Z",
                                         headline=headline, direction="-1", category="statement")]))
    first, second = load_events(path, KNOWN)
    assert first == Event(
        event_id="amd-q2", published_at=pd.Timestamp("2024-07-30T20:05:00Z"),
        available_at=pd.Timestamp("2024-07-30T20:05:00Z"), tickers=("AMD", "NVDA"),
        headline="AMD raises MI300 outlook", category=Category.EARNINGS, direction=1,
        source="press release", notes="",
    )
    assert str(first.published_at.tz) == "UTC"
    assert second.available_at == pd.Timestamp("2024-07-31T00:00:00Z")
    assert second.headline == headline  # commas, quotes, a newline and markup kept exactly
    assert (second.tickers, second.direction, second.category) == (("NVDA",), -1, Category.STATEMENT)


def test_available_at_column_is_optional() -> None:
    columns = [c for c in COLUMNS if c != "available_at"]
    (event,) = parse_events(csv_text([row()], columns), KNOWN)
    assert event.available_at == event.published_at


EXAMPLE = "expected e.g. 2024-07-30T16:05:00-04:00"
NO_OFFSET = ("has no UTC offset; write it with one, e.g. 2024-07-30T16:05:00-04:00 "
             "(New York is -04:00 in summer, -05:00 in winter) or ...Z for UTC")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"category": "rumour"}, "unknown category 'rumour'; expected one of model_release, earnings, capex, "
                                 "guidance, statement, market_move, other"),
        ({"direction": "2"}, "direction '2' must be -1, 0 or +1"),
        ({"direction": "up"}, "direction 'up' must be -1, 0 or +1"),
        ({"direction": ""}, "direction '' must be -1, 0 or +1"),
        ({"available_at": "2024-07-30T16:04:59-04:00"},
         "available_at 2024-07-30T16:04:59-04:00 is before published_at 2024-07-30T16:05:00-04:00; "
         "news cannot be known before it is published"),
        ({"tickers": "NVDA;XYZ"},
         "no price file for ticker(s) XYZ; download with: newsbt data fetch XYZ --start 2015-01-02"),
        ({"tickers": "NVDA;;AMD"}, "tickers 'NVDA;;AMD' has an empty entry; expected one or more tickers "
                                   "separated by ';'"),
        ({"tickers": ""}, "tickers '' has an empty entry; expected one or more tickers separated by ';'"),
        ({"published_at": "2024-07-30 16:05:00"}, f"published_at '2024-07-30 16:05:00' {NO_OFFSET}"),
        ({"published_at": "2024-07-30"}, f"published_at '2024-07-30' {NO_OFFSET}"),
        ({"available_at": "2024-07-31T09:00"}, f"available_at '2024-07-31T09:00' {NO_OFFSET}"),
        ({"published_at": "30/07/2024 16:05 -04:00"},
         f"published_at '30/07/2024 16:05 -04:00' is not an ISO 8601 timestamp; {EXAMPLE}"),
        ({"published_at": ""}, f"missing value in column published_at; {EXAMPLE}"),
        ({"event_id": " "}, "missing value in column event_id"),
        ({"headline": ""}, "missing value in column headline"),
    ],
)
def test_each_bad_field_is_refused_with_its_line(changes: dict[str, str], message: str) -> None:
    assert problems(csv_text([row(event_id="ok"), row(**changes)])) == [f"events.csv:3: {message}"]


def test_all_problems_of_a_file_are_reported_together_in_line_order() -> None:
    rows = [
        row(event_id="a"),
        row(event_id="b", category="rumour"),
        row(event_id="a", headline="two\nline headline"),  # duplicate id, on lines 4-5
        row(event_id="c", direction="5", tickers="NOPE"),  # two problems on line 6
        row(event_id="d", published_at="2024-07-30 16:05"),
    ]
    with pytest.raises(NewsbtError) as info:
        parse_events(csv_text(rows), KNOWN, "events.csv")
    lines = str(info.value).splitlines()
    assert lines[0] == "events.csv: 5 problems in event file:"
    assert [line.split(": ", 1)[0] for line in lines[1:]] == [
        "events.csv:3", "events.csv:4", "events.csv:6", "events.csv:6", "events.csv:7",
    ]
    assert lines[2] == "events.csv:4: duplicate event_id 'a' (first used on line 2)"
    assert "no price file for ticker(s) NOPE" in lines[3] and "direction '5'" in lines[4]


def test_missing_and_unknown_columns_are_refused_together() -> None:
    columns = [c for c in COLUMNS if c not in ("headline", "direction")] + ["availabe_at"]
    text = csv_text([row()], columns)
    with pytest.raises(NewsbtError, match=r"^events.csv:1: missing column\(s\) headline, direction; "
                                          r"unknown column\(s\) availabe_at; expected header event_id,"):
        parse_events(text, KNOWN, "events.csv")


def test_rows_with_the_wrong_number_of_fields_are_refused() -> None:
    text = csv_text([row()]) + "x,2024-07-30T16:05:00Z,,NVDA,unquoted, comma,earnings,1,src,\n"
    assert problems(text) == [
        "events.csv:3: expected 9 fields like the header, found 10 (quote fields that contain commas)"
    ]


def test_empty_file_and_header_only_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NewsbtError, match="events.csv:1: empty file"):
        parse_events("", KNOWN, "events.csv")
    assert problems(csv_text([])) == ["events.csv: has a header but no events"]
    with pytest.raises(NewsbtError, match="cannot read event file"):
        load_events(tmp_path / "missing.csv", KNOWN)


def test_blank_lines_are_skipped_and_line_numbers_still_count_them() -> None:
    text = csv_text([row()]) + "\n\n" + csv_text([row(event_id="b", direction="7")]).split("\n", 1)[1]
    assert problems(text) == ["events.csv:5: direction '7' must be -1, 0 or +1"]


def test_event_timing_uses_published_at_for_reaction_and_available_at_for_first_bar() -> None:
    # published in regular hours, but only known to us the next morning before the open
    (event,) = parse_events(csv_text([row(published_at="2024-07-30T11:00:00-04:00",
                                          available_at="2024-07-31T09:00:00-04:00")]), KNOWN)
    timing = event_timing([event]).loc["amd-q2"]
    assert timing["session"] == SessionLabel.REGULAR
    assert timing["reaction_day"] == pd.Timestamp("2024-07-30")
    assert timing["first_bar"] == pd.Timestamp("2024-07-31")


# ---- properties -------------------------------------------------------------------------------

local_times = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2029, 12, 1)).map(
    lambda d: d.replace(microsecond=0)
)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=200, deadline=None)
@given(local_times, offsets)
def test_offsets_are_honoured_and_naive_times_refused(local: datetime, offset: timezone) -> None:
    aware = local.replace(tzinfo=offset)
    (event,) = parse_events(csv_text([row(published_at=aware.isoformat())]), KNOWN)
    assert event.published_at == pd.Timestamp(local, tz="UTC") - offset.utcoffset(None)
    assert str(event.published_at.tz) == "UTC"
    with pytest.raises(NewsbtError, match="has no UTC offset"):
        parse_events(csv_text([row(published_at=local.isoformat())]), KNOWN)


free_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=40)


@st.composite
def events(draw: st.DrawFn) -> Event:
    published = pd.Timestamp(draw(local_times), tz="UTC")
    return Event(
        event_id=draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True)),
        published_at=published,
        available_at=published + pd.Timedelta(seconds=draw(st.integers(0, 7 * 24 * 3600))),
        tickers=tuple(draw(st.lists(st.sampled_from(KNOWN), min_size=1, max_size=3, unique=True))),
        headline=draw(free_text.filter(str.strip)),
        category=draw(st.sampled_from(Category)),
        direction=draw(st.sampled_from((-1, 0, 1))),
        source=draw(free_text),
        notes=draw(free_text),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(events(), max_size=5, unique_by=lambda e: e.event_id).filter(bool))
def test_format_then_parse_is_the_identity(original: list[Event]) -> None:
    assert parse_events(format_events(original), KNOWN) == tuple(original)


# ---- the seed file ----------------------------------------------------------------------------


def test_seed_file_validates_against_the_documented_universe() -> None:
    seed = load_events(SEED, UNIVERSE)
    assert len(seed) >= 20
    ids = {e.event_id: e for e in seed}
    crash = ids["nvda-crash-2025-01-27"]
    assert (crash.category, crash.direction, crash.tickers) == (Category.MARKET_MOVE, -1, ("NVDA",))
    timing = event_timing(seed)
    # a "fade the 2025-01-27 shock" strategy buys NVDA at the 2025-01-28 open, not earlier
    assert timing.loc["nvda-crash-2025-01-27", "first_bar"] == pd.Timestamp("2025-01-28")
    assert timing.loc["deepseek-app-2025-01-26", "reaction_day"] == pd.Timestamp("2025-01-27")
    assert timing.loc["deepseek-r1-2025-01-20", "first_bar"] == pd.Timestamp("2025-01-21")  # MLK day closed
    cal = nyse_calendar()
    for e in seed:
        assert is_public_before(e.available_at, cal.session_open(timing.loc[e.event_id, "first_bar"]))


@pytest.mark.realdata
def test_seed_file_on_real_prices(real_data_dir: Path) -> None:
    seed = load_events(SEED, available_tickers(real_data_dir))
    timing = event_timing(seed)
    assert timing.loc["apple-tpu-2024-07-29", "reaction_day"] == pd.Timestamp("2024-07-30")
    assert timing.loc["amd-earnings-2024-07-30", "session"] == SessionLabel.AFTER_CLOSE
    assert timing.loc["amd-earnings-2024-07-30", "first_bar"] == pd.Timestamp("2024-07-31")
    assert timing.loc["meta-capex-2025-01-24", "first_bar"] == pd.Timestamp("2025-01-27")


def test_a_market_move_reacts_on_the_session_whose_close_published_it():
    text = (
        "event_id,published_at,tickers,headline,category,direction,source,notes\n"
        "move,2025-01-27T16:00:00-05:00,NVDA,NVDA -17%,market_move,-1,closes,\n"
        "news,2025-01-27T16:00:00-05:00,NVDA,statement,statement,1,press,\n"
    )
    timing = event_timing(parse_events(text, {"NVDA"}))
    assert timing.loc["move", "reaction_day"] == pd.Timestamp("2025-01-27")
    assert timing.loc["news", "reaction_day"] == pd.Timestamp("2025-01-28")
    assert (timing["first_bar"] == pd.Timestamp("2025-01-28")).all()
