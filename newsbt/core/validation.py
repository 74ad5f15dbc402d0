"""Validation shared by every file format: strict models, pydantic errors as sentences, "did you mean".

Backtest, sweep and study sections, strategy parameters and name lists all report mistakes the same
way: the file, the line of the offending key (or the ``--set`` that supplied it), and what was
expected.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from newsbt.core.errors import NewsbtError, located


class StrictModel(BaseModel):
    """Frozen; unknown keys are errors; ``true``/``false`` are never taken for numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and bool not in _types_in(cls.model_fields[info.field_name].annotation):
            raise ValueError(f"expected a number or text, not the boolean {str(value).lower()}")
        return value


def _types_in(annotation: Any) -> set[Any]:
    """Every type named inside ``annotation`` (through Optional, Union, Annotated, containers)."""
    args = typing.get_args(annotation)
    return {annotation, *(t for arg in args for t in _types_in(arg))}


def first_error(exc: ValidationError) -> dict[str, Any]:
    """The error to show: a misspelt key first (it often explains a "missing" one), else the first."""
    errors = exc.errors()
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def describe(err: dict[str, Any], section: str | None, key: str | None, known: list[str]) -> str:
    """One pydantic error as a sentence: what is wrong and what was expected."""
    where = f"[{section}] {key}" if key else f"[{section}]"
    if err["type"] == "extra_forbidden":
        noun = "parameter" if section == "strategy" else "key"
        return f"unknown {noun} {key!r} in [{section}]{suggest(key or '', known)}"
    if err["type"] == "missing":
        return f"{where} is required"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg} (got {err.get('input')!r})" if key else f"{where}: {msg}"


def error_at(source: object, text: str, overridden: frozenset, section: str | None, key: str | None,
             message: str) -> NewsbtError:
    """Locate ``message`` at the key's line in the file, or at the ``--set`` that supplied the value."""
    if (section, key) in overridden:
        return NewsbtError(f"{source}: --set {section}.{key}: {message}")
    return located(source, line_of(text, section, key), message)


def suggest(name: str, known: Iterable[str]) -> str:
    """The "did you mean" hint shared by every validator of names."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(known)}"


def line_of(text: str, section: str | None, key: str | None) -> int | None:
    """Best-effort line number of ``key`` inside ``[section]`` (or of the section header)."""
    if not text:
        return None
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            current = header.group(1)
            if key is None and current == section:
                return number
            if section is None and current == key:
                return number
            continue
        if key and (section is None or current == section) and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    found = re.search(r"line (\d+)", str(exc))
    return int(found.group(1)) if found else None
