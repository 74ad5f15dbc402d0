"""Price files: every bad input is refused with one line naming file, line, problem and expectation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsbt.core.errors import NewsbtError
from newsbt.data.prices import DEFAULT_DATA_DIR, load_prices, read_price_file, resolve_data_dir

HEADER = "date,open,high,low,close,adj_close,volume"
GOOD = "2024-01-02,10,11,9,10.5,10.4,1000"  # line 2 of every file below


def write(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "AAA.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(NewsbtError) as info:
        read_price_file(path)
    return str(info.value)


# --- structure -------------------------------------------------------------------------------------


def test_missing_column_is_named_on_line_1(tmp_path):
    path = write(tmp_path, "2024-01-02,10,11,9,10.5,1000", header="date,open,high,low,close,volume")
    assert error_of(path) == (
        f"{path}:1: missing column(s) adj_close; expected header date,open,high,low,close,adj_close,volume"
    )


def test_several_missing_columns_are_all_named(tmp_path):
    path = write(tmp_path, "2024-01-02,10,1000", header="date,open,volume")
    assert error_of(path).startswith(f"{path}:1: missing column(s) high, low, close, adj_close; expected header")


def test_header_only_file_is_refused(tmp_path):
    path = write(tmp_path)
    assert error_of(path) == f"{path}: has a header but no rows"


def test_empty_file_is_not_a_readable_csv(tmp_path):
    path = tmp_path / "AAA.csv"
    path.write_text("")
    assert error_of(path).startswith(f"{path}: not a readable CSV file (")


def test_non_utf8_file_is_not_a_readable_csv(tmp_path):
    path = tmp_path / "AAA.csv"
    path.write_bytes(f"{HEADER}\n2024-01-02,1\xe9,11,9,10.5,10.4,1000\n".encode("latin-1"))
    assert error_of(path).startswith(f"{path}: not a readable CSV file (")



def test_row_with_too_many_fields_is_one_line_naming_its_line(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,11,9,10.5,10.4,1000,7")
    message = error_of(path)
    assert "\n" not in message
    assert message.startswith(f"{path}:3: ")


# --- cells -------------------------------------------------------------------------------------------


def test_unparseable_number_names_line_text_and_column(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,1O,11,9,10.5,10.4,1000")
    assert error_of(path) == f"{path}:3: unparseable number '1O' in column open"


@pytest.mark.parametrize("text", ["1,000", "0x10", "inf", "12abc"])
def test_other_non_numbers_are_unparseable(tmp_path, text):
    path = write(tmp_path, GOOD, f'2024-01-03,10,11,9,"{text}",10.4,1000')
    assert error_of(path) == f"{path}:3: unparseable number {text!r} in column close"


@pytest.mark.parametrize("text", ["2024/01/03", "2024-02-30", "03-01-2024", "2024-01-03 00:00:00"])
def test_unparseable_date_names_line_and_text(tmp_path, text):
    path = write(tmp_path, GOOD, f"{text},10,11,9,10.5,10.4,1000")
    assert error_of(path) == f"{path}:3: unparseable date {text!r}; expected YYYY-MM-DD"


@pytest.mark.parametrize("text", ["NaN", "nan", "NA", "n/a", "null", "None"])
def test_nan_literal_is_refused(tmp_path, text):
    path = write(tmp_path, GOOD, f"2024-01-03,10,11,9,{text},10.4,1000")
    assert error_of(path) == f"{path}:3: NaN in column close ({text!r}); expected a number"


def test_empty_price_cell_is_a_missing_value(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,,9,10.5,10.4,1000")
    assert error_of(path) == f"{path}:3: missing value in column high; expected a number"


def test_empty_date_cell_is_a_missing_value(tmp_path):
    path = write(tmp_path, GOOD, ",10,11,9,10.5,10.4,1000")
    assert error_of(path) == f"{path}:3: missing value in column date; expected YYYY-MM-DD"


def test_short_row_is_a_missing_value_in_the_last_column(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,11,9,10.5,10.4")
    assert error_of(path) == f"{path}:3: missing value in column volume; expected a number"


def test_blank_line_is_reported_at_its_line(tmp_path):
    path = write(tmp_path, GOOD, "", "2024-01-04,10,11,9,10.5,10.4,1000")
    assert error_of(path) == f"{path}:3: blank line; expected a row of date,open,high,low,close,adj_close,volume"


def test_fractional_volume_is_refused(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-04,10,11,9,10.5,10.4,100.5")
    assert error_of(path).startswith(f"{path}:3: volume is not a whole number on 2024-01-04")


def test_repeated_header_column_is_refused(tmp_path):
    path = tmp_path / "AAA.csv"
    path.write_text("date,open,high,low,close,adj_close,volume,open\n2024-01-02,10,11,9,10.5,10.4,1000,10\n")
    assert error_of(path) == f"{path}:1: column open appears twice in the header"


# --- rows --------------------------------------------------------------------------------------------


def test_duplicate_date_is_refused_at_the_second_occurrence(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,11,9,10.5,10.4,1000", GOOD)
    assert error_of(path) == f"{path}:4: duplicate date 2024-01-02"


def test_unsorted_dates_are_refused_where_order_breaks(tmp_path):
    path = write(tmp_path, "2024-01-03,10,11,9,10.5,10.4,1000", GOOD)
    assert error_of(path) == f"{path}:3: date 2024-01-02 is before the row above it; dates must ascend"


@pytest.mark.parametrize("column", ["open", "high", "low", "close", "adj_close"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_non_positive_price_is_refused(tmp_path, column, value):
    cells = dict(open="10", high="11", low="9", close="10.5", adj_close="10.4", volume="1000")
    cells[column] = value
    path = write(tmp_path, GOOD, "2024-01-03," + ",".join(cells.values()))
    shown = ", ".join(f"{c}={cells[c]}" for c in ("open", "high", "low", "close"))
    assert error_of(path) == f"{path}:3: non-positive {column} on 2024-01-03 ({shown})"


def test_non_positive_message_lists_the_ohlc_values(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,11,9,10.5,0,1000")
    assert error_of(path) == (
        f"{path}:3: non-positive adj_close on 2024-01-03 (open=10, high=11, low=9, close=10.5)"
    )


def test_a_row_problem_on_a_year_zero_date_is_still_one_located_line(tmp_path):
    path = write(tmp_path, "0000-01-01,0,0,0,0,0,0", "2000-01-03,10,11,9,10.5,10.4,1000")
    message = error_of(path)  # year 0 parses on pandas 3 (non-positive open), not on pandas 2 (unparseable)
    assert message.startswith(f"{path}:2: ") and "\n" not in message


def test_negative_volume_is_refused(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,11,9,10.5,10.4,-1")
    assert error_of(path) == f"{path}:3: negative volume on 2024-01-03 (open=10, high=11, low=9, close=10.5)"


def test_zero_volume_is_accepted(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,11,9,10.5,10.4,0")
    assert read_price_file(path)["volume"].tolist() == [1000, 0]


def test_high_below_low_is_refused(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,9,11,10,10,1000")
    assert error_of(path) == f"{path}:3: high is below low on 2024-01-03 (open=10, high=9, low=11, close=10)"


@pytest.mark.parametrize("open_", ["8.99", "11.01"])
def test_open_outside_low_high_is_refused(tmp_path, open_):
    path = write(tmp_path, GOOD, f"2024-01-03,{open_},11,9,10.5,10.4,1000")
    assert error_of(path) == (
        f"{path}:3: open is outside [low, high] on 2024-01-03 (open={open_}, high=11, low=9, close=10.5)"
    )


@pytest.mark.parametrize("close", ["8.99", "11.01"])
def test_close_outside_low_high_is_refused(tmp_path, close):
    path = write(tmp_path, GOOD, f"2024-01-03,10,11,9,{close},10.4,1000")
    assert error_of(path) == (
        f"{path}:3: close is outside [low, high] on 2024-01-03 (open=10, high=11, low=9, close={close})"
    )


def test_open_and_close_on_the_envelope_are_accepted(tmp_path):
    path = write(tmp_path, "2024-01-02,9,11,9,11,11,1000", "2024-01-03,5,5,5,5,5,1")
    assert read_price_file(path)["close"].tolist() == [11.0, 5.0]


# --- a valid file --------------------------------------------------------------------------------


def test_valid_file_parses_to_the_exact_frame(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03, 10.25 ,12.5,10,12,11.9,2500", "2024-01-05,12,12,11.5,11.75,11.6,0")
    expected = pd.DataFrame(
        {
            "open": [10.0, 10.25, 12.0],
            "high": [11.0, 12.5, 12.0],
            "low": [9.0, 10.0, 11.5],
            "close": [10.5, 12.0, 11.75],
            "adj_close": [10.4, 11.9, 11.6],
            "volume": pd.Series([1000, 2500, 0], dtype="int64").values,
        },
        index=pd.DatetimeIndex(pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-05"]), name="date"),
    )
    pd.testing.assert_frame_equal(read_price_file(path), expected, check_exact=True)


def test_crlf_line_endings_and_utf8_bom_are_accepted(tmp_path):
    path = tmp_path / "AAA.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\r\n{GOOD}\r\n".encode())
    frame = read_price_file(path)
    assert frame.index.tolist() == [pd.Timestamp("2024-01-02")]
    assert frame.iloc[0].tolist() == [10.0, 11.0, 9.0, 10.5, 10.4, 1000]


# --- load_prices and the data directory --------------------------------------------------------


def test_missing_ticker_file_names_ticker_directory_and_fetch_command(tmp_path):
    write(tmp_path, GOOD, name="AAA.csv")
    with pytest.raises(NewsbtError) as info:
        load_prices(["AAA", "ZZZ"], tmp_path)
    assert str(info.value) == (
        f"no price file for ZZZ in {tmp_path.resolve()} (looked for ZZZ.csv); "
        "set --data-dir or NEWSBT_DATA_DIR, or download them with: newsbt data fetch ZZZ --start 2015-01-02"
    )


def test_every_missing_ticker_is_named_once(tmp_path):
    with pytest.raises(NewsbtError) as info:
        load_prices(["XX", "YY", "XX"], tmp_path / "nowhere")
    assert str(info.value) == (
        f"no price file for XX, YY in {(tmp_path / 'nowhere').resolve()} (looked for XX.csv, YY.csv); "
        "set --data-dir or NEWSBT_DATA_DIR, or download them with: newsbt data fetch XX YY --start 2015-01-02"
    )


def test_load_prices_returns_each_ticker_once_in_order(tmp_path):
    write(tmp_path, GOOD, name="BBB.csv")
    write(tmp_path, GOOD, name="AAA.csv")
    frames = load_prices(["BBB", "AAA", "BBB"], tmp_path)
    assert list(frames) == ["BBB", "AAA"]
    assert frames["AAA"]["close"].tolist() == [10.5]


def test_load_prices_reports_a_bad_file_by_its_path(tmp_path):
    path = write(tmp_path, GOOD, "2024-01-03,10,11,9,10.5,10.4,-5", name="AAA.csv")
    with pytest.raises(NewsbtError, match=rf"^{path}:3: negative volume on 2024-01-03"):
        load_prices(["AAA"], tmp_path)


def test_explicit_data_dir_beats_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSBT_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir(str(tmp_path / "arg")) == tmp_path / "arg"


def test_environment_beats_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSBT_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"


def test_default_data_dir_is_data_prices(monkeypatch):
    monkeypatch.delenv("NEWSBT_DATA_DIR", raising=False)
    assert resolve_data_dir() == Path("data/prices") == DEFAULT_DATA_DIR


def test_empty_environment_variable_falls_back_to_default(monkeypatch):
    monkeypatch.setenv("NEWSBT_DATA_DIR", "")
    assert resolve_data_dir() == Path("data/prices")


# --- properties ----------------------------------------------------------------------------------


def decimal(units: int) -> str:
    """``units`` ten-thousandths as exact decimal text, e.g. 123456 -> '12.3456'."""
    return f"{units // 10_000}.{units % 10_000:04d}"


@st.composite
def ohlc_rows(draw) -> list[list[str]]:
    n = draw(st.integers(1, 8))
    dates = pd.bdate_range("2020-01-01", periods=n).strftime("%Y-%m-%d")
    rows = []
    for date in dates:
        a, b, c, d = sorted(draw(st.lists(st.integers(1, 10**9), min_size=4, max_size=4)))
        open_, close = draw(st.permutations([b, c]))
        adj = draw(st.integers(1, 10**9))
        volume = draw(st.integers(0, 10**12))
        rows.append([date, decimal(open_), decimal(d), decimal(a), decimal(close), decimal(adj), str(volume)])
    return rows


def write_rows(directory: Path, rows: list[list[str]]) -> Path:
    path = directory / "PROP.csv"
    path.write_text(HEADER + "\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ohlc_rows())
def test_valid_rows_round_trip_exactly(tmp_path, rows):
    frame = read_price_file(write_rows(tmp_path, rows))
    assert frame.index.strftime("%Y-%m-%d").tolist() == [r[0] for r in rows]
    for j, col in enumerate(["open", "high", "low", "close", "adj_close"], start=1):
        assert frame[col].tolist() == [float(r[j]) for r in rows]
    assert frame["volume"].dtype == "int64"
    assert frame["volume"].tolist() == [int(r[6]) for r in rows]


CORRUPTIONS = ["x", "", "NaN", "-1", "1..2", "0"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ohlc_rows(), data=st.data())
def test_one_corrupted_cell_is_reported_at_its_line(tmp_path, rows, data):
    i = data.draw(st.integers(0, len(rows) - 1), label="row")
    j = data.draw(st.integers(0, 6), label="column")
    bad = data.draw(st.sampled_from(CORRUPTIONS), label="text")
    if j == 6 and bad == "0":
        bad = "-1"  # zero volume is valid
    rows[i][j] = bad
    path = write_rows(tmp_path, rows)
    with pytest.raises(NewsbtError) as info:
        read_price_file(path)
    assert str(info.value).startswith(f"{path}:{i + 2}: ")
