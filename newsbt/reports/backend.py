"""Charts are files, never windows: matplotlib's Agg backend, except inside a notebook kernel.

ipykernel sets ``MPLBACKEND`` to its inline backend; forcing Agg there would stop ``result.plot()``
and every other figure from showing in the notebook. Call :func:`headless` before importing pyplot.
"""

from __future__ import annotations

import os

import matplotlib


def in_notebook() -> bool:
    """Whether figures belong to a notebook's inline backend (then they are drawn in its own process)."""
    return "inline" in os.environ.get("MPLBACKEND", "")


def headless() -> None:
    if not in_notebook():
        matplotlib.use("Agg")
