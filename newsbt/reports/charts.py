"""Charts: each traded ticker's closes with entries, exits and news marked (PNG files); a run's equity
beside its benchmark's; figures as inline PNG for notebook output.

Intraday runs get :func:`intraday_chart` instead: the ticker's bars as candles, one slot per bar (so
overnight gaps and bars of different lengths take no space), pre- and post-market bars shaded, and
each news item drawn just before the first bar that starts after it, labelled with its time.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from pathlib import Path

from newsbt.reports.backend import headless

headless()  # never a window

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from newsbt.core.atomic import temporary_path  # noqa: E402

FAST_PNG = {"format": "png", "pil_kwargs": {"compress_level": 1}}  # zlib's fastest: a third of the time, files ~1.5x


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
        ax.set_title(title, y=1.0)  # a fixed place: placing it above the axis's decorations was a quarter of a chart
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
        fig.autofmt_xdate()
        fig.subplots_adjust(left=0.06, right=0.99, top=0.93, bottom=0.13)  # fixed margins: "tight" would draw it twice
        with temporary_path(path) as tmp:
            fig.savefig(tmp, **FAST_PNG)
    finally:
        plt.close(fig)
    return path


def intraday_chart(bars: pd.DataFrame, trades: pd.DataFrame, news: Iterable[tuple[pd.Timestamp, str]],
                   path: Path, title: str) -> Path:
    """Candles of ``bars`` (tz-aware index; open, high, low, close, nyse_session) with entries, exits
    (at their fill prices, on the bar they filled at) and news (tz-aware times) marked."""
    x = range(len(bars))
    fig, ax = plt.subplots(figsize=(11, 4.5), dpi=100)
    try:
        rising = bars["close"] >= bars["open"]
        ax.vlines(x, bars["low"], bars["high"], color="#34495e", linewidth=0.8)
        ax.bar(x, (bars["close"] - bars["open"]).abs().clip(lower=1e-9), bottom=bars[["open", "close"]].min(axis=1),
               width=0.6, color=rising.map({True: "#27ae60", False: "#c0392b"}), zorder=2)
        for i in [i for i, s in enumerate(bars["nyse_session"]) if s != "regular"]:
            ax.axvspan(i - 0.5, i + 0.5, color="#bdc3c7", alpha=0.35, linewidth=0, label=None)
        slot = {t.tz_localize(None): i for i, t in enumerate(bars.index)}
        for column, price, marker, label in (("entry_date", "entry_price", "^", "entry"),
                                             ("exit_date", "exit_price", "v", "exit")):
            found = [(slot[pd.Timestamp(t)], p) for t, p in zip(trades[column], trades[price]) if pd.Timestamp(t) in slot]
            if found:
                ax.scatter(*zip(*found), marker=marker, color="#2c3e50", s=60, zorder=3, label=label)
        for i, (at, _headline) in enumerate(news):
            position = int(bars.index.searchsorted(at, side="right")) - 0.5
            ax.axvline(position, color="#8e44ad", linestyle=":", linewidth=1.2, label="news" if i == 0 else None)
            ax.annotate(f"news {at.strftime('%H:%M')}", (position, ax.get_ylim()[1]), fontsize=8, color="#8e44ad",
                        ha="left", va="top", xytext=(3, -3), textcoords="offset points")
        step = max(1, len(bars) // 24)
        ax.set_xticks(list(x)[::step], [t.strftime("%m-%d %H:%M") for t in bars.index[::step]], rotation=60,
                      fontsize=7)
        ax.set_title(f"{title} (grey: pre/post-market; New York time)")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
        with temporary_path(path) as tmp:
            fig.savefig(tmp, bbox_inches="tight", **FAST_PNG)
    finally:
        plt.close(fig)
    return path


def equity_chart(ax: Axes, equity: pd.Series, benchmark: pd.Series, labels: tuple[str, str], title: str) -> Axes:
    """Draw the portfolio's value and the benchmark's (same starting value) on ``ax``; returns ``ax``."""
    ax.plot(equity.index, equity.to_numpy(), color="#2c3e50", linewidth=1.2, label=labels[0])
    ax.plot(benchmark.index, benchmark.to_numpy(), color="#95a5a6", linewidth=1.0, label=labels[1])
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("value")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def figure_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    """A PNG as an inline ``data:`` URI, for HTML that must stand alone (notebook output)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
