"""Shared fixtures: the real price directories (NEWSBT_DATA_DIR, NEWSBT_INTRADAY_DIR), the real headline
file (NEWSBT_NEWS_FILE) and a network blocker."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pandas as pd
import pytest


def real_path(variable: str, what: str, is_file: bool = False) -> Path:
    """The real data named by ``variable``; the test is skipped (loudly) when it is unset or missing."""
    value = os.environ.get(variable)
    if not value or not (Path(value).is_file() if is_file else Path(value).is_dir()):
        pytest.skip(f"{variable} is not set to {what} (.ci/run sets it)")
    return Path(value)


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    return real_path("NEWSBT_DATA_DIR", "the real price directory")


@pytest.fixture(scope="session")
def real_news_file() -> Path:
    return real_path("NEWSBT_NEWS_FILE", "the real headlines CSV", is_file=True)


@pytest.fixture(scope="session")
def real_intraday_dir() -> Path:
    return real_path("NEWSBT_INTRADAY_DIR", "the real intraday directory")


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
