"""Trading costs, configured on backtrader's broker in one place.

Commission is a percentage of traded value (``commission_bps``). Slippage (``slippage_bps``) moves
every fill against the trader, including fills at the open, and is never capped at the bar's
high/low, so the cost charged is always exactly the configured one.
"""

from __future__ import annotations

import backtrader as bt

from newsbt.spec import CostSpec

BPS = 1e-4


def configure_broker(broker: bt.brokers.BackBroker, costs: CostSpec) -> None:
    broker.setcommission(
        commission=costs.commission_bps * BPS,
        commtype=bt.CommInfoBase.COMM_PERC,
        percabs=True,
        stocklike=True,
    )
    if costs.slippage_bps:
        broker.set_slippage_perc(
            costs.slippage_bps * BPS, slip_open=True, slip_limit=True, slip_match=True, slip_out=True
        )
