"""The real headline file, end to end through the README's commands: import, score, stats, the
news_sentiment backtest and the news-volume event study. Skipped without NEWSBT_NEWS_FILE and
NEWSBT_DATA_DIR (.ci/run sets both). The store is built once per session in a temporary folder.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from newsbt.cli import main
from newsbt.data.news.store import read_store

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.realdata


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(args)
    captured = capsys.readouterr()
    return done.value.code or 0, captured.out, captured.err


@pytest.fixture(scope="session")
def real_store(real_news_file: Path, real_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("news") / "store"
    for args in (["news", "import", str(real_news_file), "--store", str(store), "--data-dir", str(real_data_dir)],
                 ["news", "score", "--store", str(store)]):
        with pytest.raises(SystemExit) as done:
            main(args)
        assert not done.value.code
    return store


def test_the_real_feed_imports_whole_with_honest_times(real_store: Path, real_news_file: Path) -> None:
    with real_news_file.open(encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    bare = sum(bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["published_at"])) for r in records)
    store = read_store(real_store)
    assert len(store.rows) == len(records) and int(store.rows["date_only"].sum()) == bare
    assert store.meta["rows"] == len(records) and 0 < store.meta["stories"] < len(records)
    assert store.rows["story_id"].nunique() == len(store.stories)
    # every bare date is public after its day: its first bar is strictly after that New York date
    dated = store.rows[store.rows["date_only"]]
    local_day = (dated["available_at"] - pd.Timedelta(days=1)).dt.tz_convert("America/New_York").dt.tz_localize(None)
    assert (dated["first_bar"] > local_day).all() and dated["published_at"].isna().all()
    # the DeepSeek morning (tagged TSM): 08:25 New York, before the open, so tradable at the 2025-01-27 open
    [deepseek] = store.stories[store.stories["headline"] == "Nvidia, TSMC, ASML Among Tech Stocks Sinking on "
                                                            "DeepSeek Threat"].itertuples()
    assert deepseek.first_seen == pd.Timestamp("2025-01-27T08:25:42-05:00") and deepseek.session == "pre_market"
    assert deepseek.ticker == "TSM"
    assert deepseek.first_bar == pd.Timestamp("2025-01-27") and deepseek.reaction_day == pd.Timestamp("2025-01-27")
    assert {"score_lm", "score_vader"} <= set(store.stories.columns)
    assert store.stories["score_lm"].between(-1, 1).all() and store.stories["score_vader"].between(-1, 1).all()


def test_stats_show_the_gaps(real_store: Path, capsys) -> None:
    code, out, _ = cli(["news", "stats", "--store", str(real_store)], capsys)
    assert code == 0
    assert re.search(r"NVDA\s+2025-01\s+\d+\s+\d+\s+0%", out)  # Alpha Vantage: timed rows
    assert re.search(r"META\s+2022-06\s+\d+\s+\d+\s+100%", out)  # Google News: dates only
    assert "2021-" not in out  # nothing at all in 2021, and a month without news is not listed


def test_news_sentiment_backtest_runs_to_a_tearsheet(real_store: Path, real_data_dir: Path, tmp_path: Path,
                                                     capsys, no_network) -> None:
    code, out, err = cli(["run", str(REPO / "backtests/news_sentiment.toml"), "--set", f'run.news="{real_store}"',
                          "--data-dir", str(real_data_dir), "--reports-dir", str(tmp_path)], capsys)
    assert code == 0, err
    report = tmp_path / "news_sentiment"
    assert (report / "tearsheet.html").stat().st_size > 100_000
    summary = json.loads((report / "summary.json").read_text())
    assert summary["first_session"] == "2024-06-03" and summary["last_session"] == "2025-06-10"
    assert summary["metrics"]["trades"] > 10
    # the feed's gaps, one line per ticker: AMD's FMP news starts in December, NVDA's has holes
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert "warning: AMD: no news in 2024-06..2024-11 (run 2024-06-01..2025-06-10)" in warnings
    assert "warning: NVDA: no news in 2024-06..2024-09, 2025-03..2025-04 (run 2024-06-01..2025-06-10)" in warnings
    assert not any(w.startswith("warning: ORCL") for w in warnings)  # FMP ORCL: from 2024-06-11, every month


def test_news_volume_study_reports_caar_per_sentiment_bucket(real_store: Path, real_data_dir: Path,
                                                             tmp_path: Path, capsys) -> None:
    code, out, err = cli(["study", str(REPO / "backtests/news_volume_study.toml"),
                          "--set", f'study.news={{store = "{real_store}"}}',
                          "--data-dir", str(real_data_dir), "--reports-dir", str(tmp_path)], capsys)
    assert code == 0, err
    assert re.search(r"positive sentiment, \d+ event-tickers: \[0,0\]", out)
    assert re.search(r"negative sentiment, \d+ event-tickers: \[0,0\]", out)
    folder = tmp_path / "news_volume_study" / "study"
    buckets = pd.read_csv(folder / "buckets.csv")
    assert {"positive", "negative"} <= set(buckets["bucket"])
    assert set(buckets["window"]) == {"[0,0]", "[0,1]", "[-1,1]", "[0,5]", "[0,20]"}
    events = pd.read_csv(folder / "events.csv")
    assert events["bucket"].isin(["positive", "negative", "neutral"]).all() and len(events) > 50
    assert "CAAR by sentiment bucket" in (folder / "index.html").read_text()


def test_a_run_without_the_store_says_how_to_build_it(tmp_path: Path, real_data_dir: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    code, _, err = cli(["run", str(REPO / "backtests/news_sentiment.toml"), "--set", f'run.news="{missing}"',
                        "--data-dir", str(real_data_dir), "--reports-dir", str(tmp_path)], capsys)
    assert code == 1
    assert err.strip().splitlines()[-1] == f"error: no news store at {missing}; build it with: newsbt news import FILE... --store {missing}"


def test_news_sentiment_on_the_fast_engine_matches_backtrader_exactly(real_store: Path, real_data_dir: Path) -> None:
    from newsbt import api
    from newsbt.backtest.inputs import NewsCoverageWarning
    from tests.test_fast_engine import compare_grid

    base = api.load_spec(REPO / "backtests/news_sentiment.toml")
    base = base.model_copy(update={"run": base.run.model_copy(update={"news": real_store})})
    with pytest.warns(NewsCoverageWarning):  # the feed's gaps, as above
        signals = api.load_signals_for(base)
    prices = api.load_prices_for(base, real_data_dir)
    specs = [base.with_params(mode=mode, long_only=long_only) for mode in ("follow", "fade") for long_only in (False, True)]
    seen = compare_grid(prices, specs, signals=signals)
    assert seen["fills"] > 200 and seen["shorts"] > 20
