"""Charts are files, never windows: matplotlib's Agg backend, except inside a notebook kernel.

ipykernel sets ``MPLBACKEND`` to its inline backend; forcing Agg there would stop ``result.plot()``
and every other figure from showing in the notebook. Call :func:`headless` before importing pyplot.
"""

from __future__ import annotations

import os

import matplotlib


def headless() -> None:
    if "inline" not in os.environ.get("MPLBACKEND", ""):
        matplotlib.use("Agg")
