"""The one exception type for mistakes a user can fix (bad file, bad parameter, missing data).

The CLI prints these as a single line and exits non-zero, without a traceback; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations


class NewsbtError(Exception):
    """A user-facing error: the message says what is wrong, where, and what was expected."""


def located(path: object, line: int | None, message: str) -> NewsbtError:
    """Build an error that names the file (and line, when known) it refers to."""
    where = f"{path}:{line}" if line is not None else f"{path}"
    return NewsbtError(f"{where}: {message}")
