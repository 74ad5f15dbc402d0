"""Named plug-ins: a registry dict filled by decorators, and on a miss by installed packages' entry points."""

from __future__ import annotations

from collections.abc import MutableMapping
from importlib.metadata import entry_points
from typing import TypeVar

T = TypeVar("T")


def lookup(registry: MutableMapping[str, T], group: str, name: str) -> T | None:
    """``registry[name]``; else the object an installed package declares as ``name`` in entry-point
    ``group``, loaded once and kept in ``registry``; None when neither has it."""
    if name not in registry:
        for ep in entry_points(group=group, name=name):
            registry[name] = ep.load()
    return registry.get(name)
