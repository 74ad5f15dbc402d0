"""newsbt: backtest news-driven trading strategies, point-in-time."""

from newsbt.errors import NewsbtError
from newsbt.registry import register
from newsbt.strategy import NewsbtStrategy, StrategyParams

__version__ = "0.1.0"
__all__ = ["NewsbtError", "NewsbtStrategy", "StrategyParams", "register"]
