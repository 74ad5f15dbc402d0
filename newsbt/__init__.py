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

from newsbt.backtest.registry import register
from newsbt.backtest.strategy import NewsbtStrategy, StrategyParams
from newsbt.core.errors import NewsbtError

__version__ = "0.1.0"
__all__ = ["NewsbtError", "NewsbtStrategy", "StrategyParams", "register"]
