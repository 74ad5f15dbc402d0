"""`newsbt sweep` from the command line: the count comes first, then results, report and index."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from newsbt.cli import main
from tests.conftest import write_price_files
from tests.sweepdata import crashy_prices
from tests.test_sweep import FILE  # crash_dip on AAA/BBB/CCC, drop_pct 5/7/10, hold_days < drop_pct



def test_sweep_command_prints_the_count_then_writes_the_report(tmp_path: Path, capsys, no_network):
    write_price_files(tmp_path / "prices", crashy_prices())
    (tmp_path / "s.toml").write_text(FILE)
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", str(tmp_path / "s.toml"), "--grid", "hold_days=1:3:2", "--workers", "1", "--no-tearsheet",
              "--data-dir", str(tmp_path / "prices"), "--reports-dir", str(tmp_path / "reports")])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    # --grid replaces the file's hold_days; all 6 pairs then satisfy hold_days < drop_pct
    assert out.startswith("6 combinations of crash_dip over drop_pct x hold_days (grid 6, 6 after constraints)")
    sweep_dir = tmp_path / "reports" / "planned" / "sweep"
    results = pd.read_csv(sweep_dir / "results.csv")
    assert len(results) == 6 and results["error"].isna().all()
    assert {"pbo", "dsr"} <= set(json.loads((sweep_dir / "summary.json").read_text()))
    assert "planned/sweep/index.html" in (tmp_path / "reports" / "index.html").read_text()


def test_unknown_grid_parameter_is_refused_with_a_suggestion(tmp_path: Path, capsys):
    write_price_files(tmp_path / "prices", crashy_prices())
    (tmp_path / "s.toml").write_text(FILE)
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", str(tmp_path / "s.toml"), "--grid", "hold_day=1,2", "--data-dir", str(tmp_path / "prices")])
    assert exit_.value.code == 1
    assert "did you mean 'hold_days'" in capsys.readouterr().err
