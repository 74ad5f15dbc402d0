"""Small synthetic intraday frames on Yahoo's hourly grid, for exact tests.

Grid per NYSE day (New York time): pre 04:00..08:00 hourly plus a 30-minute 09:00 bar; regular 09:30,
10:30, ..., 14:30 and a 30-minute 15:30 bar; post 16:00..19:00. Bar ``i`` of a frame (counting every
bar of every day) opens at ``100 + i`` and closes at ``100.5 + i``, high 0.25 above the close, low
0.25 below the open: every price is known to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from newsbt.data.intraday import validate_intraday

NEW_YORK = "America/New_York"
PRE = ["04:00", "05:00", "06:00", "07:00", "08:00", "09:00"]
REGULAR = ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]
POST = ["16:00", "17:00", "18:00", "19:00"]
GRID = {"pre": PRE, "regular": REGULAR, "post": POST}
HEADER = "timestamp,open,high,low,close,volume,session,source"


def starts(days: Iterable[str], sessions: Iterable[str] = ("pre", "regular", "post")) -> list[tuple[pd.Timestamp, str]]:
    """(tz-aware bar start, session) of every grid bar of ``days`` in the chosen sessions, in order."""
    chosen = set(sessions)
    out = []
    for day in days:
        for session in ("pre", "regular", "post"):
            if session in chosen:
                out += [(pd.Timestamp(f"{day} {t}", tz=NEW_YORK), session) for t in GRID[session]]
    return out


def csv_rows(bars: list[tuple[pd.Timestamp, str]]) -> list[str]:
    """The CSV lines (no header) of ``bars`` with the price pattern of the module docstring."""
    rows = []
    for i, (start, session) in enumerate(bars):
        o, c = 100 + i, 100.5 + i
        rows.append(f"{start.isoformat()},{o},{c + 0.25},{o - 0.25},{c},{1000 * (i + 1)},{session},T")
    return rows


def hourly(days: Iterable[str], sessions: Iterable[str] = ("pre", "regular", "post")) -> pd.DataFrame:
    """A validated intraday frame, exactly as read from a file with those rows."""
    lines = csv_rows(starts(days, sessions))
    raw = pd.DataFrame([line.split(",") for line in lines], columns=HEADER.split(","))
    return validate_intraday(raw)


def bar_open(frame: pd.DataFrame, local: str) -> float:
    """The open of the bar starting at ``local`` (New York time, ``YYYY-MM-DD HH:MM``)."""
    return float(frame.loc[pd.Timestamp(local, tz=NEW_YORK), "open"])
