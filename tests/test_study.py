"""Event studies from a [study] section: events -> reaction days -> pairs -> report, and clear errors.

The engine's numbers are tested exactly in test_eventstudy.py; here the orchestration is: which
pairs, which day 0 (from the NYSE calendar), which filters, what is skipped and shown, and the
real DeepSeek day end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from newsbt.data.calendar import nyse_calendar
from newsbt.core.errors import NewsbtError
from newsbt.data.events import event_timing
from newsbt.study.runner import StudyOutcome, load_study, run_study
from tests.conftest import write_price_files
from tests.synthetic import bars

REPO = Path(__file__).resolve().parents[1]
SESSIONS = nyse_calendar().sessions_in_range("2023-01-03", "2024-12-31")
SHOCK_DAY = pd.Timestamp("2024-09-10")
XSS = "<script>alert(1)</script>"
EVENTS = f"""event_id,published_at,tickers,headline,category,direction,source,notes
after-close,2024-07-03T16:30:00-04:00,AAA;BBB,"Guidance cut, after the early close",guidance,-1,test,
weekend,2024-03-16T09:00:00-04:00,AAA,Weekend statement,statement,1,test,
late-listing,2024-06-03T10:00:00-04:00,NEW,"{XSS} NEW lists",other,0,test,
too-early,2023-02-01T10:00:00-05:00,AAA,Before the run starts,earnings,1,test,
"""


def study_file(directory: Path, study: str, name: str = "synthetic_study") -> Path:
    """A study file over the synthetic prices; ``study`` is the body of its [study] section."""
    path = directory / f"{name}.toml"
    path.write_text(f"""[run]
name = "{name}"
start = 2024-01-01
end = 2024-12-31

[strategy]
name = "buy_and_hold"
ticker = "MKT"

[study]
market = "MKT"
{study}
""")
    return path


def synthetic_prices() -> dict[str, pd.DataFrame]:
    """MKT and two stocks on it over 2023-2024 NYSE sessions; NEW lists 2024-05-01; AAA jumps 25 % on
    SHOCK_DAY (no other move reaches 15 %)."""
    rng = np.random.default_rng(11)
    market = rng.normal(0.0004, 0.01, len(SESSIONS))
    returns = {"MKT": market, "AAA": 1.2 * market + rng.normal(0, 0.01, len(SESSIONS)),
               "BBB": 0.8 * market + rng.normal(0, 0.01, len(SESSIONS)),
               "NEW": 1.5 * market + rng.normal(0, 0.015, len(SESSIONS))}
    returns["AAA"][SESSIONS.get_loc(SHOCK_DAY)] = 0.25
    frames = {}
    for ticker, r in returns.items():
        dates = SESSIONS[SESSIONS >= "2024-05-01"] if ticker == "NEW" else SESSIONS
        closes = 100 * np.cumprod(1 + r[-len(dates):])
        frames[ticker] = bars([100, *closes[:-1]], closes, dates)
    return frames


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Price files and the event file in a temporary folder."""
    root = tmp_path_factory.mktemp("study")
    write_price_files(root / "prices", synthetic_prices())
    (root / "events.csv").write_text(EVENTS)
    return root


def synthetic_study(root: Path, study: str = "", **kwargs) -> StudyOutcome:
    """Run a study of ``root/events.csv`` on the synthetic prices (``root`` as made by ``project``)."""
    path = study_file(root, f'events = "{(root / "events.csv").as_posix()}"\n{study}', **kwargs)
    return run_study(path, data_dir=root / "prices")


def pairs_of(outcome: StudyOutcome) -> list[tuple[str, str, str]]:
    return [(r.event_id, r.ticker, f"{r.day0:%Y-%m-%d}") for r in outcome.result.events.itertuples()]


# ---------------------------------------------------------------- orchestration on synthetic prices


def test_pairs_are_each_events_tickers_at_its_reaction_day(project: Path) -> None:
    outcome = synthetic_study(project)
    # after the 13:00 early close of 2024-07-03, then the 4 July holiday -> 07-05; Saturday -> Monday
    assert pairs_of(outcome) == [("after-close", "AAA", "2024-07-05"), ("after-close", "BBB", "2024-07-05"),
                                 ("weekend", "AAA", "2024-03-18")]
    # too-early's day 0 is before [run] start: not studied at all
    assert [e.event.event_id for e in outcome.events] == ["after-close", "weekend", "late-listing"]
    [skipped] = outcome.result.skipped
    assert (skipped.event_id, skipped.ticker, f"{skipped.day0:%Y-%m-%d}") == ("late-listing", "NEW", "2024-06-03")
    assert skipped.reason.startswith("estimation window needs 240 returns, found ")
    assert "NEW returns start 2024-05-02" in skipped.reason


