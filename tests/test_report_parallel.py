"""Report files drawn side by side (newsbt.reports.parallel): every task once, failures raised, same files."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import pytest

from newsbt.reports import parallel
from newsbt.reports.parallel import draw_all, start_workers, stop_workers, workers_for

forks = pytest.mark.skipif(sys.platform != "linux" or (os.cpu_count() or 1) < 2,
                           reason="report workers are forked on Linux with 2+ cores only")


def write_pid(path: Path) -> None:
    path.write_text(f"{os.getpid()}\n", encoding="utf-8")


def fail(path: Path, text: str) -> None:
    raise OSError(28, text, str(path))


def warm_nothing() -> None:
    pass


WARMED: list[int] = []  # pids that ran warm_once, as each process sees it


def warm_once() -> None:
    WARMED.append(os.getpid())


def write_warmed(path: Path) -> None:
    path.write_text(f"{os.getpid()} {WARMED}\n", encoding="utf-8")


@pytest.fixture(autouse=True)
def no_leftover_workers():
    yield
    stop_workers()
    WARMED.clear()


def pids(paths: list[Path]) -> set[int]:
    return {int(p.read_text(encoding="utf-8")) for p in paths}


def test_one_task_or_no_fork_runs_in_this_process(tmp_path, monkeypatch):
    assert workers_for(1) == 1
    path = tmp_path / "a"
    draw_all([functools.partial(write_pid, path)])
    assert pids([path]) == {os.getpid()}
    monkeypatch.setattr(sys, "platform", "darwin")  # no fork there: everything in order, here
    paths = [tmp_path / f"m{i}" for i in range(3)]
    draw_all([functools.partial(write_pid, p) for p in paths])
    assert pids(paths) == {os.getpid()}


@forks
def test_tasks_forked_at_draw_time_each_run_once_in_workers(tmp_path):
    paths = [tmp_path / f"t{i}" for i in range(6)]
    ran: list[int] = []
    tasks = [functools.partial(write_pid, p) for p in paths] + [lambda: ran.append(1)]  # a lambda: not picklable
    draw_all(tasks)
    assert all(p.exists() for p in paths)
    assert os.getpid() not in pids(paths)
    assert ran == []  # it ran in a worker, whose list is its own


@forks
def test_started_workers_take_picklable_tasks(tmp_path):
    start_workers(warm_nothing)
    assert parallel._warm is not None
    paths = [tmp_path / f"w{i}" for i in range(4)]
    draw_all([functools.partial(write_pid, p) for p in paths])
    assert parallel._warm is None  # used once
    assert all(p.exists() for p in paths) and os.getpid() not in pids(paths)


@forks
def test_started_workers_warm_up_once_and_every_worker_inherits_it(tmp_path):
    start_workers(warm_once)
    paths = [tmp_path / f"w{i}" for i in range(6)]
    draw_all([functools.partial(write_warmed, p) for p in paths])
    seen = [p.read_text(encoding="utf-8").split(" ", 1) for p in paths]
    warmed = {text for _, text in seen}
    assert len(warmed) == 1 and warmed.pop().strip() not in ("[]", f"[{os.getpid()}]")  # one warm-up, elsewhere
    assert WARMED == [] and os.getpid() not in {int(pid) for pid, _ in seen}


def warm_that_raises() -> None:
    raise RuntimeError("the warm-up failed")


@forks
def test_a_warm_process_gone_before_it_replies_is_drawn_without(tmp_path):
    start_workers(warm_that_raises)  # it exits at once; killed by the system would look the same
    paths = [tmp_path / f"w{i}" for i in range(4)]
    draw_all([functools.partial(write_pid, p) for p in paths], warm=warm_once)
    assert all(p.exists() for p in paths) and parallel._warm is None
    assert WARMED == [os.getpid()]  # drawn as without a warm process: warmed here, workers forked from here


@forks
def test_started_workers_step_aside_for_a_task_that_cannot_be_pickled(tmp_path):
    start_workers(warm_nothing)
    path = tmp_path / "local"

    def local_task() -> None:
        write_pid(path)

    draw_all([local_task, functools.partial(write_pid, tmp_path / "other")])
    assert path.exists() and (tmp_path / "other").exists()
    assert parallel._warm is None


@pytest.mark.parametrize("start", [False, True])
def test_the_first_failure_is_raised_as_raised_after_the_others_finish(tmp_path, start):
    if start:
        start_workers(warm_nothing)
    paths = [tmp_path / f"f{i}" for i in range(4)]
    tasks = [functools.partial(write_pid, paths[0]), functools.partial(fail, tmp_path / "x", "first"),
             functools.partial(fail, tmp_path / "y", "second"), *(functools.partial(write_pid, p) for p in paths[1:])]
    with pytest.raises(OSError) as raised:
        draw_all(tasks)
    assert (raised.value.errno, raised.value.strerror, raised.value.filename) == (28, "first", str(tmp_path / "x"))
    assert all(p.exists() for p in paths)


def test_a_run_drawn_in_parallel_writes_the_files_it_writes_in_order(tmp_path, monkeypatch, no_network):
    from newsbt import api
    from tests.conftest import write_price_files
    from tests.synthetic import spec_dict, two_crashes

    prices = write_price_files(tmp_path / "prices", two_crashes())
    spec = {**spec_dict(tickers=["AAA", "BBB"], drop_pct=7, hold_days=2), "costs": {"commission_bps": 10}}
    result = api.run(spec, data_dir=prices)
    result.write(tmp_path / "parallel")
    monkeypatch.setattr(sys, "platform", "darwin")  # in order, in this process
    result.write(tmp_path / "serial")
    files = sorted(p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "parallel") for p in (tmp_path / "parallel").rglob("*")
                           if p.is_file())
    assert {"tearsheet.html", "charts/AAA.png", "charts/BBB.png"} <= {f.as_posix() for f in files}
    for name in files:
        if name.suffix != ".html":
            assert (tmp_path / "parallel" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes(), name
    assert (tmp_path / "parallel" / "index.html").read_text() == (tmp_path / "serial" / "index.html").read_text()


@forks
def test_a_command_that_fails_after_starting_workers_lets_them_go(tmp_path, capsys, monkeypatch):
    from newsbt.cli import commands, main

    started: list[bool] = []

    def start(warm):
        start_workers(warm)
        started.append(parallel._warm is not None)

    monkeypatch.setattr(commands, "start_workers", start)

    (tmp_path / "bad.toml").write_text('[run]\nname = "bad"\nstart = 2024-01-01\nend = 2024-01-31\n'
                                       'benchmark = "BMK"\n[strategy]\nname = "crash_dip"\ntickers = ["AAA"]\n')
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path / "bad.toml"), "--data-dir", str(tmp_path / "no_prices"),
              "--reports-dir", str(tmp_path / "reports")])
    assert exit_.value.code == 1
    assert "prices" in capsys.readouterr().err  # the spec was read, the workers started: prices are missing
    assert started == [True] and parallel._warm is None


@forks
def test_started_workers_are_not_used_from_another_working_directory(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    start_workers(warm_nothing)
    monkeypatch.chdir(tmp_path / "b")
    draw_all([functools.partial(write_pid, Path("out")), functools.partial(write_pid, Path("out2"))])
    assert (tmp_path / "b" / "out").exists() and (tmp_path / "b" / "out2").exists()
    assert not (tmp_path / "a" / "out").exists() and parallel._warm is None


def test_in_a_notebook_kernel_the_tasks_run_in_its_own_process(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [tmp_path / f"n{i}" for i in range(3)]
    draw_all([functools.partial(write_pid, p) for p in paths])
    assert pids(paths) == {os.getpid()}
