"""Write files all at once: to a temporary sibling first, renamed into place only when complete.

A crash or Ctrl-C mid-write therefore never leaves a half-written file, and an existing file stays
as it was until the new one is whole.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    with temporary_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def umask() -> int:
    """The process's umask (read without changing it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def temporary_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; on success it replaces ``path``, on failure it goes."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
