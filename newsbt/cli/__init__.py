"""The command line, ``newsbt``: the top layer. Each command group lives in its own module here.

Owns: ``common`` (consoles, shared options, progress), ``commands`` (the app and the
run/sweep/study/strategies/events commands), ``data`` (list, fetch, pack), ``news`` (import, score, stats).
May import: anything in newsbt.
"""

from newsbt.cli.commands import app, main
from newsbt.cli.data import data_app
from newsbt.cli.news import news_app

app.add_typer(data_app, name="data")
app.add_typer(news_app, name="news")

__all__ = ["app", "main"]
