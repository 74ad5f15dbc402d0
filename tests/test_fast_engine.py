"""engine = "fast" against backtrader itself, on whole grids: every fill, refusal, fee and daily value.

The compiled simulator repeats backtrader's floating-point operations in backtrader's order, so the
comparison is exact (``check_exact``): no tolerance is needed, and none is granted. The synthetic
prices have a late listing, missing bars, gaps up that get orders refused, and the grids cover
commission in bps and per share with a minimum, slippage, shorts with borrow fees and cash interest.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import pandas as pd
import pytest

from newsbt import api
from newsbt.backtest.engine import run_backtest
from newsbt.backtest.fast.runner import FastRunner
from newsbt.backtest.inputs import NewsCoverageWarning
from newsbt.backtest.spec import spec_from_dict
from newsbt.core.errors import NewsbtError
from newsbt.data.events import COLUMNS, parse_events
from newsbt.data.news.signals import daily_signals
from newsbt.data.news.store import import_news, read_store, replace_stories
from newsbt.sweep.runner import run_sweep, sweep_from_section
from tests.sweep_strategies import register_test_strategies
from tests.sweepdata import crashy_prices, spec_dict

ROOT = Path(__file__).resolve().parents[1]
COSTS = [
    {"commission_bps": 5, "slippage_bps": 5},
    {"commission_per_share": 0.01, "commission_min": 1.0, "slippage_bps": 20, "cash_interest_pct": 3},
    {"borrow_fee_pct": 25, "commission_bps": 2, "cash_interest_pct": 4.5},
    {},
]


def assert_same_run(reference, fast) -> None:
    for name in ("fills", "trades", "open_positions", "refused_orders", "borrow_charges"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(reference, name), check_exact=True, obj=name)
    for name in ("equity", "returns", "gross_exposure", "benchmark_returns"):
        pd.testing.assert_series_equal(getattr(fast, name), getattr(reference, name), check_exact=True, obj=name)
    pd.testing.assert_frame_equal(fast.closes, reference.closes, check_exact=True)
    assert (fast.cash_interest, fast.idle_tickers) == (reference.cash_interest, reference.idle_tickers)


def compare_grid(prices, specs, events=(), signals=None) -> dict[str, int]:
    """Run every spec on both engines; returns how much the grid exercised (so a test can demand it)."""
    runner = FastRunner(prices, events, signals)
    seen = dict.fromkeys(("fills", "refused", "borrow", "shorts", "interest"), 0)
    for spec in specs:
        reference = run_backtest(spec, prices, events=events, signals=signals)
        assert_same_run(reference, runner(spec))
        seen["fills"] += len(reference.fills)
        seen["refused"] += len(reference.refused_orders)
        seen["borrow"] += len(reference.borrow_charges)
        seen["shorts"] += int((reference.fills["size"] < 0).sum() - (reference.trades["size"] > 0).sum())
        seen["interest"] += reference.cash_interest > 0
    return seen


def specs_of(strategy: dict, grid: dict[str, list], costs=COSTS) -> list:
    out = []
    for values in itertools.product(*grid.values(), range(len(costs))):
        raw = spec_dict()
        raw["strategy"] = {**strategy, **dict(zip(grid, values[:-1]))}
        raw["costs"] = costs[values[-1]]
        out.append(spec_from_dict(raw))
    return out


def test_crash_dip_grid():
    specs = specs_of({"name": "crash_dip", "tickers": ["AAA", "BBB", "CCC"], "take_profit_pct": 4}, {
        "drop_pct": [5, 8], "hold_days": [1, 4], "position_pct": [30, 90], "stop_loss_pct": [None, 3]})
    seen = compare_grid(crashy_prices(), specs)
    assert seen["refused"] > 0 and seen["fills"] > 300 and seen["interest"] > 0


def test_buy_and_hold_on_a_late_listing_and_a_gap():
    specs = specs_of({"name": "buy_and_hold"}, {"ticker": ["AAA", "BBB", "CCC"]})
    seen = compare_grid(crashy_prices(), specs)
    assert seen["fills"] == len(specs)


ROTATION = {"signal": ["gap", "zscore"], "mode": ["momentum", "reversion"], "hedge": ["dollar", "beta"],
            "stop_loss_pct": [None, 1.0]}


@pytest.mark.parametrize("legs", [("AAA", "BBB"), ("CCC", "AAA")])  # missing bars; a late listing
def test_rotation_spread_grid(legs):
    strategy = {"name": "rotation_spread", "long": legs[0], "short": legs[1], "gap_pct": 1.5, "window": 5,
                "entry_z": 1.0, "exit_z": 0.3, "beta_window": 10, "hold_days": 4, "leg_pct": 45}
    seen = compare_grid(crashy_prices(), specs_of(strategy, ROTATION))
    assert seen["fills"] > 300 and seen["borrow"] > 100 and seen["interest"] > 0


def synthetic_news():
    """Events on AAA/BBB/CCC through the run, at all times of day, both directions, two categories."""
    lines = [",".join(COLUMNS)]
    times = ["08:00:00", "11:00:00", "16:05:00", "19:00:00"]
    for i in range(40):
        day = pd.Timestamp("2024-01-03") + pd.Timedelta(days=2 * i + (i % 3))
        available = f"{day.date()}T{times[i % 4]}-05:00"
        published = (day - pd.Timedelta(days=i % 2)).strftime("%Y-%m-%d") + "T07:00:00-05:00"
        tickers = ["AAA", "BBB", "CCC", "AAA;CCC", "BBB;AAA"][i % 5]
        category = ["market_move", "earnings"][i % 2 if i % 7 else 0]
        lines.append(f"e{i},{published},{available},{tickers},h{i},{category},{[-1, 1, 0][i % 3]},src,")
    return parse_events("\n".join(lines), known_tickers={"AAA", "BBB", "CCC"})


def test_news_reaction_grid():
    grid = {"mode": ["follow", "fade"], "min_reaction_pct": [None, 2.0], "hold_days": [2],
            "categories": [["market_move"], ["market_move", "earnings"]], "position_pct": [40, 95]}
    strategy = {"name": "news_reaction", "tickers": ["AAA", "BBB", "CCC"]}
    seen = compare_grid(crashy_prices(), specs_of(strategy, grid), events=synthetic_news())
    assert seen["fills"] > 300 and seen["borrow"] > 20 and seen["refused"] > 0


def news_store(directory: Path) -> Path:
    """A headline store built in code: stories on AAA/BBB/CCC at all times of day, bursts of several
    on one session, scored (``lm``) from -0.9 to 0.9 so every threshold and both signs are crossed."""
    lines = ["published_at,ticker,headline,source,url,dataset"]
    times = ["T08:00:00-05:00", "T11:00:00-05:00", "T16:30:00-05:00", ""]  # "": a bare date
    for i in range(70):
        day = pd.Timestamp("2024-01-02") + pd.Timedelta(days=(8 * i) // 5)
        for k in range(1 + (i % 4 == 1) * 2):  # now and then three stories at once: abnormal volume
            lines.append(f"{day.date()}{times[(i + k) % 4]},{['AAA', 'BBB', 'CCC'][i % 3]},"
                         f"{['profit', 'lawsuit', 'merger'][k]} news number {i},wire,https://w/{i}/{k},t")
    (directory / "feed.csv").write_text("\n".join(lines) + "\n")
    import_news([directory / "feed.csv"], {"AAA", "BBB", "CCC"}, directory / "news")
    store = read_store(directory / "news")
    scores = [round(((7 * n) % 19 - 9) / 10, 1) for n in range(len(store.stories))]
    replace_stories(store, store.stories.assign(score_lm=scores))
    return directory / "news"


def news_sentiment_raw(store: Path) -> dict:
    raw = spec_dict(tickers=["AAA", "BBB", "CCC"], scorer="lm", position_pct=45)
    raw["run"]["news"] = str(store)
    raw["strategy"]["name"] = "news_sentiment"
    del raw["strategy"]["drop_pct"]
    return raw


def test_news_sentiment_grid(tmp_path):
    store = news_store(tmp_path)
    signals = daily_signals(read_store(store).stories, end=pd.Timestamp("2024-12-31"))
    grid = {"mode": ["follow", "fade"], "long_only": [False, True], "min_sentiment": [0.2, 0.6],
            "min_abnormal_volume": [None, 3.0], "hold_days": [1, 3], "position_pct": [45, 95]}
    strategy = {"name": "news_sentiment", "tickers": ["AAA", "BBB", "CCC"]}
    specs = specs_of(strategy, grid, COSTS[1:3])  # per-share minimum, interest; borrow fees
    seen = compare_grid(crashy_prices(), specs, signals=signals)
    assert seen["fills"] > 3000 and seen["shorts"] > 500 and seen["borrow"] > 400 and seen["refused"] > 40


def test_engine_fast_and_fast_sweeps_take_the_specs_news_store(tmp_path):
    """``[run] news`` reaches the compiled engine through ``newsbt run`` and through a sweep's workers."""
    raw = news_sentiment_raw(news_store(tmp_path))
    results = {}
    for engine in ("backtrader", "fast"):
        raw["run"]["engine"] = engine
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NewsCoverageWarning)  # the store ends in April, the run in December
            results[engine] = api.run(raw, prices=crashy_prices())
    assert_same_run(results["backtrader"].run, results["fast"].run)
    assert len(results["fast"].run.trades) > 10
    tables = {}
    for engine in ("backtrader", "fast"):
        sweep = sweep_from_section(spec_from_dict(raw), {"min_sentiment": [0.2, 0.6], "mode": ["follow", "fade"],
                                                         "engine": engine})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NewsCoverageWarning)
            outcome = run_sweep(sweep, reports_dir=tmp_path / engine, workers=1, prices=crashy_prices())
        tables[engine] = outcome.table.sort_values("combination").reset_index(drop=True)
    assert tables["fast"]["error"].isna().all() and (tables["fast"]["trades"] > 0).all()
    pd.testing.assert_frame_equal(tables["fast"], tables["backtrader"], check_exact=True)


