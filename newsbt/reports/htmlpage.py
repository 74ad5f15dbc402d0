"""The frame of newsbt's own HTML pages (reports index, event studies): self-contained and offline.

No script and nothing loaded from elsewhere; ``rel="icon"`` points at an empty data URL so browsers
do not ask the server for a /favicon.ico that is not there. The title is escaped here; the body
must arrive escaped. Text from news feeds is untrusted: :func:`link` makes a link only of an http(s)
URL, so a ``javascript:`` or ``data:`` URL stays plain text.
"""

from __future__ import annotations

import html
import math
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}th{background:#f4f4f4}"""


def page(title: str, body: str, style: str = "") -> str:
    """A whole HTML document: ``<h1>`` with the title, then ``body`` (already escaped HTML)."""
    title = html.escape(title)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>{title}</title><style>{STYLE}\n{style}</style></head>\n"
            f"<body>\n<h1>{title}</h1>\n{body}\n</body></html>\n")


def figure(value: Any) -> str:
    """A table cell's text: "n/a" for a missing or undefined figure, 4 significant digits for floats."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


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
