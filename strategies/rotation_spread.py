"""Trade the spread between two ETFs, e.g. long small caps (IWM) against big tech (QQQ).

Direction +1 means "long the spread": buy the ``long`` leg, short the ``short`` leg; -1 the reverse.
Signals are read at a session's close and both legs trade together at the next open.

* ``signal = "gap"``: the one-day return gap (long leg minus short leg, in %) on day t. When
  |gap| >= ``gap_pct``, ``mode = "momentum"`` goes with the gap's sign, ``"reversion"`` against it.
* ``signal = "zscore"``: z of the log price ratio over the trailing ``window`` closes. When
  |z| >= ``entry_z``, momentum goes with z's sign, reversion against it; exit once |z| <= ``exit_z``.

Legs are sized at ``leg_pct`` % of portfolio value: the long leg at that notional and the short leg
at the same notional (``hedge = "dollar"``) or at ``beta`` times it (``hedge = "beta"``), with beta of
the long leg on the short leg from the ``beta_window`` daily returns up to the signal day: never
from a later bar. Exits: after ``hold_days`` sessions, on ``exit_z``, or when the spread's P&L falls
to ``-stop_loss_pct`` % of the first leg's entry notional (price P&L of both legs at the close).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from newsbt import NewsbtStrategy, StrategyParams


def gap_direction(long_return: float, short_return: float, gap_pct: float, momentum: bool) -> int:
    """+1 / -1 to enter the spread on today's return gap, 0 to stay out."""
    return zscore_direction((long_return - short_return) * 100.0, gap_pct, momentum)


def ratio_zscore(long_closes: np.ndarray, short_closes: np.ndarray) -> float:
    """z-score of the last log price ratio within the given trailing closes (sample standard deviation).

    Written as plain loops so that the fast form compiles this very function: both engines then
    decide on the same bits.
    """
    n = len(long_closes)
    mean = 0.0
    for k in range(n):
        mean += math.log(long_closes[k]) - math.log(short_closes[k])
    mean /= n
    squares = 0.0
    for k in range(n):
        d = math.log(long_closes[k]) - math.log(short_closes[k]) - mean
        squares += d * d
    sd = math.sqrt(squares / (n - 1))
    last = math.log(long_closes[n - 1]) - math.log(short_closes[n - 1])
    return (last - mean) / sd if sd > 0 else 0.0


def zscore_direction(z: float, entry_z: float, momentum: bool) -> int:
    """+1 / -1 once |z| reaches ``entry_z``: with z's sign for momentum (``mode = "momentum"``), against
    it for reversion; else 0. (The gap signal is the same rule on the return gap in %.) The mode comes as
    a bool, which the fast form compiles cheaply, unlike a comparison of strings."""
    if abs(z) < entry_z:
        return 0
    sign = 1 if z > 0 else -1
    return sign if momentum else -sign


def trailing_beta(long_closes: np.ndarray, short_closes: np.ndarray) -> float:
    """OLS beta of the long leg's daily returns on the short leg's, from the given closes only (NaN if the
    short leg never moved). Plain loops, compiled as is by the fast form."""
    n = len(long_closes) - 1
    mean_long = mean_short = 0.0
    for k in range(n):
        mean_long += (long_closes[k + 1] - long_closes[k]) / long_closes[k]
        mean_short += (short_closes[k + 1] - short_closes[k]) / short_closes[k]
    mean_long, mean_short = mean_long / n, mean_short / n
    cov = var = 0.0
    for k in range(n):
        d_short = (short_closes[k + 1] - short_closes[k]) / short_closes[k] - mean_short
        cov += ((long_closes[k + 1] - long_closes[k]) / long_closes[k] - mean_long) * d_short
        var += d_short * d_short
    return cov / var if var > 0 else math.nan


def leg_sizes(value: float, leg_pct: float, long_price: float, short_price: float,
              hedge_ratio: float, direction: int) -> tuple[int, int]:
    """Signed whole-share sizes (long leg, short leg) for a spread in ``direction``."""
    notional = value * leg_pct / 100.0
    long_shares = math.floor(notional / long_price)
    short_shares = math.floor(notional * hedge_ratio / short_price)
    return direction * long_shares, -direction * short_shares


