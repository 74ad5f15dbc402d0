"""Data in, validated: price files, the downloader, news event files, the NYSE calendar, the news gate.

Owns: ``prices`` (load and validate), ``sources`` (directory, then cache, then the bundled sample),
``sample`` (the data shipped in ``embedded/``), ``fetch`` (yfinance, optional), ``calendar`` (sessions, the
first-bar rule), ``events`` (event files), ``newsgate`` (the one way news reaches strategies),
``shocks`` (price-shock scans).
May import: ``newsbt.core``.
"""
