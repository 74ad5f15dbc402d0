"""Publish a report folder whole: one writer per report name, a staging sibling swapped in at the end.

A writer holds :func:`report_lock` on ``reports/<name>`` and writes into :func:`staged`, a fresh
``.<target>.new-*`` folder beside its target; only when everything is written is it swapped in.
Readers, a kill, a full disk or a read-only folder therefore never see a half-written report:
either the previous folder or the new one is in place, whole.

Why both a lock and a swap:

- POSIX cannot rename a folder onto a non-empty one, so a swap is several renames: carry the
  entries the new folder keeps from the old one (a run keeps its name's ``sweep/`` and ``study/``,
  a sweep report its saved ``results/``), rename the old folder aside, rename the new one in. The
  lock makes that sequence, and everything written before it, single-writer.
- A second writer of the same name stops at once, naming the holder (pid and command), instead of
  waiting an unknown time (a sweep holds its name's lock for the whole sweep). The lock is an
  ``flock`` on ``.<name>.lock`` beside the folder: the OS releases it when its holder dies, so it is
  never stale, and the lock file itself is never deleted (deleting it would let two holders in).
- Crash safety: before the first rename the staging folder gets a ``.publish`` marker listing what
  it keeps. A staging folder without the marker was not finished and is removed; one with it is
  rolled forward by the same :func:`_swap` that was interrupted (each step is idempotent), and any
  ``.<target>.old-*`` left behind is removed. This runs under the lock, before any new write.
- Not a symlink flipped between versioned folders: ``reports/<name>/`` stays a plain folder that
  can be copied, zipped or served as is, with its run, sweep and study published separately.

Errors of the environment (full disk, quota, read-only or forbidden folder) become a one-line
``NewsbtError`` naming the user-visible path (never the staging one); the staging folder is removed
and the previous report stays as it was.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from newsbt.core.atomic import atomic_write_text, umask
from newsbt.core.errors import NewsbtError

MARKER = ".publish"
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})


@contextlib.contextmanager
def report_lock(folder: Path) -> Iterator[None]:
    """Be the only writer of ``folder`` (e.g. ``reports/<name>``) and finish any swap a kill interrupted.

    A second writer stops at once with a message naming the holder.
    """
    with _locked(folder, wait=False):
        with environment_errors(folder):
            recover(folder)
        yield


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Wait to be the only writer of ``path`` (a short write, e.g. the reports index)."""
    with _locked(path, wait=True):
        yield


@contextlib.contextmanager
def _locked(path: Path, wait: bool) -> Iterator[None]:
    """An ``flock`` on ``.<name>.lock`` beside ``path``; the lock file says who holds it."""
    with environment_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent / f".{path.name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another process"
            raise NewsbtError(f"{path} is being written by {holder}; wait for it to finish, "
                              "or give this run another name") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"newsbt pid {os.getpid()} ({_command()})".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def staged(target: Path, keep: Callable[[str], bool] = lambda name: False) -> Iterator[Path]:
    """An empty folder beside ``target`` that replaces it whole on success; the entries of the old
    ``target`` whose name ``keep`` accepts are carried into the new one. The caller holds the lock."""
    with environment_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
        os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes 0700; give the folder the usual permissions
    try:
        with environment_errors(target, staging):
            yield staging
            kept = sorted(n for n in os.listdir(target) if keep(n)) if target.is_dir() else []
            atomic_write_text(staging / MARKER, json.dumps(kept))
            _swap(staging, target)
    except BaseException:
        if not (staging / MARKER).exists():  # with the marker it is complete: the next writer finishes it
            shutil.rmtree(staging, ignore_errors=True)
        raise


def recover(folder: Path) -> None:
    """Finish or undo the swaps of ``folder`` and of its direct subfolders that a kill interrupted."""
    _recover_in(folder.parent, folder.name)
    if folder.is_dir():
        _recover_in(folder, None)


@contextlib.contextmanager
def environment_errors(shown: Path, staging: Path | None = None, note: str | None = None) -> Iterator[None]:
    """Turn a full disk, a read-only or forbidden folder into one line naming the path (as the user
    knows it: inside ``shown``, not inside its ``staging`` folder), then ``note`` (what survived)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            raise
        where = str(exc.filename or shown)
        if staging is not None:
            where = where.replace(str(staging), str(shown))
        note = note or f"nothing was changed in {shown}"
        raise NewsbtError(f"cannot write {where}: {os.strerror(exc.errno)}; {note}") from None


def _swap(staging: Path, target: Path) -> None:
    """Carry the kept entries over, rename the old folder aside and the new one in (each step idempotent)."""
    keep = json.loads((staging / MARKER).read_text(encoding="utf-8"))
    old = None
    if target.is_dir():
        for name in keep:
            if (target / name).exists() and not (staging / name).exists():
                os.rename(target / name, staging / name)
        old = tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent)
        os.rename(target, old)  # onto the empty folder mkdtemp made: allowed for folders
    os.rename(staging, target)
    (target / MARKER).unlink()
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _recover_in(parent: Path, name: str | None) -> None:
    """Resolve leftovers ``.<name>.new-*`` / ``.<name>.old-*`` in ``parent`` (any name when None)."""
    pattern = f".{glob.escape(name) if name else '*'}"
    for leftover in sorted(parent.glob(f"{pattern}.new-*")):
        target = parent / leftover.name[1:].rsplit(".new-", 1)[0]
        if (leftover / MARKER).is_file():
            _swap(leftover, target)
        else:
            shutil.rmtree(leftover, ignore_errors=True)
    for old in parent.glob(f"{pattern}.old-*"):
        target = parent / old.name[1:].rsplit(".old-", 1)[0]
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:  # never a report lost: an old folder without a successor goes back in place
            os.rename(old, target)


def _command() -> str:
    args = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["python"]
    return " ".join(args)[:200]
