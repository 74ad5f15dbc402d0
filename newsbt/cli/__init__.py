"""The command line, ``newsbt``: the top layer. Each command group lives in its own module here.

May import: anything in newsbt. ``commands`` holds the app and the run/sweep/study/events commands;
``data`` the data group; ``news`` the news store group (import, score, stats).
"""

from newsbt.cli.commands import app, main
from newsbt.cli.data import data_app
from newsbt.cli.news import news_app

app.add_typer(data_app, name="data")
app.add_typer(news_app, name="news")

__all__ = ["app", "main"]
