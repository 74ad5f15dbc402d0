"""Event study of abnormal returns around news events (MacKinlay 1997, "Event Studies in Economics
and Finance", Journal of Economic Literature 35(1)).

Relative days count rows of the returns index (trading days) from day 0, the event's reaction day.
Per (event, ticker) pair a return model is fitted on the estimation window (default days -250..-11,
L = 240 returns) and abnormal returns AR_t = R_t - alpha - beta * Rm_t are taken over the event span
(the plotted path, default -10..+20, joined with every CAR window):

* ``market``: OLS of R on Rm, s^2 = sum(e^2) / (L - 2);
* ``constant_mean``: alpha = mean(R), beta = 0, s^2 = var(R, ddof=1);
* ``market_adjusted``: alpha = 0, beta = 1, s^2 = var(R - Rm, ddof=1).

CARs are standardized by their exact forecast-error variance (MacKinlay 1997, section 4: gamma' V gamma
with V = s^2 (I + X (X'X)^-1 X') and gamma = ones over a window of T days):

    Var(CAR) / s^2 = T + T^2 / L + (sum_window Rm - T * mean(Rm_est))^2 / sum((Rm_est - mean(Rm_est))^2)

for the market model; constant mean keeps T + T^2 / L; market adjusted estimates nothing and keeps
T. For T = 1 this is the textbook correction 1 + 1/L + (Rm_t - mean)^2 / Sxx of SAR_t; for longer
windows it is s * sqrt(T) plus the estimation error that all days of the window share.

A pair that cannot be studied (unknown ticker, day 0 not a trading date, short history, event window
past the data end, missing returns) is returned in ``skipped`` with the reason, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.study.stats import band_halfwidth, mean_cross_correlation, window_statistics

Window = tuple[int, int]
_Cars = dict[Window, tuple[np.ndarray, np.ndarray]]  # window -> (CAR, SCAR), one value per studied pair

MODEL_PARAMETERS = {"market": 2, "market_adjusted": 1, "constant_mean": 1}  # s^2 = SSE / (L - this)
DEFAULT_ESTIMATION: Window = (-250, -11)
DEFAULT_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (-1, 1), (0, 5), (0, 20))
DEFAULT_PATH: Window = (-10, 20)
RETURN_COLUMNS = ("close", "adj_close")


@dataclass(frozen=True)
class EventPair:
    """One event-ticker to study; ``day0`` is the event's reaction day (a trading date)."""

    event_id: str
    ticker: str
    day0: pd.Timestamp


@dataclass(frozen=True)
class SkippedPair:
    event_id: str
    ticker: str
    day0: pd.Timestamp
    reason: str


@dataclass(frozen=True)
class EventStudyResult:
    """Everything an event study produces.

    ``events``: one row per studied pair: event_id, ticker, day0, alpha, beta, sigma, ar0 (day-0 AR),
    t_ar0 (= SAR_0), then ``car[a,b]`` and ``scar[a,b]`` per window (see ``window_label``).
    ``abnormal``: AR per studied pair (index event_id, ticker) by relative day over the event span.
    ``caar``: one row per window: n, caar, sd_car, mean_scar and the statistics of
    ``newsbt.eventstats.window_statistics`` with their p-values.
    ``path``: per relative day of the path window: n, aar, caar and their 95% bands (``*_lo``, ``*_hi``).
    ``residual_correlation``: r-bar of the Kolari-Pynnonen adjustment.
    """

    model: str
    market: str
    estimation: Window
    windows: tuple[Window, ...]
    events: pd.DataFrame
    abnormal: pd.DataFrame
    caar: pd.DataFrame
    path: pd.DataFrame
    skipped: tuple[SkippedPair, ...]
    residual_correlation: float


@dataclass(frozen=True)
class _Sample:
    """Returns of the studied pairs: one row per pair, one column per relative day."""

    pairs: tuple[EventPair, ...]
    r_est: np.ndarray
    m_est: np.ndarray
    r_evt: np.ndarray
    m_evt: np.ndarray


@dataclass(frozen=True)
class _Fit:
    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    resid: np.ndarray


def window_label(window: Window) -> str:
    """``(-1, 1)`` -> ``"[-1,1]"``, the suffix of the car/scar columns and the caar ``window`` column."""
    return f"[{window[0]},{window[1]}]"


