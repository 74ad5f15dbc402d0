"""Events from a headline store: the ticker-sessions with the most unusual news flow, split by sentiment.

``[study] news = {store = "data/news", scorer = "lm", top_pct = 10}`` takes every (ticker, session)
of the store's daily signals (:mod:`newsbt.data.news.signals`) with news and with day 0 inside ``[run]``
start..end, keeps those whose abnormal news volume is in the top ``top_pct`` % of them, and puts each in the
bucket of its mean sentiment's sign: ``positive``, ``negative`` or ``neutral`` (exactly 0). Day 0 is
the session the stories were first tradable at (their ``first_bar``): news out during a session
reacts partly on day -1, which a window such as [-1, 1] captures. The threshold is the quantile over
the whole study period: fine for measuring reactions, not a rule a trader could have followed.

Each event is named ``TICKER-YYYY-MM-DD`` and shows the session's most extreme headline (its source
and URL too, escaped in the report like any feed text).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from pydantic import Field

from newsbt.core.errors import NewsbtError
from newsbt.core.validation import StrictModel
from newsbt.data.events import Category, Event
from newsbt.data.news.signals import DEFAULT_WINDOW, daily_signals
from newsbt.data.news.store import read_store

BUCKETS = ("positive", "negative", "neutral")


class NewsSelection(StrictModel):
    """``news = {...}`` in [study]."""

    store: Path
    scorer: str = "lm"
    top_pct: float = Field(10.0, gt=0, le=100, description="10: the top decile of abnormal news volume")
    window: int = Field(DEFAULT_WINDOW, ge=1, description="sessions in the trailing mean of news volume")


def bucket_of(sentiment: float) -> str:
    return "positive" if sentiment > 0 else "negative" if sentiment < 0 else "neutral"


def news_events(selection: NewsSelection, tickers: Iterable[str], start: pd.Timestamp,
                end: pd.Timestamp) -> list[tuple[Event, pd.Timestamp, str]]:
    """``(event, day 0, bucket)`` for each selected ticker-session, in session then ticker order."""
    store = read_store(selection.store)
    column = f"score_{selection.scorer}"
    if column not in store.stories.columns:
        raise NewsbtError(f"{store.path}: no {selection.scorer!r} scores; add them with: "
                          f"newsbt news score --store {store.path} --scorer {selection.scorer}")
    stories = store.stories[store.stories["ticker"].isin(list(tickers))]
    signals = daily_signals(stories, selection.window, end=end)
    signals = signals[(signals["stories"] > 0) & signals["abnormal_volume"].notna()]
    signals = signals[signals.index.get_level_values("session") >= start]
    if signals.empty:
        raise NewsbtError(f"{store.path}: no ticker-session with news between {start:%Y-%m-%d} and {end:%Y-%m-%d} "
                          f"has {selection.window} sessions of news history for an abnormal volume")
    threshold = signals["abnormal_volume"].quantile(1 - selection.top_pct / 100)
    chosen = signals[signals["abnormal_volume"] >= threshold]
    strongest = _strongest_story(stories, column)
    return [_event(strongest.loc[(day, ticker)], day, ticker, row, selection.scorer)
            for (day, ticker), row in chosen.iterrows()]


def _strongest_story(stories: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per (first_bar, ticker), the story furthest from 0 (the earliest on a tie)."""
    ranked = stories.assign(_abs=stories[column].abs()).sort_values("_abs", ascending=False, kind="stable")
    return ranked.groupby(["first_bar", "ticker"]).first()


def _event(story: pd.Series, day: pd.Timestamp, ticker: str, row: pd.Series,
           scorer: str) -> tuple[Event, pd.Timestamp, str]:
    sentiment = float(row[f"sentiment_{scorer}"])
    bucket = bucket_of(sentiment)
    notes = (f"{bucket}: {int(row['stories'])} stories, {row['abnormal_volume']:.1f}x the usual volume, "
             f"mean {scorer} sentiment {sentiment:+.2f}")
    event = Event(f"{ticker}-{day:%Y-%m-%d}", story["first_seen"], story["first_seen"], (ticker,),
                  story["headline"], Category.OTHER, int(math.copysign(1, sentiment)) if sentiment else 0,
                  story["source"], notes, story["url"])
    return event, day, bucket
