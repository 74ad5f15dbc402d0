"""News signals per ticker and session, point-in-time: only stories public before that session's open.

The signal of ticker X for session S is computed from the stories of X whose ``first_bar`` is S (the
news that became tradable at S's open) and, for the volume baseline, from earlier sessions only:

| column | meaning |
|---|---|
| ``stories`` | stories with ``first_bar == S`` |
| ``trailing_mean`` | mean of ``stories`` over the ``window`` sessions before S (undefined with less history) |
| ``abnormal_volume`` | ``stories / trailing_mean``: 3 is three times the usual news flow; undefined when the trailing mean is undefined or 0 |
| ``after_close_share`` | share of those stories released after a close (session ``after_close``) |
| ``sentiment_<scorer>`` | mean score of those stories (each story scored on its first headline) |
| ``extreme_<scorer>`` | the score furthest from 0 among them (the earliest such story on a tie) |

Nothing here reads what a story became later (its other rows, its number of sources), so a signal
can never change because of news that arrived after its session's open. Strategies receive these
rows only through :class:`newsbt.data.newsgate.NewsGate`.
"""

from __future__ import annotations

import pandas as pd

from newsbt.data.calendar import nyse_calendar

DEFAULT_WINDOW = 20
AFTER_CLOSE = "after_close"


def daily_signals(stories: pd.DataFrame, window: int = DEFAULT_WINDOW, start: pd.Timestamp | None = None,
                  end: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per (session, ticker) over the NYSE sessions ``start..end`` (default: the stories' span).

    ``stories`` needs ``ticker``, ``first_bar``, ``session`` and any ``score_<name>`` columns.
    """
    scorers = [c.removeprefix("score_") for c in stories.columns if c.startswith("score_")]
    columns = ["stories", "trailing_mean", "abnormal_volume", "after_close_share",
               *(f"{kind}_{s}" for s in scorers for kind in ("sentiment", "extreme"))]
    start = stories["first_bar"].min() if start is None else pd.Timestamp(start)
    end = stories["first_bar"].max() if end is None else pd.Timestamp(end)
    if stories.empty or start > end:
        return pd.DataFrame(columns=columns, index=pd.MultiIndex.from_tuples([], names=["session", "ticker"]))
    sessions = nyse_calendar().sessions_in_range(start, end).tz_localize(None)
    grid = pd.MultiIndex.from_product([sessions, sorted(stories["ticker"].unique())], names=["session", "ticker"])
    per = _per_session(stories, scorers).reindex(grid)
    per["stories"] = per["stories"].fillna(0).astype(int)
    by_ticker = per["stories"].groupby(level="ticker")
    per["trailing_mean"] = by_ticker.transform(lambda s: s.shift(1).rolling(window, min_periods=window).mean())
    per["abnormal_volume"] = per["stories"] / per["trailing_mean"].where(per["trailing_mean"] > 0)
    return per[columns]


def _per_session(stories: pd.DataFrame, scorers: list[str]) -> pd.DataFrame:
    """Count, after-close share, mean and most extreme score of each (first_bar, ticker)."""
    frame = stories.assign(after=stories["session"] == AFTER_CLOSE, session=stories["first_bar"])
    groups = frame.groupby(["session", "ticker"], sort=True)
    out = pd.DataFrame({"stories": groups.size(), "after_close_share": groups["after"].mean()})
    for s in scorers:
        score = frame[f"score_{s}"]
        out[f"sentiment_{s}"] = groups[f"score_{s}"].mean()
        strongest = frame.assign(_abs=score.abs()).sort_values("_abs", ascending=False, kind="stable")
        out[f"extreme_{s}"] = strongest.groupby(["session", "ticker"])[f"score_{s}"].first()
    return out
