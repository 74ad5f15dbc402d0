"""The example scripts run end to end and produce results with trades."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_trades(script, real_data_dir, monkeypatch, capsys):
    monkeypatch.setenv("NEWSBT_DATA_DIR", str(real_data_dir))
    spec = importlib.util.spec_from_file_location(f"example_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # backtrader looks strategies' modules up by name
    spec.loader.exec_module(module)
    result = module.main()
    assert result.stats["trades"] > 0 and len(result.trades) == result.stats["trades"]
    assert "trades, total return" in capsys.readouterr().out