def test_report_shows_skipped_pairs_escapes_headlines_and_writes_every_table(project: Path, tmp_path: Path) -> None:
    outcome = synthetic_study(project)
    page_path = outcome.write(tmp_path / "reports")
    assert page_path == tmp_path / "reports" / "synthetic_study" / "study" / "index.html"
    page = page_path.read_text()
    skipped_section = page[page.index("<h2>Skipped pairs</h2>"):page.index("<h2>Files</h2>")]
    assert "late-listing" in skipped_section and "<td>NEW</td>" in skipped_section
    assert outcome.result.skipped[0].reason in skipped_section
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt; NEW lists" in page
    assert "Kolari-Pynnönen t" in page and '<img src="caar.png"' in page
    folder = page_path.parent
    assert (folder / "caar.png").read_bytes().startswith(b"\x89PNG")
    assert pd.read_csv(folder / "skipped.csv")[["event_id", "ticker"]].values.tolist() == [["late-listing", "NEW"]]
    assert len(pd.read_csv(folder / "pairs.csv")) == 3
    assert pd.read_csv(folder / "caar.csv")["window"].tolist() == ["[0,0]", "[0,1]", "[-1,1]", "[0,5]", "[0,20]"]
    assert pd.read_csv(folder / "path.csv")["day"].tolist() == list(range(-10, 21))
    summary = json.loads((folder / "summary.json").read_text())
    assert (summary["pairs"], summary["skipped"], summary["events"][2]["headline"]) == (3, 1, f"{XSS} NEW lists")
    assert not list(folder.glob(".*"))  # no temporary file left behind


@pytest.mark.parametrize(("study", "expected"), [
    ('event_ids = ["weekend"]', [("weekend", "AAA", "2024-03-18")]),
    ('categories = ["guidance"]', [("after-close", "AAA", "2024-07-05"), ("after-close", "BBB", "2024-07-05")]),
    ('tickers = ["BBB"]', [("after-close", "BBB", "2024-07-05"), ("weekend", "BBB", "2024-03-18"),
                           ("late-listing", "BBB", "2024-06-03")]),
])
def test_filters_and_study_tickers(project: Path, study: str, expected: list) -> None:
    assert pairs_of(synthetic_study(project, study)) == expected


def test_shock_scan_puts_day_0_on_the_session_of_the_move(project: Path) -> None:
    path = study_file(project, 'shocks = {tickers = ["AAA"], threshold_pct = 15}')
    outcome = run_study(path, data_dir=project / "prices")
    assert pairs_of(outcome) == [("shock-AAA-2024-09-10", "AAA", "2024-09-10")]
    assert outcome.result.events["ar0"].iloc[0] > 0.2
    # the shock's market_move event, published at that close, maps to the same reaction day
    event = outcome.events[0].event
    assert event_timing([event])["reaction_day"].iloc[0] == pd.Timestamp("2024-09-10")


def test_a_dict_spec_and_overrides_work_like_a_file(project: Path) -> None:
    raw = {"run": {"name": "from_dict", "start": "2024-01-01", "end": "2024-12-31"},
           "strategy": {"name": "buy_and_hold", "ticker": "MKT"},
           "study": {"events": str(project / "events.csv"), "market": "MKT"}}
    outcome = run_study(raw, data_dir=project / "prices", overrides=['study.event_ids=["weekend"]'])
    assert pairs_of(outcome) == [("weekend", "AAA", "2024-03-18")]
    assert raw["study"] == {"events": str(project / "events.csv"), "market": "MKT"}  # caller's dict untouched


# ---------------------------------------------------------------- errors: what, where, what was expected


