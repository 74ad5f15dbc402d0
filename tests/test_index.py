"""reports/index.html without a browser: what is listed, with which figures, and bad files survived."""

from __future__ import annotations

import json
import os
from pathlib import Path

from newsbt.reports.index import refresh_index


def write(path: Path, text: str, mtime: float | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def test_index_lists_runs_sweeps_and_studies_with_their_figures(tmp_path: Path) -> None:
    summary = {"strategy": "crash_dip", "benchmark": "QQQ",
               "metrics": {"total_return": 0.0561, "sharpe": 0.134, "max_drawdown": -0.267, "trades": 149}}
    write(tmp_path / "old_run" / "tearsheet.html", "<title>t</title>", mtime=1_600_000_000)
    write(tmp_path / "old_run" / "summary.json", json.dumps(summary))
    write(tmp_path / "plain_run" / "summary.json", json.dumps(summary))  # written without a tearsheet
    write(tmp_path / "swept" / "sweep" / "index.html", "<title>s</title>")
    write(tmp_path / "swept" / "sweep" / "summary.json", json.dumps({
        "strategy": "crash_dip", "combinations": 48, "metric": "sharpe", "dsr": {"dsr": 0.67}, "pbo": {"pbo": 0.69},
        "best": {"parameters": {"drop_pct": 10}, "figures": {"sharpe": 0.2149}}}))
    write(tmp_path / "studied" / "study" / "index.html", "<title>e</title>")
    write(tmp_path / "studied" / "study" / "summary.json", json.dumps({
        "pairs": 12, "skipped": 1, "windows": [{"window": "[0,0]", "caar": -0.0423, "kp_t": -1.84, "p_kp": 0.0928}],
        "events": [{"event_id": f"e{i}", "day0": "2025-01-27", "headline": "<b>h</b>"} for i in range(5)]}))
    write(tmp_path / "empty_folder" / "notes.txt", "nothing to link")
    page = refresh_index(tmp_path).read_text()
    assert '<a href="old_run/tearsheet.html">old_run</a></td><td>2020-09-13</td>' in page
    assert "<td>+5.61%</td><td>0.13</td><td>-26.70%</td><td>149</td>" in page
    assert '<a href="plain_run/summary.json">plain_run</a>' in page
    assert page.index("plain_run") < page.index("old_run")  # newest first
    assert "<td>48</td><td>sharpe 0.21 at drop_pct=10</td><td>0.67</td><td>69%</td>" in page
    assert '<a href="studied/study/index.html">studied</a>' in page
    assert "e2 (2025-01-27): &lt;b&gt;h&lt;/b&gt;; and 2 more" in page and "<b>h</b>" not in page
    assert "<td>CAAR[0,0] -4.23%</td><td>-1.84 (p 0.0928)</td>" in page
    assert "empty_folder" not in page


def test_missing_or_broken_summaries_show_n_a_and_never_stop_the_index(tmp_path: Path) -> None:
    write(tmp_path / "broken" / "tearsheet.html", "")
    write(tmp_path / "broken" / "summary.json", "{not json")
    write(tmp_path / "odd" / "tearsheet.html", "")
    write(tmp_path / "odd" / "summary.json",
          json.dumps({"strategy": None, "metrics": {"sharpe": "high", "trades": True}}))
    write(tmp_path / "bare" / "study" / "index.html", "")
    page = refresh_index(tmp_path).read_text()
    assert page.count("<td>n/a</td>") >= 12
    assert "<h2>Sweeps</h2>\n<p>None yet.</p>" in page
    assert refresh_index(tmp_path / "new").read_text().count("None yet.") == 3
