"""Parameter sweeps: expand a grid specification into a deterministic list of combinations.

A specification maps each parameter name to its values, given as

- a list of values (numbers, strings, booleans, None), taken literally and in the order given;
- a range string ``"start:stop:step"``: any bare string containing ``:`` is read as a range (put a
  string with a colon in a list to use it literally). ``stop`` is included when it lies on the grid;
  the points are computed in decimal arithmetic on the text as written, so ``"0.1:0.3:0.1"`` gives
  exactly 0.1, 0.2, 0.3, and they are ints when start, stop and step are all written as ints;
- a single scalar: the parameter is fixed at that value.

Combinations come in nested-loop order (``itertools.product``): names in the order given, the last
name varying fastest. Constraints filter that grid, then a seeded random search may keep ``samples``
of the remaining combinations, still in grid order. Combinations are handled as flat grid indices
(constraints run as numpy expressions over the grid's columns) and only the chosen ones become dicts.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

import numpy as np

from newsbt.core.errors import NewsbtError
from newsbt.core.validation import suggest

Scalar = int | float | str | bool | None
Combination = dict[str, Scalar]
Columns = Mapping[str, np.ndarray]
MAX_GRID_SIZE = 1_000_000
GRID_HELP = "expected name=values, e.g. drop_pct=5,7,10 or hold_days=1:10:1"
CONSTRAINT_HELP = "use parameter names, numbers, + - * /, comparisons, and/or/not and parentheses"


@dataclass(frozen=True)
class SweepPlan:
    """The combinations to run, in order, and how many the grid, the constraints and sampling left."""

    combinations: tuple[Combination, ...]
    grid_size: int
    n_after_constraints: int
    constraints: tuple[str, ...]
    samples: int | None
    seed: int

    @property
    def n_sampled(self) -> int:
        return len(self.combinations)


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint; ``evaluate`` maps float columns (one per name) to a boolean mask."""

    text: str
    names: tuple[str, ...]
    evaluate: Callable[[Columns], np.ndarray]


def plan_sweep(
    spec: Mapping[str, object],
    *,
    constraints: Sequence[str] = (),
    samples: int | None = None,
    seed: int = 0,
    known: Iterable[str] | None = None,
    base: Mapping[str, Scalar] | None = None,
) -> SweepPlan:
    """Expand ``spec``, drop combinations that break a constraint, then sample ``samples`` of them.

    ``known`` (the strategy's parameter names) refuses unknown names in ``spec`` and ``base``.
    Constraints may also name fixed ``base`` parameters. A constraint that names a parameter whose value
    is None does not apply to that combination (the combination is kept): None means "feature off",
    e.g. no stop loss, so ``take_profit_pct > stop_loss_pct`` has nothing to check.
    """
    base = dict(base or {})
    if known is not None:
        check_names([*spec, *base], known)
    names = tuple(spec)
    values = tuple(parse_values(name, spec[name]) for name in names)
    shape = tuple(len(v) for v in values)
    grid_size = math.prod(shape)
    if grid_size > MAX_GRID_SIZE:
        raise NewsbtError(f"the grid has {grid_size:,} combinations, more than the limit of {MAX_GRID_SIZE:,}")
    parsed = [parse_constraint(text) for text in constraints]
    feasible = np.flatnonzero(_feasible(parsed, dict(zip(names, values)), shape, base))
    if feasible.size == 0:
        raise NewsbtError(f"the constraints {', '.join(map(repr, constraints))} exclude every combination")
    chosen = _sample(feasible, samples, seed)
    positions = np.unravel_index(chosen, shape) if names else ()
    combos = tuple(
        {name: values[k][int(positions[k][j])] for k, name in enumerate(names)} for j in range(chosen.size)
    )
    return SweepPlan(combos, grid_size, int(feasible.size), tuple(constraints), samples, seed)


def check_names(names: Iterable[str], known: Iterable[str], where: str = "") -> None:
    """Refuse the first name not in ``known``, suggesting the closest known name."""
    known = sorted(known)
    for name in names:
        if name not in known:
            raise NewsbtError(f"unknown parameter {name!r}{where}{suggest(name, known)}")


def parse_values(name: str, spec: object) -> tuple[Scalar, ...]:
    """The values of one parameter: a list, a ``"start:stop:step"`` range string, or one scalar."""
    if isinstance(spec, str) and ":" in spec:
        values: tuple[Scalar, ...] = parse_range(spec, name)
    elif isinstance(spec, (list, tuple)):
        values = tuple(_check_scalar(name, v) for v in spec)
    else:
        values = (_check_scalar(name, spec),)
    if not values:
        raise NewsbtError(f"parameter {name!r} has an empty list of values")
    seen: set[tuple[str, Scalar]] = set()
    for v in values:
        if (type(v).__name__, v) in seen:
            raise NewsbtError(f"parameter {name!r} lists the value {v!r} twice")
        seen.add((type(v).__name__, v))
    return values


