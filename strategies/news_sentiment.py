"""Trade headline sentiment from a news store: follow it or fade it when the news flow is unusual.

At each close the strategy reads the news signals of the next session (``NewsbtStrategy.news_signals``:
only stories public before that session's open, see ``newsbt.data.news.signals``). A ticker whose
stories' mean sentiment (scorer ``scorer``) is at least ``min_sentiment`` away from 0, on a session
whose abnormal news volume is at least ``min_abnormal_volume`` (None: no volume filter), is bought
(``mode = "follow"`` and good news, or ``"fade"`` and bad news) or sold short (the other two cases;
never with ``long_only``) at that open, ``position_pct`` % of the portfolio, and closed at the open
``hold_days`` sessions later. At most one position per ticker; a signal on a ticker already held, or
without a bar that day, is passed over.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import pandas as pd
from pydantic import Field

from newsbt import StrategyParams
from newsbt.core.errors import NewsbtError
from strategies.holding import TimedHolds

NEWS_COVERED = ("NVDA", "AMD", "AVGO", "ORCL", "TSM", "AAPL", "AMZN", "GOOGL", "META", "MSFT")


def signal_side(sentiment: float, abnormal_volume: float, p: NewsSentiment.Params) -> int:
    """+1 buy, -1 short, 0 nothing, for one ticker's signal under ``p`` (see :func:`side_of`)."""
    return side_of(sentiment, abnormal_volume, p.follow, p.min_sentiment, p.min_abnormal_volume, p.long_only)


def side_of(sentiment: float, abnormal_volume: float, follow: bool, min_sentiment: float,
            min_abnormal_volume: float | None, long_only: bool) -> int:
    """The rule on plain values (the fast form compiles it): NaN never passes a threshold; ``follow`` is
    ``mode = "follow"`` (a bool compiles cheaply, unlike a comparison of strings)."""
    if not math.isfinite(sentiment) or sentiment == 0 or abs(sentiment) < min_sentiment:
        return 0
    if min_abnormal_volume is not None:
        if not abnormal_volume >= min_abnormal_volume:
            return 0
    side = (1 if sentiment > 0 else -1) * (1 if follow else -1)
    return 0 if long_only and side < 0 else side


def signal_column(signals: pd.DataFrame | None, scorer: str) -> str:
    """The signals' sentiment column for ``scorer``; a one-line error without a store or its scores."""
    if signals is None:
        raise NewsbtError('news_sentiment needs a news store: [run] news = "data/news" (built by '
                          "newsbt news import FILE... --store data/news)")
    column = f"sentiment_{scorer}"
    if column not in signals.columns:
        raise NewsbtError(f"the news store has no {scorer!r} scores; add them with: "
                          f"newsbt news score --scorer {scorer}")
    return column


class NewsSentiment(TimedHolds):
    """Enter on strong, unusual news sentiment at the first open it is public; exit ``hold_days`` later."""

    class Params(StrategyParams):
        tickers: tuple[str, ...] = Field(NEWS_COVERED, min_length=1)
        scorer: str = "lm"
        mode: Literal["follow", "fade"] = "follow"
        min_sentiment: Annotated[float, Field(ge=0, le=1)] = 0.5
        min_abnormal_volume: Annotated[float, Field(ge=0)] | None = 2.0
        hold_days: int = Field(5, ge=1)
        position_pct: Annotated[float, Field(gt=0, le=100)] = 10.0
        long_only: bool = False

        @property
        def follow(self) -> bool:
            """``mode`` as ``side_of`` takes it (both engines)."""
            return self.mode == "follow"

    def __init__(self) -> None:
        super().__init__()
        self.column = signal_column(self.p.signals, self.config.scorer)

    def next(self) -> None:
        self.exit_expired()
        signals: pd.DataFrame = self.news_signals()
        for ticker in signals.index.intersection(list(self.feeds)):
            data = self.feeds[ticker]
            if self.free(data):
                row = signals.loc[ticker]
                self.enter(data, signal_side(row[self.column], row["abnormal_volume"], self.config))
