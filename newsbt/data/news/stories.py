"""Stories, not rows: the same news from several publishers or datasets collapses into one story.

The rule (``StoryRule``), applied per ticker, walking the rows in order of ``available_at``:

1. a row whose URL (non-empty) is already a story's for that ticker joins that story;
2. else a row joins the story, of the same ticker and first seen at most ``window_hours`` earlier,
   whose *first* headline is the most similar to its own, if that similarity is at least
   ``min_similarity``. Similarity is the Jaccard index of the two headlines' word sets after
   normalising: Unicode NFKC, lower case, a trailing publisher tag such as `` — Barrons.com`` or
   `` - Reuters`` dropped, every run of non-alphanumerics a single space;
3. else the row starts a new story.

The walk is causal on purpose: a row is matched only against stories already seen, and only
against each story's first headline, so a later row can never change an earlier story's time or
headline, nor merge two earlier stories (which single-linkage clustering would do). A story's
``first_seen`` is its earliest row's ``available_at``: when two sources disagree on the time, the
earliest wins. Its ``headline``, ``source``, ``url``, ``session``, ``first_bar`` and ``reaction_day``
are its first row's; ``n_rows``, ``n_sources`` (distinct non-empty sources, else datasets) and
``rows`` (each row's ``file:line``) are kept for inspection, not for trading: they grow after
``first_seen``, so signals never read them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

PUBLISHER_TAG = re.compile(r"\s+[-\u2013\u2014|]\s+(?:\S+\s*){1,3}$")
NON_WORD = re.compile(r"[^0-9a-z]+")
STORY_COLUMNS = ("story_id", "ticker", "first_seen", "published_at", "date_only", "headline", "source", "url",
                 "dataset", "session", "first_bar", "reaction_day", "n_rows", "n_sources", "rows")


@dataclass(frozen=True)
class StoryRule:
    """When two rows are one story (see the module docstring)."""

    window_hours: float = 24.0
    min_similarity: float = 0.8


def words(headline: str) -> frozenset[str]:
    """The normalised word set of a headline (the unit of similarity)."""
    text = unicodedata.normalize("NFKC", headline).strip()
    text = PUBLISHER_TAG.sub("", text).lower()
    return frozenset(NON_WORD.sub(" ", text).split())


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard index of two word sets; two empty sets are not similar (nothing to compare)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def assign_stories(rows: pd.DataFrame, rule: StoryRule = StoryRule()) -> np.ndarray:
    """A story number for each row (rows in ``available_at`` order, ties in input order)."""
    times = pd.DatetimeIndex(rows["available_at"]).as_unit("ns").asi8
    order = np.lexsort((np.arange(len(rows)), times))
    window = int(rule.window_hours * 3600e9)
    tickers, urls, headlines = rows["ticker"].to_numpy(), rows["url"].to_numpy(), rows["headline"].to_numpy()
    by_url: dict[tuple[str, str], int] = {}
    recent: dict[str, list[tuple[int, frozenset[str], int]]] = defaultdict(list)  # (first ns, words, story)
    story = np.empty(len(rows), dtype=np.int64)
    count = 0
    for i in order:
        ticker, url, t = tickers[i], str(urls[i]).strip(), times[i]
        found = by_url.get((ticker, url)) if url else None
        if found is None:
            live = recent[ticker] = [s for s in recent[ticker] if t - s[0] <= window]
            mine = words(headlines[i])
            scored = [(similarity(mine, w), -first, sid) for first, w, sid in live]
            best = max(scored, default=None)
            if best is not None and best[0] >= rule.min_similarity:
                found = best[2]
            else:
                found, count = count, count + 1
                live.append((t, mine, found))
        if url:
            by_url.setdefault((ticker, url), found)
        story[i] = found
    return story


def build_stories(rows: pd.DataFrame, rule: StoryRule = StoryRule()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(rows with a story_id, one row per story)``; both sorted by time, stories by first_seen."""
    rows = rows.assign(story_id=assign_stories(rows, rule), _order=np.arange(len(rows)))
    rows = rows.sort_values(["available_at", "_order"], kind="stable").drop(columns="_order")
    grouped = rows.groupby("story_id", sort=False)
    first = grouped.head(1).set_index("story_id")
    sources = rows["source"].astype(str).str.strip().where(lambda s: s != "", "dataset:" + rows["dataset"])
    stories = first.assign(
        first_seen=first["available_at"],
        n_rows=grouped.size(),
        n_sources=sources.groupby(rows["story_id"]).nunique(),
        rows=grouped["loc"].agg(";".join),
    ).reset_index()
    return rows.reset_index(drop=True), stories[list(STORY_COLUMNS)].reset_index(drop=True)
