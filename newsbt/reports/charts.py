"""Trade charts: each traded ticker's closes with entries, exits and news marked (PNG, Agg)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # never a window

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from newsbt.core.atomic import temporary_path  # noqa: E402


def trade_chart(closes: pd.Series, trades: pd.DataFrame, news: Iterable[tuple[pd.Timestamp, str]],
                path: Path, title: str) -> Path:
    """Plot ``closes`` with ▲ entries / ▼ exits at their fill prices and a dotted line per news item."""
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=100)
    try:
        ax.plot(closes.index, closes.to_numpy(), color="#34495e", linewidth=1.0, label="close")
        longs, shorts = trades[trades["size"] > 0], trades[trades["size"] < 0]
        for side, rows, colour in (("long", longs, "#27ae60"), ("short", shorts, "#c0392b")):
            if len(rows):
                ax.scatter(pd.to_datetime(rows["entry_date"]), rows["entry_price"], marker="^", color=colour,
                           s=36, zorder=3, label=f"{side} entry")
                ax.scatter(pd.to_datetime(rows["exit_date"]), rows["exit_price"], marker="v", color="#7f8c8d",
                           s=36, zorder=3, label=f"{side} exit")
        for i, (day, _headline) in enumerate(news):
            ax.axvline(day, color="#8e44ad", linestyle=":", linewidth=0.9, label="news" if i == 0 else None)
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
        fig.autofmt_xdate()
        with temporary_path(path) as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
