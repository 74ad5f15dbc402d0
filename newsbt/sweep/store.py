"""Where a sweep keeps its work: ``reports/<name>/sweep/manifest.json`` and ``results/part-*.parquet``.

Each finished chunk of combinations becomes one parquet part named after its lowest combination
index, written to a temporary name and renamed into place, so a killed sweep leaves whole parts or
none. The manifest holds the sweep's hash: the same sweep resumes (finished combinations are
skipped, those that raised are tried again), a different one starts afresh and the old parts are
removed. Parts hold one row per combination: its index, parameters (JSON), headline figures, error
text (None when it ran) and daily returns.

A part that a disk fault, a bad copy or a hand truncated (unreadable, another schema, a combination
outside the sweep or already in another part) is moved aside to ``results/quarantine/`` on resume,
never deleted and never trusted: its combinations simply run again, so the final table holds every
combination exactly once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newsbt.core.atomic import atomic_write_text, temporary_path
from newsbt.core.errors import NewsbtError

METRIC_COLUMNS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "trades", "win_rate", "exposure")
SCHEMA = pa.schema([
    ("combination", pa.int64()),
    ("params", pa.string()),
    *[(name, pa.int64() if name == "trades" else pa.float64()) for name in METRIC_COLUMNS],
    ("final_value", pa.float64()),
    ("refused_orders", pa.int64()),
    ("error", pa.string()),
    ("dates", pa.list_(pa.date32())),
    ("returns", pa.list_(pa.float64())),
])
TABLE_COLUMNS = ("combination", *METRIC_COLUMNS, "final_value", "refused_orders", "error")
STORE_ENTRIES = ("results", "manifest.json")  # what a sweep's folder keeps when its report is rewritten


@dataclass(frozen=True)
class Quarantined:
    """A damaged part moved aside: where it was, where it went, and why it was not trusted."""

    part: Path
    moved_to: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.part}: {self.reason}; moved to {self.moved_to}, its combinations run again"


@dataclass(frozen=True)
class StoreState:
    done: frozenset[int]  # combinations already saved (resumed)
    discarded: int  # saved combinations of a different sweep (or of this one, not resumed) that were removed
    quarantined: tuple[Quarantined, ...] = ()  # damaged parts moved aside (their combinations run again)
    saved: tuple[pa.Table, ...] = ()  # the resumed parts as read (whole), for the final table


@dataclass(frozen=True)
class SweepStore:
    directory: Path  # reports/<name>/sweep

    @property
    def results_dir(self) -> Path:
        return self.directory / "results"

    @property
    def manifest_path(self) -> Path:
        return self.directory / "manifest.json"

    @property
    def quarantine_dir(self) -> Path:
        return self.results_dir / "quarantine"

    def prepare(self, spec_hash: str, manifest: Mapping[str, Any], resume: bool) -> StoreState:
        """Resume the saved sweep with ``spec_hash`` (when ``resume``), else clear old parts and start afresh.

        ``manifest["combinations"]`` is the sweep's size: a saved combination outside it is damage. Parts
        to resume are read whole here (a damaged page is found before anything runs) and handed back in
        ``saved``; parts to discard are only counted.
        """
        self.results_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.results_dir.glob(".part-*"):  # temporary files of a killed run
            stale.unlink()
        size = int(manifest["combinations"])
        if resume and self._saved_hash() == spec_hash:
            good, damaged = self._check_parts(size, whole=True)
            quarantined = tuple(self._quarantine(part, reason) for part, reason in damaged)
            saved = self._drop_errors(good)
            done = frozenset(i for table in saved for i in table["combination"].to_pylist())
            return StoreState(done, 0, quarantined, saved)
        good, _ = self._check_parts(size, whole=False)
        for part in self.parts():
            part.unlink()
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2) + "\n")
        return StoreState(frozenset(), sum(table.num_rows for table in good.values()))

    def parts(self) -> list[Path]:
        return sorted(self.results_dir.glob("part-*.parquet"))

    def write_part(self, part: pa.Table | Sequence[Mapping[str, Any]]) -> Path:
        """Save finished combinations (a table of ``SCHEMA``, or rows of its columns) as one part, atomically."""
        table = part if isinstance(part, pa.Table) else pa.Table.from_pylist(list(part), schema=SCHEMA)
        path = self.results_dir / f"part-{pc.min(table['combination']).as_py():07d}.parquet"
        _write_parquet(table, path)
        return path

    def _check_parts(self, size: int, whole: bool) -> tuple[dict[Path, pa.Table], list[tuple[Path, str]]]:
        """Parts to trust (read whole, or only their combinations) and damaged ones (with the reason), in
        name order."""
        good: dict[Path, pa.Table] = {}
        damaged: list[tuple[Path, str]] = []
        seen: set[int] = set()
        for part in self.parts():
            try:
                with pq.ParquetFile(part) as file:
                    ours = file.schema_arrow.equals(SCHEMA)
                    table = file.read(columns=None if whole else ["combination"]) if ours else None
            except (OSError, pa.ArrowException) as exc:  # truncated, empty, not parquet at all
                damaged.append((part, f"unreadable ({' '.join(str(exc).split())[:160]})"))
                continue
            combos = table["combination"].to_pylist() if table is not None else None
            if combos is None:
                damaged.append((part, "its columns are not those of a sweep result part"))
            elif len(set(combos)) < len(combos) or not all(c is not None and 0 <= c < size for c in combos):
                damaged.append((part, f"it holds combinations that are not the sweep's 0..{size - 1}, once each"))
            elif seen & set(combos):
                damaged.append((part, f"combination {min(seen & set(combos))} is also in another part"))
            else:
                good[part] = table
                seen |= set(combos)
        return good, damaged

    def _quarantine(self, part: Path, reason: str) -> Quarantined:
        """Move a damaged part aside (never over an earlier quarantined one)."""
        self.quarantine_dir.mkdir(exist_ok=True)
        target, n = self.quarantine_dir / part.name, 1
        while target.exists():
            target, n = self.quarantine_dir / f"{part.stem}.{n}{part.suffix}", n + 1
        os.replace(part, target)
        return Quarantined(part, target, reason)

    def _drop_errors(self, parts: Mapping[Path, pa.Table]) -> tuple[pa.Table, ...]:
        """Forget combinations that raised, so a resumed sweep tries them again (the error may be fixed);
        the parts' tables without them.

        A part keeps the name of its lowest combination, so a rerun combination's new part can never
        overwrite it (a kill between the write and the unlink leaves a duplicate that resume quarantines).
        """
        kept_parts = []
        for part, table in parts.items():
            kept = table.filter(pc.is_null(table["error"]))
            if kept.num_rows < table.num_rows:
                rewritten = self.write_part(kept) if kept.num_rows else None
                if rewritten != part:
                    part.unlink()
            if kept.num_rows:
                kept_parts.append(kept)
        return tuple(kept_parts)

    def _saved_hash(self) -> str | None:
        try:
            saved = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):  # missing, not UTF-8, not JSON: a fresh start
            return None
        return saved.get("spec_hash") if isinstance(saved, dict) else None


class Collected:
    """A sweep's results gathered part by part as the parts are saved (a sweep hands over what it resumed
    and each part it writes, and never reads them back).

    Each part is kept as its figures, and the daily returns of the combinations that ran are copied
    into one combinations x sessions matrix, at their combination's row, as long as every part has the
    first one's sessions (the usual case): the sweep then holds 8 bytes per combination and session,
    not its parts (whose sessions repeat on every row), and the outcome is built without a copy. A part
    on other sessions (combinations with other tickers) and every one after it are kept whole.
    """

    def __init__(self, size: int) -> None:
        self.figures: list[pa.Table] = []
        self.whole: list[pa.Table] = []  # parts (of combinations that ran) not placed in the matrix
        self.sessions: np.ndarray | None = None  # int32 days since 1970-01-01
        self.rows = np.empty((size, 0))  # combination x session, on ``sessions``; pages touched as filled
        self.placed = np.zeros(size, dtype=bool)

    def add(self, part: pa.Table) -> None:
        self.figures.append(part.drop_columns(["dates", "returns"]))
        ran = part if part["error"].null_count == part.num_rows else part.filter(pc.is_null(part["error"]))
        if not ran.num_rows:
            return
        days, lengths = _flat(ran["dates"], pa.int32()), np.asarray(pc.list_value_length(ran["dates"]))
        if self.sessions is None and not self.whole and (lengths == lengths[0]).all():
            self.sessions, self.rows = days[: lengths[0]], np.empty((len(self.placed), lengths[0]))
        n = 0 if self.sessions is None else len(self.sessions)
        if self.whole or not n or not (lengths == n).all() or not (days.reshape(-1, n) == self.sessions).all():
            self.whole.append(ran)
            return
        combos = ran["combination"].to_numpy()
        self.rows[combos] = _flat(ran["returns"], pa.float64()).reshape(-1, n)
        self.placed[combos] = True

    def outcome(self, directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(one row per combination by index, daily returns as sessions x combination of those that ran)."""
        table = pa.concat_tables(self.figures) if self.figures else SCHEMA.empty_table().drop_columns(["dates", "returns"])
        frame = table.to_pandas().sort_values("combination", kind="stable").reset_index(drop=True)
        twice = frame["combination"][frame["combination"].duplicated()]
        if len(twice):
            raise NewsbtError(f"{directory} holds combination {twice.iloc[0]} twice; "
                              "remove the folder (or run without resume) and run the sweep again")
        return _results_table(frame), self._returns()

    def _returns(self) -> pd.DataFrame:
        combos = np.flatnonzero(self.placed)
        if self.whole:  # the matrix's rows back into a part, all aligned on the union of the sessions
            placed = pa.table({"combination": combos, "error": pa.nulls(len(combos), pa.string()),
                               "dates": list_column([self.sessions] * len(combos), np.int32, pa.date32()),
                               "returns": list_column(list(self.rows[combos]), np.float64, pa.float64())})
            return _returns_matrix(pa.concat_tables([placed, *(p.select(placed.column_names) for p in self.whole)]))
        rows = self.rows if len(combos) == len(self.placed) else self.rows[combos]
        index = pd.DatetimeIndex(self.sessions.astype("datetime64[D]"), name="date") if len(combos) else None
        matrix = pd.DataFrame(rows.T, index=index, columns=combos, copy=False) if len(combos) else pd.DataFrame()
        matrix.columns.name = "combination"
        return matrix


