"""The README's Python blocks work when pasted (run from a scratch folder beside the backtests and data)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_block_runs(number, real_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSBT_DATA_DIR", str(real_data_dir))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "backtests").symlink_to(ROOT / "backtests")
    (tmp_path / "data").symlink_to(ROOT / "data")  # event files named relative to the repository
    module = types.ModuleType(f"readme_block_{number}")  # backtrader looks strategies' modules up by name
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(BLOCKS[number], f"README.md block {number}", "exec"), module.__dict__)
