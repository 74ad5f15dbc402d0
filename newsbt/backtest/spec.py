"""Backtest files: TOML in, one frozen, validated ``BacktestSpec`` out.

A backtest file has three sections::

    [run]        name, start, end, cash, benchmark; for intraday bars also bars, sessions,
                 intraday_dir, suspect_prints
    [strategy]   name = "<registered strategy>", then that strategy's parameters
    [costs]      commission_bps, slippage_bps

Every mistake is reported against the file (with the line of the offending key where it can be
found): unknown keys get a "did you mean", wrong types and impossible values say what was expected.
``--set section.key=value`` overrides are applied to the raw file before validation, so they are
checked exactly like the file itself.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from newsbt.core.errors import NewsbtError, located
from newsbt.data.intraday import BAR_SIZES
from newsbt.core.validation import StrictModel, describe, error_at, first_error, line_of, suggest, toml_error_line
from newsbt.backtest.registry import validate_params  # the registry knows each strategy's parameter model


class Section(StrictModel):
    """Base for every spec section."""


class RunSpec(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="report folder name")
    start: dt.date
    end: dt.date
    cash: float = Field(100_000.0, gt=0)
    benchmark: str | dict[str, float] = Field("QQQ", description='a ticker, or weights: {SPY = 0.6, QQQ = 0.4}')
    events: Path | None = Field(None, description="news event file (CSV) handed to the strategy")
    news: Path | None = Field(None, description="headline store (newsbt news import) whose signals reach the strategy")
    engine: Literal["backtrader", "fast"] = Field(
        "backtrader", description='"fast": the compiled simulator, for strategies with a fast form')
    bars: Literal["1d", *BAR_SIZES] = Field("1d", description='"1d" (daily files) or an intraday size, e.g. "1h"')
    sessions: tuple[Literal["pre", "regular", "post"], ...] = Field(
        ("regular",), min_length=1, description="intraday sessions traded")
    intraday_dir: Path | None = Field(None, description="intraday price files (default $NEWSBT_INTRADAY_DIR)")
    suspect_prints: Literal["keep", "clip"] = Field(
        "keep", description="extended-hours bars with a high/low far outside open-close: keep, or clip to it")

    @property
    def intraday(self) -> bool:
        return self.bars != "1d"

    @field_validator("bars")
    @classmethod
    def _fast_engine_is_daily(cls, bars: str, info: ValidationInfo) -> str:
        if bars != "1d" and info.data.get("engine") == "fast":
            raise ValueError('engine = "fast" simulates daily bars only; use engine = "backtrader" for intraday bars')
        return bars

    @field_validator("sessions")
    @classmethod
    def _distinct_sessions(cls, sessions: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(sessions)) != len(sessions):
            raise ValueError("each session may be named once")
        return sessions

    @field_validator("benchmark")
    @classmethod
    def _weights_sum_to_one(cls, benchmark: str | dict[str, float]) -> str | dict[str, float]:
        if isinstance(benchmark, dict):
            if not benchmark or any(w <= 0 for w in benchmark.values()):
                raise ValueError("a blended benchmark needs positive weights, e.g. {SPY = 0.6, QQQ = 0.4}")
            if abs(sum(benchmark.values()) - 1.0) > 1e-9:
                raise ValueError(f"benchmark weights must sum to 1, not {sum(benchmark.values()):g}")
        return benchmark

    @property
    def benchmark_weights(self) -> dict[str, float]:
        """Ticker -> weight of the benchmark (one ticker at weight 1, or a daily-rebalanced blend)."""
        return {self.benchmark: 1.0} if isinstance(self.benchmark, str) else dict(self.benchmark)

    @property
    def benchmark_label(self) -> str:
        weights = self.benchmark_weights
        return next(iter(weights)) if len(weights) == 1 else " + ".join(f"{w:.0%} {t}" for t, w in weights.items())

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(f"end ({end}) must be after start ({start})")
        return end


class CostSpec(Section):
    """[costs]: see newsbt.backtest.costs for how each is charged."""

    commission_bps: float = Field(0.0, ge=0, lt=10_000)
    commission_per_share: float = Field(0.0, ge=0)
    commission_min: float = Field(0.0, ge=0)
    slippage_bps: float = Field(0.0, ge=0, lt=10_000)
    extended_slippage_bps: float | None = Field(None, ge=0, lt=10_000)  # pre/post bars; default slippage_bps
    borrow_fee_pct: float = Field(0.0, ge=0, lt=100)
    cash_interest_pct: float = Field(0.0, ge=0, lt=100)

    @model_validator(mode="after")
    def _one_commission_kind(self) -> CostSpec:
        if self.commission_bps and self.commission_per_share:
            raise ValueError("set commission_bps or commission_per_share, not both")
        return self


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


@dataclass(frozen=True)
class BacktestFile:
    """A backtest file as read: its text, its TOML with ``--set`` overrides applied, and which keys
    the overrides set (so errors can point at the ``--set`` rather than a line of the file)."""

    path: Path
    text: str
    raw: dict[str, Any]
    overridden: frozenset


def read_backtest_file(path: str | Path, overrides: Iterable[str] = ()) -> BacktestFile:
    """Read and parse a backtest file and apply overrides; sections are validated by their readers."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NewsbtError(f"{path}: no such backtest file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsbtError(f"{path}: cannot read the backtest file ({exc.__class__.__name__}: {exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise located(path, toml_error_line(exc), f"not valid TOML: {exc}") from None
    overridden = frozenset(apply_override(raw, item) for item in overrides)
    return BacktestFile(path, text, raw, overridden)


def load_spec(path: str | Path, overrides: Iterable[str] = ()) -> BacktestSpec:
    """Read, override and validate a backtest file; strategy parameters are checked too."""
    return spec_of(read_backtest_file(path, overrides))


def spec_of(file: BacktestFile) -> BacktestSpec:
    """The validated spec of a file already read."""
    return spec_from_dict(file.raw, source=file.path, text=file.text, overridden=file.overridden)


def spec_from_dict(
    raw: Mapping[str, Any], source: object = "<spec>", text: str = "", overridden: frozenset = frozenset(),
    strategy_cls: type | None = None,
) -> BacktestSpec:
    """Validate a plain dict shaped like a backtest file (the Python API's way in).

    With ``strategy_cls`` (a strategy class passed directly, not registered), its ``Params`` check
    the parameters and ``[strategy] name`` defaults to the class name.
    """
    unknown = [k for k in raw if k not in SECTIONS and k not in EXTRA_SECTIONS]
    if unknown:
        raise located(source, line_of(text, None, unknown[0]),
                      f"unknown section [{unknown[0]}]{suggest(unknown[0], list(SECTIONS) + list(EXTRA_SECTIONS))}")
    for name in SECTIONS:
        if not isinstance(raw.get(name, {}), Mapping):
            raise located(source, line_of(text, None, name),
                          f"{name} must be a section: a [{name}] line followed by its keys")
    strategy_raw = dict(raw.get("strategy", {}))
    shaped = {
        **{k: v for k, v in raw.items() if k in SECTIONS},
        "strategy": {"name": strategy_raw.pop("name", strategy_cls.__name__ if strategy_cls else None),
                     "params": strategy_raw},
    }
    try:
        spec = BacktestSpec.model_validate(shaped)
    except ValidationError as exc:
        raise _spec_error(exc, source, text, overridden) from None
    validate_params(spec.strategy.name, spec.strategy.params, source=source, text=text, overridden=overridden,
                    cls=strategy_cls)
    return spec


# Sections other modules read from the same file (e.g. [sweep], [study]); the spec keeps them out.
EXTRA_SECTIONS = ("sweep", "study")


def apply_override(raw: dict[str, Any], item: str) -> tuple[str, str]:
    """Apply ``section.key=value`` in place (value parsed as TOML, else a string); returns the key."""
    match = re.fullmatch(r"\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*=(.*)", item)
    if not match:
        raise NewsbtError(f"--set {item!r}: expected section.key=value, e.g. strategy.drop_pct=10")
    section, key, value_text = match.groups()
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    raw.setdefault(section, {})[key] = value
    return section, key


def _spec_error(exc: ValidationError, source: object, text: str, overridden: frozenset) -> NewsbtError:
    err = first_error(exc)
    loc = [str(p) for p in err["loc"]]
    section, key = (loc + [None, None])[:2]
    if section == "strategy" and key == "name":
        return located(source, None, "[strategy] needs name = \"<strategy>\"; see `newsbt strategies`")
    model = SECTIONS.get(section or "")
    return error_at(source, text, overridden, section, key,
                    describe(err, section, key, list(model.model_fields) if model else []))
