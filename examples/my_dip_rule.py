"""My own dip rule: buy a stock that gaps down at the open by 4 % or more, sell at the next open.

Run it with prices in $NEWSBT_DATA_DIR (or data/prices/):  python examples/my_dip_rule.py
"""

from __future__ import annotations

from newsbt import NewsbtStrategy, StrategyParams, api, register


def gapped_down(prev_close: float, open_: float, gap_pct: float) -> bool:
    """The decision, as a pure function: did today open ``gap_pct`` % or more below yesterday's close?"""
    return open_ / prev_close - 1.0 <= -gap_pct / 100.0


@register("gap_down_dip")
class GapDownDip(NewsbtStrategy):
    class Params(StrategyParams):
        tickers: tuple[str, ...] = ("NVDA", "AMD", "AVGO", "MU", "TSM", "SMCI")
        gap_pct: float = 4.0
        position_pct: float = 15.0

    def next(self) -> None:
        for data in self.datas:
            if not self.has_bar(data) or len(data) < 2 or self.pending(data):
                continue
            if self.getposition(data).size:
                self.close_position(data)  # held one session: sell at the next open
            elif gapped_down(data.close[-1], data.open[0], self.config.gap_pct):
                target = self.broker.getvalue() * self.config.position_pct / 100.0
                self.submit(data, self.affordable_shares(data, target))


def main() -> api.Result:
    result = api.run({
        "run": {"name": "my_dip_rule", "start": "2023-01-01", "end": "2025-06-30", "benchmark": "QQQ"},
        "strategy": {"name": "gap_down_dip", "gap_pct": 4},
        "costs": {"commission_bps": 5, "slippage_bps": 5},
    })
    print(f"{result.stats['trades']} trades, total return {result.stats['total_return']:.2%}, "
          f"Sharpe {result.stats['sharpe']:.2f}, beta to QQQ {result.stats['beta']:.2f}")
    return result


if __name__ == "__main__":
    main()
