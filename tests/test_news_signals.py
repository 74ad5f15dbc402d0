"""Sentiment scorers, daily news signals, the news gate, and the news_sentiment strategy, exactly.

The point-in-time property runs the whole chain (validate -> stories -> scores -> signals -> gate ->
decision) on generated headlines.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbt.api import run
from newsbt.backtest.inputs import NewsCoverageWarning
from newsbt.core.errors import NewsbtError
from newsbt.data.calendar import nyse_calendar
from newsbt.data.newsgate import NewsGate
from newsbt.data.news.rows import validate_rows
from newsbt.data.news.signals import daily_signals
from newsbt.data.news.store import import_news, read_store, replace_stories
from newsbt.data.news.stories import build_stories
from newsbt.core import plugins
from newsbt.data.news import sentiment
from newsbt.data.news.sentiment import get_scorer, register_scorer, score_headlines, scorer_names
from strategies.news_sentiment import NewsSentiment, signal_side
from tests.test_news_reaction import flat, prices

D = pd.Timestamp


# ------------------------------------------------------------------------------------------ scorers


def test_built_in_scorers_are_exact_and_offline(no_network) -> None:
    headlines = ["AAA profit surges to record", "AAA shares plunge on losses",
                 "AAA record profit despite a lawsuit and losses", "Apple unveils new iPhone"]
    assert score_headlines(headlines, "lm").tolist() == [1.0, -1.0, 1 / 3, 0.0]
    assert score_headlines(headlines, "vader").tolist() == [0.4404, -0.128, 0.2182, 0.0]
    assert score_headlines(headlines, "lm").tolist() == score_headlines(headlines, "lm").tolist()


def test_a_user_plugs_in_a_scorer_and_bad_scores_are_refused(monkeypatch) -> None:
    monkeypatch.setattr(sentiment, "_SCORERS", dict(sentiment._SCORERS))  # registrations stay in this test

    @register_scorer("test_exclaim")
    def exclaim(headline: str) -> float:
        return min(headline.count("!") / 2, 1.0)

    assert "test_exclaim" in scorer_names() and get_scorer("test_exclaim") is exclaim
    assert score_headlines(["a!", "b", "c!!!"], "test_exclaim").tolist() == [0.5, 0.0, 1.0]
    register_scorer("test_broken")(lambda h: 2.0)
    with pytest.raises(NewsbtError, match=r"scorer 'test_broken' returned 2.0 for headline 'x'; scores must lie in \[-1, 1\]"):
        score_headlines(["x"], "test_broken")
    with pytest.raises(NewsbtError, match="unknown scorer 'vadr'; did you mean 'vader'"):
        get_scorer("vadr")


def shouting(headline: str) -> float:
    """A scorer an installed package might declare: the share of upper-case letters."""
    letters = [c for c in headline if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) if letters else 0.0


def test_a_scorer_declared_as_an_entry_point_is_found_by_name(monkeypatch) -> None:
    from importlib.metadata import EntryPoint

    monkeypatch.setattr(sentiment, "_SCORERS", dict(sentiment._SCORERS))
    declared = [EntryPoint(name="shouting", value="tests.test_news_signals:shouting", group="newsbt.scorers")]
    def declared_only(group: str, name: str | None = None) -> list[EntryPoint]:
        return [e for e in declared if e.group == group and name in (None, e.name)]

    monkeypatch.setattr(sentiment, "entry_points", declared_only)  # listing names
    monkeypatch.setattr(plugins, "entry_points", declared_only)  # loading one by name
    assert "shouting" in scorer_names()
    assert score_headlines(["AMD UP", "Amd"], "shouting").tolist() == [1.0, 1 / 3]


# ------------------------------------------------------------------------------------------ signals


def stories(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    """Stories from (ticker, first_bar, session, score)."""
    return pd.DataFrame({"ticker": [r[0] for r in rows], "first_bar": [D(r[1]) for r in rows],
                         "session": [r[2] for r in rows], "score_x": [r[3] for r in rows]})


def test_daily_signals_count_compare_and_average_point_in_time() -> None:
    table = daily_signals(stories(
        ("AAA", "2025-01-02", "regular", 0.5),
        ("AAA", "2025-01-03", "after_close", -0.2),
        ("AAA", "2025-01-06", "after_close", 0.4),
        ("AAA", "2025-01-06", "regular", -0.6),
        ("AAA", "2025-01-06", "date_only", 0.6),
        ("BBB", "2025-01-03", "pre_market", 0.1),
    ), window=2)
    aaa = table.xs("AAA", level="ticker")
    assert aaa.index.tolist() == [D("2025-01-02"), D("2025-01-03"), D("2025-01-06")]
    assert aaa["stories"].tolist() == [1, 1, 3]
    assert aaa["trailing_mean"].isna().tolist() == [True, True, False]
    assert aaa.loc["2025-01-06", "trailing_mean"] == 1.0 and aaa.loc["2025-01-06", "abnormal_volume"] == 3.0
    assert aaa.loc["2025-01-06", "after_close_share"] == pytest.approx(1 / 3)
    assert aaa.loc["2025-01-06", "sentiment_x"] == pytest.approx(0.4 / 3)
    assert aaa.loc["2025-01-06", "extreme_x"] == -0.6  # furthest from 0; the earlier of -0.6 and 0.6
    bbb = table.xs("BBB", level="ticker")
    assert bbb["stories"].tolist() == [0, 1, 0]
    assert bbb.loc["2025-01-06", "abnormal_volume"] == 0.0  # no story against a trailing mean of 0.5
    assert math.isnan(bbb.loc["2025-01-02", "sentiment_x"])  # no news, no sentiment


def test_the_gate_hands_each_close_the_signals_of_the_next_session() -> None:
    gate = NewsGate((), daily_signals(stories(("AAA", "2025-01-10", "after_close", 0.5),
                                              ("AAA", "2025-01-21", "date_only", -0.5)), window=1))
    assert gate.signals(dt.date(2025, 1, 7)).empty
    # 2025-01-09 was a market holiday: the close of 01-08 faces the open of 01-10
    assert NewsGate(()).horizon(dt.date(2025, 1, 8)) == dt.date(2025, 1, 10)
    gate2 = NewsGate((), daily_signals(stories(("AAA", "2025-01-08", "regular", 0.1),
                                               ("AAA", "2025-01-10", "after_close", 0.5)), window=1))
    assert gate2.signals(dt.date(2025, 1, 8))["sentiment_x"].to_dict() == {"AAA": 0.5}
    assert gate2.signals(dt.date(2025, 1, 7))["stories"].to_dict() == {"AAA": 1}
    assert gate2.signals(dt.date(2025, 1, 10)).empty
    assert gate.signals(dt.date(2025, 1, 17))["sentiment_x"].to_dict() == {"AAA": -0.5}  # 01-20 closed


@pytest.mark.parametrize(("sentiment", "volume", "params", "side"), [
    (0.6, 3.0, {}, 1), (-0.6, 3.0, {}, -1), (-0.6, 3.0, {"long_only": True}, 0),
    (-0.6, 3.0, {"mode": "fade"}, 1), (0.6, 3.0, {"mode": "fade", "long_only": True}, 0),
    (0.4, 3.0, {}, 0), (0.6, 1.9, {}, 0), (0.6, float("nan"), {}, 0),
    (0.6, float("nan"), {"min_abnormal_volume": None}, 1), (float("nan"), 3.0, {}, 0), (0.0, 3.0, {"min_sentiment": 0}, 0),
])
def test_signal_side(sentiment: float, volume: float, params: dict, side: int) -> None:
    p = NewsSentiment.Params(**{"min_sentiment": 0.5, "min_abnormal_volume": 2.0, **params})
    assert signal_side(sentiment, volume, p) == side


# ------------------------------------------------------------------------------------------ point in time

SESSIONS = nyse_calendar().sessions_in_range("2025-01-02", "2025-02-28")
WORDS = ("profit", "loss", "record", "chip", "plunge", "surge")


def decisions(rows: pd.DataFrame) -> dict[dt.date, dict[str, int]]:
    """What news_sentiment would decide at every close, the whole chain from raw rows."""
    timed = validate_rows(rows, {"AAA", "BBB"})
    story = build_stories(timed)[1]
    story["score_lm"] = score_headlines(story["headline"], "lm").to_numpy()
    gate = NewsGate((), daily_signals(story, window=3, start=SESSIONS[0], end=SESSIONS[-1]))
    p = NewsSentiment.Params(min_sentiment=0.1, min_abnormal_volume=1.0)
    out = {}
    for session in SESSIONS[:-1]:
        today = gate.signals(session.date())
        out[session.date()] = {t: signal_side(r["sentiment_lm"], r["abnormal_volume"], p) for t, r in today.iterrows()}
    return out


headline_rows = st.lists(st.tuples(
    st.integers(0, 35 * 24 * 60),  # minutes after 2025-01-02 00:00 New York
    st.sampled_from(["AAA", "BBB"]),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
    st.sampled_from(["", "https://a/1", "https://a/2"]),
    st.booleans(),  # date only
), min_size=1, max_size=20)


def raw(items: list) -> pd.DataFrame:
    base = pd.Timestamp("2025-01-02T00:00:00", tz="America/New_York")
    stamps = [(base + pd.Timedelta(minutes=m)) for m, *_ in items]
    return pd.DataFrame({
        "loc": [f"gen:{i}" for i in range(len(items))],
        "published_at": [t.strftime("%Y-%m-%d") if date_only else t.isoformat()
                         for t, (*_, date_only) in zip(stamps, items)],
        "ticker": [i[1] for i in items], "headline": [i[2] for i in items], "source": "s",
        "url": [i[3] for i in items], "dataset": "d",
    })


@settings(max_examples=75, deadline=None)
@given(headline_rows, st.data())
def test_moving_a_headline_later_never_changes_an_earlier_decision(items: list, data: st.DataObject) -> None:
    """Headline k moved from t to t' > t: every decision whose horizon is before its new first bar is
    what it would be without headline k at all; every decision before its old first bar is unchanged."""
    k = data.draw(st.integers(0, len(items) - 1))
    delay = data.draw(st.integers(1, 6 * 24 * 60))
    moved = [*items[:k], (items[k][0] + delay, *items[k][1:]), *items[k + 1:]]
    frames = {name: raw(x) for name, x in (("at_t", items), ("moved", moved), ("without", items[:k] + items[k + 1:]))}
    old_first = validate_rows(frames["at_t"].iloc[[k]], {"AAA", "BBB"})["first_bar"].iloc[0].date()
    new_first = validate_rows(frames["moved"].iloc[[k]], {"AAA", "BBB"})["first_bar"].iloc[0].date()
    assert new_first >= old_first
    at_t, later = decisions(frames["at_t"]), decisions(frames["moved"])
    without = decisions(frames["without"]) if len(items) > 1 else {d: {} for d in later}
    for bar in later:
        if NewsGate(()).horizon(bar) < new_first:
            assert later[bar] == without[bar], bar
        if NewsGate(()).horizon(bar) < old_first:
            assert later[bar] == at_t[bar], bar


# ------------------------------------------------------------------------------------------ the strategy

FEED = """published_at,ticker,headline,source,url,dataset
2025-01-06T10:00:00-05:00,AAA,AAA profit surges to record,wire,https://w/1,t
2025-01-06T10:20:00-05:00,AAA,AAA PROFIT SURGES TO RECORD — Barrons.com,tv,https://tv/1,t
2025-01-13T17:00:00-05:00,AAA,AAA shares plunge on losses,wire,https://w/2,t
2025-01-17,AAA,AAA record profit despite a lawsuit and losses,gn,https://gn/3,t
2025-01-28T11:00:00-05:00,AAA,Apple unveils new iPhone,wire,,t
"""


@pytest.fixture
def store(tmp_path: Path) -> Path:
    feed = tmp_path / "feed.csv"
    feed.write_text(FEED)
    import_news([feed], {"AAA"}, tmp_path / "news")
    news = read_store(tmp_path / "news")
    replace_stories(news, news.stories.assign(score_lm=score_headlines(news.stories["headline"], "lm").to_numpy()))
    return tmp_path / "news"


def spec(store: Path, **strategy) -> dict:
    return {
        "run": {"name": "news_sentiment", "start": "2025-01-02", "end": "2025-02-28", "cash": 100_000,
                "benchmark": "BMK", "news": str(store)},
        "strategy": {"name": "news_sentiment", "tickers": ["AAA"], "min_sentiment": 0.3, "min_abnormal_volume": None,
                     "hold_days": 2, "position_pct": 10, **strategy},
        "costs": {"commission_bps": 0, "slippage_bps": 0},
    }


def trades(result) -> list[tuple[str, str, str, int]]:
    t = result.trades
    return [(r.ticker, str(r.entry_date)[:10], str(r.exit_date)[:10], int(r.size)) for r in t.itertuples()]


def test_news_sentiment_trades_each_story_at_its_first_bar(store: Path) -> None:
    with pytest.warns(NewsCoverageWarning, match=r"AAA: no news in 2025-02 \(run 2025-01-02..2025-02-28\)"):
        result = run(spec(store), prices=prices(AAA=flat()))
    assert trades(result) == [
        ("AAA", "2025-01-07", "2025-01-10", 100),    # 10:00 news: the next open; out 2 sessions on (01-09 closed)
        ("AAA", "2025-01-14", "2025-01-16", -100),   # after the close: short at the next open
        ("AAA", "2025-01-21", "2025-01-23", 100),    # a bare Friday date: public after its close, Monday a holiday
    ]
    with pytest.warns(NewsCoverageWarning):
        assert [t[3] for t in trades(run(spec(store, long_only=True), prices=prices(AAA=flat())))] == [100, 100]
        assert [t[3] for t in trades(run(spec(store, mode="fade"), prices=prices(AAA=flat())))] == [-100, 100, -100]


def test_news_runs_fail_in_one_line_without_a_store_or_its_scores(tmp_path: Path, store: Path) -> None:
    with pytest.raises(NewsbtError, match=f"no news store at {tmp_path / 'none'}; build it with: newsbt news import "
                                          f"FILE... --store {tmp_path / 'none'}"):
        run(spec(tmp_path / "none"), prices=prices(AAA=flat()))
    with pytest.warns(NewsCoverageWarning), pytest.raises(NewsbtError, match="no 'vader' scores; add them with: "
                                                                             "newsbt news score --scorer vader"):
        run(spec(store, scorer="vader"), prices=prices(AAA=flat()))
    news = read_store(store)
    replace_stories(news, news.stories.drop(columns="score_lm"))
    with pytest.raises(NewsbtError, match="no sentiment scores yet; add them with: newsbt news score --store"):
        run(spec(store), prices=prices(AAA=flat()))
    no_news = spec(store)
    del no_news["run"]["news"]
    with pytest.raises(NewsbtError, match=r'news_sentiment needs a news store: \[run\] news = "data/news"'):
        run(no_news, prices=prices(AAA=flat()))


def test_a_sweep_hands_the_store_signals_to_every_combination(store: Path, tmp_path: Path) -> None:
    from newsbt.backtest.spec import spec_from_dict
    from newsbt.sweep.runner import run_sweep, sweep_from_section

    sweep = sweep_from_section(spec_from_dict(spec(store)), {"min_sentiment": [0.3, 0.9]})
    with pytest.warns(NewsCoverageWarning):
        outcome = run_sweep(sweep, reports_dir=tmp_path / "reports", workers=1, prices=prices(AAA=flat()))
    table = outcome.table.sort_values("min_sentiment")
    assert table["error"].isna().all()
    assert table["trades"].tolist() == [3, 2]  # the 1/3 story passes 0.3, not 0.9
