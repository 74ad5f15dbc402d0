"""The engine: a validated spec and frames in, a RunResult out.

Owns: ``spec`` (backtest files), ``registry`` (strategy names, entry points), ``strategy`` (the base
class), ``feeds``, ``costs``, ``engine`` (Cerebro), ``fast`` (the compiled engine, numba), ``inputs``
(a spec's prices and events), ``trades`` and ``metrics``.
May import: ``newsbt.data``, ``newsbt.core``. Never the built-in strategies: they arrive by entry point.
"""
