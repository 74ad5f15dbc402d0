"""Data in, validated: price files, the downloader, news event files, the NYSE calendar, the news gate.

Owns: ``prices`` (daily files: load and validate), ``intraday`` (intraday bar files and the embedded
sample in ``embedded/intraday/``), ``fetch`` and ``intraday_fetch`` (yfinance, optional), ``calendar``
(sessions, the first-bar rule), ``events`` (event files), ``newsgate`` (the one way news reaches
strategies), ``shocks`` (price-shock scans).
May import: ``newsbt.core``.
"""
