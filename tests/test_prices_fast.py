"""The two price readers agree: whatever the file, ``read_price_file`` (pandas' C reader when the file is
plainly clean, else the exact reader) gives exactly the frame the exact reader alone gives
(``validate_prices(read_csv_strings(path))``), or refuses the file with exactly the same message.

Hypothesis writes price files that are clean, and clean but for planted defects of the kinds users'
files have: blank and whitespace lines, NaN literals, spaces, quotes, signs, exponents, long digit
runs, extra and missing fields, repeated or unsorted dates, impossible dates, BOMs, CRLF and lone CR
line ends, odd headers, bytes that are not UTF-8.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from newsbt.core.errors import NewsbtError
from newsbt.data.prices import COLUMNS, read_clean_cells, read_csv_strings, read_price_file, validate_prices

HEADER = ",".join(COLUMNS)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def exact_read(path: Path) -> pd.DataFrame:
    """The exact reader on its own: the reference the fast path must match."""
    return validate_prices(read_csv_strings(path), path)


def outcome(read, path: Path) -> pd.DataFrame | str:
    try:
        return read(path)
    except NewsbtError as error:
        return str(error)


def assert_both_readers_agree(path: Path) -> pd.DataFrame | str:
    got, want = outcome(read_price_file, path), outcome(exact_read, path)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want
    else:
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    return want


def check_generated(directory: Path, data: bytes) -> None:
    path = directory / "AAA.csv"
    path.write_bytes(data)
    want = assert_both_readers_agree(path)
    event("fast path" if read_clean_cells(path) is not None else "exact reader")
    event("refused" if isinstance(want, str) else "read")


# ---------------------------------------------------------------- generated files

# Cell texts the exact reader reads as the same number (or refuses), spelt in ways the fast path must
# either parse identically or leave to the exact reader.
FORMATS = ["{:.0f}", "{:.2f}", "{:.4f}", "{:.6f}", "{:.12f}", "{!r}", "{:.17g}", "{:.3e}", "000{:.3f}"]
JUNK = st.one_of(
    st.sampled_from([
        "", " ", "nan", "NaN", "NA", "n/a", "null", "None", "inf", "-inf", "Infinity", "1e400", "-0", "-0.0",
        "+5", "-1", "0", " 10", "10 ", "\t10", '"10"', '"1,5"', '"1\n2"', "1.", ".5", ".", "1.2.3", "1e3", "1E3",
        "0x1A", "1_000", "\uff19", "\u0661", "\u00a010", "9" * 16, "9" * 25, "1" * 19 + ".25", "0" * 20 + "1.5",
        "0.1000000000000000055511151231257827", "123456789012345678", "100.5", "2024-02-30", "2024-1-02",
        "0000-01-01", "9999-12-31", "2024/01/02", "20240102", "#",
    ]),
    st.text(alphabet="0123456789.-e, \"\t", max_size=8),
)


# Spellings at the edge of what the fast path takes: each is parsed there exactly as the exact reader
# parses it, or sends the file to the exact reader (planted in files whose other cells are plain).
NEAR_MISS_NUMBERS = st.sampled_from([
    "-0", "-0.0", "-1", "+5", "0", "00", "0.0", "1.", ".5", "01.50", "9" * 15, "9" * 15 + ".5", "9" * 16,
    "1" * 18, "12345678901234567", "1e3", " 1", "1 ",
])
NEAR_MISS_DATES = st.sampled_from([
    "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "2024-13-01", "2024-00-10", "2024-04-31",
    "0000-01-01", "9999-12-31", "2024-1-02", " 2024-01-02", "2024-01-02 ",
])


@st.composite
def price_rows(draw, formats: list[str] = FORMATS) -> list[list[str]]:
    """Consistent OHLCV rows on ascending dates (sometimes repeated or shuffled), in one number format."""
    days = draw(st.lists(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), min_size=1, max_size=12, unique=True))
    days = sorted(days)
    if draw(st.integers(0, 9)) == 0:
        days = draw(st.permutations(days + days[:1]))  # a repeated date, and maybe disorder
    form = draw(st.sampled_from(formats))
    rows = []
    for day in days:
        low = draw(st.floats(1e-4, 1e9))
        high = low * (1 + draw(st.floats(0, 0.3)))
        open_, close, adj = (low + (high - low) * draw(st.floats(0, 1)) for _ in range(3))
        volume = draw(st.one_of(st.integers(0, 10**12).map(str), st.integers(0, 10**20).map(str),
                                st.integers(0, 10**9).map(lambda v: f"{v}.0")))
        rows.append([day.isoformat(), *(form.format(x) for x in (open_, high, low, close, adj)), volume])
    return rows


@st.composite
def spoiled(draw, rows: list[list[str]]) -> list[str]:
    """The rows as lines, with a defect planted in up to two of them: a junk cell, a field too many or
    too few, or a blank, whitespace or comment line before the row."""
    planted = st.tuples(st.integers(0, len(rows) - 1), st.sampled_from(["cell", "cell", "extra", "short", "line"]))
    defects = dict(draw(st.lists(planted, max_size=draw(st.sampled_from([0, 0, 1, 2])))))
    lines = []
    for i, row in enumerate(rows):
        kind = defects.get(i)
        if kind == "cell":
            j = draw(st.integers(0, len(row) - 1))
            row = [draw(JUNK) if k == j else cell for k, cell in enumerate(row)]
        elif kind == "extra":
            row = [*row, draw(st.sampled_from(["", "7", " "]))]
        elif kind == "short":
            row = row[: draw(st.integers(0, len(row) - 1))]
        elif kind == "line":
            lines.append(draw(st.sampled_from(["", " ", ",,,,,,", "\t", "#comment"])))
        lines.append(",".join(row))
    return lines


HEADERS = st.integers(0, 4).flatmap(lambda n: st.just(HEADER) if n else st.one_of(
    st.sampled_from([" " + HEADER, HEADER + " ", HEADER.upper(), HEADER + ",extra", HEADER + ",open",
                     HEADER.replace("adj_close,", ""), '"date",' + HEADER.split(",", 1)[1], HEADER.replace(",", ", ")]),
    st.permutations(COLUMNS).map(",".join),
))


@st.composite
def price_file(draw, kind: str = "spoiled") -> bytes:
    """``clean``: rows only; ``near_miss``: plain rows but for one near-miss cell; ``spoiled``:
    defects planted anywhere."""
    if kind == "near_miss":
        rows = draw(price_rows(formats=["{:.0f}", "{:.2f}"]))
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, 6))
        rows[i][j] = draw(NEAR_MISS_DATES if j == 0 else NEAR_MISS_NUMBERS)
    else:
        rows = draw(price_rows())
    if kind != "spoiled":
        return encode(draw, HEADER, [",".join(r) for r in rows], newlines=["\n", "\r\n"])
    return encode(draw, draw(HEADERS), draw(spoiled(rows)), newlines=["\n", "\r\n", "\n", "\r\n", "\r"],
                  tails=["", "", "", "", "\n", " \n"], boms=["", "", "\ufeff", "\ufeff" * 2], bad_byte=True)


def encode(draw, header: str, lines: list[str], *, newlines: list[str], tails: list[str] = ("",),
           boms: list[str] = ("", "\ufeff"), bad_byte: bool = False) -> bytes:
    """A BOM or not, the header and lines joined by one kind of line end (one time in ten, one line
    ends another way), the last line ended or not, then a tail; as UTF-8, with (if ``bad_byte``, one
    time in twenty) a byte that is not UTF-8."""
    ends = [draw(st.sampled_from(newlines))] * (len(lines) + 1)
    if draw(st.integers(0, 9)) == 0:
        ends[draw(st.integers(0, len(lines)))] = draw(st.sampled_from(newlines))
    ends[-1] = draw(st.sampled_from([ends[-1], ""]))
    text = draw(st.sampled_from(boms)) + header + "".join(e + line for e, line in zip(ends, lines))
    data = (text + ends[-1] + draw(st.sampled_from(tails))).encode()
    if bad_byte and draw(st.integers(0, 19)) == 0:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + b"\xe9" + data[cut:]
    return data


@SETTINGS
@given(data=price_file())
def test_any_file_is_read_by_the_fast_path_exactly_as_by_the_exact_reader(tmp_path, data):
    check_generated(tmp_path, data)


@SETTINGS
@given(data=price_file("clean"))
def test_clean_files_agree_too(tmp_path, data):
    """Defect-free text in many number spellings (long digit runs and exponents included)."""
    check_generated(tmp_path, data)


@SETTINGS
@given(data=price_file("near_miss"))
def test_files_with_one_near_miss_cell_agree_too(tmp_path, data):
    check_generated(tmp_path, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=price_rows(), newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans(), ended=st.booleans())
def test_plain_decimal_files_take_the_fast_path(tmp_path, rows, newline, bom, ended):
    rows = [[row[0], *(f"{float(x):.4f}" for x in row[1:6]), str(int(float(row[6])) % 10**15)] for row in rows]
    path = tmp_path / "AAA.csv"
    path.write_bytes((("\ufeff" if bom else "") + newline.join([HEADER, *map(",".join, rows)])
                      + (newline if ended else "")).encode())
    cells = read_clean_cells(path)
    assert cells is not None
    assert list(cells.columns) == list(COLUMNS) and len(cells) == len(rows)
    assert_both_readers_agree(path)


# ---------------------------------------------------------------- which files the fast path leaves alone

GOOD = "2024-01-02,10,11,9,10.5,10.4,1000"


@pytest.mark.parametrize("text", [
    f" {HEADER}\n{GOOD}\n",                              # a header that is not exactly the header
    f"{HEADER},extra\n{GOOD},1\n",
    f"{HEADER}\n",                                       # no rows
    f"{HEADER}\n{GOOD}\n\n",                             # a blank line
    f"{HEADER}\n{GOOD}\n2024-01-03,10,11,9,10.5,10.4,1000,\n",  # an extra field
    f"{HEADER}\n2024-01-02,10,11,9,10.5,10.4\n",         # a missing one
    f"{HEADER}\n2024-01-02, 10,11,9,10.5,10.4,1000\n",   # a space
    f'{HEADER}\n2024-01-02,"10",11,9,10.5,10.4,1000\n',  # a quote
    f"{HEADER}\n2024-01-02,1e1,11,9,10.5,10.4,1000\n",   # an exponent
    f"{HEADER}\n2024-01-02,+10,11,9,10.5,10.4,1000\n",   # a sign
    f"{HEADER}\n2024-01-02,10,11,9,10.5,10.4,-0\n",
    f"{HEADER}\n2024-01-02,10.,11,9,10.5,10.4,1000\n",   # a bare decimal point
    f"{HEADER}\n2024-01-02,10,11,9,10.5,10.4,1234567890123456\n",  # a 16-digit whole number
    f"{HEADER}\n2024-02-30,10,11,9,10.5,10.4,1000\n",    # a date that does not exist
    f"{HEADER}\r{GOOD}\r",                               # lone CR line ends
    f"{HEADER}\n{GOOD}\r",
])
def test_unusual_files_are_left_to_the_exact_reader(tmp_path, text):
    path = tmp_path / "AAA.csv"
    path.write_bytes(text.encode())
    assert read_clean_cells(path) is None
    assert_both_readers_agree(path)


def test_clean_cells_are_the_parsed_cells_before_the_row_checks(tmp_path):
    """A clean file with a row-check problem is parsed by the fast path and refused by the one rule set."""
    path = tmp_path / "AAA.csv"
    path.write_bytes(f"\ufeff{HEADER}\r\n{GOOD}\r\n2024-01-03,10,11,9,11.5,10.4,2500".encode())
    cells = read_clean_cells(path)
    expected = pd.DataFrame({
        "date": pd.to_datetime(pd.Series(["2024-01-02", "2024-01-03"]), format="%Y-%m-%d"),
        "open": [10.0, 10.0], "high": [11.0, 11.0], "low": [9.0, 9.0], "close": [10.5, 11.5],
        "adj_close": [10.4, 10.4], "volume": [1000.0, 2500.0],
    })
    pd.testing.assert_frame_equal(cells, expected, check_exact=True)
    assert outcome(read_price_file, path) == (
        f"{path}:3: close is outside [low, high] on 2024-01-03 (open=10, high=11, low=9, close=11.5)"
    )
    assert_both_readers_agree(path)


# ---------------------------------------------------------------- the real files

@pytest.mark.realdata
def test_real_price_files_load_identically_through_the_fast_path(real_data_dir):
    paths = sorted(real_data_dir.glob("*.csv"))
    assert paths
    for path in paths:
        assert read_clean_cells(path) is not None, f"{path} fell back to the exact reader"
        pd.testing.assert_frame_equal(read_price_file(path), exact_read(path), check_exact=True)
