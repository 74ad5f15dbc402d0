"""The README's quickstart, as printed, on a fresh machine: no network, no NEWSBT_DATA_DIR, no prices.

The commands are read from the README's Quickstart section (all but ``pip install``, which CI has
just run) and run in a subprocess from a folder holding only a copy of ``backtests/`` and
``data/events/``, the way a fresh clone looks. A ``sitecustomize`` on PYTHONPATH makes every socket
connection and name lookup fail in that subprocess.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NO_NETWORK = '''import socket

def _refuse(*args, **kwargs):
    raise OSError("network blocked by the quickstart test")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
'''


def quickstart_commands() -> list[str]:
    """The shell lines of the Quickstart section's first bash block, without ``pip install``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert block, "the Quickstart section has no bash block"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("pip install")]


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A fresh clone's working folder (no data/prices/) and an offline environment without NEWSBT_DATA_DIR."""
    work = tmp_path / "clone"
    shutil.copytree(ROOT / "backtests", work / "backtests")
    shutil.copytree(ROOT / "data" / "events", work / "data" / "events")
    blocker = tmp_path / "offline"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(NO_NETWORK)
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSBT_DATA_DIR", "PYTHONPATH")}
    env.update(PYTHONPATH=str(blocker), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               MPLBACKEND="Agg", COLUMNS="120")
    return work, env


def test_the_subprocess_really_is_offline(fresh):
    work, env = fresh
    proc = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
                          cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "network blocked by the quickstart test" in proc.stderr


def test_readme_quickstart_runs_offline_without_a_data_directory(fresh):
    work, env = fresh
    commands = quickstart_commands()
    assert commands == ["newsbt run backtests/ai_crash_dip.toml"]
    for command in commands:
        proc = subprocess.run(shlex.split(command), cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    assert (work / "reports" / "ai_crash_dip" / "tearsheet.html").is_file()
    note = [line for line in proc.stderr.splitlines() if line.startswith("note: ")]
    assert len(note) == 1 and "come from the sample bundled with newsbt" in note[0]
    assert "for fresh prices: newsbt data fetch NVDA AMD" in note[0]
    header = next(line for line in proc.stdout.splitlines() if "crash_dip" in line and "QQQ" in line)
    assert header.split() == ["crash_dip", "QQQ"]
    total = next(line for line in proc.stdout.splitlines() if line.strip().startswith("total return"))
    assert re.fullmatch(r"\s*total return\s+-?[\d.]+%\s+-?[\d.]+%\s*", total)
    assert "tearsheet: reports/ai_crash_dip/tearsheet.html" in proc.stdout


def test_readme_has_no_workspace_paths():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme and "/work/" not in readme and "In this workspace" not in readme
