"""Event studies from a backtest file: a ``[study]`` section picks the news, the tickers and the model.

    [study]
    events = "data/events/ai_news.csv"  # or: shocks = {tickers = ["NVDA"], threshold_pct = 7, benchmark = "QQQ"}
                                        # or: news = {store = "data/news", scorer = "lm", top_pct = 10}
    tickers = ["NVDA", "AMD"]           # studied for every event (default: each event's own tickers)
    market = "QQQ"
    model = "market"                    # or "market_adjusted", "constant_mean"
    estimation = [-250, -11]
    windows = [[0, 0], [0, 1], [-1, 1], [0, 5], [0, 20]]
    path = [-10, 20]                    # the days of the CAAR plot
    event_ids = ["deepseek-app-2025-01-26"]  # optional filters
    categories = ["model_release"]

Day 0 of a news event is its reaction day (``newsbt.events.event_timing``: the first session whose
close is after ``published_at``; for a ``market_move``, the session of the move). Day 0 of a shock
is the session of the move itself. Events from a headline store (``newsbt.study.newsevents``) are
ticker-sessions of unusual news volume, in buckets by the sign of their sentiment: the study runs once
for all of them and once per bucket, reported side by side. ``[run]``
start and end bound day 0 only; estimation windows reach back before ``start`` as far as they need.
The event file path is relative to the working directory, like ``[run] events``. Everything after
the pairs are built is ``newsbt.eventstudy.run_event_study``.

With ``[run] bars = "1h"`` (and ``sessions``) the study runs on intraday bars, counted in bars from
each event's first bar (see :mod:`newsbt.study.intraday`); ``[study] tickers`` is required and
``market_bars`` gives the market's own bar size when it differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Field, ValidationError, model_validator

from newsbt.core.errors import NewsbtError, located
from newsbt.data.events import Category, Event, event_timing, load_events
from newsbt.study.newsevents import BUCKETS, NewsSelection, news_events
from newsbt.study.report import study_html, write_study
from newsbt.study.model import (
    DEFAULT_ESTIMATION, DEFAULT_PATH, DEFAULT_WINDOWS, EventPair, EventStudyResult, returns_from_prices,
    run_event_study,
)
from newsbt.data.intraday import BAR_SIZES, intraday_key, load_intraday, resolve_intraday_dir
from newsbt.data.prices import fetch_hint
from newsbt.data.sources import PriceSources, price_sources
from newsbt.study.intraday import first_bars, grid_returns, session_grid
from newsbt.data.shocks import find_shocks
from newsbt.backtest.spec import BacktestSpec, apply_override, read_backtest_file, spec_from_dict, spec_of
from newsbt.core.validation import StrictModel, describe, error_at, first_error, suggest

StudySource = str | Path | Mapping[str, Any]
Day = Annotated[int, Field(strict=True)]  # a relative trading day; strict, so `true` is not day 1
Days = tuple[Day, Day]
PriceLoader = Callable[[Iterable[str]], dict[str, pd.DataFrame]]


class ShockScan(StrictModel):
    """``shocks = {...}``: study every session where a ticker moved more than ``threshold_pct`` %."""

    tickers: tuple[str, ...] = Field(min_length=1)
    threshold_pct: float = Field(gt=0, description="7 means a close-to-close move beyond 7 %")
    benchmark: str | None = Field(None, description="measure moves in excess of this ticker's return")


class StudySettings(StrictModel):
    """The ``[study]`` section."""

    events: Path | None = None
    shocks: ShockScan | None = None
    news: NewsSelection | None = None
    tickers: tuple[str, ...] = ()
    market: str = "QQQ"
    model: Literal["market", "market_adjusted", "constant_mean"] = "market"
    estimation: Days = DEFAULT_ESTIMATION
    windows: tuple[Days, ...] = DEFAULT_WINDOWS
    path: Days = DEFAULT_PATH
    event_ids: tuple[str, ...] = ()
    categories: tuple[Category, ...] = ()
    market_bars: Literal[BAR_SIZES] | None = Field(None, description="intraday: the market's bar size")

    @model_validator(mode="after")
    def _one_source(self) -> StudySettings:
        if sum(source is not None for source in (self.events, self.shocks, self.news)) != 1:
            raise ValueError('give exactly one of events = "<event file>", '
                             'shocks = {tickers = [...], threshold_pct = 7} or news = {store = "data/news"}')
        return self


@dataclass(frozen=True)
class Study:
    """A validated study file: the backtest spec (for [run]) and its [study] settings."""

    spec: BacktestSpec
    settings: StudySettings
    source: object
    text: str
    overridden: frozenset

    def error(self, key: str | None, message: str) -> NewsbtError:
        """An error located at ``key`` of [study] (or the --set that gave it)."""
        return error_at(self.source, self.text, self.overridden, "study", key, message)


@dataclass(frozen=True)
class StudiedEvent:
    """One event of the study, its day 0 and the tickers studied around it."""

    event: Event
    day0: pd.Timestamp
    tickers: tuple[str, ...]
    bucket: str = ""  # news-store events: positive, negative or neutral sentiment


@dataclass(frozen=True)
class StudyOutcome:
    """A finished study: its file, the events studied (with day 0) and the event-study result."""

    study: Study
    events: tuple[StudiedEvent, ...]
    result: EventStudyResult
    buckets: tuple[tuple[str, EventStudyResult], ...] = ()  # the same study per bucket, when events have one

    @property
    def name(self) -> str:
        return self.study.spec.run.name

    def write(self, reports_dir: str | Path = "reports") -> Path:
        """Write ``<reports_dir>/<name>/study/``; returns the path of its index.html."""
        return write_study(self, Path(reports_dir))

    def _repr_html_(self) -> str:
        """Notebook output: events, CAAR table and plot (see :func:`newsbt.study.report.study_html`)."""
        return study_html(self)


def load_study(source: StudySource, overrides: Iterable[str] = ()) -> Study:
    """Read and validate a study file (or a dict shaped like one), ``--set`` overrides applied."""
    overrides = list(overrides)
    if isinstance(source, Mapping):
        raw, text, where = {k: dict(v) if isinstance(v, Mapping) else v for k, v in source.items()}, "", "<study>"
        overridden = frozenset(apply_override(raw, item) for item in overrides)
        spec = spec_from_dict(raw, source=where, overridden=overridden)
    else:
        file = read_backtest_file(source, overrides)  # reports unreadable files and bad TOML
        where, text, raw, overridden = file.path, file.text, file.raw, file.overridden
        spec = spec_of(file)  # reports bad [run]/[strategy]
    section = raw.get("study")
    if not isinstance(section, Mapping):
        raise located(where, None, 'needs a [study] section, e.g. [study] events = "data/events/ai_news.csv"')
    return Study(spec, _settings(section, where, text, overridden), where, text, overridden)


def _settings(section: Mapping[str, Any], source: object, text: str, overridden: frozenset) -> StudySettings:
    try:
        return StudySettings.model_validate(dict(section))
    except ValidationError as exc:
        err = first_error(exc)
        loc = [str(p) for p in err["loc"]]
        top = loc[0] if loc else None
        nested = top in ("shocks", "news") and len(loc) > 1  # a key inside shocks = {...} or news = {...}
        inner = {"shocks": ShockScan, "news": NewsSelection}.get(top or "")
        name, key, model = (f"study.{top}", loc[1], inner) if nested else ("study", top, StudySettings)
        message = describe(err, name, key, list(model.model_fields))
        raise error_at(source, text, overridden, "study", top, message) from None


def run_study(
    source: StudySource | Study,
    data_dir: str | Path | None = None,
    overrides: Iterable[str] = (),
    prices: Mapping[str, pd.DataFrame] | None = None,
) -> StudyOutcome:
    """Build the (event, ticker, day 0) pairs of a study file and run the event study on them.

    ``prices`` defaults to the price sources for ``data_dir`` (:func:`newsbt.data.sources.price_sources`).
    """
    study = source if isinstance(source, Study) else load_study(source, overrides)
    if study.spec.run.intraday:
        return _intraday_study(study, data_dir, prices)
    settings = study.settings
    sources = price_sources(data_dir)
    known = frozenset(prices if prices is not None else sources.tickers())
    _check_tickers(study, known)
    load = _loader(prices, sources)
    candidates = (_shock_events(study, load) if settings.shocks else _store_events(study, known) if settings.news
                  else _news_events(study, known))
    events = _select(study, candidates)
    tickers = dict.fromkeys([settings.market, *(t for e in events for t in e.tickers)])
    return _outcome(study, events, returns_from_prices(load(tickers)))


def _intraday_study(study: Study, data_dir: str | Path | None,
                    prices: Mapping[str, pd.DataFrame] | None) -> StudyOutcome:
    """The study on intraday bars: ``prices`` (keyed ``NVDA_1h``) default to the intraday files."""
    settings, run = study.settings, study.spec.run
    if settings.shocks or not settings.tickers:
        raise study.error(None, 'an intraday study takes events = "<event file>" and tickers = [...]')
    sizes = {**{t: run.bars for t in settings.tickers}, settings.market: settings.market_bars or run.bars}
    if prices is None:
        directory = resolve_intraday_dir(run.intraday_dir)
        prices = {k: f for t, size in sizes.items() for k, f in load_intraday([t], size, directory).items()}
    keys = {t: intraday_key(t, size) for t, size in sizes.items()}
    frames = {t: prices[k] for t, k in keys.items()}
    grid = session_grid(frames[settings.tickers[0]], run.sessions)
    known = frozenset(price_sources(data_dir).tickers()) | set(keys)
    events = _event_file(study, known)
    day0 = first_bars(events, grid)
    studied = [StudiedEvent(e, day0[e.event_id], settings.tickers) for e in events if e.event_id in day0]
    return _outcome(study, _select(study, studied), grid_returns(frames, grid, run.sessions))


def _outcome(study: Study, events: list[StudiedEvent], returns: pd.DataFrame) -> StudyOutcome:
    """The study of ``events``, and one study per sentiment bucket when the events carry buckets."""
    result = _run(study, returns, events)
    present = [b for b in BUCKETS if any(e.bucket == b for e in events)]
    buckets = tuple((b, _run(study, returns, [e for e in events if e.bucket == b])) for b in present)
    return StudyOutcome(study, tuple(events), result, buckets)


def _run(study: Study, returns: pd.DataFrame, events: list[StudiedEvent]) -> EventStudyResult:
    settings = study.settings
    pairs = [EventPair(e.event.event_id, t, e.day0) for e in events for t in e.tickers]
    try:
        return run_event_study(returns, pairs, settings.market, settings.windows, settings.estimation,
                               settings.model, settings.path)
    except NewsbtError as exc:  # the design (windows, estimation, path) comes from [study]
        raise study.error(None, str(exc)) from None


def _loader(prices: Mapping[str, pd.DataFrame] | None, sources: PriceSources) -> PriceLoader:
    if prices is None:
        return sources.load
    return lambda tickers: {t: prices[t] for t in tickers}


def _check_tickers(study: Study, known: frozenset[str]) -> None:
    """Every ticker [study] names must have prices: fail before any loading, at the key's line."""
    settings = study.settings
    named = [("tickers", settings.tickers), ("market", (settings.market,))]
    if settings.shocks:
        scan = settings.shocks
        named.append(("shocks", (*scan.tickers, *([scan.benchmark] if scan.benchmark else []))))
    for key, tickers in named:
        missing = [t for t in dict.fromkeys(tickers) if t not in known]
        if missing:
            raise study.error(key, f"no prices for {', '.join(missing)}; download them with: {fetch_hint(missing)}")


