"""Data in, validated: price files, the downloader, news event files, headline stores, the NYSE
calendar, the news gate.

Owns: ``prices`` (daily files: load and validate), ``sources`` (directory, then cache, then the bundled
sample), ``sample`` (the data shipped in ``embedded/``), ``intraday`` (intraday bar files and their
embedded sample in ``embedded/intraday/``), ``fetch`` and ``intraday_fetch`` (yfinance, optional),
``calendar`` (sessions, the first-bar rule), ``events`` (event files), ``news`` (headline stores: feeds,
rows, stories, sentiment, signals), ``newsgate`` (the one way news reaches strategies), ``shocks``
(price-shock scans).
May import: ``newsbt.core``.
"""
