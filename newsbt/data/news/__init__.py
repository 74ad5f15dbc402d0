"""Headline stores: real news feeds in, point-in-time daily signals out.

Owns: ``feeds`` (file adapters: newsbt CSV, Benzinga-style CSV, Alpha-Vantage- and FMP-style JSON),
``rows`` (row validation, time mapping by the calendar's first-bar rule), ``stories`` (de-duplication
into stories), ``store`` (the Parquet store, coverage), ``sentiment`` (pluggable headline scorers),
``signals`` (per ticker and session, from stories public before that session's open).
May import: ``newsbt.data`` (calendar, events) and ``newsbt.core``. Strategies never read these
modules: their signals reach them through ``newsbt.data.newsgate``.
"""
