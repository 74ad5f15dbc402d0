"""Trading costs and shorting, configured in one place.

* Commission: in basis points of traded value (``commission_bps``) or per share
  (``commission_per_share``), either with a per-order minimum (``commission_min``).
* Slippage (``slippage_bps``): every fill moves against the trader, fills at the open included, and
  is never capped at the bar's high/low, so the cost charged is always exactly the configured one.
  Intraday runs may charge pre- and post-market fills more (``extended_slippage_bps``; default the
  same), through ``SessionBroker``.
* Borrow fee (``borrow_fee_pct``, annual): charged on each short's market value at the previous
  close, for the calendar days it was held (``days * fee / 365``), as backtrader debits credit interest.
* Cash interest (``cash_interest_pct``, annual, off by default): credited on positive cash the same way.

This module holds backtrader's documented extension points for costs (a commission scheme and a
cash-interest analyzer) and records every charge, so the summary can say what costs were paid.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt

from newsbt.backtest.spec import CostSpec

BPS = 1e-4
DAYS_PER_YEAR = 365.0


class CostModel(bt.CommInfoBase):
    """Stock-like commission (bps or per share, with a minimum) plus a recorded short borrow fee."""

    params = (
        ("stocklike", True),
        ("commtype", bt.CommInfoBase.COMM_FIXED),
        ("bps", 0.0),
        ("per_share", 0.0),
        ("minimum", 0.0),
        ("borrow_fee", 0.0),  # annual fraction
    )

    def __init__(self) -> None:
        super().__init__()
        self.borrow_charges: list[dict[str, Any]] = []
        self.cash_credits: list[dict[str, Any]] = []  # filled by CashInterest

    def _getcommission(self, size: float, price: float, pseudoexec: bool) -> float:
        if not size:
            return 0.0
        fee = abs(size) * (self.p.per_share or price * self.p.bps * BPS)
        return max(fee, self.p.minimum)

    def get_credit_interest(self, data: bt.AbstractDataBase, pos: bt.Position, dt) -> float:
        """Borrow fee on a short for the calendar days since the last charge, at the last close."""
        days = (dt.date() - pos.datetime.date()).days
        if pos.size >= 0 or days <= 0 or not self.p.borrow_fee:
            return 0.0
        last_close = data.close[-1]
        fee = days * self.p.borrow_fee / DAYS_PER_YEAR * abs(pos.size) * last_close
        self.borrow_charges.append({"ticker": data._name, "date": dt.date(), "days": days,
                                    "short_value": abs(pos.size) * last_close, "fee": fee})
        return fee


class CashInterest(bt.Analyzer):
    """Credits ``rate`` (annual fraction) on positive cash for the calendar days between sessions.

    The credit for the days up to a session is booked straight into the broker's cash at that
    session's close, as the broker books borrow fees (``add_cash`` would only land a session later,
    and the last one never); it runs before the recorder, so the recorded value includes it.
    """

    params = (("rate", 0.0), ("ledger", None))

    def start(self) -> None:
        self._last = None

    def next(self) -> None:
        today = self.strategy.datetime.date(0)
        cash = self.strategy.broker.getcash()
        if self._last is not None and cash > 0:
            amount = cash * self.p.rate / DAYS_PER_YEAR * (today - self._last).days
            self.strategy.broker.cash += amount
            self.p.ledger.append({"date": today, "interest": amount})
        self._last = today


class SessionBroker(bt.brokers.BackBroker):
    """backtrader's broker, with ``extended_slip_perc`` instead of ``slip_perc`` for a market order
    filled on an extended-hours bar (a feed whose ``extended`` line is 1 at the fill)."""

    params = (("extended_slip_perc", None),)

    def _try_exec_market(self, order, popen, phigh, plow):
        extended = getattr(order.data.lines, "extended", None)
        if self.p.extended_slip_perc is None or extended is None or not extended[0]:
            return super()._try_exec_market(order, popen, phigh, plow)
        regular, self.p.slip_perc = self.p.slip_perc, self.p.extended_slip_perc
        try:
            return super()._try_exec_market(order, popen, phigh, plow)
        finally:
            self.p.slip_perc = regular


def configure(cerebro: bt.Cerebro, costs: CostSpec) -> CostModel:
    """Install the cost model on the broker (and cash interest, when set); returns the model."""
    model = CostModel(bps=costs.commission_bps, per_share=costs.commission_per_share,
                      minimum=costs.commission_min, borrow_fee=costs.borrow_fee_pct / 100.0)
    cerebro.broker.addcommissioninfo(model)
    cerebro.broker.set_int2pnl(False)  # borrow fees are reported on their own, not folded into commission
    if isinstance(cerebro.broker, SessionBroker) and costs.extended_slippage_bps is not None:
        cerebro.broker.p.extended_slip_perc = costs.extended_slippage_bps * BPS
    if costs.slippage_bps or costs.extended_slippage_bps:
        cerebro.broker.set_slippage_perc(
            costs.slippage_bps * BPS, slip_open=True, slip_limit=True, slip_match=True, slip_out=True
        )
    if costs.cash_interest_pct:
        cerebro.addanalyzer(CashInterest, rate=costs.cash_interest_pct / 100.0, ledger=model.cash_credits)
    return model
