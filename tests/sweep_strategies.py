"""Strategies for sweep tests only: one that raises for one parameter value, one that is slow, one
that kills the process running it for one parameter value.

They are registered by ``register_test_strategies`` (by the tests that use them), not on import, so
collecting the test suite does not add them to ``newsbt strategies``.
"""

from __future__ import annotations

import os
import time

from newsbt import register
from strategies.crash_dip import CrashDip

FAILING_DROP = 9.0


class FlakyDip(CrashDip):
    """crash_dip, except that drop_pct = 9 raises (with markup in the message, to check escaping)."""

    def start(self) -> None:
        if self.config.drop_pct == FAILING_DROP:
            raise ValueError("drop_pct 9 is <b>cursed</b>")


class SlowDip(CrashDip):
    """crash_dip that takes ``pause`` seconds longer per run, so a test can kill a sweep midway."""

    class Params(CrashDip.Params):
        pause: float = 0.0

    def start(self) -> None:
        time.sleep(self.config.pause)


class FatalDip(CrashDip):
    """crash_dip, except that drop_pct = 13 ends the process running it (a worker lost, every time)."""

    def start(self) -> None:
        if self.config.drop_pct == 13:
            os._exit(1)


def register_test_strategies() -> None:
    register("test_flaky_dip")(FlakyDip)
    register("test_slow_dip")(SlowDip)
    register("test_fatal_dip")(FatalDip)


def slow_sweep(pause: float):
    """24 combinations of test_slow_dip on tests.sweepdata's prices (used in a subprocess too)."""
    from newsbt.backtest.spec import spec_from_dict
    from newsbt.sweep.runner import sweep_from_section
    from tests.sweepdata import spec_dict

    register_test_strategies()
    raw = spec_dict(pause=pause)
    raw["strategy"]["name"] = "test_slow_dip"
    return sweep_from_section(spec_from_dict(raw), {"drop_pct": [5, 6, 7, 8], "hold_days": "1:6:1"})
