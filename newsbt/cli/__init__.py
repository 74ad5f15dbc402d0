"""The command line, ``newsbt``: the top layer. Each command group lives in its own module here.

May import: anything in newsbt. ``commands`` holds the app and the run/sweep/study/events commands;
``data`` the data group.
"""

from newsbt.cli.commands import app, main
from newsbt.cli.data import data_app

app.add_typer(data_app, name="data")

__all__ = ["app", "main"]
