"""Sweeps resume through damage: truncated, empty, foreign or overlapping parts, and a disk that fills up."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsbt.cli import main
from newsbt.core.errors import NewsbtError
from newsbt.sweep import store as store_module
from newsbt.sweep.store import SweepStore
from newsbt.backtest.spec import spec_from_dict
from newsbt.sweep.runner import run_sweep, sweep_from_section
from tests.conftest import write_price_files
from tests.sweep_strategies import FAILING_DROP, register_test_strategies
from tests.sweepdata import crashy_prices, spec_dict
from tests.test_sweep import FILE, sweep_of

SECTION = {"drop_pct": [5, 7, 9], "hold_days": [2, 4]}  # 6 combinations: parts {0,1}, {2,3}, {4,5} on one worker


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_price_files(tmp_path_factory.mktemp("prices"), crashy_prices())


@pytest.fixture(scope="module")
def clean(tmp_path_factory, data_dir):
    return run_sweep(sweep_of(SECTION), data_dir, tmp_path_factory.mktemp("clean"), workers=1)


def truncate(part: Path) -> None:
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])


def foreign_schema(part: Path) -> None:
    pq.write_table(pa.table({"combination": [2, 3], "sharpe": ["high", "low"]}), part)


def overlapping(part: Path) -> None:  # a right-looking part that repeats combination 1 of part-0000000
    rows = pq.read_table(part).to_pylist()
    rows[0]["combination"] = 1
    pq.write_table(pa.Table.from_pylist(rows, schema=store_module.SCHEMA), part)


@pytest.mark.parametrize("damage, reason", [
    (truncate, "unreadable"),
    (lambda part: part.write_bytes(b""), "unreadable"),
    (lambda part: part.write_text("date,open\n2024-01-02,1\n"), "unreadable"),
    (foreign_schema, "its columns are not those of a sweep result part"),
    (overlapping, "combination 1 is also in another part"),
])
def test_a_damaged_part_is_quarantined_and_its_combinations_run_again(tmp_path, data_dir, clean, damage, reason):
    first = run_sweep(sweep_of(SECTION), data_dir, tmp_path, workers=1)
    store = SweepStore(first.directory)
    assert [p.name for p in store.parts()] == ["part-0000000.parquet", "part-0000002.parquet", "part-0000004.parquet"]
    part = store.results_dir / "part-0000002.parquet"
    damage(part)
    damaged_bytes = part.read_bytes()
    resumed = run_sweep(sweep_of(SECTION), data_dir, tmp_path, workers=1)
    [moved] = resumed.quarantined
    assert (moved.part, moved.moved_to) == (part, store.quarantine_dir / "part-0000002.parquet")
    assert moved.reason.startswith(reason) and moved.moved_to.read_bytes() == damaged_bytes
    assert str(moved) == f"{part}: {moved.reason}; moved to {moved.moved_to}, its combinations run again"
    assert (resumed.resumed, resumed.ran) == (4, 2)
    pd.testing.assert_frame_equal(resumed.table, clean.table)  # every combination once, the same figures
    pd.testing.assert_frame_equal(resumed.returns, clean.returns)
    again = run_sweep(sweep_of(SECTION), data_dir, tmp_path, workers=1)
    assert (again.ran, again.quarantined) == (0, ())  # the rerun's part is whole; the quarantined stays aside


def test_the_command_names_the_quarantined_part_and_finishes(tmp_path, data_dir, capsys):
    (tmp_path / "s.toml").write_text(FILE)
    args = ["sweep", str(tmp_path / "s.toml"), "--workers", "1", "--no-tearsheet",
            "--data-dir", str(data_dir), "--reports-dir", str(tmp_path / "reports")]
    with pytest.raises(SystemExit):
        main(args)
    part = SweepStore(tmp_path / "reports" / "planned" / "sweep").parts()[1]
    truncate(part)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 0
    out, err = capsys.readouterr()
    assert f"damaged part: {part}: unreadable (" in err.replace("\n", "") and "Traceback" not in err
    results = pd.read_csv(tmp_path / "reports" / "planned" / "sweep" / "results.csv")
    assert sorted(results["combination"]) == list(range(7))  # hold_days 1, 4 (, 7) < drop_pct 5, 7 (, 10)


def test_a_damaged_manifest_starts_afresh_instead_of_crashing(tmp_path, data_dir):
    first = run_sweep(sweep_of(SECTION), data_dir, tmp_path, workers=1)
    (first.directory / "manifest.json").write_bytes(b"\xff\xfe not json")
    again = run_sweep(sweep_of(SECTION), data_dir, tmp_path, workers=1)
    assert (again.ran, again.discarded) == (6, 6)
    (first.directory / "manifest.json").write_text(json.dumps(["a list"]))
    assert run_sweep(sweep_of(SECTION), data_dir, tmp_path, workers=1).ran == 6


def test_a_full_disk_mid_sweep_is_one_line_and_the_saved_parts_resume(tmp_path, data_dir, clean, monkeypatch):
    write = store_module._write_parquet
    written: list[Path] = []

    def fills_up(table, path):
        if written:
            raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")
        write(table, path)
        written.append(path)

    monkeypatch.setattr(store_module, "_write_parquet", fills_up)
    with pytest.raises(NewsbtError) as error:
        run_sweep(sweep_of(SECTION), data_dir, tmp_path, workers=1)
    directory = tmp_path / "sweeptest" / "sweep"
    assert str(error.value) == (f"cannot write {directory}: No space left on device; finished combinations are "
                                f"saved in {directory / 'results'}; run the same command again to resume")
    monkeypatch.undo()
    resumed = run_sweep(sweep_of(SECTION), data_dir, tmp_path, workers=1)
    assert (resumed.resumed, resumed.ran) == (2, 4)
    pd.testing.assert_frame_equal(resumed.table, clean.table)


def test_resuming_after_errors_never_overwrites_a_saved_combination(tmp_path, data_dir):
    register_test_strategies()
    raw = spec_dict()
    raw["strategy"]["name"] = "test_flaky_dip"

    def flaky():  # parts {0 raises, 1}, {2, 3 raises}, {4, 5}: a part that starts with an error
        return sweep_from_section(spec_from_dict(raw), {"hold_days": [2, 4], "drop_pct": [FAILING_DROP, 7, 11]})

    first = run_sweep(flaky(), data_dir, tmp_path, workers=1)
    assert first.failed == 2 and first.table["error"].notna().tolist() == [True, False, False, True, False, False]
    again = run_sweep(flaky(), data_dir, tmp_path, workers=1)  # the two errors are tried again
    assert (again.resumed, again.ran, again.failed) == (4, 2, 2)
    pd.testing.assert_frame_equal(again.table, first.table)
    assert [p.name for p in SweepStore(again.directory).parts()] == [
        "part-0000000.parquet", "part-0000001.parquet", "part-0000002.parquet", "part-0000003.parquet",
        "part-0000004.parquet"]
