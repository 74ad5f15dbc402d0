"""examples/quickstart.ipynb runs top to bottom in a Jupyter kernel from this environment, offline and
without NEWSBT_DATA_DIR, from a folder shaped like a fresh clone; its results render as HTML and charts.

The kernel is the ``python3`` kernelspec (jupyter_client starts it with this interpreter), with the
notebook's folder as working directory, matplotlib left to the kernel's inline backend, and a
``sitecustomize`` that makes every socket connection from Python fail (the kernel's own ZMQ channels
are native and unaffected).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.test_quickstart import NO_NETWORK

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


def test_the_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


@pytest.fixture
def executed(tmp_path: Path) -> nbformat.NotebookNode:
    work = tmp_path / "clone"
    shutil.copytree(ROOT / "backtests", work / "backtests")
    shutil.copytree(ROOT / "data" / "events", work / "data" / "events")
    (work / "examples").mkdir()
    blocker = tmp_path / "offline"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(NO_NETWORK)
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSBT_DATA_DIR", "MPLBACKEND", "PYTHONPATH")}
    env["PYTHONPATH"] = str(blocker)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(work / "examples")}})
    client.execute(env=env)
    assert (work / "reports" / "ai_crash_dip_sweep" / "sweep" / "index.html").is_file()
    return notebook


def outputs(notebook: nbformat.NotebookNode, source_start: str) -> list[dict]:
    [cell] = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(source_start)]
    return [dict(o.get("data", {})) for o in cell.outputs if o.output_type in ("execute_result", "display_data")]


def test_quickstart_notebook_runs_offline_and_renders(executed):
    [run] = outputs(executed, "result = api.run")
    html = run["text/html"]
    assert "<td>total return</td>" in html and '<th>crash_dip</th><th>QQQ</th>' in html
    assert '<img src="data:image/png;base64,' in html
    [plot] = [o for o in outputs(executed, "result.plot()") if "image/png" in o]  # drawn inline by the kernel
    assert plot["image/png"]
    [sweep] = outputs(executed, "sweep = api.sweep")
    assert "best drop_pct=" in sweep["text/html"] and "<th>rank</th>" in sweep["text/html"]
    assert sweep["text/html"].count('<img src="data:image/png;base64,') == 1  # drop_pct x hold_days only
    assert [o for o in outputs(executed, "sweep.heatmap(") if "image/png" in o]
    [study] = outputs(executed, "api.study(")
    assert "deepseek-app-2025-01-26" in study["text/html"] and "Kolari-Pynnönen t" in study["text/html"]