def parse_range(text: str, name: str = "range") -> tuple[int, ...] | tuple[float, ...]:
    """``"start:stop:step"`` -> the points start, start+step, ... up to stop (included when on the grid)."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 3:
        raise NewsbtError(f"parameter {name!r}: range {text!r} must be start:stop:step, e.g. 1:10:1")
    start, stop, step = (_decimal(p, name, text) for p in parts)
    if step == 0:
        raise NewsbtError(f"parameter {name!r}: range {text!r} has a zero step")
    if (stop - start) * step < 0:
        raise NewsbtError(f"parameter {name!r}: range {text!r} is empty (the step points away from stop)")
    count = int((stop - start) / step) + 1
    if count > MAX_GRID_SIZE:
        raise NewsbtError(f"parameter {name!r}: range {text!r} has {count:,} points, over {MAX_GRID_SIZE:,}")
    points = [start + step * i for i in range(count)]
    if all(_is_int_text(p) for p in parts):
        return tuple(int(p) for p in points)
    return tuple(float(p) for p in points)


def parse_grid_option(text: str) -> tuple[str, str | list[Scalar]]:
    """One CLI ``--grid name=values``: ``drop_pct=5,7,10`` -> list, ``hold_days=1:10:1`` -> range string.

    List items are read as int, float, true/false, none/null, or else kept as strings.
    """
    name, sep, raw = (s.strip() for s in text.partition("="))
    if not sep or not name or not raw:
        raise NewsbtError(f"--grid {text!r}: {GRID_HELP}")
    if ":" in raw:
        return name, raw
    items = [item.strip() for item in raw.split(",")]
    if "" in items:
        raise NewsbtError(f"--grid {text!r}: empty value in the list; {GRID_HELP}")
    return name, [_literal(item, name) for item in items]


def parse_grid_options(options: Iterable[str]) -> dict[str, str | list[Scalar]]:
    """All ``--grid`` options as a spec for :func:`plan_sweep`; a name given twice is refused."""
    spec: dict[str, str | list[Scalar]] = {}
    for option in options:
        name, values = parse_grid_option(option)
        if name in spec:
            raise NewsbtError(f"--grid {option!r}: parameter {name!r} is already given by another --grid")
        spec[name] = values
    return spec


def spec_hash(
    strategy: str,
    base: Mapping[str, object],
    combinations: Sequence[Mapping[str, object]],
    settings: Mapping[str, object],
) -> str:
    """sha256 of the canonical JSON of a sweep: the same sweep always hashes the same, so it can resume.

    Dict keys are sorted, the order of combinations counts; dates, paths, sets and tuples are encoded
    as ISO strings, POSIX strings, sorted lists and lists.
    """
    payload = {"strategy": strategy, "base": base, "combinations": list(combinations), "settings": settings}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_constraint(text: str) -> Constraint:
    """Parse a constraint such as ``"hold_days * 2 <= window"`` without evaluating any code.

    Only a whitelisted subset of Python's expression syntax is accepted; anything else (calls,
    attributes, subscripts, strings, ``**``...) is refused before anything runs.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise NewsbtError(f"constraint {text!r} is not a valid expression; {CONSTRAINT_HELP}") from None
    evaluate = _predicate(tree.body, text)
    names = tuple(dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)))
    return Constraint(text, names, evaluate)


_COMPARE = {
    ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater,
    ast.GtE: np.greater_equal, ast.Eq: np.equal, ast.NotEq: np.not_equal,
}  # fmt: skip


