"""Two commands of one name at once, as real processes: one whole, self-consistent report, never a mix.

Each report folder is checked against itself: its summary names the run, and the trades, equity,
tearsheet, page and the reports index must all be that run's. A writer that finds the name taken
stops with one line naming the other process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from newsbt import api
from tests.conftest import write_price_files
from tests.sweepdata import crashy_prices
from tests.synthetic import two_crashes
from tests.test_publish import BACKTEST
from tests.test_study import EVENTS, study_file, synthetic_prices

ROOT = Path(__file__).resolve().parents[1]
# newsbt's main(), with the test strategies registered; when argv[1] is a path, the run's tearsheet
# writer first touches that file (the name's lock is held from then on) and takes 3 s longer.
LAUNCHER = """
import sys, time
from pathlib import Path
import newsbt.reports.run as run
from newsbt.cli import main
from tests.sweep_strategies import register_test_strategies
register_test_strategies()
if sys.argv[1] != "-":
    write = run.write_tearsheet
    def slow(*args, **kwargs):
        Path(sys.argv[1]).touch()
        time.sleep(3)
        write(*args, **kwargs)
    run.write_tearsheet = slow
main(sys.argv[2:])
"""
SWEEP = """
[run]
name = "racing"
start = 2024-01-01
end = 2024-12-31
benchmark = "BMK"

[strategy]
name = "test_slow_dip"
tickers = ["AAA", "BBB", "CCC"]
pause = 0.1

[sweep]
drop_pct = [5, 6, 7, 8]
hold_days = "1:6:1"
"""


def launch(*args: str, signal_file: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", LAUNCHER, str(signal_file or "-"), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    """Exit status and error lines; a writer that lost the race says so in one line, never a traceback."""
    _, err = process.communicate(timeout=300)
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if process.returncode:
        assert len(errors) == 1 and " is being written by newsbt pid " in errors[0], err
    return process.returncode, "\n".join(errors)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_price_files(tmp_path / "prices", two_crashes())
    (tmp_path / "synthetic.toml").write_text(BACKTEST)
    return tmp_path


def run_args(project: Path, hold_days: int) -> list[str]:
    return ["run", str(project / "synthetic.toml"), "--data-dir", str(project / "prices"), "--reports-dir",
            str(project / "reports"), "--set", f"strategy.hold_days={hold_days}"]


def assert_one_whole_run(project: Path, finished_ok: set[int]) -> int:
    """The folder is one run's, from a process that succeeded; returns its hold_days."""
    folder = project / "reports" / "synthetic"
    summary = json.loads((folder / "summary.json").read_text())
    hold_days = summary["parameters"]["hold_days"]
    assert hold_days in finished_ok
    reference = api.run(project / "synthetic.toml", data_dir=project / "prices",
                        overrides=[f"strategy.hold_days={hold_days}"])
    reference.write(project / "reference", tearsheet=False)
    for name in ("trades.csv", "equity.csv", "summary.json"):
        assert (folder / name).read_text() == (project / "reference" / name).read_text(), name
    page = (folder / "index.html").read_text().replace('<li><a href="tearsheet.html">QuantStats tearsheet</a></li>', "")
    assert page == (project / "reference" / "index.html").read_text()
    total = f"{summary['metrics']['total_return']:.2%}"
    tearsheet = (folder / "tearsheet.html").read_text()
    assert re.search(rf"<tr><td>Cumulative Return</td><td>[^<]*</td><td>{re.escape(total)}</td></tr>", tearsheet)
    index = (project / "reports" / "index.html").read_text()
    row = index[index.index('href="synthetic/tearsheet.html"'):].split("</tr>")[0]
    assert f"<td>+{total}</td>" in row
    assert sorted(p.name for p in (project / "reports").iterdir() if ".new-" in p.name or ".old-" in p.name) == []
    return hold_days


def test_a_second_run_of_a_name_being_written_stops_and_the_first_is_whole(project):
    writing = project / "writing"
    first = launch(*run_args(project, 1), signal_file=writing)
    deadline = time.monotonic() + 120
    while not writing.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    second = launch(*run_args(project, 2))
    code, error = finish(second)
    assert code == 1
    assert error.startswith(f"error: {project / 'reports' / 'synthetic'} is being written by newsbt pid {first.pid} (")
    assert error.endswith("wait for it to finish, or give this run another name")
    assert finish(first)[0] == 0
    assert assert_one_whole_run(project, {1}) == 1


def test_runs_of_one_name_started_together_leave_one_whole_run(project):
    processes = {hold_days: launch(*run_args(project, hold_days)) for hold_days in (1, 2, 3)}
    finished_ok = {hold_days for hold_days, process in processes.items() if finish(process)[0] == 0}
    assert finished_ok
    assert_one_whole_run(project, finished_ok)


def sweep_args(tmp_path: Path, *grid: str) -> list[str]:
    return ["sweep", str(tmp_path / "racing.toml"), "--workers", "1", "--no-tearsheet", "--data-dir",
            str(tmp_path / "prices"), "--reports-dir", str(tmp_path / "reports"), *grid]


def test_sweeps_of_one_name_at_once_leave_one_whole_sweep(tmp_path):
    write_price_files(tmp_path / "prices", crashy_prices())
    (tmp_path / "racing.toml").write_text(SWEEP)
    folder = tmp_path / "reports" / "racing" / "sweep"
    first = launch(*sweep_args(tmp_path))
    deadline = time.monotonic() + 120
    while not list((folder / "results").glob("part-*")) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    second = launch(*sweep_args(tmp_path, "--grid", "drop_pct=5,6"))  # another sweep of the name: refused
    assert finish(second)[0] == 1
    assert finish(first)[0] == 0
    summary = json.loads((folder / "summary.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    results = pd.read_csv(folder / "results.csv")
    assert summary["spec_hash"] == manifest["spec_hash"]
    assert summary["combinations"] == manifest["combinations"] == 24
    assert sorted(results["combination"]) == list(range(24)) and results["error"].isna().all()
    index = (tmp_path / "reports" / "index.html").read_text()
    assert "<td>24</td>" in index[index.index('href="racing/sweep/index.html"'):].split("</tr>")[0]


def test_studies_of_one_name_started_together_leave_one_whole_study(tmp_path):
    write_price_files(tmp_path / "prices", synthetic_prices())
    (tmp_path / "events.csv").write_text(EVENTS)
    path = study_file(tmp_path, f'events = "{(tmp_path / "events.csv").as_posix()}"')
    windows = {"[[0, 0]]": ["[0,0]"], "[[0, 1], [0, 5]]": ["[0,1]", "[0,5]"]}
    processes = [launch("study", str(path), "--data-dir", str(tmp_path / "prices"), "--reports-dir",
                        str(tmp_path / "reports"), "--set", f"study.windows={w}") for w in windows]
    assert any(finish(p)[0] == 0 for p in processes)
    folder = tmp_path / "reports" / "synthetic_study" / "study"
    summary = json.loads((folder / "summary.json").read_text())
    shown = [w["window"] for w in summary["windows"]]
    assert shown in windows.values()
    assert pd.read_csv(folder / "caar.csv")["window"].tolist() == shown
    page = (folder / "index.html").read_text()
    assert all(f"<td>{w}</td>" in page for w in shown)
    assert not any(f"<td>{w}</td>" in page for other in windows.values() if other != shown for w in other)
    index = (tmp_path / "reports" / "index.html").read_text()
    assert f"CAAR{shown[0]}" in index[index.index('href="synthetic_study/study/index.html"'):].split("</tr>")[0]
