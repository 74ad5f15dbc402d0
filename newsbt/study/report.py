"""Write an event study's report: ``reports/<name>/study/index.html``, its CAAR plot and its CSVs.

The page is one self-contained HTML file (inline CSS, no script, nothing fetched from elsewhere), so it
opens offline. Every text that comes from a user's file (event ids, headlines, tickers, skip reasons)
is HTML-escaped. Every number on the page is also in a CSV next to it, at full precision:

| file | what it holds |
|---|---|
| ``events.csv`` | the studied events: event_id, day0, category, tickers, headline, source, url, bucket |
| ``pairs.csv`` | one row per event-ticker: alpha, beta, sigma, AR day 0 and its t, CAR and SCAR per window |
| ``caar.csv`` | one row per window: CAAR and every test with its p-value |
| ``path.csv`` | AAR and CAAR per relative day with their 95% bands (the plot) |
| ``abnormal.csv`` | each pair's abnormal return per relative day |
| ``skipped.csv`` | pairs that could not be studied, with the reason |
| ``buckets.csv`` | news-store studies: caar.csv's rows for each sentiment bucket, side by side |
| ``summary.json`` | headline figures, read by the reports index (``newsbt.reports.index``) |

Everything is computed before the first byte is written, into a staging folder swapped in whole at
the end under the name's lock (``newsbt.core.publish``): a kill, a full disk or a second study of the
same name never leaves a half-written or mixed report.
"""

from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from newsbt.core.publish import report_lock, staged
from newsbt.study.model import EventStudyResult, window_label
from newsbt.reports.htmlpage import link, page, table

if TYPE_CHECKING:  # the runner calls this module; the outcome's type is only named here
    from newsbt.study.runner import StudyOutcome

PLOT_NAME = "caar.png"
STYLE = """th,td{white-space:nowrap}td:last-child{white-space:normal}
img{max-width:100%}.note{color:#555}"""
CAAR_COLUMNS = {  # caar.csv column -> (header, format)
    "window": ("window", "{}"), "n": ("N", "{:d}"), "caar": ("CAAR", "{:+.2%}"),
    "t": ("cross-sectional t", "{:+.2f}"), "p_t": ("p", "{:.3g}"),
    "patell_z": ("Patell Z", "{:+.2f}"), "p_patell": ("p", "{:.3g}"),
    "bmp_t": ("BMP t", "{:+.2f}"), "p_bmp": ("p", "{:.3g}"),
    "kp_t": ("Kolari-Pynnönen t", "{:+.2f}"), "p_kp": ("p", "{:.3g}"),
    "n_positive": ("CAR > 0", "{:d}"), "sign_z": ("sign Z", "{:+.2f}"), "p_sign": ("p", "{:.3g}"),
}


def write_study(outcome: StudyOutcome, reports_dir: Path) -> Path:
    """Write the report into ``reports_dir/<name>/study/``; returns the path of its index.html."""
    name_dir = Path(reports_dir) / outcome.name
    files = {**study_csvs(outcome), "summary.json": json.dumps(study_summary(outcome), indent=2) + "\n"}
    plot = caar_plot(outcome.result, units(outcome))
    files["index.html"] = study_page(outcome, list(files))
    with report_lock(name_dir), staged(name_dir / "study") as folder:
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        (folder / PLOT_NAME).write_bytes(plot)
    return name_dir / "study" / "index.html"


def events_frame(outcome: StudyOutcome) -> pd.DataFrame:
    """The studied events, one row each, in file order."""
    return pd.DataFrame({
        "event_id": [e.event.event_id for e in outcome.events],
        "day0": pd.DatetimeIndex([e.day0 for e in outcome.events]),
        "category": [e.event.category.value for e in outcome.events],
        "tickers": [";".join(e.tickers) for e in outcome.events],
        "headline": [e.event.headline for e in outcome.events],
        "source": [e.event.source for e in outcome.events],
        "url": [e.event.url for e in outcome.events],
        "bucket": [e.bucket for e in outcome.events],
    })


def skipped_frame(result: EventStudyResult) -> pd.DataFrame:
    columns = ["event_id", "ticker", "day0", "reason"]
    return pd.DataFrame([[s.event_id, s.ticker, s.day0, s.reason] for s in result.skipped], columns=columns)


def study_csvs(outcome: StudyOutcome) -> dict[str, str]:
    result = outcome.result
    abnormal = result.abnormal.copy()
    abnormal.columns = [str(day) for day in abnormal.columns]
    frames = {
        "events.csv": (events_frame(outcome), False),
        "pairs.csv": (result.events, False),
        "caar.csv": (result.caar, False),
        "path.csv": (result.path, True),
        "abnormal.csv": (abnormal, True),
        "skipped.csv": (skipped_frame(result), False),
    }
    if outcome.buckets:
        frames["buckets.csv"] = (buckets_frame(outcome), False)
    return {name: frame.to_csv(index=index, date_format="%Y-%m-%d", lineterminator="\n")
            for name, (frame, index) in frames.items()}