def _predicate(node: ast.AST, text: str) -> Callable[[Columns], np.ndarray]:
    """A boolean-valued node: comparison, and/or/not, or a bare name (true when non-zero)."""
    if isinstance(node, ast.Compare):
        if any(type(op) not in _COMPARE for op in node.ops):
            raise _not_allowed(node, text)
        terms = [_term(n, text) for n in (node.left, *node.comparators)]
        ops = [_COMPARE[type(op)] for op in node.ops]
        pairs = list(zip(ops, terms, terms[1:]))
        return lambda cols: np.logical_and.reduce([op(a(cols), b(cols)) for op, a, b in pairs])
    if isinstance(node, ast.BoolOp):
        parts = [_predicate(v, text) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return lambda cols: combine.reduce([p(cols) for p in parts])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _predicate(node.operand, text)
        return lambda cols: np.logical_not(inner(cols))
    if isinstance(node, ast.Name):
        return lambda cols: cols[node.id] != 0
    raise _not_allowed(node, text)


def _term(node: ast.AST, text: str) -> Callable[[Columns], np.ndarray | float]:
    """A number-valued node: a name, a number, + - * / or a sign."""
    if isinstance(node, ast.Name):
        return lambda cols: cols[node.id]
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = float(node.value)
        return lambda cols: value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner, sign = _term(node.operand, text), -1.0 if isinstance(node.op, ast.USub) else 1.0
        return lambda cols: sign * inner(cols)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right, op = _term(node.left, text), _term(node.right, text), _ARITHMETIC[type(node.op)]
        return lambda cols: op(left(cols), right(cols), text)
    raise _not_allowed(node, text)


def _divide(a: np.ndarray | float, b: np.ndarray | float, text: str) -> np.ndarray:
    if np.any(np.asarray(b) == 0):
        raise NewsbtError(f"constraint {text!r} divides by zero for some combination")
    return np.divide(a, b)


_ARITHMETIC = {
    ast.Add: lambda a, b, text: np.add(a, b),
    ast.Sub: lambda a, b, text: np.subtract(a, b),
    ast.Mult: lambda a, b, text: np.multiply(a, b),
    ast.Div: _divide,
}


def _not_allowed(node: ast.AST, text: str) -> NewsbtError:
    return NewsbtError(f"constraint {text!r}: {ast.unparse(node)!r} is not allowed; {CONSTRAINT_HELP}")


def _feasible(
    constraints: Sequence[Constraint], values: Mapping[str, tuple[Scalar, ...]], shape: tuple[int, ...], base: Mapping
) -> np.ndarray:
    """Boolean mask over the flat grid index: True where every constraint holds (or meets a None)."""
    size = math.prod(shape)
    keep = np.ones(size, dtype=bool)
    for c in constraints:
        check_names(c.names, {*values, *base}, where=f" in constraint {c.text!r} (neither swept nor in base)")
        cols = {name: _column(c.text, name, values, shape, base) for name in c.names}
        has_none = np.logical_or.reduce([np.isnan(col) for col in cols.values()] + [np.zeros(size, bool)])
        with np.errstate(invalid="ignore"):
            keep &= np.broadcast_to(c.evaluate(cols), (size,)) | has_none
    return keep


def _column(text: str, name: str, values: Mapping, shape: tuple[int, ...], base: Mapping) -> np.ndarray:
    """The values of ``name`` at every flat grid index as floats, None as NaN."""
    raw = values[name] if name in values else (base[name],)
    bad = [v for v in raw if v is not None and not isinstance(v, (int, float))]
    if bad:
        raise NewsbtError(f"constraint {text!r} uses {name!r}, whose value {bad[0]!r} is not a number")
    numbers = np.array([np.nan if v is None else float(v) for v in raw])
    if name not in values:
        return np.full(math.prod(shape), numbers[0])
    axis = list(values).index(name)
    inner, outer = math.prod(shape[axis + 1 :]), math.prod(shape[:axis])
    return np.tile(np.repeat(numbers, inner), outer)


def _sample(feasible: np.ndarray, samples: int | None, seed: int) -> np.ndarray:
    """``samples`` distinct feasible indices drawn with a seeded Generator, in grid order."""
    if samples is None:
        return feasible
    if type(samples) is not int or samples < 1:
        raise NewsbtError(f"samples must be a positive integer, got {samples!r}")
    if type(seed) is not int or seed < 0:
        raise NewsbtError(f"seed must be a non-negative integer, got {seed!r}")
    if samples >= feasible.size:
        return feasible
    return np.sort(np.random.default_rng(seed).choice(feasible, size=samples, replace=False))


def _check_scalar(name: str, value: object) -> Scalar:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise NewsbtError(
        f"parameter {name!r}: value {value!r} is not allowed; expected a finite number, string, bool or None"
    )


def _decimal(part: str, name: str, text: str) -> Decimal:
    try:
        number = Decimal(part)
    except InvalidOperation:
        number = Decimal("nan")
    if not number.is_finite():
        raise NewsbtError(f"parameter {name!r}: range {text!r} has {part!r}, which is not a finite number")
    return number


def _is_int_text(part: str) -> bool:
    try:
        int(part)
    except ValueError:
        return False
    return True


def _literal(item: str, name: str) -> Scalar:
    lowered = item.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if _is_int_text(item):
        return int(item)
    try:
        return _check_scalar(name, float(item))
    except ValueError:
        return item


def _json_default(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot hash a value of type {type(value).__name__} in a sweep spec: {value!r}")