def returns_from_prices(prices: Mapping[str, pd.DataFrame], column: str = "adj_close") -> pd.DataFrame:
    """Simple daily returns P_t / P_{t-1} - 1, one column per ticker, on the union of all dates.

    Prices are aligned before differencing, so a date missing from one ticker makes that day and the
    next NaN rather than a two-day return booked on one day; each ticker's first date is NaN.
    """
    if column not in RETURN_COLUMNS:
        expected = ", ".join(RETURN_COLUMNS)
        raise NewsbtError(f"cannot compute returns from column {column!r}; expected one of {expected}")
    if not prices:
        raise NewsbtError("no price frames given to compute returns from")
    aligned = pd.DataFrame({ticker: frame[column] for ticker, frame in prices.items()}).sort_index()
    return aligned.pct_change(fill_method=None)


def run_event_study(
    returns: pd.DataFrame,
    pairs: Iterable[EventPair | tuple[str, str, object]],
    market: str,
    windows: Iterable[Window] = DEFAULT_WINDOWS,
    estimation: Window = DEFAULT_ESTIMATION,
    model: str = "market",
    path: Window = DEFAULT_PATH,
) -> EventStudyResult:
    """Fit, abnormal returns, CARs and cross-sectional tests for every (event_id, ticker, day0) pair."""
    windows = tuple((int(a), int(b)) for a, b in windows)
    estimation, path = (int(estimation[0]), int(estimation[1])), (int(path[0]), int(path[1]))
    span = _check_design(returns, market, model, estimation, windows, path)
    sample, skipped = _collect(returns, [_as_pair(p) for p in pairs], market, estimation, span)
    fit = _fit(sample.r_est, sample.m_est, model)
    ar = sample.r_evt - fit.alpha[:, None] - fit.beta[:, None] * sample.m_evt
    cars = {w: _window_car(ar, sample, fit, model, span, w) for w in dict.fromkeys(windows + ((0, 0),))}
    rbar = mean_cross_correlation(fit.resid)
    dof = np.full(len(ar), sample.r_est.shape[1] - MODEL_PARAMETERS[model], dtype=float)
    keys = pd.MultiIndex.from_tuples([(p.event_id, p.ticker) for p in sample.pairs], names=["event_id", "ticker"])
    return EventStudyResult(
        model=model,
        market=market,
        estimation=estimation,
        windows=windows,
        events=_events_table(sample.pairs, fit, cars, windows),
        abnormal=pd.DataFrame(ar, index=keys, columns=pd.RangeIndex(span[0], span[1] + 1, name="day")),
        caar=_caar_table(cars, windows, dof, rbar),
        path=_path_table(ar, span, path),
        skipped=tuple(skipped),
        residual_correlation=rbar,
    )


def _as_pair(pair: EventPair | tuple[str, str, object]) -> EventPair:
    event_id, ticker, day0 = (pair.event_id, pair.ticker, pair.day0) if isinstance(pair, EventPair) else pair
    try:
        stamp = pd.Timestamp(day0)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise NewsbtError(f"event {event_id} {ticker}: day 0 {day0!r} is not a date")
    return EventPair(str(event_id), str(ticker), stamp)


def _check_design(
    returns: pd.DataFrame, market: str, model: str, estimation: Window, windows: tuple[Window, ...], path: Window
) -> Window:
    """Refuse impossible parameters; return the event span (first, last relative day needed)."""
    if model not in MODEL_PARAMETERS:
        raise NewsbtError(f"unknown event-study model {model!r}; expected one of {', '.join(MODEL_PARAMETERS)}")
    if not isinstance(returns.index, pd.DatetimeIndex) or not returns.index.is_monotonic_increasing:
        raise NewsbtError("returns must be indexed by ascending dates")
    if not returns.index.is_unique:
        duplicate = returns.index[returns.index.duplicated()][0]
        raise NewsbtError(f"returns index has duplicate dates, e.g. {duplicate.date()}")
    if market not in returns.columns:
        columns = ", ".join(map(str, returns.columns))
        raise NewsbtError(f"market ticker {market} has no returns column (columns: {columns})")
    if not windows:
        raise NewsbtError("no CAR windows given")
    for name, (a, b) in [("estimation", estimation), ("path", path)] + [("CAR", w) for w in windows]:
        if a > b:
            raise NewsbtError(f"{name} window ({a}, {b}) ends before it starts")
    length, needed = estimation[1] - estimation[0] + 1, MODEL_PARAMETERS[model] + 3
    if length < needed:
        raise NewsbtError(
            f"estimation window {estimation} has {length} days; the {model} model needs at least {needed}"
        )
    span = (min(path[0], *(a for a, _ in windows)), max(path[1], *(b for _, b in windows)))
    if estimation[1] >= span[0]:
        raise NewsbtError(
            f"estimation window {estimation} must end before the event window starts (day {span[0]})"
        )
    return span


