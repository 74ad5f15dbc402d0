"""Parameter sweeps: grids, workers (local pool or Dask), resumable storage, overfitting statistics, report.

Owns: ``grid``, ``runner`` (plan and run), ``worker``, ``daskbackend``, ``store``, ``stats``,
``overfit`` (DSR, PBO), ``walkforward``, ``report``, ``result`` (the API's SweepResult).
May import: ``newsbt.reports``, ``newsbt.backtest``, ``newsbt.data``, ``newsbt.core``; never ``newsbt.study``.
"""
