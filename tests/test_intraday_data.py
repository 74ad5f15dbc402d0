"""Intraday price files: every problem with its line, sessions against the real NYSE calendar,
suspect extended-hours prints flagged (never dropped), and the embedded sample equal to the shared files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbt.core.errors import NewsbtError
from newsbt.data.calendar import bar_sessions, first_bar_after, map_events, nyse_calendar
from newsbt.data.intraday import (
    EMBEDDED_DIR, apply_print_policy, early_close_relabels, load_intraday, read_embedded, read_intraday_file,
    suspect_prints, write_compact,
)
from tests.intraday_bars import HEADER, NEW_YORK, csv_rows, hourly, starts

DAY = "2024-07-30"


def write(tmp_path: Path, lines: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "AAA_1h.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(NewsbtError) as info:
        read_intraday_file(path)
    return str(info.value)


def good_lines() -> list[str]:
    return csv_rows(starts([DAY, "2024-07-31"]))


def test_a_good_file_loads_with_its_values_and_the_calendar_sessions(tmp_path):
    frame = read_intraday_file(write(tmp_path, good_lines()))
    assert len(frame) == 2 * 17
    assert str(frame.index.tz) == NEW_YORK
    first = frame.iloc[0]
    assert frame.index[0] == pd.Timestamp("2024-07-30 04:00", tz=NEW_YORK)
    assert (first["open"], first["high"], first["low"], first["close"], first["volume"]) == (100, 100.75, 99.75, 100.5, 1000)
    assert frame["volume"].dtype == np.int64
    assert (frame["session"] == frame["nyse_session"]).all()
    # bars of different lengths (30-minute 09:00 and 15:30 bars among hourly ones) are fine
    assert sorted(frame.index[:8].to_series().diff().dropna().unique()) == [pd.Timedelta("30min"), pd.Timedelta("1h")]


def test_a_timestamp_without_offset_is_refused_with_its_line(tmp_path):
    lines = good_lines()
    lines[3] = lines[3].replace("-04:00", "", 1)
    assert error_of(write(tmp_path, lines)) == (
        f"{tmp_path / 'AAA_1h.csv'}:5: timestamp '2024-07-30T07:00:00' needs ISO 8601 with a UTC offset, "
        "e.g. 2024-07-30T16:00:00-04:00")


def test_a_utc_offset_other_than_new_york_is_read_as_the_same_instant(tmp_path):
    lines = good_lines()
    lines[6] = lines[6].replace("2024-07-30T09:30:00-04:00", "2024-07-30T13:30:00+00:00")
    frame = read_intraday_file(write(tmp_path, lines))
    assert frame.index[6] == pd.Timestamp("2024-07-30 09:30", tz=NEW_YORK)


@pytest.mark.parametrize("edit, line, message", [
    (lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], 4,
     "bar start 2024-07-30T05:00:00-04:00 is before the row above it; bars must ascend"),
    (lambda ls: [ls[0], ls[1], ls[1], *ls[2:]], 4, "duplicate bar start 2024-07-30T05:00:00-04:00"),
    (lambda ls: [ls[0].replace(",pre,", ",regular,"), *ls[1:]], 2,
     "bar at 2024-07-30T04:00:00-04:00 is labelled regular but the NYSE calendar puts it in pre"),
    (lambda ls: [*ls[:13], ls[13].replace(",post,", ",regular,"), *ls[14:]], 15,
     "bar at 2024-07-30T16:00:00-04:00 is labelled regular but the NYSE calendar puts it in post"),
    (lambda ls: [*ls[:6], ls[6].replace(",regular,", ",lunch,"), *ls[7:]], 8,
     "session 'lunch'; expected one of pre, regular, post"),
    (lambda ls: [ls[0].replace(",100.5,1000,", ",101,1000,"), *ls[1:]], 2, "close is outside [low, high]"),
    (lambda ls: [ls[0].replace("100,100.75", "0,100.75"), *ls[1:]], 2, "non-positive open"),
    (lambda ls: [*ls[:2], ls[2].replace(",3000,", ",-3,"), *ls[3:]], 4, "negative volume"),
    (lambda ls: [*ls[:2], ls[2].replace(",3000,", ",abc,"), *ls[3:]], 4, "unparseable number 'abc' in column volume"),
])
def test_each_problem_is_reported_with_its_line(tmp_path, edit, line, message):
    path = write(tmp_path, edit(good_lines()))
    assert error_of(path) == f"{path}:{line}: {message}"


def test_a_bar_on_a_holiday_is_refused(tmp_path):
    lines = csv_rows(starts(["2024-07-03", "2024-07-04"], ["regular"]))
    path = write(tmp_path, lines)
    assert error_of(path) == f"{path}:9: 2024-07-04 is not an NYSE session (weekend or holiday)"


def test_missing_column_is_reported_on_the_header_line(tmp_path):
    path = write(tmp_path, [], header="timestamp,open,high,low,close,volume")
    assert error_of(path) == (f"{path}:1: missing column(s) session; expected header "
                              "timestamp,open,high,low,close,volume,session[,source]")


def test_early_closes_come_from_the_calendar(tmp_path):
    """2024-11-29 closes at 13:00: a 13:00 bar is post-market. A file that calls it regular (the plain
    09:30-16:00 rule of public files) is accepted and the bar listed; one that calls 12:30 post is not."""
    day = "2024-11-29"
    bars = [(pd.Timestamp(f"{day} {t}", tz=NEW_YORK), s) for t, s in
            [("09:30", "regular"), ("12:30", "regular"), ("13:00", "post"), ("14:00", "regular")]]
    frame = read_intraday_file(write(tmp_path, csv_rows(bars)))
    assert list(frame["nyse_session"]) == ["regular", "regular", "post", "post"]
    assert list(early_close_relabels(frame)) == [pd.Timestamp(f"{day} 14:00", tz=NEW_YORK)]
    wrong = csv_rows([bars[0], (bars[1][0], "post")])
    path = write(tmp_path, wrong)
    assert error_of(path) == (f"{path}:3: bar at 2024-11-29T12:30:00-05:00 is labelled post but the NYSE calendar "
                              "puts it in regular")


def test_suspect_extended_prints_are_flagged_and_kept_or_clipped_never_dropped():
    frame = hourly([DAY])
    post_17 = pd.Timestamp(f"{DAY} 17:00", tz=NEW_YORK)
    noon = pd.Timestamp(f"{DAY} 11:30", tz=NEW_YORK)
    frame.loc[post_17, "high"] = frame.loc[post_17, "close"] * 1.031  # > 3 % above the open-close range
    frame.loc[noon, "low"] = frame.loc[noon, "open"] * 0.9  # a regular bar: a real range, not flagged
    flagged = suspect_prints(frame)
    assert list(flagged.index) == [post_17]
    kept = apply_print_policy(frame, "keep")
    pd.testing.assert_frame_equal(kept, frame)
    clipped = apply_print_policy(frame, "clip")
    assert len(clipped) == len(frame)
    assert clipped.loc[post_17, "high"] == frame.loc[post_17, "close"]
    assert clipped.loc[post_17, "low"] == frame.loc[post_17, "open"]
    assert clipped.loc[noon, "low"] == frame.loc[noon, "low"]
    pd.testing.assert_frame_equal(clipped.drop(index=post_17), frame.drop(index=post_17))


def test_a_missing_file_names_the_directory_and_the_fetch_command(tmp_path):
    with pytest.raises(NewsbtError) as info:
        load_intraday(["ZZZ"], "5m", tmp_path)
    message = str(info.value)
    assert f"no 5m bars for ZZZ: looked for {tmp_path.resolve() / 'ZZZ_5m.csv'} and the embedded sample" in message
    assert message.endswith("newsbt data fetch ZZZ --interval 5m --prepost --start <YYYY-MM-DD>")


def test_a_file_in_the_directory_wins_over_the_embedded_sample(tmp_path):
    (tmp_path / "NVDA_1h.csv").write_text("\n".join([HEADER, *csv_rows(starts([DAY]))]) + "\n")
    frame = load_intraday(["NVDA"], "1h", tmp_path)["NVDA_1h"]
    assert len(frame) == 17 and frame["open"].iloc[0] == 100


def test_compact_parquet_round_trips_exactly(tmp_path):
    frame = hourly([DAY, "2024-07-31"])
    frame["close"] = frame["close"] + 0.0001  # four decimals survive
    frame["high"] = frame["high"] + 0.0001
    write_compact(frame, tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(read_embedded(tmp_path / "x.parquet"), frame, check_exact=True)
    frame["close"] = frame["close"] + 0.00001
    with pytest.raises(NewsbtError, match="close has more than 4 decimals"):
        write_compact(frame, tmp_path / "y.parquet")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 60 * 24 * 30), min_size=1, max_size=20),
       st.lists(st.integers(0, 60 * 24 * 30), min_size=1, max_size=40, unique=True))
def test_first_bar_after_is_the_first_start_strictly_later(news_minutes, bar_minutes):
    base = pd.Timestamp("2024-07-01", tz="UTC")
    bar_ns = np.array(sorted(base.value + m * 60_000_000_000 for m in bar_minutes), dtype=np.int64)
    news_ns = np.array([base.value + m * 60_000_000_000 for m in news_minutes], dtype=np.int64)
    for t, i in zip(news_ns, first_bar_after(news_ns, bar_ns)):
        later = [j for j, b in enumerate(bar_ns) if b > t]
        assert i == (later[0] if later else len(bar_ns))


def test_the_daily_first_bar_is_the_same_rule_over_session_opens():
    opens = nyse_calendar().opens["2024-07-01":"2024-08-30"]
    times = [pd.Timestamp("2024-07-30 16:05", tz=NEW_YORK), pd.Timestamp("2024-07-31 09:30", tz=NEW_YORK),
             pd.Timestamp("2024-07-03 13:00", tz=NEW_YORK), pd.Timestamp("2024-07-04 12:00", tz=NEW_YORK)]
    mapped = map_events(times)["first_bar"]
    starts_ns = pd.DatetimeIndex(opens).as_unit("ns").asi8
    by_rule = opens.index[first_bar_after(pd.DatetimeIndex(times).tz_convert("UTC").as_unit("ns").asi8, starts_ns)]
    assert list(mapped) == list(by_rule)
    assert [d.date().isoformat() for d in mapped] == ["2024-07-31", "2024-08-01", "2024-07-05", "2024-07-05"]


def test_bar_sessions_follow_the_calendar_with_early_closes():
    stamps = pd.DatetimeIndex([pd.Timestamp(t, tz=NEW_YORK) for t in
                               ["2024-07-03 09:29", "2024-07-03 09:30", "2024-07-03 12:59", "2024-07-03 13:00",
                                "2024-07-05 15:59", "2024-07-05 16:00", "2024-07-06 10:00"]])
    _, labels = bar_sessions(stamps)
    assert list(labels) == ["pre", "regular", "regular", "post", "regular", "post", ""]


# --- the real files ------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("name, rows, suspects, relabels", [
    ("NVDA_1h", 10_036, 573, 10), ("QQQ_5m", 47_305, 2, 3), ("NVDA_1m", 37_841, 61, 0),
    ("NVDA_5m", 25_159, 0, 30), ("QQQ_1h", 8_643, 353, 10), ("QQQ_1m", 8_974, 6, 0),
])
def test_every_shared_file_validates(real_intraday_dir, name, rows, suspects, relabels):
    frame = read_intraday_file(real_intraday_dir / f"{name}.csv")
    assert len(frame) == rows
    assert len(suspect_prints(frame)) == suspects  # SOURCES.md: 414 post + 156 pre NVDA_1h bars beyond 3 %
    assert len(early_close_relabels(frame)) == relabels  # bars after 13:00 on early-close days


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["NVDA_1h", "QQQ_5m"])
def test_the_embedded_sample_equals_the_shared_file_value_for_value(real_intraday_dir, name):
    shared = read_intraday_file(real_intraday_dir / f"{name}.csv")
    embedded = read_embedded(EMBEDDED_DIR / f"{name}.parquet")
    pd.testing.assert_frame_equal(embedded, shared, check_exact=True)
    assert (EMBEDDED_DIR / f"{name}.parquet").stat().st_size < 600_000


def test_the_embedded_sample_is_package_data_so_wheels_ship_it():
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["newsbt.data"]
    shipped = sorted({p.name for pattern in patterns for p in EMBEDDED_DIR.parents[1].glob(pattern)
                      if p.parent == EMBEDDED_DIR})
    assert shipped == ["NVDA_1h.parquet", "QQQ_5m.parquet"]
