"""Event studies on a headline store: ticker-sessions of unusual news volume, bucketed by sentiment,
and feed text (headline, source, URL) shown as text, with links only for http(s) URLs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from newsbt.core.errors import NewsbtError
from newsbt.data.news.store import import_news, read_store, replace_stories
from newsbt.data.news.sentiment import score_headlines
from newsbt.reports.htmlpage import SORT_SCRIPT, link
from newsbt.study.runner import StudyOutcome, run_study
from tests.conftest import write_price_files
from tests.test_study import study_file, synthetic_prices

SCRIPT_HEADLINE = "<script>alert(2)</script> AAA losses plunge"
HOSTILE_SOURCE = '<img src=x onerror="alert(3)">'
JS_URL = "javascript:alert(4)"
DATA_URL = "data:text/html,<script>alert(5)</script>"
SAFE_URL = 'https://example.com/a?x=1&y="2"'
# one AAA story a session, 2024-06-03..06-07 (a 2-session volume baseline makes the last three
# abnormal); the hostile rows are the only story of their session, so each is an event's headline
FEED = f"""published_at,ticker,headline,source,url,dataset
2024-06-03T10:00:00-04:00,AAA,AAA opens a plant,wire,https://w/1,t
2024-06-04T10:00:00-04:00,AAA,AAA names a chief,wire,https://w/2,t
2024-06-05T10:00:00-04:00,AAA,"{SCRIPT_HEADLINE}",wire,{JS_URL},t
2024-06-06T10:00:00-04:00,AAA,AAA profit surges to record,"{HOSTILE_SOURCE.replace('"', '""')}","{DATA_URL}",t
2024-06-07T10:00:00-04:00,AAA,AAA holds a meeting,wire,"{SAFE_URL.replace('"', '""')}",t
"""


def news_project(root: Path) -> Path:
    """Synthetic prices and a scored news store (with hostile rows) under ``root``; returns the store."""
    write_price_files(root / "prices", synthetic_prices())
    (root / "feed.csv").write_text(FEED)
    import_news([root / "feed.csv"], {"AAA", "BBB", "MKT"}, root / "news")
    news = read_store(root / "news")
    replace_stories(news, news.stories.assign(score_lm=score_headlines(news.stories["headline"], "lm").to_numpy()))
    return root / "news"


def news_study(root: Path, name: str = "news_study", extra: str = "") -> StudyOutcome:
    store = news_project(root)
    path = study_file(root, f'news = {{store = "{store.as_posix()}", window = 2, top_pct = 100}}\n{extra}', name=name)
    return run_study(path, data_dir=root / "prices")


def test_link_makes_links_of_http_urls_only() -> None:
    assert link("https://x.org/a?b=1&c=2") == ('<a href="https://x.org/a?b=1&amp;c=2" rel="noopener noreferrer '
                                               'nofollow">https://x.org/a?b=1&amp;c=2</a>')
    assert link("HTTP://x.org", "x") == '<a href="HTTP://x.org" rel="noopener noreferrer nofollow">x</a>'
    assert link(JS_URL) == "javascript:alert(4)"
    assert link(" JavaScript:alert(1)") == " JavaScript:alert(1)"
    assert link(DATA_URL) == "data:text/html,&lt;script&gt;alert(5)&lt;/script&gt;"
    assert link("https://x.org/\njavascript:1") == "https://x.org/\njavascript:1"  # no control characters in href
    assert link("http://[::1") == "http://[::1"  # unparseable: text
    assert link("") == ""


def test_news_study_buckets_the_abnormal_sessions_by_sentiment(tmp_path: Path) -> None:
    outcome = news_study(tmp_path)
    assert [(e.event.event_id, f"{e.day0:%Y-%m-%d}", e.bucket) for e in outcome.events] == [
        ("AAA-2024-06-06", "2024-06-06", "negative"),   # the 06-05 10:00 story: first tradable at 06-06's open
        ("AAA-2024-06-07", "2024-06-07", "positive"),
        ("AAA-2024-06-10", "2024-06-10", "neutral"),
    ]
    assert outcome.events[0].event.headline == SCRIPT_HEADLINE and outcome.events[0].event.url == JS_URL
    assert [b for b, _ in outcome.buckets] == ["positive", "negative", "neutral"]
    assert [len(r.events) for _, r in outcome.buckets] == [1, 1, 1]
    for _, result in outcome.buckets:  # each bucket is its own study of its own events
        assert result.caar["n"].tolist() == [1] * 5
    assert outcome.result.caar["n"].tolist() == [3] * 5


def test_news_study_report_keeps_feed_text_as_text(tmp_path: Path) -> None:
    page = news_study(tmp_path).write(tmp_path / "reports").read_text()
    assert page.count("<script") == 1 and f"<script>{SORT_SCRIPT}</script>" in page  # only the table sorter
    assert "<script>alert" not in page and "<img src=x" not in page and "onerror=\"" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt; AAA losses plunge" in page
    assert "&lt;img src=x onerror=&quot;alert(3)&quot;&gt;" in page
    assert 'href="javascript' not in page and 'href="data:text' not in page and "<td>javascript:alert(4)</td>" in page
    assert '<a href="https://example.com/a?x=1&amp;y=&quot;2&quot;" rel="noopener noreferrer nofollow">' in page
    assert "<h2>CAAR by sentiment bucket</h2>" in page
    buckets = pd.read_csv(tmp_path / "reports" / "news_study" / "study" / "buckets.csv")
    assert buckets["bucket"].unique().tolist() == ["positive", "negative", "neutral"]


def test_news_study_mistakes_are_located(tmp_path: Path) -> None:
    store = news_project(tmp_path)
    path = study_file(tmp_path, f'news = {{store = "{store.as_posix()}", top_pct = 0}}')
    with pytest.raises(NewsbtError, match=r"synthetic_study.toml:\d+: \[study.news\] top_pct: Input should be greater"):
        run_study(path, data_dir=tmp_path / "prices")
    path = study_file(tmp_path, f'news = {{store = "{store.as_posix()}"}}')  # 20-session baseline: too short
    with pytest.raises(NewsbtError, match="no ticker-session with news between 2024-01-01 and 2024-12-31 has 20 sessions"):
        run_study(path, data_dir=tmp_path / "prices")
    path = study_file(tmp_path, f'news = {{store = "{(tmp_path / "none").as_posix()}"}}')
    with pytest.raises(NewsbtError, match="no news store at .*none; build it with: newsbt news import FILE"):
        run_study(path, data_dir=tmp_path / "prices")