def test_news_sentiment_on_engine_fast_needs_a_store_with_its_scores(tmp_path):
    raw = news_sentiment_raw(news_store(tmp_path))
    runner = FastRunner(crashy_prices())
    with pytest.raises(NewsbtError, match=r'^news_sentiment needs a news store: \[run\] news = "data/news"'):
        runner(spec_from_dict(raw))
    signals = daily_signals(read_store(tmp_path / "news").stories, end=pd.Timestamp("2024-12-31"))
    raw["strategy"]["scorer"] = "vader"
    with pytest.raises(NewsbtError, match="^the news store has no 'vader' scores; add them with: "):
        FastRunner(crashy_prices(), signals=signals)(spec_from_dict(raw))


def test_a_strategy_without_a_fast_form_is_a_one_line_error():
    register_test_strategies()  # crash_dip's subclasses without a fast form
    raw = spec_dict()
    raw["strategy"] = {"name": "test_slow_dip"}
    with pytest.raises(NewsbtError, match="^strategy 'test_slow_dip' has no fast form; use engine = \"backtrader\"$"):
        FastRunner(crashy_prices())(spec_from_dict(raw))


def test_run_engine_fast_writes_the_same_report_files(tmp_path):
    raw = spec_dict(stop_loss_pct=3)
    raw["costs"] = COSTS[1]
    files = {}
    for engine in ("backtrader", "fast"):
        raw["run"]["engine"] = engine
        result = api.run(raw, prices=crashy_prices())
        result.write(tmp_path / engine, tearsheet=False)
        files[engine] = {n: (tmp_path / engine / n).read_text() for n in ("trades.csv", "equity.csv")}
        files[engine]["metrics"] = result.stats
    assert files["fast"] == files["backtrader"] and "AAA" in files["fast"]["trades.csv"]