def _collect(
    returns: pd.DataFrame, pairs: list[EventPair], market: str, estimation: Window, span: Window
) -> tuple[_Sample, list[SkippedPair]]:
    """Gather estimation and event-span returns per pair; skip (with reason, in input order) pairs
    that lack any."""
    skipped, candidates, seen = [], [], set()
    for pair in pairs:
        reason = _lookup_problem(pair, returns, market, seen)
        if reason:
            skipped.append(SkippedPair(pair.event_id, pair.ticker, pair.day0, reason))
        else:
            candidates.append(pair)
    values = returns.to_numpy(dtype=float)
    rows = returns.index.get_indexer([p.day0 for p in candidates])
    cols = returns.columns.get_indexer([p.ticker for p in candidates])
    mcols = np.full(len(candidates), returns.columns.get_loc(market))
    r_est, m_est = _gather(values, rows, cols, estimation), _gather(values, rows, mcols, estimation)
    r_evt, m_evt = _gather(values, rows, cols, span), _gather(values, rows, mcols, span)
    est_found = (np.isfinite(r_est) & np.isfinite(m_est)).sum(axis=1)
    evt_ok = (np.isfinite(r_evt) & np.isfinite(m_evt)).all(axis=1)
    keep = (est_found == r_est.shape[1]) & evt_ok
    for i in np.flatnonzero(~keep):
        if est_found[i] < r_est.shape[1]:
            reason = _estimation_reason(returns, candidates[i], rows[i], market, estimation, int(est_found[i]))
        else:
            reason = _event_reason(returns.index, rows[i], span, np.isfinite(r_evt[i]) & np.isfinite(m_evt[i]))
        skipped.append(SkippedPair(candidates[i].event_id, candidates[i].ticker, candidates[i].day0, reason))
    studied = tuple(p for p, k in zip(candidates, keep) if k)
    order = {}
    for i, p in enumerate(pairs):
        order.setdefault((p.event_id, p.ticker, p.day0), i)
    skipped.sort(key=lambda s: order[(s.event_id, s.ticker, s.day0)])
    return _Sample(studied, r_est[keep], m_est[keep], r_evt[keep], m_evt[keep]), skipped


def _lookup_problem(pair: EventPair, returns: pd.DataFrame, market: str, seen: set) -> str | None:
    if pair.ticker not in returns.columns:
        return f"no returns for {pair.ticker}"
    if pair.ticker == market:
        return f"{pair.ticker} is the market ticker and cannot be studied against itself"
    if (pair.event_id, pair.ticker) in seen:
        return "duplicate of an earlier pair with the same event_id and ticker"
    seen.add((pair.event_id, pair.ticker))
    if pair.day0 not in returns.index:
        return f"day 0 {pair.day0.date()} is not a trading date of the returns"
    return None


def _gather(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, window: Window) -> np.ndarray:
    """values[rows + k, cols] for k in the window (pairs x days), NaN outside the data."""
    idx = rows[:, None] + np.arange(window[0], window[1] + 1)[None, :]
    inside = (idx >= 0) & (idx < len(values))
    out = np.full(idx.shape, np.nan)
    out[inside] = values[idx[inside], np.broadcast_to(cols[:, None], idx.shape)[inside]]
    return out


def _estimation_reason(
    returns: pd.DataFrame, pair: EventPair, row: int, market: str, estimation: Window, found: int
) -> str:
    """Why the estimation window is short: late first return (listing) of ticker or market, or gaps."""
    length = estimation[1] - estimation[0] + 1
    head = f"estimation window needs {length} returns, found {found}"
    start = row + estimation[0]
    for name in (pair.ticker, market):
        first = returns[name].first_valid_index()
        if first is None:
            return f"{head} ({name} has no returns)"
        if returns.index.get_loc(first) > start:
            return f"{head} ({name} returns start {first.date()})"
    dates = returns.index[[start, row + estimation[1]]]
    return f"{head} ({length - found} missing between {dates[0].date()} and {dates[1].date()})"


def _event_reason(index: pd.DatetimeIndex, row: int, span: Window, finite: np.ndarray) -> str:
    last = len(index) - 1
    if row + span[1] > last:
        end = f"data ends {index[-1].date()} (day {last - row:+d})"
        return f"event window needs returns to day {span[1]:+d}, {end}"
    missing = index[row + span[0] + np.flatnonzero(~finite)]
    return f"event window misses {len(missing)} return(s), first on {missing[0].date()}"


