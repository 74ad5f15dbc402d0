"""newsbt: backtest news-driven trading strategies, point-in-time.

The subpackages are layers; each imports only from those below it (checked by import-linter, see
``[tool.importlinter]`` in pyproject.toml)::

    cli, api              the edges: commands and the Python API
    sweep | study         parameter sweeps; event studies (siblings that never import each other)
    reports               run reports, tearsheets, charts, the reports index
    backtest              specs, the strategy registry and base class, engines, costs, trades, metrics
    data                  prices, news events, the NYSE calendar and the news gate
    core                  errors, validation helpers, safe file writes
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsbt.backtest.registry import register
    from newsbt.backtest.strategy import NewsbtStrategy, StrategyParams
    from newsbt.core.errors import NewsbtError

__version__ = "0.1.0"
__all__ = ["NewsbtError", "NewsbtStrategy", "StrategyParams", "register"]

# Where each public name lives. They are imported on first use, so that ``import newsbt.<anything>``
# does not import backtrader and pydantic first: the command line forks its report process before that.
_HOMES = {"register": "newsbt.backtest.registry", "NewsbtStrategy": "newsbt.backtest.strategy",
          "StrategyParams": "newsbt.backtest.strategy", "NewsbtError": "newsbt.core.errors"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'newsbt' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
