"""Headline stores: every feed shape read, every bad row reported, honest times, stories not rows.

All inputs are small files each test writes itself (the real feed is never part of the project).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsbt.cli import main
from newsbt.core.errors import NewsbtError
from newsbt.data.events import event_timing, parse_events
from newsbt.data.news.feeds import read_feed
from newsbt.data.news.rows import DateOnlyPolicy, validate_rows
from newsbt.data.news.store import coverage, coverage_gaps, import_news, read_store
from newsbt.data.news.stories import StoryRule, build_stories, words

KNOWN = {"NVDA", "AMD", "AAPL"}
HEADER = "published_at,ticker,headline,source,url,dataset\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows_of(tmp_path: Path, body: str, **kwargs) -> pd.DataFrame:
    return validate_rows(read_feed(write(tmp_path, "news.csv", HEADER + body)), KNOWN, **kwargs)


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# ------------------------------------------------------------------------------------------ adapters


def test_every_adapter_reads_its_shape(tmp_path: Path) -> None:
    newsbt_csv = write(tmp_path, "a.csv", HEADER + "2025-01-27T08:25:00-05:00,NVDA,Chips sink,Reuters,https://r/1,x\n")
    benzinga = write(tmp_path, "b.csv", "headline,url,publisher,date,stock\n"
                                        "AMD beats,https://bz/2,Benzinga,2025-01-28 16:05:00-05:00,AMD\n")
    alpha = write(tmp_path, "c.json", json.dumps({"items": "1", "feed": [{
        "title": "DeepSeek rattles Nvidia", "url": "https://av/3", "time_published": "20250127T133000",
        "source": "Motley Fool", "ticker_sentiment": [{"ticker": "NVDA"}, {"ticker": "AMD"}]}]}))
    fmp = write(tmp_path, "d.json", json.dumps([{
        "symbol": "AAPL", "publishedDate": "2025-01-27 09:00:00", "title": "Apple holds up", "image": "",
        "site": "cnbc.com", "text": "...", "url": "https://fmp/4"}]))
    lines = write(tmp_path, "e.jsonl", json.dumps({"symbol": "AMD", "publishedDate": "2025-01-29 10:00:00",
                                                  "title": "AMD line", "site": "s", "url": ""}) + "\n\n" +
                  json.dumps({"title": "AV line", "url": "u", "time_published": "20250129T150000", "source": "s",
                              "ticker_sentiment": [{"ticker": "NVDA"}]}) + "\n")
    frames = {p.name: read_feed(p) for p in (newsbt_csv, benzinga, alpha, fmp, lines)}
    assert frames["a.csv"].iloc[0].to_dict() == {
        "loc": f"{newsbt_csv}:2", "published_at": "2025-01-27T08:25:00-05:00", "ticker": "NVDA",
        "headline": "Chips sink", "source": "Reuters", "url": "https://r/1", "dataset": "x"}
    assert frames["b.csv"].iloc[0][["published_at", "ticker", "headline", "source", "dataset"]].tolist() == [
        "2025-01-28 16:05:00-05:00", "AMD", "AMD beats", "Benzinga", "b.csv"]
    assert frames["c.json"][["loc", "published_at", "ticker"]].values.tolist() == [
        [f"{alpha}: item 1", "2025-01-27T13:30:00", "NVDA"], [f"{alpha}: item 1", "2025-01-27T13:30:00", "AMD"]]
    assert frames["d.json"].iloc[0][["published_at", "ticker", "headline", "source"]].tolist() == [
        "2025-01-27 09:00:00", "AAPL", "Apple holds up", "cnbc.com"]
    assert frames["e.jsonl"][["loc", "ticker", "published_at"]].values.tolist() == [
        [f"{lines}:1", "AMD", "2025-01-29 10:00:00"], [f"{lines}:3", "NVDA", "2025-01-29T15:00:00"]]
    # feeds without an offset need their zone stated: Alpha Vantage in UTC, FMP in New York time
    utc = validate_rows(frames["c.json"], KNOWN, timezone="UTC")
    assert utc["published_at"].tolist() == [pd.Timestamp("2025-01-27T13:30:00Z")] * 2
    eastern = validate_rows(frames["d.json"], KNOWN, timezone="America/New_York")
    assert eastern["published_at"].iloc[0] == pd.Timestamp("2025-01-27T14:00:00Z")


@pytest.mark.parametrize(("name", "text", "message"), [
    ("x.csv", "when,what\n1,2\n", "x.csv:1: unknown news CSV header when,what"),
    ("x.csv", HEADER + "2025-01-27T08:25:00-05:00,NVDA\n", "x.csv:2: expected 6 fields like the header, found 2"),
    ("x.json", "[1, 2", "x.json:1: not valid JSON"),
    ("x.json", '{"items": 3}', 'x.json: expected a JSON list of FMP items or an Alpha Vantage object'),
    ("x.json", '[{"id": 1}]', "x.json: item 1: unknown news item (keys id)"),
    ("x.jsonl", '{"symbol": "AMD"}\n[3]\n', "x.jsonl:2: expected a JSON object, found list"),
    ("x.json", '{"feed": [{"ticker_sentiment": "NVDA"}]}', 'x.json: item 1: "ticker_sentiment" must be a list'),
    ("x.csv", "", "x.csv: empty news file"),
])
def test_unreadable_shapes_are_one_line_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(NewsbtError) as caught:
        read_feed(write(tmp_path, name, text))
    assert str(caught.value).startswith(str(tmp_path / message.split(":")[0]) + message[len(message.split(":")[0]):])


def test_every_bad_row_is_reported_with_its_line_and_reason(tmp_path: Path) -> None:
    body = ("2025-01-27T08:25:00-05:00,NVDA,fine,s,,d\n"
            "2025-01-27T08:25:00,NVDA,no offset,s,,d\n"
            "2025-01-27T08:25:00Z,TSLA,unknown ticker,s,,d\n"
            '2025-01-27T08:25:00Z,AMD,"  ",s,,d\n'
            "yesterday,AMD,bad time,s,,d\n"
            "2025-02-30,AMD,bad date,s,,d\n"
            ",AMD,no time,s,,d\n"
            "1990-01-02T10:00:00Z,AMD,too old,s,,d\n"
            "2030-12-31T15:00:00Z,AMD,no session after it,s,,d\n")
    with pytest.raises(NewsbtError) as caught:
        rows_of(tmp_path, body)
    path = tmp_path / "news.csv"
    lines = str(caught.value).splitlines()
    assert lines[0] == "8 bad rows in news input, nothing was written:"
    assert lines[1].startswith(f"{path}:3: no UTC offset in published_at; write e.g. 2025-01-27T08:25:00-05:00")
    assert lines[2] == f"{path}:4: unknown ticker 'TSLA' (no price file)"
    assert lines[3] == f"{path}:5: empty headline"
    assert lines[4].startswith(f"{path}:6: unparseable time in published_at")
    assert lines[5] == f"{path}:7: unparseable date (expected YYYY-MM-DD)"
    assert lines[6].startswith(f"{path}:8: missing published_at")
    assert lines[7] == f"{path}:9: time outside the NYSE calendar (2000-01-01..2030-12-31)"
    assert lines[8] == f"{path}:10: time outside the NYSE calendar (2000-01-01..2030-12-31)"


def test_a_bad_file_leaves_the_old_store_untouched(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", HEADER + "2025-01-27T08:25:00-05:00,NVDA,Chips sink,s,,d\n")
    store = tmp_path / "store"
    import_news([good], KNOWN, store)
    before = {p.name: p.read_bytes() for p in store.iterdir()}
    bad = write(tmp_path, "bad.csv", HEADER + "2025-01-27T08:25:00-05:00,NVDA,ok,s,,d\nsoon,NVDA,x,s,,d\n")
    with pytest.raises(NewsbtError, match="bad.csv:3: unparseable time"):
        import_news([good, bad], KNOWN, store)
    assert {p.name: p.read_bytes() for p in store.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "good.csv", "store"]  # no temporary left


# ------------------------------------------------------------------------------------------ time


def test_times_map_by_the_event_rule_and_bare_dates_get_no_invented_time(tmp_path: Path) -> None:
    body = ("2025-01-27T08:25:00-05:00,NVDA,pre-market,s,,d\n"
            "2025-01-27T10:00:00-05:00,NVDA,regular,s,,d\n"
            "2025-01-27T21:30:00Z,NVDA,after the close,s,,d\n"
            "2025-01-25,NVDA,a Saturday date,s,,d\n"
            "2025-01-27,NVDA,a Monday date,s,,d\n")
    rows = rows_of(tmp_path, body)
    assert rows["session"].tolist() == ["pre_market", "regular", "after_close", "date_only", "date_only"]
    assert rows["first_bar"].tolist() == [day("2025-01-27"), day("2025-01-28"), day("2025-01-28"),
                                          day("2025-01-27"), day("2025-01-28")]
    assert rows["reaction_day"].tolist() == [day("2025-01-27"), day("2025-01-27"), day("2025-01-28"),
                                             day("2025-01-27"), day("2025-01-28")]
    assert rows["published_at"].isna().tolist() == [False, False, False, True, True]
    assert rows["date_only"].tolist() == [False, False, False, True, True]
    # a bare date is public at the end of its New York day: after every close, never before one
    assert rows["available_at"].iloc[4] == pd.Timestamp("2025-01-28T00:00:00-05:00")
    # the timed rows' first bar and reaction day are exactly what an event file gives the same instants
    events = parse_events("event_id,published_at,tickers,headline,category,direction,source,notes\n" + "".join(
        f"e{i},{t},NVDA,h,other,0,s,\n" for i, t in enumerate(
            ["2025-01-27T08:25:00-05:00", "2025-01-27T10:00:00-05:00", "2025-01-27T21:30:00Z"])), KNOWN)
    timing = event_timing(events)
    assert timing["first_bar"].tolist() == rows["first_bar"].iloc[:3].tolist()
    assert timing["reaction_day"].tolist() == rows["reaction_day"].iloc[:3].tolist()


def test_before_open_policy_makes_a_bare_date_public_that_morning(tmp_path: Path) -> None:
    rows = rows_of(tmp_path, "2025-01-27,NVDA,a Monday date,s,,d\n2025-01-25,NVDA,Saturday,s,,d\n",
                   date_only=DateOnlyPolicy.BEFORE_OPEN)
    assert rows["first_bar"].tolist() == [day("2025-01-27"), day("2025-01-27")]
    assert rows["reaction_day"].tolist() == [day("2025-01-27"), day("2025-01-27")]


# ------------------------------------------------------------------------------------------ stories


def stories_of(tmp_path: Path, body: str, rule: StoryRule = StoryRule()) -> tuple[pd.DataFrame, pd.DataFrame]:
    return build_stories(rows_of(tmp_path, body), rule)


def test_normalised_words_drop_case_punctuation_and_a_publisher_tag() -> None:
    assert words("Nvidia Sinks on DeepSeek — Barrons.com") == {"nvidia", "sinks", "on", "deepseek"}
    assert words("NVIDIA sinks, on DeepSeek! - Reuters") == words("nvidia sinks on deepseek")
    assert words("S&P 500: chips slide") == {"s", "p", "500", "chips", "slide"}


def test_one_story_from_many_publishers_earliest_time_wins(tmp_path: Path) -> None:
    body = ("2025-01-27T10:40:00-05:00,NVDA,Nvidia sinks on DeepSeek threat — Barrons.com,tv,https://tv/1,tv\n"
            "2025-01-27T09:30:00-05:00,NVDA,Nvidia Sinks On DeepSeek Threat,fmp,https://fmp/1,fmp\n"
            "2025-01-28T09:29:00-05:00,NVDA,Nvidia sinks on DeepSeek threat,late,https://late/1,fmp\n"
            "2025-01-29T09:00:00-05:00,NVDA,Different words entirely,x,https://fmp/1,fmp\n"
            "2025-01-27T09:45:00-05:00,AMD,Nvidia sinks on DeepSeek threat,fmp,https://fmp/1,fmp\n"
            "2025-01-28T09:31:00-05:00,NVDA,Nvidia sinks on DeepSeek threat,beyond,https://b/1,gn\n")
    rows, stories = stories_of(tmp_path, body)
    assert len(rows) == 6 and len(stories) == 3
    nvda = stories.iloc[0]
    assert (nvda["ticker"], nvda["headline"], nvda["source"]) == ("NVDA", "Nvidia Sinks On DeepSeek Threat", "fmp")
    assert nvda["first_seen"] == pd.Timestamp("2025-01-27T14:30:00Z")  # the earlier of the two stamps
    assert nvda["first_bar"] == day("2025-01-28") and nvda["session"] == "regular"
    # joined: the Barron's copy (same words), the copy 23 h 59 min later, the same URL two days later
    assert (nvda["n_rows"], nvda["n_sources"]) == (4, 4)
    path = tmp_path / "news.csv"
    assert nvda["rows"] == f"{path}:3;{path}:2;{path}:4;{path}:5"
    # the same URL for another ticker is that ticker's story; 24 h and 1 min later is a new story
    assert stories["ticker"].tolist() == ["NVDA", "AMD", "NVDA"]
    assert stories["first_seen"].iloc[2] == pd.Timestamp("2025-01-28T14:31:00Z")


def test_near_identical_means_word_overlap_at_the_threshold(tmp_path: Path) -> None:
    # 5 shared words of 6 in the union: Jaccard 0.833 joins at 0.8, not at 0.9
    body = ("2025-01-27T09:00:00-05:00,NVDA,Nvidia shares fall on DeepSeek,a,,a\n"
            "2025-01-27T09:10:00-05:00,NVDA,Nvidia shares fall on DeepSeek news,b,,b\n")
    assert len(stories_of(tmp_path, body)[1]) == 1
    assert len(stories_of(tmp_path, body, StoryRule(min_similarity=0.9))[1]) == 2


def test_a_later_row_never_merges_or_moves_earlier_stories(tmp_path: Path) -> None:
    """A chain A ~ H ~ B: single linkage would merge A and B once H arrives; the causal rule does not."""
    a = "2025-01-27T09:00:00-05:00,NVDA,one two three four five six seven eight,a,,a\n"
    b = "2025-01-27T12:00:00-05:00,NVDA,one two three four five six nine ten,b,,b\n"
    h = "2025-01-27T13:00:00-05:00,NVDA,one two three four five six seven eight nine,h,,h\n"
    without = stories_of(tmp_path, a + b)[1]
    with_h = stories_of(tmp_path, a + b + h)[1]
    assert len(without) == 2 and len(with_h) == 2
    assert with_h[["first_seen", "headline", "first_bar"]].equals(without[["first_seen", "headline", "first_bar"]])
    assert with_h["n_rows"].tolist() == [2, 1]


# ------------------------------------------------------------------------------------------ store


def test_import_writes_a_store_and_reports_collapsed_rows(tmp_path: Path, capsys) -> None:
    feed = write(tmp_path, "feed.csv", HEADER +
                 "2025-01-27T09:30:00-05:00,NVDA,Nvidia sinks,a,https://x/1,a\n"
                 "2025-01-27T09:40:00-05:00,NVDA,Nvidia sinks,b,https://y/1,b\n"
                 "2025-01-27,AMD,AMD date only,c,,c\n"
                 "2025-03-03T12:00:00-05:00,AMD,AMD later,c,,c\n")
    prices = tmp_path / "prices"
    prices.mkdir()
    for ticker in ("NVDA", "AMD"):
        (prices / f"{ticker}.csv").write_text("date,open,high,low,close,adj_close,volume\n")
    with pytest.raises(SystemExit) as done:
        main(["news", "import", str(feed), "--store", str(tmp_path / "store"), "--data-dir", str(prices)])
    assert done.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "4 rows from 1 file(s) -> 3 stories (1 rows collapsed into earlier stories), 1 date-only rows" in printed
    store = read_store(tmp_path / "store")
    assert store.meta["rule"] == {"window_hours": 24.0, "min_similarity": 0.8}
    assert store.meta["date_only"] == "after_close"
    assert store.rows["story_id"].tolist() == [0, 0, 1, 2]
    table = coverage(store)
    assert table.loc[("AMD", "2025-01")].tolist() == [1, 1, 1.0]
    assert table.loc[("NVDA", "2025-01")].tolist() == [2, 1, 0.0]
    gaps = coverage_gaps(store, ["NVDA", "AMD", "AAPL"], day("2025-01-02"), day("2025-02-28"))
    assert gaps == ["NVDA: no news in 2025-02 (run 2025-01-02..2025-02-28)",
                    "AMD: no news in 2025-02 (run 2025-01-02..2025-02-28)",
                    f"AAPL: no news at all in {tmp_path / 'store'} for the run 2025-01-02..2025-02-28"]
    assert coverage_gaps(store, ["AMD"], day("2024-10-01"), day("2025-06-30")) == [
        "AMD: no news in 2024-10..2024-12, 2025-02, 2025-04..2025-06 (run 2024-10-01..2025-06-30)"]
    main_out = _cli(["news", "stats", "--store", str(tmp_path / "store")], capsys)
    assert "4 rows, 3 stories, 25% date-only" in main_out and "AMD" in main_out


def _cli(args: list[str], capsys) -> str:
    with pytest.raises(SystemExit):
        main(args)
    return capsys.readouterr().out


def test_import_without_price_files_says_where_tickers_come_from(tmp_path: Path) -> None:
    feed = write(tmp_path, "feed.csv", HEADER + "2025-01-27T09:30:00-05:00,NVDA,Nvidia sinks,a,,a\n")
    with pytest.raises(NewsbtError, match="no price files found, so no ticker can be checked; set --data-dir"):
        import_news([feed], [], tmp_path / "store")
    assert not (tmp_path / "store").exists()


def test_a_missing_store_names_the_command_that_builds_it(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["news", "stats", "--store", str(tmp_path / "nowhere")])
    assert done.value.code == 1
    error = capsys.readouterr().err.strip()
    assert error == (f"error: no news store at {tmp_path / 'nowhere'}; build it with: "
                     f"newsbt news import FILE... --store {tmp_path / 'nowhere'}")


# ------------------------------------------------------------------------------------------ fuzzing

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
cells = st.one_of(text, st.sampled_from(["2025-01-27", "2025-01-27T08:25:00-05:00", "20250127T082500",
                                          "2025-01-27 16:00:00", "NVDA", "AMD", "https://x", ""]))
json_items = st.one_of(
    st.fixed_dictionaries({"symbol": cells, "publishedDate": cells, "title": cells, "site": cells, "url": cells}),
    st.fixed_dictionaries({"time_published": cells, "title": cells, "url": cells, "source": cells,
                           "ticker_sentiment": st.lists(st.fixed_dictionaries({"ticker": cells}), max_size=2)}),
    st.dictionaries(text, cells, max_size=2), cells, st.integers())


def _csv_text(rows: list[list[str]], header: str) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return header + out.getvalue()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.lists(st.lists(cells, min_size=3, max_size=7), max_size=4).map(lambda r: ("f.csv", _csv_text(r, HEADER))),
    st.lists(st.lists(cells, min_size=3, max_size=3), max_size=4).map(
        lambda r: ("f.csv", _csv_text(r, "headline,date,stock\n"))),
    st.lists(json_items, max_size=3).map(lambda items: ("f.json", json.dumps(items))),
    st.lists(json_items, max_size=3).map(lambda items: ("f.jsonl", "\n".join(json.dumps(i) for i in items))),
    st.tuples(st.sampled_from(["f.csv", "f.json", "f.jsonl"]), text),
), st.sampled_from([None, "UTC", "America/New_York"]))
def test_any_news_input_gives_rows_or_one_clear_error(tmp_path: Path, case: tuple[str, str],
                                                      timezone: str | None) -> None:
    name, body = case
    path = write(tmp_path, name, body)
    try:
        rows = validate_rows(read_feed(path), KNOWN, timezone=timezone)
    except NewsbtError as exc:
        assert str(exc).startswith(str(path)) or "bad row" in str(exc).splitlines()[0]
        return
    stories = build_stories(rows)[1]
    assert rows["first_bar"].notna().all() and len(stories) <= len(rows)
    assert (rows["available_at"] < rows["first_bar"].dt.tz_localize("America/New_York") + pd.Timedelta(days=1)).all()
