"""Trade the news: follow it or fade it, from the first open at which it is public.

Each event tagged with a universe ticker, a chosen category and a chosen direction becomes one
*candidate* per ticker, at the bar it becomes public (``NewsbtStrategy.public_news``). ``mode =
"follow"`` goes with the news (direction +1 buys, -1 sells short), ``"fade"`` against it (a negative
shock is bought); direction 0 never trades. The order fills at the event's ``first_bar``, or at the
ticker's next bar when it has none that day: later, never earlier. The position is closed at the open
``hold_days`` sessions after entry.

``min_reaction_pct`` asks the market to confirm the news first: the ticker's close-to-close return on
the event's reaction day must be at least that many % *in the direction of the news* (a -1 event
needs a fall, a +1 event a rise), whatever the mode. Fading then means fading a move that really
happened, following means riding one. That return is known only at the reaction day's close, so the
entry is the open after the reaction day (or ``first_bar``, if later); a missing reaction-day bar
means no trade.

A candidate is decided once, at the first bar of its ticker at which it is due: it trades, or it is
dropped (no confirmation, or the ticker already holds a position or has an order pending, since there
is at most one position per ticker). News that was first tradable at or before the run's first open
belongs to before the run and is not traded.

On intraday bars (``[run] bars = "1h"``) the same rules run bar by bar: each event is candidate at
the first bar of the run whose start is strictly after its ``available_at`` (the 17:00 post-market bar
for news at 16:05 with ``sessions = ["pre", "regular", "post"]``, the next 09:30 bar with regular
bars only), and ``hold_days`` counts sessions: the position is sold at the first regular bar of the
session ``hold_days`` sessions after the entry bar's day (``hold_days = 1``: the next regular open).
``min_reaction_pct`` needs daily bars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from newsbt import StrategyParams
from newsbt.core.errors import NewsbtError
from newsbt.data.events import Category
from newsbt.data.newsgate import TimedEvent
from strategies.crash_dip import AI_UNIVERSE
from strategies.holding import TimedHolds


@dataclass(frozen=True, slots=True)
class Candidate:
    """One event for one ticker, waiting for the bar at which it is decided."""

    news: TimedEvent
    ticker: str


def trade_side(direction: int, follow: bool) -> int:
    """+1 buy, -1 sell short, 0 stay out: with the news when following (``mode = "follow"``), against it
    when fading. (The mode comes as a bool, which the fast form compiles cheaply, unlike strings.)"""
    return direction if follow else -direction


def reaction_confirms(move: float | None, direction: int, min_reaction_pct: float | None) -> bool:
    """Did the reaction-day return move at least ``min_reaction_pct`` % the way the news points?
    (An unknown move, None or NaN, never confirms.)"""
    if min_reaction_pct is None:
        return True
    return move is not None and move * direction * 100.0 >= min_reaction_pct


def selected(news: TimedEvent, p: NewsReaction.Params) -> bool:
    """A chosen category and direction; direction 0 (no read on the price) never trades."""
    event = news.event
    return event.category in p.categories and event.direction in p.directions and event.direction != 0


def candidates(news: Iterable[TimedEvent], p: NewsReaction.Params, universe: Collection[str]) -> list[Candidate]:
    """The (event, ticker) pairs the parameters select; tickers outside ``universe`` are ignored."""
    return [Candidate(n, ticker) for n in news if selected(n, p) for ticker in n.event.tickers if ticker in universe]


def is_due(today: dt.date, reaction_day: dt.date, min_reaction_pct: float | None) -> bool:
    """May a public candidate be decided at today's close? With a reaction filter, only once the
    reaction day's close is in."""
    return min_reaction_pct is None or today >= reaction_day


def entry_side(candidate: Candidate, move: float | None, p: NewsReaction.Params) -> int:
    """The order a due candidate asks for: +1 buy, -1 short, 0 none."""
    direction = candidate.news.event.direction
    return trade_side(direction, p.follow) if reaction_confirms(move, direction, p.min_reaction_pct) else 0


class NewsReaction(TimedHolds):
    """Enter on each selected news event at its first tradable open; exit ``hold_days`` sessions later."""

    class Params(StrategyParams):
        tickers: tuple[str, ...] = Field(AI_UNIVERSE, min_length=1)
        categories: tuple[Category, ...] = Field(tuple(Category), min_length=1)
        directions: tuple[Literal[-1, 0, 1], ...] = Field((-1, 1), min_length=1)
        mode: Literal["follow", "fade"] = "follow"
        hold_days: int = Field(5, ge=1)
        position_pct: Annotated[float, Field(gt=0, le=100)] = 20.0
        min_reaction_pct: Annotated[float, Field(gt=0)] | None = None

        @property
        def follow(self) -> bool:
            """``mode`` as ``trade_side`` takes it (both engines)."""
            return self.mode == "follow"

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[Candidate] = []
        self.news_through: dt.date | None = None  # the horizon of the previous bar's news
        self.moves: dict[str, dict[dt.date, float]] = {name: {} for name in self.feeds}
        if self.intraday and self.config.min_reaction_pct is not None:
            raise NewsbtError("news_reaction: min_reaction_pct needs daily bars ([run] bars = \"1d\")")

    def next(self) -> None:
        self._record_moves()
        self.exit_expired()
        self.waiting += candidates(self._arrivals(), self.config, self.feeds)
        self.waiting = [c for c in self.waiting if not self._decided(c)]

    def _arrivals(self) -> tuple[TimedEvent, ...]:
        """News that became public since the previous bar (at the first bar: since its open)."""
        after = self.news_through or self.now
        self.news_through = self.news.horizon(self.now)
        return self.public_news(after)

    def _decided(self, candidate: Candidate) -> bool:
        """Decide ``candidate`` now if it is due and its ticker has a bar; False keeps it waiting."""
        data = self.feeds[candidate.ticker]
        if not self.has_bar(data) or not is_due(self.today, candidate.news.reaction_day, self.config.min_reaction_pct):
            return False
        if self.getposition(data).size or self.pending(data):
            return True
        move = self.moves[candidate.ticker].get(candidate.news.reaction_day)
        self.enter(data, entry_side(candidate, move, self.config))
        return True

    def _record_moves(self) -> None:
        """Each ticker's close-to-close return at today's bar, for reaction-day checks later."""
        if self.config.min_reaction_pct is None:
            return
        for name, data in self.feeds.items():
            if self.has_bar(data) and len(data) > 1:
                self.moves[name][self.today] = data.close[0] / data.close[-1] - 1.0
