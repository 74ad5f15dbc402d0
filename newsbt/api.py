"""The Python API: load or build a spec, run it, read the results.

    from newsbt import api
    spec = api.load_spec("backtests/ai_crash_dip.toml", ["strategy.drop_pct=10"])
    result = api.run(spec)                      # prices from $NEWSBT_DATA_DIR or data/prices/
    result.stats["sharpe"], result.trades.head()
    result.tearsheet("my_tearsheet.html")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from newsbt.backtest.inputs import load_events_for, load_prices_for, run_spec
from newsbt.backtest.registry import load_entry_points
from newsbt.backtest.spec import BacktestSpec, load_spec, spec_from_dict
from newsbt.data.events import Event
from newsbt.reports.result import Result

__all__ = ["Result", "load_spec", "spec_from_dict", "load_prices_for", "load_events_for", "run"]

load_entry_points()  # the API is an edge: installed strategies (built-in or third-party) are known by name


def run(
    spec: BacktestSpec | Mapping[str, Any] | str | Path,
    prices: Mapping[str, pd.DataFrame] | None = None,
    data_dir: str | Path | None = None,
    events: Sequence[Event] | None = None,
    overrides: Iterable[str] = (),
    strategy: type | None = None,
    intraday_dir: str | Path | None = None,
) -> Result:
    """Run a backtest from a spec object, a dict shaped like a backtest file, or a file path.

    ``prices`` and ``events`` default to what the spec names, read from ``data_dir`` (intraday bars
    from ``intraday_dir``). ``strategy`` runs a strategy class directly instead of the registered
    name in the spec.
    """
    if isinstance(spec, (str, Path)):
        spec = load_spec(spec, overrides)
    elif not isinstance(spec, BacktestSpec):
        spec = spec_from_dict(spec, strategy_cls=strategy)
    return Result(run_spec(spec, prices, data_dir, events, strategy, intraday_dir))
