"""Backtest files: TOML in, one frozen, validated ``BacktestSpec`` out.

A backtest file has three sections::

    [run]        name, start, end, cash, benchmark
    [strategy]   name = "<registered strategy>", then that strategy's parameters
    [costs]      commission_bps, slippage_bps

Every mistake is reported against the file (with the line of the offending key where it can be
found): unknown keys get a "did you mean", wrong types and impossible values say what was expected.
``--set section.key=value`` overrides are applied to the raw file before validation, so they are
checked exactly like the file itself.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from newsbt.errors import NewsbtError, located


class Section(BaseModel):
    """Base for every spec section: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSpec(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="report folder name")
    start: dt.date
    end: dt.date
    cash: float = Field(100_000.0, gt=0)
    benchmark: str = "QQQ"

    @model_validator(mode="after")
    def _end_after_start(self) -> RunSpec:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class CostSpec(Section):
    commission_bps: float = Field(0.0, ge=0, lt=10_000)
    slippage_bps: float = Field(0.0, ge=0, lt=10_000)


class StrategySpec(Section):
    """The strategy's registered name and its raw parameters (validated by the strategy's own model)."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class BacktestSpec(Section):
    run: RunSpec
    strategy: StrategySpec
    costs: CostSpec = CostSpec()

    def with_params(self, **params: Any) -> BacktestSpec:
        """A copy with some strategy parameters replaced (used by sweeps)."""
        strategy = self.strategy.model_copy(update={"params": {**self.strategy.params, **params}})
        return self.model_copy(update={"strategy": strategy})


SECTIONS = {"run": RunSpec, "strategy": StrategySpec, "costs": CostSpec}


def load_spec(path: str | Path, overrides: Iterable[str] = ()) -> BacktestSpec:
    """Read, override and validate a backtest file; strategy parameters are checked too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NewsbtError(f"{path}: no such backtest file") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise located(path, _toml_error_line(exc), f"not valid TOML: {exc}") from None
    for item in overrides:
        apply_override(raw, item)
    return spec_from_dict(raw, source=path, text=text)


def spec_from_dict(raw: Mapping[str, Any], source: object = "<spec>", text: str = "") -> BacktestSpec:
    """Validate a plain dict shaped like a backtest file (the Python API's way in)."""
    from newsbt.registry import validate_params  # the registry knows each strategy's parameter model

    unknown = [k for k in raw if k not in SECTIONS and k not in EXTRA_SECTIONS]
    if unknown:
        raise located(source, line_of(text, None, unknown[0]),
                      f"unknown section [{unknown[0]}]{suggest(unknown[0], list(SECTIONS) + list(EXTRA_SECTIONS))}")
    strategy_raw = dict(raw.get("strategy", {}))
    shaped = {
        **{k: v for k, v in raw.items() if k in SECTIONS},
        "strategy": {"name": strategy_raw.pop("name", None), "params": strategy_raw},
    }
    try:
        spec = BacktestSpec.model_validate(shaped)
    except ValidationError as exc:
        raise _spec_error(exc, source, text, shaped) from None
    validate_params(spec.strategy.name, spec.strategy.params, source=source, text=text)
    return spec


# Sections other modules read from the same file (e.g. [sweep], [study]); the spec keeps them out.
EXTRA_SECTIONS = ("sweep", "study")


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Apply ``section.key=value`` in place; the value is parsed as TOML, else taken as a string."""
    match = re.fullmatch(r"\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*=(.*)", item)
    if not match:
        raise NewsbtError(f"--set {item!r}: expected section.key=value, e.g. strategy.drop_pct=10")
    section, key, value_text = match.groups()
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    raw.setdefault(section, {})[key] = value


def _spec_error(exc: ValidationError, source: object, text: str, shaped: Mapping[str, Any]) -> NewsbtError:
    """Turn pydantic's first error into one line: where, what, and what was expected."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    section = loc[0] if loc else None
    key = loc[1] if len(loc) > 1 else None
    if section == "strategy" and key == "name":
        return located(source, None, "[strategy] needs name = \"<strategy>\"; see `newsbt strategies`")
    where = f"[{section}] {key}" if key else f"[{section}]"
    if err["type"] == "extra_forbidden":
        model = SECTIONS.get(section or "")
        known = list(model.model_fields) if model else []
        message = f"unknown key {key!r} in [{section}]{suggest(key or '', known)}"
    elif err["type"] == "missing":
        message = f"{where} is required"
    else:
        got = err.get("input")
        message = f"{where}: {err['msg']} (got {got!r})" if key else f"{where}: {err['msg']}"
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


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    found = re.search(r"line (\d+)", str(exc))
    return int(found.group(1)) if found else None