def list_column(arrays: Sequence[np.ndarray | None], dtype: type, kind: pa.DataType) -> pa.ListArray:
    """One list per row (empty for None) from numpy arrays, as an arrow list column of ``kind``."""
    offsets = np.zeros(len(arrays) + 1, dtype=np.int32)
    np.cumsum([0 if a is None else len(a) for a in arrays], out=offsets[1:])
    present = [a for a in arrays if a is not None]
    values = np.concatenate(present).astype(dtype, copy=False) if present else np.zeros(0, dtype=dtype)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values).cast(kind))


def _results_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Combination index, one column per swept parameter, then the figures and the error."""
    params = pd.DataFrame([json.loads(p) for p in frame["params"]], index=frame.index)
    errors = pd.Series([e if isinstance(e, str) else None for e in frame["error"]], index=frame.index, dtype=object)
    return pd.DataFrame({"combination": frame["combination"], **params,
                         **{name: frame[name] for name in TABLE_COLUMNS[1:-1]}, "error": errors})


def _returns_matrix(table: pa.Table) -> pd.DataFrame:
    """Daily returns, one column per combination that ran (by index); a session a combination has no bar
    on counts 0.

    Read from the arrow columns part by part, without a Python object per day and without copying the
    list columns: when every combination has the same sessions (the usual case) the matrix is one
    reshape of the returns, else each column is aligned on the union of the sessions. Combinations
    that raised have no returns, so the flattened values hold only those that ran.
    """
    ran = pc.is_null(table["error"]).to_numpy(zero_copy_only=False)
    combos = table["combination"].to_numpy()[ran]
    parts = [(_flat(d, pa.int32()), _flat(r, pa.float64()), pc.list_value_length(d).to_numpy(zero_copy_only=False))
             for d, r in zip(table["dates"].chunks, table["returns"].chunks)]
    lengths = np.concatenate([m for _, _, m in parts])[ran] if parts else np.zeros(0, dtype=np.int64)
    sessions = _same_sessions(parts, int(lengths[0])) if len(combos) and (lengths == lengths[0]).all() else None
    if not len(combos):
        matrix = pd.DataFrame()
    elif sessions is not None:
        n = len(sessions)
        rows = np.concatenate([r for _, r, _ in parts]).reshape(-1, n)
        order = np.argsort(combos, kind="stable")
        if (np.diff(order) != 1).any():
            rows, combos = rows[order], combos[order]
        index = pd.DatetimeIndex(sessions.astype("datetime64[D]"), name="date")
        matrix = pd.DataFrame(rows.T, index=index, columns=combos, copy=False)
    else:
        days, values = (np.concatenate(a) for a in list(zip(*parts))[:2])
        ends = lengths.cumsum()
        series = {int(c): pd.Series(values[e - m:e], index=pd.DatetimeIndex(days[e - m:e].astype("datetime64[D]"),
                                                                            name="date"))
                  for c, m, e in sorted(zip(combos, lengths, ends))}
        matrix = pd.DataFrame(series).sort_index().fillna(0.0)
    matrix.columns.name = "combination"
    return matrix


def _same_sessions(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int) -> np.ndarray | None:
    """The sessions every combination that ran shares (n days), or None when they differ. A part may
    hold only combinations that raised, with no days at all."""
    first = next(days[:n] for days, _, _ in parts if len(days))
    return first if all((days.reshape(-1, n) == first).all() for days, _, _ in parts) else None


def _flat(lists: pa.ListArray | pa.ChunkedArray, kind: pa.DataType) -> np.ndarray:
    """The values of a list column as one numpy array (dates as int32 days since 1970-01-01)."""
    return np.asarray(pc.cast(pc.list_flatten(lists), kind))


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Without dictionary encoding and statistics: tried on every column, as by default, they took most
    of a part's write (the returns never repeat; nothing reads the statistics)."""
    with temporary_path(path) as tmp:  # a temporary ".part-*" sibling, renamed into place when whole
        pq.write_table(table, tmp, use_dictionary=False, write_statistics=False)