def test_run_engine_fast_without_a_fast_form_is_a_one_line_error():
    register_test_strategies()
    raw = spec_dict()
    raw["run"]["engine"] = "fast"
    raw["strategy"]["name"] = "test_slow_dip"
    with pytest.raises(NewsbtError) as error:
        api.run(raw, prices=crashy_prices())
    assert str(error.value) == 'strategy \'test_slow_dip\' has no fast form; use engine = "backtrader"'


@pytest.mark.realdata
@pytest.mark.parametrize("name, grid", [
    ("ai_crash_dip", [{"drop_pct": 7, "hold_days": 5}, {"drop_pct": 5, "hold_days": 3, "position_pct": 60,
                                                       "stop_loss_pct": 4}]),
    ("rotation_qqq_iwm", [{"signal": s, "mode": m, "hedge": h} for s, m, h in
                          itertools.product(["gap", "zscore"], ["momentum", "reversion"], ["dollar", "beta"])]),
    ("deepseek_fade", [{"mode": "fade"}, {"mode": "follow", "min_reaction_pct": 2, "hold_days": 3}]),
])
def test_real_prices(real_data_dir, name, grid, monkeypatch):
    monkeypatch.chdir(ROOT)  # [run] events is a path relative to the working directory
    base = api.load_spec(ROOT / "backtests" / f"{name}.toml")
    prices = api.load_prices_for(base, real_data_dir)
    events = api.load_events_for(base, real_data_dir) if base.run.events else ()
    seen = compare_grid(prices, [base.with_params(**combo) for combo in grid], events)
    assert seen["fills"] > 0


def test_compiled_code_is_cached_per_version_of_the_engine_sources(tmp_path, monkeypatch):
    import importlib.machinery

    from newsbt.backtest.fast import cache

    package = tmp_path / "my_forms"
    package.mkdir()
    (package / "dip_fast.py").write_text("RULE = 1\n")
    spec = importlib.machinery.ModuleSpec("my_forms.dip_fast", None, origin=str(package / "dip_fast.py"))
    monkeypatch.setattr(cache.importlib.util, "find_spec", lambda name: spec)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    before = cache.versioned_cache_dir()
    assert before.parent == tmp_path / "numba" and before.name.startswith("numba-")
    assert cache.versioned_cache_dir() == before
    (package / "dip_fast.py").write_text("RULE = 2\n")  # an edited rule must not run stale compiled code
    assert cache.versioned_cache_dir() != before
