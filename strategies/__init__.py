"""Built-in strategies; importing this package registers them."""

from strategies import buy_and_hold, crash_dip, rotation_spread  # noqa: F401  (registration side effect)
