"""Where numba keeps the compiled engine: a directory per version of the engine's sources.

numba keys a cached function on its own source file only. A fast form's compiled loop has the
kernel and the strategy's decision functions compiled into it, so after either changed (a ``git
pull``, an edited rule) it would go on running the old code, silently. The cache therefore lives in
a directory named after a hash of the kernel and of every fast form's package: any change there
compiles afresh (once), and an unchanged engine loads from disk.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from importlib.metadata import entry_points
from pathlib import Path

from newsbt.backtest.registry import FAST_ENGINE_GROUP


def versioned_cache_dir() -> Path:
    """``$NUMBA_CACHE_DIR`` (else ``~/.cache/newsbt``) / ``numba-<hash of the engine's sources>``."""
    files = {Path(__file__).with_name("kernel.py")}
    for ep in entry_points(group=FAST_ENGINE_GROUP):
        spec = importlib.util.find_spec(ep.module)
        if spec is not None and spec.origin:
            files.update(Path(spec.origin).parent.glob("*.py"))
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    base = os.environ.get("NUMBA_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newsbt"
    return Path(base) / f"numba-{digest.hexdigest()[:16]}"
