"""Shared fixtures: the real price directories (NEWSBT_DATA_DIR, NEWSBT_INTRADAY_DIR), the real headline
file (NEWSBT_NEWS_FILE) and a network blocker."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real prices; tests that need them are skipped (loudly) when NEWSBT_DATA_DIR is unset."""
    value = os.environ.get("NEWSBT_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("NEWSBT_DATA_DIR is not set to the real price directory (.ci/run sets it)")
    return Path(value)


@pytest.fixture(scope="session")
def real_news_file() -> Path:
    """The real headlines CSV; tests that need it are skipped (loudly) when NEWSBT_NEWS_FILE is unset."""
    value = os.environ.get("NEWSBT_NEWS_FILE")
    if not value or not Path(value).is_file():
        pytest.skip("NEWSBT_NEWS_FILE is not set to the real headlines CSV (.ci/run sets it)")
    return Path(value)


@pytest.fixture(scope="session")
def real_intraday_dir() -> Path:
    """The real intraday bars; tests that need them are skipped (loudly) when NEWSBT_INTRADAY_DIR is unset."""
    value = os.environ.get("NEWSBT_INTRADAY_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("NEWSBT_INTRADAY_DIR is not set to the real intraday directory (.ci/run sets it)")
    return Path(value)


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test on any attempt to open a network connection or resolve a host name."""

    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def write_price_files(directory: Path, frames: dict[str, pd.DataFrame]) -> Path:
    """Write validated frames as price CSVs, the way users' files look."""
    directory.mkdir(parents=True, exist_ok=True)
    for ticker, frame in frames.items():
        frame.to_csv(directory / f"{ticker}.csv", index_label="date", date_format="%Y-%m-%d")
    return directory
