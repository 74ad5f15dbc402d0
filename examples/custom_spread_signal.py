"""A spread with a custom signal: long SMH / short QQQ when chips lag big tech over 10 sessions.

The signal is a pure function of closes; the class passed to the API directly (no registration).
Run it with prices in $NEWSBT_DATA_DIR (or data/prices/):  python examples/custom_spread_signal.py
"""

from __future__ import annotations

import numpy as np

from newsbt import NewsbtStrategy, StrategyParams, api


def lagging(long_closes: np.ndarray, short_closes: np.ndarray, lag_pct: float) -> bool:
    """Did the long leg trail the short leg by ``lag_pct`` points over the given closes?"""
    gap = (long_closes[-1] / long_closes[0] - short_closes[-1] / short_closes[0]) * 100.0
    return gap <= -lag_pct


class ChipsCatchUp(NewsbtStrategy):
    class Params(StrategyParams):
        tickers: tuple[str, ...] = ("SMH", "QQQ")
        lookback: int = 10
        lag_pct: float = 3.0
        hold_days: int = 5
        leg_pct: float = 40.0

    def __init__(self) -> None:
        super().__init__()
        self.long, self.short = self.datas
        self.entered_at = 0

    def next(self) -> None:
        if not (self.has_bar(self.long) and self.has_bar(self.short)) or self.pending(self.long):
            return
        if self.getposition(self.long).size:
            if len(self.long) - self.entered_at >= self.config.hold_days:
                self.close_position(self.long)
                self.close_position(self.short)
        elif len(self.long) > self.config.lookback:
            n = self.config.lookback + 1
            if lagging(np.array(self.long.close.get(size=n)), np.array(self.short.close.get(size=n)),
                       self.config.lag_pct):
                notional = self.broker.getvalue() * self.config.leg_pct / 100.0
                self.submit(self.long, self.affordable_shares(self.long, notional))
                self.submit(self.short, -self.target_shares(self.short, notional))
                self.entered_at = len(self.long)


def main() -> api.Result:
    result = api.run({
        "run": {"name": "chips_catch_up", "start": "2021-01-01", "end": "2025-06-30",
                "benchmark": {"SPY": 0.6, "QQQ": 0.4}},
        "strategy": {"lag_pct": 3.0},
        "costs": {"commission_per_share": 0.005, "commission_min": 1, "slippage_bps": 2, "borrow_fee_pct": 0.5},
    }, strategy=ChipsCatchUp)
    print(f"{result.stats['trades']} trades, total return {result.stats['total_return']:.2%} "
          f"vs {result.benchmark_returns.name} {result.benchmark_stats['total_return']:.2%}")
    return result


if __name__ == "__main__":
    main()