class RotationSpread(NewsbtStrategy):
    """Long one leg, short the other, on a return-gap or z-score signal; both legs move together."""

    class Params(StrategyParams):
        long: str = "IWM"
        short: str = "QQQ"
        leg_pct: float = Field(50.0, gt=0, le=100)
        hedge: Literal["dollar", "beta"] = "dollar"
        beta_window: int = Field(60, ge=5)
        signal: Literal["gap", "zscore"] = "gap"
        mode: Literal["momentum", "reversion"] = "momentum"
        gap_pct: float = Field(1.5, gt=0)
        window: int = Field(20, ge=3)
        entry_z: float = Field(2.0, gt=0)
        exit_z: float | None = Field(0.5, ge=0)
        hold_days: int = Field(5, ge=1)
        stop_loss_pct: float | None = Field(None, gt=0)

        def required_tickers(self) -> list[str]:
            return [self.long, self.short]

        @property
        def momentum(self) -> bool:
            """``mode`` as the decision functions take it (both engines)."""
            return self.mode == "momentum"

    def __init__(self) -> None:
        super().__init__()
        self.leg_long, self.leg_short = self.getdatabyname(self.config.long), self.getdatabyname(self.config.short)
        self.entry_len = 0
        self.entry_notional = 0.0

    def next(self) -> None:
        legs = (self.leg_long, self.leg_short)
        if not all(self.has_bar(d) for d in legs) or any(self.pending(d) for d in legs):
            return
        if self.getposition(self.leg_long).size or self.getposition(self.leg_short).size:
            if self._exit_due():
                for data in legs:
                    self.close_position(data)
        else:
            self._maybe_enter()

    def _history(self, bars: int) -> tuple[np.ndarray, np.ndarray] | None:
        if min(len(self.leg_long), len(self.leg_short)) < bars:
            return None
        return (np.array(self.leg_long.close.get(size=bars)), np.array(self.leg_short.close.get(size=bars)))

    def _signal(self) -> int:
        p = self.config
        if p.signal == "gap":
            closes = self._history(2)
            return 0 if closes is None else gap_direction(
                closes[0][-1] / closes[0][-2] - 1, closes[1][-1] / closes[1][-2] - 1, p.gap_pct, p.momentum)
        closes = self._history(p.window)
        return 0 if closes is None else zscore_direction(ratio_zscore(*closes), p.entry_z, p.momentum)

    def _maybe_enter(self) -> None:
        direction = self._signal()
        if not direction:
            return
        hedge_ratio = 1.0
        if self.config.hedge == "beta":
            closes = self._history(self.config.beta_window + 1)
            if closes is None:
                return
            hedge_ratio = trailing_beta(*closes)
            if not hedge_ratio > 0:  # a leg that does not co-move cannot hedge the other
                return
        n_long, n_short = leg_sizes(self.broker.getvalue(), self.config.leg_pct, self.leg_long.close[0],
                                    self.leg_short.close[0], hedge_ratio, direction)
        if n_long and n_short:
            self.submit(self.leg_long, n_long)
            self.submit(self.leg_short, n_short)

    def _exit_due(self) -> bool:
        p = self.config
        held = len(self.leg_long) - self.entry_len
        if held >= p.hold_days - 1:
            return True
        if p.signal == "zscore" and p.exit_z is not None:
            closes = self._history(p.window)
            if closes is not None and abs(ratio_zscore(*closes)) <= p.exit_z:
                return True
        if p.stop_loss_pct is None:
            return False
        positions = [(self.getposition(d), d.close[0]) for d in (self.leg_long, self.leg_short)]
        pnl = sum(pos.size * (close - pos.price) for pos, close in positions)
        return pnl <= -p.stop_loss_pct / 100.0 * self.entry_notional

    def on_order_done(self, order) -> None:
        if order.status == order.Completed and order.data is self.leg_long and self.getposition(order.data).size:
            self.entry_len = len(self.leg_long)
            self.entry_notional = abs(order.executed.size * order.executed.price)
