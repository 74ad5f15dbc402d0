"""The frame of newsbt's own HTML pages (run, sweep, study, reports index): self-contained and offline.

Nothing is loaded from elsewhere; ``rel="icon"`` points at an empty data URL so browsers do not ask
the server for a /favicon.ico that is not there. The only script is ``SORT_SCRIPT``, inline, added
to pages that hold a ``<table class="sortable">``: clicking a header sorts the rows by that column
(again: the other way), numbers by value ("+5.61%", "1,234.50", "-1.84 (p 0.09)" lead with a
number), other text A-Z, and "n/a" always last. The title is escaped here; the body must arrive
escaped. Text from news feeds is untrusted: :func:`link` makes a link only of an http(s) URL, so a
``javascript:`` or ``data:`` URL stays plain text.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable, Sequence
from urllib.parse import urlsplit

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable thead th{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}"""

SORT_SCRIPT = """(() => {
  const NUMBER = /^([+-]?[\\d,]*\\.?\\d+(?:e[+-]?\\d+)?)%?(?:\\s|$)/i;
  const key = cell => {
    const text = cell.textContent.trim();
    if (text === "" || text === "n/a") return null;
    const found = NUMBER.exec(text);
    return found ? Number(found[1].replaceAll(",", "")) : text.toLowerCase();
  };
  const compare = (a, b) => typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
  const sort = th => {
    const table = th.closest("table"), body = table.tBodies[0], column = th.cellIndex;
    const up = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(h => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    const rows = [...body.rows].map(row => [key(row.cells[column]), row]);
    rows.sort(([a], [b]) => a === null || b === null ? (a === null) - (b === null) : (up ? 1 : -1) * compare(a, b));
    rows.forEach(([, row]) => body.appendChild(row));
  };
  document.querySelectorAll("table.sortable thead th").forEach(th => {
    th.title = "sort by " + th.textContent;
    th.addEventListener("click", () => sort(th));
  });
})();"""


def page(title: str, body: str, style: str = "") -> str:
    """A whole HTML document: ``<h1>`` with the title, then ``body`` (already escaped HTML)."""
    title = html.escape(title)
    script = f"\n<script>{SORT_SCRIPT}</script>" if 'class="sortable"' in body else ""
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>{title}</title><style>{STYLE}\n{style}</style></head>\n"
            f"<body>\n<h1>{title}</h1>\n{body}{script}\n</body></html>\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Collection[int] = (),
          sortable: bool = True) -> str:
    """A table of text (every header and cell is escaped here); ``numeric`` column numbers align right."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    cells = ['<td class="num">' if i in numeric else "<td>" for i in range(len(headers))]
    body = "".join("<tr>" + "".join(f"{cells[i]}{html.escape(c)}</td>" for i, c in enumerate(row)) + "</tr>\n"
                   for row in rows)
    kind = ' class="sortable"' if sortable else ""
    return f"<table{kind}><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def link(url: str, text: str | None = None) -> str:
    """``<a>`` to ``url`` if it is http or https, else ``url`` as escaped text; never unescaped."""
    label = html.escape(url if text is None else text)
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unbalanced [ in the host
        scheme = ""
    if scheme in ("http", "https") and not any(c.isspace() or ord(c) < 32 for c in url):
        return f'<a href="{html.escape(url)}" rel="noopener noreferrer nofollow">{label}</a>'
    return label
