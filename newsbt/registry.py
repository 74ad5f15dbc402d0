"""The strategy registry: names in backtest files map to strategy classes.

Built-in strategies live in the top-level ``strategies`` package and register themselves when it is
imported; user scripts register theirs with the same ``@register`` decorator or pass the class itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from newsbt.errors import NewsbtError

_STRATEGIES: dict[str, type] = {}
T = TypeVar("T", bound=type)


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make a strategy class available under ``name`` in backtest files."""

    def wrap(cls: T) -> T:
        if not hasattr(cls, "Params"):
            raise TypeError(f"{cls.__name__} needs a nested `Params` model (subclass newsbt.StrategyParams)")
        _STRATEGIES[name] = cls
        return cls

    return wrap


def _load_builtins() -> None:
    importlib.import_module("strategies")


def strategy_names() -> list[str]:
    _load_builtins()
    return sorted(_STRATEGIES)


def get_strategy(name: str) -> type:
    """The class registered under ``name``; unknown names get a suggestion."""
    from newsbt.spec import suggest

    _load_builtins()
    if name not in _STRATEGIES:
        raise NewsbtError(f"unknown strategy {name!r}{suggest(name, sorted(_STRATEGIES))}")
    return _STRATEGIES[name]


def validate_params(name: str, params: Mapping[str, Any], source: object = "<spec>", text: str = "",
                    overridden: frozenset = frozenset(), cls: type | None = None) -> BaseModel:
    """Validate ``params`` against the strategy's ``Params`` model (``cls``'s, when a class is passed)."""
    from newsbt.spec import describe, error_at, first_error

    try:
        model = (cls or get_strategy(name)).Params
    except NewsbtError as exc:
        raise error_at(source, text, overridden, "strategy", "name", str(exc)) from None
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        err = first_error(exc)
        key = str(err["loc"][0]) if err["loc"] else None
        message = describe(err, "strategy", key, list(model.model_fields))
        if err["type"] == "extra_forbidden":
            message = message.replace("in [strategy]", f"for strategy {name!r}")
        raise error_at(source, text, overridden, "strategy", key, message) from None
