"""Hold one ticker, fully invested in whole shares, from the first bar: the baseline to beat."""

from __future__ import annotations

from newsbt import NewsbtStrategy, StrategyParams


class BuyAndHold(NewsbtStrategy):
    """Buy as many whole shares of ``ticker`` as the cash allows at the first open, then hold."""

    class Params(StrategyParams):
        ticker: str = "QQQ"

    def next(self) -> None:
        data = self.datas[0]
        if self.has_bar(data) and not self.getposition(data).size and not self.pending(data):
            self.submit(data, self.affordable_shares(data, self.broker.getvalue()))
