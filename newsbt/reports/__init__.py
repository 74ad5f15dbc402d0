"""Results a person reads: tearsheets, run pages, trade charts, the reports index, notebook output.

Owns: ``result`` (the API's Result), ``run`` (a run's files), ``charts``, ``htmlpage`` (page frame,
sortable tables), ``figures`` (number formatting), ``backend`` (matplotlib headless), ``index``,
``parallel`` (report files drawn side by side by forked workers), ``tearsheet`` (QuantStats' page,
drawn in pieces), ``filecanvas`` (the report workers' pyplot backend: files only, no redraw).
May import: ``newsbt.backtest``, ``newsbt.data``, ``newsbt.core``.
"""
