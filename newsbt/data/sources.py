"""Where a run's prices come from. Each ticker is read from the first source that has it:

1. the directory: ``--data-dir``, else ``$NEWSBT_DATA_DIR`` (skipped when neither is set);
2. the cache: ``data/prices/`` in the working directory, where ``newsbt data fetch`` writes by default;
3. the sample bundled with newsbt (:mod:`newsbt.data.sample`).

``newsbt data list`` shows the sources in this order with what each holds; a run names the tickers
the sample served, and how to fetch fresh prices for them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.data.prices import (
    DATA_DIR_ENV, DEFAULT_DATA_DIR, available_tickers, fetch_hint, load_prices, price_path, read_price_file,
)
from newsbt.data.sample import DAILY, load_sample, sample_tickers

Period = tuple[dt.date, dt.date]


@dataclass(frozen=True)
class PriceSource:
    """A place prices are read from: a directory of CSVs (``directory`` set) or the bundled sample."""

    kind: str  # "directory", "cache" or "sample"
    label: str  # how it is named to a person
    directory: Path | None = None

    def tickers(self) -> list[str]:
        return available_tickers(self.directory) if self.directory is not None else sample_tickers()

    def load(self, tickers: Iterable[str]) -> dict[str, pd.DataFrame]:
        return load_prices(tickers, self.directory) if self.directory is not None else load_sample(tickers)

    def coverage(self) -> pd.DataFrame:
        """One row per ticker: first and last date, and the number of rows (CSV files are validated)."""
        if self.directory is None:
            return DAILY.coverage()
        rows = {}
        for ticker in self.tickers():
            dates = read_price_file(price_path(ticker, self.directory)).index
            rows[ticker] = {"first": dates[0].date(), "last": dates[-1].date(), "rows": len(dates)}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["first", "last", "rows"])


@dataclass(frozen=True)
class PriceSources:
    """The sources in the order they are searched."""

    sources: tuple[PriceSource, ...]

    def tickers(self) -> list[str]:
        """Every ticker some source holds (sorted)."""
        return sorted({t for source in self.sources for t in source.tickers()})

    def origins(self, tickers: Iterable[str], period: Period | None = None) -> dict[str, PriceSource]:
        """The source each ticker is read from; a ticker no source holds is an error naming where it looked."""
        wanted = list(dict.fromkeys(tickers))
        found: dict[str, PriceSource] = {}
        for source in self.sources:  # a later source is only asked for what the earlier ones lack
            remaining = [t for t in wanted if t not in found]
            if not remaining:
                break
            held = set(source.tickers())
            found.update((t, source) for t in remaining if t in held)
        missing = [t for t in wanted if t not in found]
        if missing:
            raise NewsbtError(self._missing_message(missing, period))
        return {t: found[t] for t in wanted}

    def load(self, tickers: Iterable[str], period: Period | None = None) -> dict[str, pd.DataFrame]:
        """Validated prices of ``tickers`` (each once, in order), each from the first source holding it."""
        origins = self.origins(tickers, period)
        frames: dict[str, pd.DataFrame] = {}
        for source in self.sources:
            frames.update(source.load([t for t, s in origins.items() if s is source]))
        return {t: frames[t] for t in origins}

    def sample_note(self, tickers: Iterable[str], period: Period | None = None) -> str | None:
        """One line naming the tickers the bundled sample serves, and how to fetch fresh prices; None if none."""
        served = [t for t, s in self.origins(tickers, period).items() if s.kind == "sample"]
        if not served:
            return None
        return (f"prices for {', '.join(served)} come from the sample bundled with newsbt (daily, up to "
                f"{DAILY.coverage().loc[served, 'last'].max()}); for fresh prices: {fetch_hint(served)}")

    def _missing_message(self, missing: list[str], period: Period | None) -> str:
        dirs = [str(s.directory.resolve()) for s in self.sources if s.directory is not None]
        return (f"no price file for {', '.join(missing)} in {' or '.join(dirs)} "
                f"(looked for {', '.join(t + '.csv' for t in missing)}), nor in the bundled sample; "
                f"set --data-dir or {DATA_DIR_ENV}, or download them with: {fetch_hint(missing, period)}")


def price_sources(data_dir: str | Path | None = None) -> PriceSources:
    """The sources searched for ``data_dir`` (``None``: ``$NEWSBT_DATA_DIR`` if set), in order."""
    sources = []
    env = os.environ.get(DATA_DIR_ENV)
    if data_dir is not None:
        sources.append(PriceSource("directory", f"--data-dir {data_dir}", Path(data_dir)))
    elif env:
        sources.append(PriceSource("directory", f"${DATA_DIR_ENV} {env}", Path(env)))
    if not sources or sources[0].directory.resolve() != DEFAULT_DATA_DIR.resolve():  # type: ignore[union-attr]
        sources.append(PriceSource("cache", f"cache {DEFAULT_DATA_DIR}/", DEFAULT_DATA_DIR))
    sources.append(PriceSource("sample", f"sample bundled with newsbt ({DAILY.path.name})"))
    return PriceSources(tuple(sources))
