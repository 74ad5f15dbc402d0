"""Event studies: abnormal returns around news or price shocks, their tests, and the study report.

Owns: ``model`` (market model, AR/CAR/CAAR), ``stats`` (significance tests), ``intraday`` (bar grids,
bar 0), ``runner`` (study files, ``run_study``), ``newsevents`` (events from a headline store, in
sentiment buckets), ``report``.
May import: ``newsbt.reports``, ``newsbt.backtest``, ``newsbt.data``, ``newsbt.core``; never ``newsbt.sweep``.
"""

from newsbt.study.runner import StudyOutcome, load_study, run_study

__all__ = ["StudyOutcome", "load_study", "run_study"]
