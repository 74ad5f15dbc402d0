"""Data in, validated: price files, the downloader, news event files, headline stores, the NYSE
calendar, the news gate.

Owns: ``prices`` (daily files: load and validate), ``sources`` (directory, then cache, then the bundled
sample), ``sample`` (the data shipped in ``embedded/``), ``intraday`` (intraday bar files and their
embedded sample in ``embedded/intraday/``), ``fetch`` and ``intraday_fetch`` (yfinance, optional),
``calendar`` (sessions, the first-bar rule), ``events`` (event files), ``newsfeeds`` (headline file
adapters), ``newsrows`` (row validation and time mapping), ``newsstories`` (de-duplication into
stories), ``newsstore`` (the Parquet store, coverage), ``sentiment`` (headline scorers), ``newssignals``
(point-in-time daily signals), ``newsgate`` (the one way news reaches strategies), ``shocks``
(price-shock scans).
May import: ``newsbt.core``.
"""
