"""The command line, ``newsbt``: the top layer. Each command group lives in its own module here.

May import: anything in newsbt. ``commands`` holds the app and the run/sweep/study/data/events commands.
"""

from newsbt.cli.commands import app, main

__all__ = ["app", "main"]
