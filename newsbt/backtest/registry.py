"""The strategy registry: names in backtest files map to strategy classes.

A strategy enters it in one of two ways, both by name:

* ``@register("name")`` on the class, in any module the user imports (a script, a notebook);
* an entry point in the ``newsbt.strategies`` group of an installed package. newsbt's own built-ins
  (``strategies/``) are declared that way in ``pyproject.toml``, exactly as a third-party package
  would declare its own, so the core never imports them: entry points are read at the API/CLI edge
  (``load_entry_points``) and, on a miss, by ``get_strategy`` (a sweep worker process starts empty).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from newsbt.core.errors import NewsbtError
from newsbt.core.plugins import lookup
from newsbt.core.validation import describe, error_at, first_error, suggest

ENTRY_POINT_GROUP = "newsbt.strategies"
FAST_ENGINE_GROUP = "newsbt.fast_engines"  # strategy name -> a runner factory for engine = "fast"

_STRATEGIES: dict[str, type] = {}
_ORIGINS: dict[str, str] = {}
_FAST_FORMS: dict[str, Callable[..., Any]] = {}
T = TypeVar("T", bound=type)


def register(name: str) -> Callable[[T], T]:
    """Class decorator: make a strategy class available under ``name`` in backtest files."""

    def wrap(cls: T) -> T:
        if not hasattr(cls, "Params"):
            raise TypeError(f"{cls.__name__} needs a nested `Params` model (subclass newsbt.StrategyParams)")
        _STRATEGIES[name] = cls
        _ORIGINS[name] = f"{cls.__module__}.{cls.__qualname__} (@register)"
        return cls

    return wrap


def load_entry_points() -> None:
    """Register every strategy declared under the ``newsbt.strategies`` entry-point group.

    The entry point's name is the strategy's name, its value the class (``module:Class``); the class
    need not carry ``@register``. A name already registered by a script keeps the script's class.
    """
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _STRATEGIES:
            continue
        _STRATEGIES[ep.name] = ep.load()
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "an installed package"
        _ORIGINS[ep.name] = f"{ep.value} (entry point of {dist})"


def strategy_names() -> list[str]:
    load_entry_points()
    return sorted(_STRATEGIES)


def strategy_origin(name: str) -> str:
    """Where the strategy registered under ``name`` came from: an entry point or ``@register``."""
    get_strategy(name)
    return _ORIGINS[name]


def get_strategy(name: str) -> type:
    """The class registered under ``name``; unknown names get a suggestion."""
    if name not in _STRATEGIES:
        load_entry_points()
    if name not in _STRATEGIES:
        raise NewsbtError(f"unknown strategy {name!r}{suggest(name, sorted(_STRATEGIES))}")
    return _STRATEGIES[name]


def fast_engine(name: str) -> Callable[..., Any]:
    """The fast form declared for strategy ``name`` under ``newsbt.fast_engines`` (see newsbt.backtest.fast)."""
    form = lookup(_FAST_FORMS, FAST_ENGINE_GROUP, name)
    if form is None:
        raise NewsbtError(f'strategy {name!r} has no fast form; use engine = "backtrader"')
    return form


def has_fast_engine(name: str) -> bool:
    return name in _FAST_FORMS or bool(entry_points(group=FAST_ENGINE_GROUP, name=name))


def validate_params(name: str, params: Mapping[str, Any], source: object = "<spec>", text: str = "",
                    overridden: frozenset = frozenset(), cls: type | None = None) -> BaseModel:
    """Validate ``params`` against the strategy's ``Params`` model (``cls``'s, when a class is passed)."""
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