def _event_file(study: Study, known: frozenset[str]) -> tuple[Event, ...]:
    settings = study.settings
    if not settings.events.is_file():
        raise study.error("events", f"no event file {settings.events} (a relative path is read from the working "
                                    f"directory, {Path.cwd()})")
    return load_events(settings.events, known)


def _news_events(study: Study, known: frozenset[str]) -> list[StudiedEvent]:
    """Every event of the file, day 0 at its reaction day."""
    settings = study.settings
    events = _event_file(study, known)
    reaction = event_timing(events)["reaction_day"]
    return [StudiedEvent(e, reaction[e.event_id], settings.tickers or e.tickers) for e in events]


def _store_events(study: Study, known: frozenset[str]) -> list[StudiedEvent]:
    """The top ``top_pct`` % of ticker-sessions by abnormal news volume, bucketed by sentiment sign."""
    settings, run = study.settings, study.spec.run
    tickers = [t for t in (settings.tickers or sorted(known)) if t in known]
    try:
        found = news_events(settings.news, tickers, pd.Timestamp(run.start), pd.Timestamp(run.end))
    except NewsbtError as exc:
        raise study.error("news", str(exc)) from None
    return [StudiedEvent(event, day0, event.tickers, bucket) for event, day0, bucket in found]


def _shock_events(study: Study, load: PriceLoader) -> list[StudiedEvent]:
    """Every shock within [run] start..end, day 0 at the session of the move."""
    settings, run = study.settings, study.spec.run
    scan = settings.shocks
    prices = load([*scan.tickers, *([scan.benchmark] if scan.benchmark else [])])
    shocks = find_shocks(prices, scan.threshold_pct / 100, tickers=scan.tickers, benchmark=scan.benchmark,
                         start=pd.Timestamp(run.start), end=pd.Timestamp(run.end))
    return [StudiedEvent(s.to_event(), s.day, settings.tickers or (s.ticker,)) for s in shocks]


def _select(study: Study, candidates: list[StudiedEvent]) -> list[StudiedEvent]:
    """Apply the event_ids and categories filters, and [run] start..end to day 0."""
    settings, run = study.settings, study.spec.run
    ids = [c.event.event_id for c in candidates]
    for wanted in settings.event_ids:
        if wanted not in ids:
            raise study.error("event_ids", f"no event {wanted!r} among the {len(ids)} events{suggest(wanted, ids)}")
    start, end = pd.Timestamp(run.start), pd.Timestamp(run.end)
    chosen = [
        c for c in candidates
        if (not settings.event_ids or c.event.event_id in settings.event_ids)
        and (not settings.categories or c.event.category in settings.categories)
        and start <= c.day0.normalize() <= end
    ]
    if not chosen:
        raise study.error(None, f"no event to study: none of the {len(candidates)} events passes the filters "
                                f"(event_ids, categories) with day 0 between [run] start {run.start} and end {run.end}")
    return chosen