def buckets_frame(outcome: StudyOutcome) -> pd.DataFrame:
    """Every bucket's CAAR table, stacked, with the bucket named in the first column."""
    return pd.concat([r.caar.assign(bucket=b)[["bucket", *r.caar.columns]] for b, r in outcome.buckets],
                     ignore_index=True)


def study_summary(outcome: StudyOutcome) -> dict[str, Any]:
    """summary.json: what was studied and the CAAR of every window with its clustering-adjusted test."""
    result, settings = outcome.result, outcome.study.settings
    return {
        "name": outcome.name,
        "market": result.market,
        "model": result.model,
        "source": source_label(outcome),
        "pairs": len(result.events),
        "skipped": len(result.skipped),
        "events": events_frame(outcome)[["event_id", "day0", "headline"]].astype({"day0": str}).to_dict("records"),
        "windows": [
            {"window": row.window, "n": int(row.n), "caar": _finite(row.caar), "kp_t": _finite(row.kp_t),
             "p_kp": _finite(row.p_kp)}
            for row in result.caar.itertuples()
        ],
        "estimation": list(settings.estimation),
    }


def _finite(value: float) -> float | None:
    """JSON has no NaN: an undefined statistic (too few pairs) is null."""
    return float(value) if math.isfinite(value) else None


def source_label(outcome: StudyOutcome) -> str:
    settings = outcome.study.settings
    if settings.news is not None:
        news = settings.news
        return (f"news from {news.store}: the top {news.top_pct:g}% of ticker-sessions by abnormal news volume, "
                f"by the sign of their {news.scorer} sentiment")
    if settings.shocks is None:
        return f"events from {settings.events}"
    scan = settings.shocks
    versus = f" in excess of {scan.benchmark}" if scan.benchmark else ""
    return f"shocks beyond {scan.threshold_pct:g}% in {', '.join(scan.tickers)}{versus}"


def units(outcome: StudyOutcome) -> str:
    """What relative positions count: trading days, or bars of an intraday study (``1h bars``)."""
    run = outcome.study.spec.run
    return f"{run.bars} bars" if run.intraday else "trading days"