def _fit(r_est: np.ndarray, m_est: np.ndarray, model: str) -> _Fit:
    """Per-pair alpha, beta, residuals and s (see module docstring); rows are pairs."""
    n, length = r_est.shape
    if model == "market":
        m_dev = m_est - m_est.mean(axis=1, keepdims=True)
        beta = (m_dev * r_est).sum(axis=1) / (m_dev**2).sum(axis=1)
        alpha = r_est.mean(axis=1) - beta * m_est.mean(axis=1)
    elif model == "constant_mean":
        alpha, beta = r_est.mean(axis=1), np.zeros(n)
    else:
        alpha, beta = np.zeros(n), np.ones(n)
    resid = r_est - alpha[:, None] - beta[:, None] * m_est
    sse = ((resid - resid.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    return _Fit(alpha, beta, np.sqrt(sse / (length - MODEL_PARAMETERS[model])), resid)


def _variance_multiplier(model: str, m_est: np.ndarray, m_sum: np.ndarray, days: int) -> np.ndarray:
    """Var(CAR) / s^2 over a window of ``days`` days whose market returns sum to ``m_sum``."""
    if model == "market_adjusted":
        return np.full(len(m_sum), float(days))
    length = m_est.shape[1]
    extra = days**2 / length
    if model == "market":
        m_mean = m_est.mean(axis=1)
        sxx = ((m_est - m_mean[:, None]) ** 2).sum(axis=1)
        extra = extra + (m_sum - days * m_mean) ** 2 / sxx
    return days + extra


def _window_car(
    ar: np.ndarray, sample: _Sample, fit: _Fit, model: str, span: Window, window: Window
) -> tuple[np.ndarray, np.ndarray]:
    """CAR and standardized CAR per pair over one window."""
    cols = slice(window[0] - span[0], window[1] - span[0] + 1)
    car = ar[:, cols].sum(axis=1)
    days = window[1] - window[0] + 1
    multiplier = _variance_multiplier(model, sample.m_est, sample.m_evt[:, cols].sum(axis=1), days)
    return car, car / (fit.sigma * np.sqrt(multiplier))


def _events_table(
    pairs: tuple[EventPair, ...], fit: _Fit, cars: _Cars, windows: tuple[Window, ...]
) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "event_id": [p.event_id for p in pairs],
            "ticker": [p.ticker for p in pairs],
            "day0": pd.DatetimeIndex([p.day0 for p in pairs]),
            "alpha": fit.alpha,
            "beta": fit.beta,
            "sigma": fit.sigma,
            "ar0": cars[(0, 0)][0],
            "t_ar0": cars[(0, 0)][1],
        }
    )
    for w in windows:
        table[f"car{window_label(w)}"] = cars[w][0]
    for w in windows:
        table[f"scar{window_label(w)}"] = cars[w][1]
    return table


def _mean(x: np.ndarray) -> np.ndarray | float:
    """Mean over pairs (axis 0), NaN rather than a warning when there are none."""
    return x.mean(axis=0) if len(x) else np.full(x.shape[1:], np.nan)[()]


def _caar_table(cars: _Cars, windows: tuple[Window, ...], dof: np.ndarray, rbar: float) -> pd.DataFrame:
    rows = []
    for w in windows:
        car, scar = cars[w]
        rows.append(
            {
                "window": window_label(w),
                "start": w[0],
                "end": w[1],
                "n": len(car),
                "caar": float(_mean(car)),
                "sd_car": float(car.std(ddof=1)) if len(car) > 1 else np.nan,
                "mean_scar": float(_mean(scar)),
                **window_statistics(car, scar, dof, rbar),
            }
        )
    return pd.DataFrame(rows)


def _path_table(ar: np.ndarray, span: Window, path: Window) -> pd.DataFrame:
    """AAR_t and CAAR_t (cumulated from the first path day) with 95% bands from the cross-sectional
    sd: mean +- t_{0.975, N-1} * sd / sqrt(N)."""
    daily = ar[:, path[0] - span[0] : path[1] - span[0] + 1]
    cumulative = daily.cumsum(axis=1)
    aar, caar = _mean(daily), _mean(cumulative)
    aar_half, caar_half = band_halfwidth(daily), band_halfwidth(cumulative)
    return pd.DataFrame(
        {
            "n": len(ar),
            "aar": aar,
            "aar_lo": aar - aar_half,
            "aar_hi": aar + aar_half,
            "caar": caar,
            "caar_lo": caar - caar_half,
            "caar_hi": caar + caar_half,
        },
        index=pd.RangeIndex(path[0], path[1] + 1, name="day"),
    )
