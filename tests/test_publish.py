"""Reports published whole: staging + swap, one writer per name, crash recovery, full and read-only disks."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from newsbt.cli import main
from newsbt.core.errors import NewsbtError
from newsbt.core.publish import MARKER, report_lock, staged
from tests.conftest import write_price_files
from tests.synthetic import two_crashes

BACKTEST = """
[run]
name = "synthetic"
start = 2024-01-01
end = 2024-01-31
benchmark = "BMK"

[strategy]
name = "crash_dip"
tickers = ["AAA", "BBB"]
drop_pct = 7
hold_days = 2
"""


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def publish(target: Path, files: dict[str, str], keep=lambda name: False) -> None:
    with report_lock(target), staged(target, keep=keep) as folder:
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)


def test_a_swap_replaces_the_folder_whole_and_carries_what_it_keeps(tmp_path):
    target = tmp_path / "reports" / "x"
    publish(target, {"a.txt": "1", "charts/A.png": "old", "sweep/results/part": "saved"})
    publish(target, {"a.txt": "2"}, keep=lambda name: name == "sweep")
    assert tree(target) == {"a.txt": b"2", "sweep/results/part": b"saved"}
    assert sorted(p.name for p in target.parent.iterdir()) == [".x.lock", "x"]  # no staging left


def test_a_failed_write_leaves_the_old_folder_and_no_staging(tmp_path):
    target = tmp_path / "x"
    publish(target, {"a.txt": "1"})
    with pytest.raises(RuntimeError):
        with report_lock(target), staged(target) as folder:
            (folder / "a.txt").write_text("half")
            raise RuntimeError("the writer died")
    assert tree(target) == {"a.txt": b"1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.lock", "x"]


def test_a_second_writer_of_a_name_stops_and_names_the_first(tmp_path):
    target = tmp_path / "x"
    with report_lock(target):
        with pytest.raises(NewsbtError) as error:
            with report_lock(target):
                pass
    assert str(error.value).startswith(f"{target} is being written by newsbt pid ")
    assert "wait for it to finish, or give this run another name" in str(error.value)
    with report_lock(target):  # released on exit
        pass


def interrupted_swap(tmp_path: Path, step: str) -> Path:
    """The folders a kill leaves at ``step`` of swapping {"a.txt": "new"} over {"a.txt": "old", sweep/}."""
    target = tmp_path / "x"
    publish(target, {"a.txt": "old", "sweep/part": "saved"})
    new = tmp_path / ".x.new-killed"
    new.mkdir()
    (new / "a.txt").write_text("new")
    if step == "writing":
        return target
    (new / MARKER).write_text(json.dumps(["sweep"]))
    if step in ("carried", "renamed aside"):
        (target / "sweep").rename(new / "sweep")
    if step == "renamed aside":
        target.rename(tmp_path / ".x.old-killed")
    return target


@pytest.mark.parametrize("step, expected", [
    ("writing", {"a.txt": b"old", "sweep/part": b"saved"}),  # unfinished: dropped
    ("marked", {"a.txt": b"new", "sweep/part": b"saved"}),  # finished: rolled forward
    ("carried", {"a.txt": b"new", "sweep/part": b"saved"}),
    ("renamed aside", {"a.txt": b"new", "sweep/part": b"saved"}),
])
def test_the_next_writer_finishes_or_undoes_a_swap_a_kill_interrupted(tmp_path, step, expected):
    target = interrupted_swap(tmp_path, step)
    with report_lock(target):
        assert tree(target) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.lock", "x"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_price_files(tmp_path / "prices", two_crashes())
    (tmp_path / "synthetic.toml").write_text(BACKTEST)
    return tmp_path


def newsbt_run(project: Path, reports: Path, capsys, *args: str) -> tuple[int, str]:
    """The exit status and the error lines (stderr without the progress display)."""
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(project / "synthetic.toml"), "--data-dir", str(project / "prices"),
              "--reports-dir", str(reports), *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return exit_.value.code, "".join(line + "\n" for line in err.splitlines() if line.startswith("error:"))


def test_a_full_disk_mid_report_is_one_line_naming_the_file_and_the_old_report_stays(project, capsys, monkeypatch):
    reports = project / "reports"
    assert newsbt_run(project, reports, capsys)[0] == 0
    before = tree(reports / "synthetic")

    def full_disk(path, title, pages):
        path.write_text("<html>half a tearsh")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("newsbt.reports.tearsheet.write_joined", full_disk)
    code, err = newsbt_run(project, reports, capsys, "--set", "strategy.drop_pct=9")
    assert code == 1
    assert err == (f"error: cannot write {reports / 'synthetic' / 'tearsheet.html'}: No space left on device; "
                   f"nothing was changed in {reports / 'synthetic'}\n")
    assert tree(reports / "synthetic") == before
    assert sorted(p.name for p in reports.iterdir()) == [".index.html.lock", ".synthetic.lock", "index.html",
                                                         "synthetic"]


@pytest.fixture
def small_disk(tmp_path: Path):
    """A mounted tmpfs of a given size (read-only on request); skipped where mounting is not allowed."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", str(point)], check=True)


def test_a_really_full_disk_is_one_line_and_leaves_nothing_half_written(project, capsys, small_disk):
    reports = small_disk("96k") / "reports"
    code, err = newsbt_run(project, reports, capsys)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"error: cannot write {reports / 'synthetic'}") and "No space left on device" in err
    assert "Traceback" not in err and ".new-" not in err
    assert not (reports / "synthetic").exists()
    assert [p.name for p in reports.iterdir()] == [".synthetic.lock"]


def test_a_read_only_reports_folder_is_one_line_naming_it(project, capsys, small_disk):
    disk = small_disk("4m")
    reports = disk / "reports"
    assert newsbt_run(project, reports, capsys)[0] == 0
    before = tree(reports)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    code, err = newsbt_run(project, reports, capsys, "--set", "strategy.drop_pct=9")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"error: cannot write {reports}") and "Read-only file system" in err
    assert tree(reports) == before


def test_a_read_only_reports_folder_is_one_line_even_where_mounting_is_not_allowed(project, capsys, monkeypatch):
    reports = project / "reports"
    assert newsbt_run(project, reports, capsys)[0] == 0
    before = tree(reports)
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(path) -> None:  # what the kernel says for a read-only mount, even to root
        if str(path).startswith(str(reports)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))

    def read_only_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def read_only_mkdir(path, *args, **kwargs):
        refuse(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)
    monkeypatch.setattr(os, "mkdir", read_only_mkdir)
    code, err = newsbt_run(project, reports, capsys, "--set", "strategy.drop_pct=9")
    monkeypatch.undo()
    assert code == 1
    assert err == (f"error: cannot write {reports / '.synthetic.lock'}: Read-only file system; "
                   f"nothing was changed in {reports / 'synthetic'}\n")
    assert tree(reports) == before
