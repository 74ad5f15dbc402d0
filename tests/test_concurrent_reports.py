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
# newsbt's main(), with the test strategies registered. When argv[1] is a folder, the first write
# made with the name's lock held (a run's tearsheet, a sweep's first saved part, a study's swap) creates argv[1]/held,
# then waits for argv[1]/release: the test runs a second command while the first holds the name.
LAUNCHER = """
import sys, time
from pathlib import Path
import newsbt.core.publish as publish
import newsbt.reports.tearsheet as tearsheet
from newsbt.cli import main
from newsbt.sweep.store import SweepStore
from tests.sweep_strategies import register_test_strategies
register_test_strategies()

def holding(write):
    def held(*args, **kwargs):
        hold = Path(sys.argv[1])
        (hold / "held").touch()
        deadline = time.monotonic() + 120
        while not (hold / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return write(*args, **kwargs)
    return held

if sys.argv[1] != "-":
    tearsheet.write_joined = holding(tearsheet.write_joined)
    SweepStore.write_part = holding(SweepStore.write_part)
    publish._swap = holding(publish._swap)
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
pause = 0.02

[sweep]
drop_pct = [5, 6, 7, 8]
hold_days = "1:6:1"
"""


def launch(*args: str, hold: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", LAUNCHER, str(hold or "-"), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def second_while_first_holds(first_args: list[str], second_args: list[str], hold: Path):
    """Start the first command, wait until it holds the name, run the second to its end, let the first go.

    Returns the second's (exit status, error) and the first's process."""
    hold.mkdir()
    first = launch(*first_args, hold=hold)
    deadline = time.monotonic() + 120
    while not (hold / "held").exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    second = finish(launch(*second_args))
    (hold / "release").touch()
    return second, first


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
    (code, error), first = second_while_first_holds(run_args(project, 1), run_args(project, 2), project / "hold")
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
    (code, error), first = second_while_first_holds(  # another sweep of the name, mid-sweep: refused
        sweep_args(tmp_path), sweep_args(tmp_path, "--grid", "drop_pct=5,6"), tmp_path / "hold")
    assert code == 1 and f"{tmp_path / 'reports' / 'racing'} is being written by newsbt pid {first.pid}" in error
    assert finish(first)[0] == 0
    summary = json.loads((folder / "summary.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    results = pd.read_csv(folder / "results.csv")
    assert summary["spec_hash"] == manifest["spec_hash"]
    assert summary["combinations"] == manifest["combinations"] == 24
    assert sorted(results["combination"]) == list(range(24)) and results["error"].isna().all()
    index = (tmp_path / "reports" / "index.html").read_text()
    assert "<td>24</td>" in index[index.index('href="racing/sweep/index.html"'):].split("</tr>")[0]


def test_a_second_study_of_a_name_being_published_stops_and_the_first_is_whole(tmp_path):
    write_price_files(tmp_path / "prices", synthetic_prices())
    (tmp_path / "events.csv").write_text(EVENTS)
    path = study_file(tmp_path, f'events = "{(tmp_path / "events.csv").as_posix()}"')
    study = ["study", str(path), "--data-dir", str(tmp_path / "prices"), "--reports-dir", str(tmp_path / "reports")]
    (code, error), first = second_while_first_holds([*study, "--set", "study.windows=[[0, 0]]"],
                                                    [*study, "--set", "study.windows=[[0, 1], [0, 5]]"],
                                                    tmp_path / "hold")
    assert code == 1 and f"{tmp_path / 'reports' / 'synthetic_study'} is being written by newsbt pid" in error
    assert finish(first)[0] == 0
    folder = tmp_path / "reports" / "synthetic_study" / "study"
    assert [w["window"] for w in json.loads((folder / "summary.json").read_text())["windows"]] == ["[0,0]"]
    assert pd.read_csv(folder / "caar.csv")["window"].tolist() == ["[0,0]"]
    page = (folder / "index.html").read_text()
    assert "<td>[0,0]</td>" in page and "<td>[0,5]</td>" not in page
    index = (tmp_path / "reports" / "index.html").read_text()
    assert "CAAR[0,0]" in index[index.index('href="synthetic_study/study/index.html"'):].split("</tr>")[0]
