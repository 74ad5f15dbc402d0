"""The frame of newsbt's own HTML pages (reports index, event studies): self-contained and offline.

No script and nothing loaded from elsewhere; ``rel="icon"`` points at an empty data URL so browsers
do not ask the server for a /favicon.ico that is not there. The title is escaped here; the body
must arrive escaped.
"""

from __future__ import annotations

import html

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}th{background:#f4f4f4}"""


def page(title: str, body: str, style: str = "") -> str:
    """A whole HTML document: ``<h1>`` with the title, then ``body`` (already escaped HTML)."""
    title = html.escape(title)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            f"<title>{title}</title><style>{STYLE}\n{style}</style></head>\n"
            f"<body>\n<h1>{title}</h1>\n{body}\n</body></html>\n")