@pytest.mark.parametrize(("study", "key", "message"), [
    ('events = "E"\ntickerz = ["AAA"]', "tickerz", "unknown key 'tickerz' in [study]; did you mean 'tickers'?"),
    ('shocks = {tickers = ["AAA"], treshold_pct = 15}', "shocks",
     "unknown key 'treshold_pct' in [study.shocks]; did you mean 'threshold_pct'?"),
    ('events = "E"\nshocks = {tickers = ["AAA"], threshold_pct = 15}', "[study]", "give exactly one of events"),
    ('events = "E"\nevent_ids = ["weekend-x"]', "event_ids", "no event 'weekend-x' among the 4 events; "
                                                             "did you mean 'weekend'?"),
    ('events = "E"\ntickers = ["AAA", "ZZZ"]', "tickers",
     "no prices for ZZZ; download them with: newsbt data fetch ZZZ"),
    ('events = "E"\ncategories = ["earning"]', "categories", "[study] categories: Input should be 'model_release'"),
    ('events = "E"\nwindows = [[1, 0]]', "[study]", "CAR window (1, 0) ends before it starts"),
    ('events = "E"\nestimation = [-250, "a"]', "estimation", "[study] estimation: Input should be a valid integer"),
    ('events = "E"\nwindows = [[0, true]]', "windows", "[study] windows: Input should be a valid integer (got True)"),
    ('events = "nope.csv"', "events", "no event file nope.csv (a relative path is read from the working directory"),
    ('events = "E"\nevent_ids = ["too-early"]', "[study]", "no event to study: none of the 4 events passes"),
])
def test_study_mistakes_are_reported_at_their_line(project: Path, study: str, key: str, message: str) -> None:
    path = study_file(project, study.replace('"E"', f'"{(project / "events.csv").as_posix()}"'), name="bad")
    lines = path.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith(key) or text == key)
    with pytest.raises(NewsbtError) as error:
        run_study(path, data_dir=project / "prices")
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert message in str(error.value)


def test_missing_study_section_and_bad_override(project: Path) -> None:
    path = study_file(project, f'events = "{project / "events.csv"}"', name="override")
    with pytest.raises(NewsbtError, match=r"--set study\.model: \[study\] model: Input should be 'market'"):
        load_study(path, overrides=["study.model=marketz"])
    bare = project / "bare.toml"
    bare.write_text(path.read_text().split("[study]")[0])
    with pytest.raises(NewsbtError, match=r"bare\.toml: needs a \[study\] section"):
        load_study(bare)


# ---------------------------------------------------------------- the DeepSeek day on real prices


@pytest.mark.realdata
def test_deepseek_study_file_on_real_prices(real_data_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the study file names its event file relative to the repo root
    outcome = run_study("backtests/deepseek_study.toml", data_dir=real_data_dir)
    result = outcome.result
    assert result.skipped == ()
    events = result.events.set_index("ticker")
    assert set(events["day0"]) == {pd.Timestamp("2025-01-27")}  # weekend news -> Monday's reaction
    assert events.loc["NVDA", "ar0"] < -0.10 and events.loc["NVDA", "t_ar0"] < -3
    assert {"AMD", "AVGO", "TSM", "ARM", "MU", "SMCI", "ORCL"} <= set(events.index)
    day0 = result.caar.set_index("window").loc["[0,0]"]
    assert day0["n"] == 12 and np.isfinite([day0["kp_t"], day0["p_kp"]]).all()
    page = outcome.write(tmp_path).read_text()
    for ticker in ("NVDA", "AMD", "AVGO", "TSM", "ARM", "MU"):
        assert f"<td>deepseek-app-2025-01-26</td><td>{ticker}</td><td>2025-01-27</td>" in page
    assert "<th>Kolari-Pynnönen t</th>" in page and f"<td>{day0['kp_t']:+.2f}</td>" in page.replace(
        '<td class="num">', "<td>")


@pytest.mark.realdata
def test_real_event_before_a_listing_is_skipped_with_its_reason(real_data_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    outcome = run_study("backtests/deepseek_study.toml", data_dir=real_data_dir, overrides=[
        'study.event_ids=["nvda-earnings-2024-05-22"]', 'study.tickers=["NVDA", "ARM"]'])
    [skipped] = outcome.result.skipped
    assert (skipped.ticker, f"{skipped.day0:%Y-%m-%d}") == ("ARM", "2024-05-23")
    assert "estimation window needs 240 returns" in skipped.reason and "ARM returns start 2023-09-15" in skipped.reason
    assert outcome.result.events["ticker"].tolist() == ["NVDA"]
    assert skipped.reason in outcome.write(tmp_path).read_text()