def caar_plot(result: EventStudyResult, unit: str = "trading days") -> bytes:
    """PNG of the CAAR path with its 95% band and the daily AAR; drawn on a bare Figure (Agg, no window)."""
    path = result.path
    fig = Figure(figsize=(9, 4.5), dpi=100)
    ax = fig.subplots()
    days = path.index.to_numpy()
    ax.bar(days, path["aar"] * 100, color="#9bb7d4", label="AAR")
    ax.fill_between(days, path["caar_lo"] * 100, path["caar_hi"] * 100, color="#f2b880", alpha=0.5,
                    label="CAAR 95% band")
    ax.plot(days, path["caar"] * 100, color="#c0392b", marker="o", markersize=3, label="CAAR")
    ax.axhline(0, color="#555", linewidth=0.8)
    ax.axvline(0, color="#555", linewidth=0.8, linestyle="--")
    ax.set_xlabel(f"{unit} relative to {'bar' if 'bars' in unit else 'day'} 0")
    ax.set_ylabel("abnormal return, %")
    n = int(path["n"].iloc[0]) if len(path) else 0
    ax.set_title(f"CAAR, {n} event-ticker pairs, {result.model} model vs {result.market}")
    ax.legend(loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def study_page(outcome: StudyOutcome, files: list[str]) -> str:
    """The HTML page; ``files`` are the data files beside it, linked at the end."""
    result = outcome.result
    esc = html.escape
    intro = (f"{esc(source_label(outcome))}; {esc(result.model)} model against {esc(result.market)}, "
             f"estimated on {esc(units(outcome))} {result.estimation[0]}..{result.estimation[1]}. "
             f"{len(result.events)} event-ticker pairs studied, {len(result.skipped)} skipped. "
             f"Mean residual correlation r&#772; = {_fmt('{:.3f}', result.residual_correlation)} "
             "(used by the Kolari-Pynnönen adjustment for event-date clustering).")
    body = [
        f"<p>{intro}</p>",
        "<h2>Events</h2>", _events_table(outcome),
        "<h2>Cumulative average abnormal return</h2>",
        f'<img src="{PLOT_NAME}" alt="CAAR with its 95% band, {esc(units(outcome))} {result.path.index[0]} to '
        f'{result.path.index[-1]}">',
        _caar_table(result),
        _buckets_section(outcome),
        '<p class="note">p-values are two-sided: Student t with N-1 degrees of freedom for the t tests, normal '
        "for Patell Z, exact binomial for the sign test.</p>",
        "<h2>Each event and ticker</h2>", _pairs_table(result),
        '<p class="note">Each t is the abnormal return (or CAR) over its forecast-error standard deviation '
        "from the estimation window.</p>",
        "<h2>Skipped pairs</h2>", _skipped_table(result),
        "<h2>Files</h2>", _files_list(files),
    ]
    return page(f"{outcome.name}: event study", "\n".join(body), STYLE)


def study_html(outcome: StudyOutcome) -> str:
    """Notebook output: the events, the CAAR per window with its tests, and the CAAR plot inline."""
    from newsbt.reports.charts import png_data_uri

    result = outcome.result
    return (f"<div><b>{html.escape(outcome.name)}</b>: {html.escape(source_label(outcome))}; "
            f"{len(result.events)} event-ticker pairs, {len(result.skipped)} skipped"
            f"{_events_table(outcome)}{_caar_table(result)}"
            f'<img src="{png_data_uri(caar_plot(result))}" alt="CAAR with its 95% band"></div>')


def _fmt(pattern: str, value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return pattern.format(value)


def html_table(rows: list[list[Any]], headers: list[str], formats: list[str]) -> str:
    """A sortable table with every cell escaped; cells with a numeric format are right-aligned."""
    numeric = {i for i, f in enumerate(formats) if f != "{}"}
    return table(headers, [[_fmt(f, v) for v, f in zip(row, formats)] for row in rows], numeric)


def _events_table(outcome: StudyOutcome) -> str:
    frame = events_frame(outcome)
    columns = ["event_id", "day0", "category", "tickers", "headline"]
    table = html_table(frame[columns].to_numpy().tolist(), ["event", "day 0", "category", "tickers studied",
                                                            "headline"], ["{}"] * 5)
    if not frame["url"].astype(bool).any() and not frame["bucket"].astype(bool).any():
        return table
    rows = [[e, b, s, u] for e, b, s, u in frame[["event_id", "bucket", "source", "url"]].to_numpy().tolist()]
    sources = "".join(f"<tr><td>{html.escape(e)}</td><td>{html.escape(b)}</td><td>{html.escape(s)}</td>"
                      f"<td>{link(u)}</td></tr>" for e, b, s, u in rows)
    return (f"{table}<h3>Sources</h3><table><thead><tr><th>event</th><th>bucket</th><th>source</th><th>link</th>"
            f"</tr></thead><tbody>{sources}</tbody></table>")


def _buckets_section(outcome: StudyOutcome) -> str:
    """CAAR per window for each sentiment bucket, side by side: N, CAAR and the clustering-adjusted test."""
    if not outcome.buckets:
        return ""
    headers = ["window"] + [f"{b} {h}" for b, _ in outcome.buckets for h in ("N", "CAAR", "BMP-KP t", "p")]
    formats = ["{}"] + ["{:d}", "{:+.2%}", "{:+.2f}", "{:.3g}"] * len(outcome.buckets)
    windows = outcome.result.caar["window"].tolist()
    rows = [[w] + [v for _, r in outcome.buckets for v in r.caar.set_index("window").loc[w, ["n", "caar", "kp_t", "p_kp"]]]
            for w in windows]
    rows = [[r[0]] + [int(v) if i % 4 == 0 else v for i, v in enumerate(r[1:])] for r in rows]
    return "<h2>CAAR by sentiment bucket</h2>" + html_table(rows, headers, formats)


def _caar_table(result: EventStudyResult) -> str:
    frame = result.caar[list(CAAR_COLUMNS)]
    headers, formats = zip(*CAAR_COLUMNS.values())
    return html_table(frame.to_numpy().tolist(), list(headers), list(formats))


def _pairs_table(result: EventStudyResult) -> str:
    labels = [window_label(w) for w in result.windows if w != (0, 0)]  # [0,0] is the AR day 0 column
    columns = ["event_id", "ticker", "day0", "beta", "ar0", "t_ar0"]
    columns += [c for label in labels for c in (f"car{label}", f"scar{label}")]
    headers = ["event", "ticker", "day 0", "beta", "AR day 0", "t"]
    headers += [h for label in labels for h in (f"CAR{label}", "t")]
    formats = ["{}", "{}", "{}", "{:.2f}", "{:+.2%}", "{:+.2f}"] + ["{:+.2%}", "{:+.2f}"] * len(labels)
    return html_table(result.events[columns].to_numpy().tolist(), headers, formats)


def _skipped_table(result: EventStudyResult) -> str:
    if not result.skipped:
        return "<p>None: every event-ticker pair had the data it needs.</p>"
    return html_table(skipped_frame(result).to_numpy().tolist(), ["event", "ticker", "day 0", "reason"],
                      ["{}"] * 4)


def _files_list(names: list[str]) -> str:
    return "<ul>" + "".join(f'<li><a href="{html.escape(n)}">{html.escape(n)}</a></li>' for n in names) + "</ul>"
