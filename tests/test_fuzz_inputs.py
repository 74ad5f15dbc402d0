"""Fuzzed user files never end in a traceback: each gives a valid result or a located NewsbtError.

Hypothesis builds price CSVs, event files and backtest files from pieces that are mostly right and
sometimes wrong in the ways real files are (missing or extra columns, blank and non-numeric cells,
NaN and infinities, huge numbers, impossible dates, naive timestamps, BOMs, CRLF, bad TOML, values
of the wrong type), plus raw bytes. 300 examples each; all of it takes a few seconds.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from newsbt.backtest.spec import BacktestSpec, load_spec
from newsbt.cli import main
from newsbt.core.errors import NewsbtError
from newsbt.data.events import COLUMNS as EVENT_COLUMNS, Event, event_timing, load_events
from newsbt.data.prices import COLUMNS as PRICE_COLUMNS, read_price_file
from newsbt.sweep.runner import plan_sweep

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KNOWN_TICKERS = ("AAA", "BBB")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def assert_located(error: NewsbtError, path: Path) -> None:
    """Every line of the message names the file (an event file lists each problem on its own line)."""
    event("refused")
    lines = str(error).split("\n")  # the lines a terminal shows (cells may hold other separators)
    assert lines and all(line.startswith(str(path)) and "\r" not in line for line in lines), str(error)


def csv_text(header: list[str], rows: list[list[str]], newline: str, bom: bool) -> str:
    text = newline.join(",".join(row) for row in [header, *rows]) + newline
    return ("\ufeff" if bom else "") + text


def rarely(strategy: st.SearchStrategy, otherwise: st.SearchStrategy) -> st.SearchStrategy:
    """``strategy`` one time in ten, else ``otherwise``: files are mostly right, and wrong in one place."""
    return st.integers(0, 9).flatmap(lambda n: strategy if n == 0 else otherwise)


JUNK = st.one_of(st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e400", "-0", "abc", '"', "1,5", "null",
                                  "9" * 30, "2024-02-30", "0001-01-01", "1e20", "-3", "1.5"]), st.text(max_size=6))
RAW = rarely(st.binary(max_size=200), st.none())  # now and then not text at all


def spoil(cells: list[str], junk: st.SearchStrategy[str] = JUNK) -> st.SearchStrategy[list[str]]:
    """The row as it is, or (one time in ten) with one cell replaced by junk."""
    def replace(i: int) -> st.SearchStrategy[list[str]]:
        return junk.map(lambda bad: [bad if j == i else c for j, c in enumerate(cells)])
    return rarely(st.integers(0, len(cells) - 1).flatmap(replace), st.just(cells))


# ---------------------------------------------------------------- price CSVs

@st.composite
def price_rows(draw) -> list[list[str]]:
    """Ascending sessions with a consistent OHLC envelope, then a few cells spoiled."""
    days = draw(st.lists(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)),
                         min_size=1, max_size=8, unique=True))
    rows = []
    for day in sorted(days):
        low = draw(st.floats(0.01, 1e6))
        high = low * (1 + draw(st.floats(0, 0.2)))
        inside = [low + (high - low) * draw(st.floats(0, 1)) for _ in range(3)]  # open, close, adj_close
        cells = [str(day), *(f"{x:.6f}" for x in (inside[0], high, low, inside[1], inside[2]))]
        rows.append(draw(spoil([*cells, str(draw(st.integers(0, 10**9)))])))
    return rows


PRICE_HEADER = rarely(st.one_of(st.permutations(PRICE_COLUMNS).map(list),
                                st.lists(st.sampled_from([*PRICE_COLUMNS, "extra", " date", "Date"]), max_size=8)),
                      st.just(list(PRICE_COLUMNS)))


@FUZZ
@given(header=PRICE_HEADER, rows=price_rows(), newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans(), raw=RAW)
def test_a_fuzzed_price_file_is_read_or_refused_with_its_location(scratch, header, rows, newline, bom, raw):
    path = scratch / "FUZZ.csv"
    path.write_bytes(raw if raw is not None else csv_text(header, rows, newline, bom).encode())
    try:
        frame = read_price_file(path)
    except NewsbtError as error:
        assert_located(error, path)
        return
    event("read")
    assert frame.index.is_monotonic_increasing and frame.index.is_unique and len(frame)
    prices = frame[["open", "high", "low", "close", "adj_close"]]
    assert (prices > 0).all().all() and prices.map(math.isfinite).all().all()
    assert (frame["high"] >= frame["low"]).all() and (frame["volume"] >= 0).all()
    assert frame["volume"].dtype == "int64"


# ---------------------------------------------------------------- event files

@st.composite
def event_rows(draw) -> list[dict[str, str]]:
    """Events on known tickers inside the calendar, with offsets, then a few cells spoiled."""
    rows = []
    for i in range(draw(st.integers(1, 4))):
        published = draw(st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2029, 12, 1)))
        offset = draw(st.sampled_from(["-04:00", "-05:00", "Z", "+09:00"]))
        stamp = f"{published.isoformat()}{offset}"
        row = [f"e{i}", stamp, draw(st.sampled_from(["", stamp])), draw(st.sampled_from(["AAA", "AAA;BBB"])),
               draw(st.sampled_from(["Guidance cut", '"quoted, with comma"'])),
               draw(st.sampled_from(["earnings", "market_move", "other"])), draw(st.sampled_from(["-1", "0", "+1"])),
               draw(st.text(max_size=5)), draw(st.text(max_size=5))]
        extra = st.sampled_from(["AAA\nZZZ", "Z\rZ", "ZZZ", published.isoformat(), "9999-12-31T23:59:59+14:00",
                                 "2024-07-30T16:05:00+25:00", "Earnings", "2"])
        rows.append(dict(zip(EVENT_COLUMNS, draw(spoil(row, st.one_of(JUNK, extra))))))
    return rows


EVENT_HEADER = rarely(st.one_of(st.just([c for c in EVENT_COLUMNS if c != "available_at"]),
                                st.lists(st.sampled_from([*EVENT_COLUMNS, "availble_at", "extra"]), max_size=10)),
                      st.just(list(EVENT_COLUMNS)))


def quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


@FUZZ
@given(header=EVENT_HEADER, rows=event_rows(), newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans(), raw=RAW)
def test_a_fuzzed_event_file_is_read_or_refused_with_its_location(scratch, header, rows, newline, bom, raw):
    path = scratch / "events.csv"
    lines = [[quote(row.get(column, "")) for column in header] for row in rows]
    path.write_bytes(raw if raw is not None else csv_text(header, lines, newline, bom).encode())
    try:
        events = load_events(path, KNOWN_TICKERS)
        timing = event_timing(events)  # what `newsbt events check` and every run do next
    except NewsbtError as error:
        assert_located(error, path) if "calendar" not in str(error) else None
        return
    event(f"read {len(events)} events")
    assert all(isinstance(e, Event) and e.available_at >= e.published_at for e in events)
    assert set(e.tickers[0] for e in events) <= set(KNOWN_TICKERS) and len(timing) == len(events)


# ---------------------------------------------------------------- backtest files

SCALARS = st.one_of(st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=True).map(
    lambda x: "nan" if math.isnan(x) else ("inf" if x == math.inf else "-inf" if x == -math.inf else repr(x))),
    st.sampled_from(["true", "false", "2024-01-01", "2019-01-01T10:00:00Z", '""', '"QQQ"', '"AAA"', '"crash_dip"',
                     '"x y"', "[]", '["AAA", "BBB"]', "[1, 2]", "{}", '{SPY = 0.6, QQQ = 0.4}', '{SPY = 1}',
                     '"1:10:3"', '"5:1:1"', '"a > b"', '["drop_pct > hold_days"]', "{train_days = 2}"]))
KEYS = {
    "run": ["name", "start", "end", "cash", "benchmark", "events", "nmae"],
    "strategy": ["name", "drop_pct", "hold_days", "position_pct", "tickers", "take_profit_pct", "ticker", "drop"],
    "costs": ["commission_bps", "commission_per_share", "commission_min", "slippage_bps", "borrow_fee_pct"],
    "sweep": ["drop_pct", "hold_days", "samples", "seed", "metric", "engine", "backend", "constraints",
              "walk_forward", "pbo_blocks", "workers"],
    "bogus": ["x"],
}
GOOD = {"run": {"name": '"fuzz"', "start": "2024-01-01", "end": "2024-06-30", "benchmark": '"AAA"'},
        "strategy": {"name": '"crash_dip"', "tickers": '["AAA", "BBB"]'}, "sweep": {"drop_pct": "[5, 7]"}}


@st.composite
def backtest_files(draw) -> str:
    """A backtest file: a valid base with some keys changed, dropped or added, sometimes broken TOML."""
    sections: dict[str, dict[str, str]] = {s: dict(keys) for s, keys in GOOD.items()}
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3, 6]))):
        section = draw(st.sampled_from(sorted(KEYS)))
        key = draw(st.sampled_from(KEYS[section]))
        if draw(st.integers(0, 4)) == 0:
            sections.get(section, {}).pop(key, None)
        else:
            sections.setdefault(section, {})[key] = draw(SCALARS)
    top = draw(rarely(st.sampled_from(["strategy = 5\n", "run = []\n", 'sweep = "x"\n', "[[run]]\n", "= 1\n"]),
                      st.just("")))
    body = top + "".join(f"[{s}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) for s, keys in sections.items())
    return body + draw(rarely(st.sampled_from(["[run\n", 'name = "dup"\n', "x = \n", "\x00"]), st.just("")))


@FUZZ
@given(text=backtest_files(), raw=RAW)
def test_a_fuzzed_backtest_file_gives_a_spec_or_a_located_error(scratch, text, raw):
    path = scratch / "fuzz.toml"
    path.write_bytes(raw if raw is not None else text.encode())
    for read in (load_spec, plan_sweep):
        try:
            result = read(path)
        except NewsbtError as error:
            event(f"{read.__name__}: refused")
            assert "\n" not in str(error) and str(error).startswith(str(path)), str(error)
            continue
        event(f"{read.__name__}: read")
        spec = result if isinstance(result, BacktestSpec) else result.spec
        assert spec.run.end > spec.run.start


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # capsys: read each time
@given(text=backtest_files(), command=st.sampled_from(["run", "sweep"]))
def test_the_command_line_turns_a_fuzzed_file_into_one_error_line(scratch, capsys, text, command):
    path = scratch / "cli.toml"
    path.write_text(text)
    empty = scratch / "no_prices"
    empty.mkdir(exist_ok=True)
    with pytest.raises(SystemExit) as exit_:
        main([command, str(path), "--data-dir", str(empty), "--reports-dir", str(scratch / "reports")])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert exit_.value.code == 1 and len(errors) == 1 and "Traceback" not in err, err
