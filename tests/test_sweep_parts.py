"""A sweep's rows as columns: figures computed across a chunk's runs, parts collected into one returns matrix.

The fast paths must give exactly what the row-by-row computations give (``headline_of`` per run, the
store's general ``_returns_matrix``): every comparison here is exact.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from newsbt.backtest.fast.market import build_prices
from newsbt.backtest.metrics import headline_of, headline_rows
from newsbt.sweep.overfit import _block_moments
from newsbt.sweep.store import METRIC_COLUMNS, SCHEMA, Collected, SweepStore, _returns_matrix
from newsbt.sweep.worker import Ran, part_table
from tests.sweepdata import read_saved

EPOCH = dt.date(1970, 1, 1)


def days_of(*dates: dt.date) -> np.ndarray:
    return np.array([(d - EPOCH).days for d in dates], dtype=np.int32)


def random_runs(rng: np.random.Generator, count: int, sessions: int) -> tuple[np.ndarray, list, np.ndarray]:
    returns = rng.normal(0.0005, 0.02, (count, sessions))
    returns[0] = 0.0  # never traded: flat returns, no trades, no exposure
    pnl = [rng.normal(10, 50, rng.integers(0, 9)) for _ in range(count)]
    pnl[0] = np.zeros(0)
    gross = np.where(rng.random((count, sessions)) < 0.4, rng.random((count, sessions)), 0.0)
    gross[0] = 0.0
    return returns, pnl, gross


def test_headline_rows_equal_headline_of_for_every_run_to_the_bit():
    returns, pnl, gross = random_runs(np.random.default_rng(7), 9, 300)
    rows = headline_rows(returns, 1.19, pnl, gross)
    assert rows == [headline_of(returns[r], 1.19, pnl[r], gross[r]) for r in range(9)]
    assert rows[0]["sharpe"] is None and rows[0]["win_rate"] is None and rows[0]["trades"] == 0
    assert rows[0]["total_return"] == 0.0 and rows[0]["exposure"] == 0.0


def test_a_part_holds_each_combination_once_in_the_order_given_with_its_figures_or_its_error():
    rng = np.random.default_rng(3)
    short, long_ = days_of(dt.date(2024, 1, 2), dt.date(2024, 1, 3)), days_of(
        dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4))
    returns, pnl, gross = random_runs(rng, 3, 3)
    ran = [Ran(long_, returns[0], pnl[0], gross[0], 100.0, 0), Ran(short, returns[1, :2], pnl[1], gross[1, :2], 101.5, 2),
           Ran(long_, returns[2], pnl[2], gross[2], 99.25, 1)]
    part = part_table([7, 3, 5, 9], ['{"a": 1}', '{"a": 2}', '{"a": 3}', '{"a": 4}'],
                      [ran[0], ran[1], "ValueError: no", ran[2]])
    assert part.schema.equals(SCHEMA)
    rows = part.to_pylist()
    assert [r["combination"] for r in rows] == [7, 3, 5, 9]
    assert [r["params"] for r in rows] == ['{"a": 1}', '{"a": 2}', '{"a": 3}', '{"a": 4}']
    assert [r["error"] for r in rows] == [None, None, "ValueError: no", None]
    assert [r["final_value"] for r in rows] == [100.0, 101.5, None, 99.25]
    assert [r["refused_orders"] for r in rows] == [0, 2, None, 1]
    for row, run in zip([rows[0], rows[1], rows[3]], ran):
        expected = headline_of(run.returns, int(run.days[-1] - run.days[0]) / 365.25, run.trade_pnl,
                               run.gross_exposure)
        assert {name: row[name] for name in METRIC_COLUMNS} == {name: expected[name] for name in METRIC_COLUMNS}
        assert row["returns"] == run.returns.tolist()
        assert row["dates"] == [EPOCH + dt.timedelta(days=int(d)) for d in run.days]
    assert rows[2]["dates"] == [] and rows[2]["returns"] == [] and rows[2]["sharpe"] is None


def part_of(combos: list[int], days: list[np.ndarray | None], rng: np.random.Generator) -> pa.Table:
    """A part whose combination c ran on days[k] (None: it raised)."""
    outcomes = [Ran(d, rng.normal(0, 0.01, len(d)), np.zeros(0), np.zeros(len(d)), 1.0, 0) if d is not None
                else "ValueError: no" for d in days]
    return part_table(combos, [json.dumps({"c": c}) for c in combos], outcomes)


@pytest.mark.parametrize("other_sessions_at", [None, 0, 2])
def test_collected_parts_give_the_table_and_matrix_of_the_parts_read_together(tmp_path, other_sessions_at):
    """Parts arriving out of order, with errors; with ``other_sessions_at`` one part runs on other
    sessions (first, or after others were placed): the matrix is then aligned on the union."""
    rng = np.random.default_rng(11)
    week = days_of(*(dt.date(2024, 1, d) for d in (2, 3, 4, 5, 8)))
    layout = [([4, 5], [week, None]), ([0, 1, 2], [week, week, week]), ([8, 6], [week, week]), ([3, 7], [week, week])]
    if other_sessions_at is not None:  # its first combination runs on three of the week's sessions
        layout[other_sessions_at][1][0] = week[1:4]
    parts = [part_of(combos, days, rng) for combos, days in layout]
    collected = Collected(9)
    for part in parts:
        collected.add(part)
    table, matrix = collected.outcome(tmp_path)
    reference = pa.concat_tables(parts)
    expected = _returns_matrix(reference)
    pd.testing.assert_frame_equal(matrix, expected, check_exact=True)
    assert matrix.columns.tolist() == [0, 1, 2, 3, 4, 6, 7, 8] and table["combination"].tolist() == list(range(9))
    assert table["error"].tolist() == [None] * 5 + ["ValueError: no"] + [None] * 3
    store = SweepStore(tmp_path / "store")
    store.prepare("h", {"spec_hash": "h", "combinations": 9}, resume=False)
    for part in parts:
        store.write_part(part)
    loaded_table, loaded_matrix = read_saved(store)
    pd.testing.assert_frame_equal(loaded_table, table, check_exact=True)
    pd.testing.assert_frame_equal(loaded_matrix, matrix, check_exact=True)


def test_a_sweep_on_one_calendar_gets_its_matrix_without_a_copy(tmp_path):
    rng = np.random.default_rng(5)
    week = days_of(*(dt.date(2024, 1, d) for d in (2, 3, 4)))
    collected = Collected(4)
    for combos in ([2, 3], [0, 1]):
        collected.add(part_of(combos, [week] * 2, rng))
    _, matrix = collected.outcome(tmp_path)
    assert np.shares_memory(matrix.to_numpy(), collected.rows)  # the rows filled as parts came, no second copy
    assert matrix.index.tolist() == [pd.Timestamp(f"2024-01-0{d}") for d in (2, 3, 4)]


def test_collecting_nothing_gives_empty_results(tmp_path):
    table, matrix = Collected(0).outcome(tmp_path)
    assert table.empty and list(table.columns) == ["combination", *METRIC_COLUMNS, "final_value", "refused_orders",
                                                   "error"]
    assert matrix.empty and matrix.columns.name == "combination"


def test_prices_are_aligned_on_the_union_calendar_with_late_listings_and_missing_bars():
    index = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"], name="date")

    def bars(dates: list[int], closes: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"open": [c - 0.5 for c in closes], "close": closes}, index=index[dates])

    frames = {"EARLY": bars([0, 1, 3], [10.0, 11.0, 12.0]),  # no bar on the 4th
              "LATE": bars([2, 3], [20.0, 21.0]), "GONE": bars([0], [5.0])}
    prices = build_prices(frames, ["EARLY", "LATE", "GONE"], dt.date(2024, 1, 3), dt.date(2024, 1, 5))
    assert (prices.tickers, prices.idle) == (("EARLY", "LATE"), ("GONE",))
    assert prices.dates.tolist() == list(index[1:]) and prices.dates.name == "date"
    nan = math.nan
    px, ix = prices.market.px, prices.market.ix
    np.testing.assert_array_equal(px[0], [[10.5, nan], [nan, 19.5], [11.5, 20.5]])  # opens, NaN without a bar
    np.testing.assert_array_equal(px[1], [[11.0, nan], [11.0, 20.0], [12.0, 21.0]])  # latest close so far
    np.testing.assert_array_equal(px[2], [[nan, nan], [nan, nan], [11.0, 20.0]])  # previous own close on a bar
    np.testing.assert_array_equal(ix[0], [[1, 0], [0, 1], [1, 1]])  # a bar printed
    np.testing.assert_array_equal(ix[1], [[1, 0], [1, 1], [2, 2]])  # own bars so far
    days = prices.market.day
    np.testing.assert_array_equal(ix[2], [[days[0], -1], [days[0], days[1]], [days[2], days[2]]])
    np.testing.assert_array_equal(prices.market.own, [[11.0, 12.0], [20.0, 21.0]])
    expected = pd.DataFrame({"EARLY": frames["EARLY"]["close"].iloc[1:], "LATE": frames["LATE"]["close"]})
    pd.testing.assert_frame_equal(prices.closes, expected, check_exact=True)


def test_pbo_block_moments_equal_the_whole_matrix_computation_to_the_bit():
    matrix = np.random.default_rng(2).normal(0.001, 0.02, (103, 7))
    sizes, sums, squares = _block_moments(matrix, 4)
    split = np.array_split(np.arange(103), 4)
    lengths = np.array([len(b) for b in split])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    means = np.add.reduceat(matrix, starts, axis=0) / lengths[:, None]
    m2 = np.add.reduceat((matrix - np.repeat(means, lengths, axis=0)) ** 2, starts, axis=0)
    np.testing.assert_array_equal(sizes, lengths.astype(float))
    np.testing.assert_array_equal(sums, np.add.reduceat(matrix, starts, axis=0))
    np.testing.assert_array_equal(squares, m2 + lengths[:, None] * means**2)


def test_parts_whose_first_one_mixes_calendars_are_aligned_on_the_union(tmp_path):
    rng = np.random.default_rng(1)
    week = days_of(*(dt.date(2024, 1, d) for d in (2, 3, 4, 5, 8)))
    parts = [part_of([1, 0], [week[:3], week], rng), part_of([2], [week], rng)]
    collected = Collected(3)
    for part in parts:
        collected.add(part)
    _, matrix = collected.outcome(tmp_path)
    assert collected.sessions is None and not collected.placed.any()  # nothing placed: every part kept whole
    pd.testing.assert_frame_equal(matrix, _returns_matrix(pa.concat_tables(parts)), check_exact=True)
    assert matrix.loc["2024-01-05", 1] == 0.0 and matrix.shape == (5, 3)  # no bar that session: counts 0
