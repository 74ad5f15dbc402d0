"""`newsbt run` end to end on synthetic prices: outputs, determinism, no network, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from newsbt.cli import main
from tests.conftest import write_price_files
from tests.synthetic import two_crashes

BACKTEST = """
[run]
name = "synthetic"
start = 2024-01-01
end = 2024-01-31
cash = 100000
benchmark = "BMK"

[strategy]
name = "crash_dip"
tickers = ["AAA", "BBB"]
drop_pct = 7
hold_days = 2

[costs]
commission_bps = 10
slippage_bps = 20
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_price_files(tmp_path / "prices", two_crashes())
    (tmp_path / "synthetic.toml").write_text(BACKTEST)
    return tmp_path


def newsbt(project: Path, *args: str) -> None:
    main(["run", str(project / "synthetic.toml"), "--data-dir", str(project / "prices"),
          "--reports-dir", str(project / "reports"), *args])


def test_run_writes_all_outputs_without_touching_the_network(project, no_network, capsys):
    with pytest.raises(SystemExit) as exit_:
        newsbt(project)
    assert exit_.value.code == 0
    out_dir = project / "reports" / "synthetic"
    assert sorted(p.name for p in out_dir.iterdir()) == ["charts", "equity.csv", "index.html", "summary.json",
                                                         "tearsheet.html", "trades.csv"]
    assert sorted(p.name for p in (out_dir / "charts").iterdir()) == ["AAA.png", "BBB.png"]
    page = (out_dir / "index.html").read_text()
    for link in ("tearsheet.html", "trades.csv", "equity.csv", "summary.json", "charts/AAA.png", "charts/BBB.png"):
        assert f'href="{link}"' in page
    assert f"tearsheet: {out_dir / 'tearsheet.html'}" in capsys.readouterr().out.replace("\n", "")
    html = (out_dir / "tearsheet.html").read_text()
    assert "synthetic: crash_dip vs BMK" in html and "BMK" in html
    trades = pd.read_csv(out_dir / "trades.csv")
    assert list(trades.columns[:8]) == ["ticker", "entry_date", "entry_price", "exit_date", "exit_price",
                                        "size", "pnl", "return_pct"]
    assert trades["ticker"].tolist() == ["AAA", "BBB"]
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["parameters"]["drop_pct"] == 7.0 and summary["metrics"]["trades"] == 2
    assert set(summary["metrics"]) >= {"total_return", "cagr", "sharpe", "max_drawdown", "trades", "win_rate",
                                       "exposure"}
    equity = pd.read_csv(out_dir / "equity.csv")
    assert list(equity.columns) == ["date", "value"] and len(equity) == 12


def test_without_a_tearsheet_every_other_output_is_written_and_a_stale_tearsheet_goes(project, capsys):
    for args in ((), ("--no-tearsheet",)):
        with pytest.raises(SystemExit) as exit_:
            newsbt(project, *args)
        assert exit_.value.code == 0
    out_dir = project / "reports" / "synthetic"
    assert sorted(p.name for p in out_dir.iterdir()) == ["charts", "equity.csv", "index.html", "summary.json",
                                                         "trades.csv"]
    assert 'href="tearsheet.html"' not in (out_dir / "index.html").read_text()
    assert f"summary: {out_dir / 'summary.json'}" in capsys.readouterr().out.replace("\n", "")


def test_same_file_twice_gives_byte_identical_trades_and_summary(project):
    outputs = []
    for _ in range(2):
        with pytest.raises(SystemExit):
            newsbt(project, "--set", "costs.slippage_bps=0")
        out_dir = project / "reports" / "synthetic"
        outputs.append({n: (out_dir / n).read_bytes() for n in ("trades.csv", "summary.json", "equity.csv")})
    assert outputs[0] == outputs[1]


def test_user_error_is_one_line_exit_1_and_writes_nothing(project):
    proc = subprocess.run(
        [sys.executable, "-m", "newsbt", "run", str(project / "synthetic.toml"), "--set", "strategy.drop_pc=3",
         "--data-dir", str(project / "prices"), "--reports-dir", str(project / "reports")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {project / 'synthetic.toml'}: --set strategy.drop_pc: unknown parameter 'drop_pc' for strategy "
        "'crash_dip'; "
        "did you mean 'drop_pct'?"
    ]
    assert not (project / "reports").exists()


def test_missing_price_file_names_ticker_directory_and_fetch_command(project, capsys):
    (project / "prices" / "BBB.csv").unlink()
    with pytest.raises(SystemExit) as exit_:
        newsbt(project)
    assert exit_.value.code == 1
    err = capsys.readouterr().err.replace("\n", "")
    assert f"no price file for BBB in {(project / 'prices').resolve()}" in err
    assert "newsbt data fetch BBB --start 2024-01-01 --end 2024-01-31" in err
    assert not (project / "reports").exists()


def test_bad_price_file_stops_before_any_output(project, capsys):
    path = project / "prices" / "AAA.csv"
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace(",", ",oops", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SystemExit) as exit_:
        newsbt(project)
    assert exit_.value.code == 1
    assert f"{path}:5: unparseable number 'oops" in capsys.readouterr().err.replace("\n", "")
    assert not (project / "reports").exists()


def test_report_noise_is_silenced_but_user_warnings_are_not(tmp_path, caplog):
    import warnings

    from newsbt.api import run
    from tests.synthetic import spec_dict

    result = run(spec_dict(), prices=two_crashes())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result.tearsheet(tmp_path / "t.html")
        warnings.warn("a warning from the user's own code", UserWarning)
    assert [str(w.message) for w in caught] == ["a warning from the user's own code"]
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]


def test_run_ends_with_strategy_and_benchmark_side_by_side(project, capsys):
    with pytest.raises(SystemExit) as exit_:
        newsbt(project)
    assert exit_.value.code == 0
    summary = json.loads((project / "reports" / "synthetic" / "summary.json").read_text())
    mine, bench = summary["metrics"], summary["benchmark_metrics"]
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert rows[0] == ["synthetic:", "2024-01-01", "→", "2024-01-31"]
    assert rows[1] == ["crash_dip", "BMK"]
    assert rows[3] == ["total", "return", f"{mine['total_return']:.2%}", f"{bench['total_return']:.2%}"]
    assert ["Sharpe", f"{mine['sharpe']:.2f}", f"{bench['sharpe']:.2f}"] in rows
    assert ["max", "drawdown", f"{mine['max_drawdown']:.2%}", f"{bench['max_drawdown']:.2%}"] in rows
    assert ["trades", "2"] in rows and ["win", "rate", f"{mine['win_rate']:.2%}"] in rows
    assert rows[-1][0] == "tearsheet:"
