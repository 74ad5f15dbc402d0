"""The reports index: ``reports/index.html``, one plain page linking every run, sweep and study.

It is rebuilt from what is on disk (after each run, sweep or study, and by ``newsbt report``), so it
never lists a report that is gone or misses one written by an earlier version. Per folder
``reports/<name>/``:

- a run: ``tearsheet.html`` (or ``summary.json`` when written without a tearsheet), with the headline
  numbers of ``summary.json``;
- a sweep: ``sweep/index.html``, with its size, best combination, DSR and PBO from ``sweep/summary.json``;
- a study: ``study/index.html``, with the events, pair counts and first window from ``study/summary.json``.

Writers of the index take turns (a lock beside it) and each reads the folders afresh, so the last
refresh, which follows the last report published, lists exactly what is on disk. Dates are the
linked file's modification date; links are relative, so the folder can be moved or served as is.
Every text read from a file (names, headlines, tickers) is HTML-escaped, and a summary that is
missing or unreadable shows as "n/a" rather than stopping the index.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from newsbt.core.atomic import atomic_write_text
from newsbt.core.publish import environment_errors, file_lock
from newsbt.reports.htmlpage import page

INDEX_NAME = "index.html"
EVENTS_SHOWN = 3


@dataclass(frozen=True)
class Row:
    """One linked report: its folder name, the link (relative to reports/), its date and its figures."""

    name: str
    href: str
    date: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    title: str
    headers: tuple[str, ...]
    row: Callable[[Path], Row | None]


def refresh_index(reports_dir: str | Path = "reports") -> Path:
    """Rewrite ``reports_dir/index.html`` from the reports found there; returns its path."""
    path = Path(reports_dir) / INDEX_NAME
    with file_lock(path), environment_errors(path):
        folders = [p for p in path.parent.iterdir() if p.is_dir() and not p.name.startswith(".")]
        body = "\n".join(_section_html(section, folders) for section in SECTIONS)
        atomic_write_text(path, page("newsbt reports", body, style="td:nth-child(2){white-space:nowrap}"))
    return path


def _section_html(section: Section, folders: list[Path]) -> str:
    """Newest first (by the linked file's date), then by name."""
    rows = sorted((row for row in (_row_of(section, f) for f in folders) if row is not None), key=lambda r: r.name)
    rows.sort(key=lambda r: r.date, reverse=True)  # stable: names stay A-Z within a date
    head = f"<h2>{html.escape(section.title)}</h2>"
    if not rows:
        return f"{head}\n<p>None yet.</p>"
    headers = "".join(f"<th>{html.escape(h)}</th>" for h in ("name", "date", *section.headers))
    lines = [
        f'<tr><td><a href="{html.escape(row.href)}">{html.escape(row.name)}</a></td><td>{row.date}</td>'
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in row.cells) + "</tr>"
        for row in rows
    ]
    return f"{head}\n<table class=\"sortable\"><thead><tr>{headers}</tr></thead><tbody>\n" + "\n".join(lines) + "\n</tbody></table>"


def _row_of(section: Section, folder: Path) -> Row | None:
    """The folder's row; None when it is being replaced this instant (its writer refreshes the index next)."""
    try:
        return section.row(folder)
    except FileNotFoundError:
        return None


def run_row(folder: Path) -> Row | None:
    """A backtest run: its tearsheet with total return, Sharpe, max drawdown and trades."""
    target = next((folder / n for n in ("tearsheet.html", "summary.json") if (folder / n).is_file()), None)
    if target is None:
        return None
    summary = _read_json(folder / "summary.json")
    metrics = _mapping(summary.get("metrics"))
    cells = (
        _text(summary.get("strategy")), _text(summary.get("benchmark")),
        _number(metrics.get("total_return"), "{:+.2%}"), _number(metrics.get("sharpe"), "{:.2f}"),
        _number(metrics.get("max_drawdown"), "{:.2%}"), _number(metrics.get("trades"), "{:g}"),
    )
    return _row(folder, target, cells)


def sweep_row(folder: Path) -> Row | None:
    """A parameter sweep: its report with the size, the best combination, its DSR and the sweep's PBO."""
    target = folder / "sweep" / INDEX_NAME
    if not target.is_file():
        return None
    summary = _read_json(folder / "sweep" / "summary.json")
    best, metric = _mapping(summary.get("best")), _text(summary.get("metric"))
    chosen = ", ".join(f"{k}={v}" for k, v in _mapping(best.get("parameters")).items()) or "n/a"
    cells = (
        _text(summary.get("strategy")), _number(summary.get("combinations"), "{:,.0f}"),
        f"{metric} {_number(_mapping(best.get('figures')).get(metric), '{:.2f}')} at {chosen}",
        _number(_mapping(summary.get("dsr")).get("dsr"), "{:.2f}"),
        _number(_mapping(summary.get("pbo")).get("pbo"), "{:.0%}"),
    )
    return _row(folder, target, cells)


def study_row(folder: Path) -> Row | None:
    """An event study: its report with the events, pairs studied and skipped, and the first window."""
    target = folder / "study" / INDEX_NAME
    if not target.is_file():
        return None
    summary = _read_json(folder / "study" / "summary.json")
    windows = summary.get("windows")
    first = _mapping(windows[0]) if isinstance(windows, list) and windows else {}
    kp = f"{_number(first.get('kp_t'), '{:+.2f}')} (p {_number(first.get('p_kp'), '{:.3g}')})"
    cells = (
        _events_text(summary.get("events")), _number(summary.get("pairs"), "{:g}"),
        _number(summary.get("skipped"), "{:g}"), f"CAAR{_text(first.get('window'))} "
        f"{_number(first.get('caar'), '{:+.2%}')}", kp,
    )
    return _row(folder, target, cells)


def _events_text(events: Any) -> str:
    """The first few events as "id (day 0): headline", then how many more."""
    if not isinstance(events, list):
        return "n/a"
    shown = [f"{_text(e.get('event_id'))} ({_text(e.get('day0'))}): {_text(e.get('headline'))}"
             for e in map(_mapping, events[:EVENTS_SHOWN])]
    more = len(events) - EVENTS_SHOWN
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _row(folder: Path, target: Path, cells: tuple[str, ...]) -> Row:
    href = quote(target.relative_to(folder.parent).as_posix())
    date = dt.datetime.fromtimestamp(target.stat().st_mtime).strftime("%Y-%m-%d")
    return Row(folder.name, href, date, cells)


def _read_json(path: Path) -> dict[str, Any]:
    """The file's object, or {} when it is missing or not a JSON object (every figure then shows n/a)."""
    try:
        return _mapping(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else {}: a hand-edited file never stops the index."""
    return value if isinstance(value, dict) else {}


def _number(value: Any, pattern: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "n/a"
    return pattern.format(value)


def _text(value: Any) -> str:
    return "n/a" if value is None else str(value)


SECTIONS = (
    Section("Backtests", ("strategy", "benchmark", "total return", "Sharpe", "max drawdown", "trades"), run_row),
    Section("Sweeps", ("strategy", "combinations", "best", "DSR", "PBO"), sweep_row),
    Section("Event studies", ("events", "pairs", "skipped", "first window", "Kolari-Pynnönen t"), study_row),
)
