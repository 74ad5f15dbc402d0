"""newsbt: backtest news-driven trading strategies, point-in-time."""

__version__ = "0.1.0"
