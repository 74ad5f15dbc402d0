"""Results to files a person reads: tearsheets, run pages, trade charts, the reports index.

Owns: ``result`` (the API's Result), ``run`` (a run's files), ``charts``, ``htmlpage``, ``index``.
May import: ``newsbt.backtest``, ``newsbt.data``, ``newsbt.core``.
"""
