"""Built-in strategies; importing this package registers them."""

from strategies import buy_and_hold, crash_dip, news_reaction, rotation_spread  # noqa: F401  (registers them)
