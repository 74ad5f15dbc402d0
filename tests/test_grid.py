"""Sweep grids: expansion order, ranges, constraints, sampling, CLI parsing and the resume hash."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbt.core.errors import NewsbtError
from newsbt.sweep.grid import (
    MAX_GRID_SIZE,
    parse_constraint,
    parse_grid_option,
    parse_grid_options,
    parse_range,
    parse_values,
    plan_sweep,
    spec_hash,
)

KNOWN = ["drop_pct", "hold_days", "position_pct", "take_profit_pct", "stop_loss_pct", "window"]


# --- expansion order -------------------------------------------------------------------------------


def expand_grid(spec):
    return list(plan_sweep(spec).combinations)


def test_expansion_is_nested_loops_in_given_order_last_name_fastest():
    combos = expand_grid({"b": [2, 1], "a": ["x", "y", "z"]})
    assert combos == [
        {"b": 2, "a": "x"}, {"b": 2, "a": "y"}, {"b": 2, "a": "z"},
        {"b": 1, "a": "x"}, {"b": 1, "a": "y"}, {"b": 1, "a": "z"},
    ]  # fmt: skip
    assert [list(c) for c in combos] == [["b", "a"]] * 6


def test_scalars_ranges_and_lists_mix():
    combos = expand_grid({"hold_days": "1:3:1", "mode": "fast", "flag": [True, False], "tp": None})
    assert len(combos) == 6
    assert combos[0] == {"hold_days": 1, "mode": "fast", "flag": True, "tp": None}
    assert combos[-1] == {"hold_days": 3, "mode": "fast", "flag": False, "tp": None}


def test_empty_spec_is_one_empty_combination():
    assert expand_grid({}) == [{}]


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdef"), st.lists(st.integers(-5, 5), min_size=1, max_size=4, unique=True)))
def test_expansion_matches_itertools_product(spec):
    combos = expand_grid(spec)
    assert combos == [dict(zip(spec, values)) for values in itertools.product(*spec.values())]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "empty list"),
        ([1, 2, 1], "lists the value 1 twice"),
        ([1.5, float("nan")], "not allowed"),
        ([[1, 2]], "not allowed"),
        (float("inf"), "not allowed"),
        ({"a": 1}, "not allowed"),
    ],
)
def test_bad_value_lists_are_refused(values, message):
    with pytest.raises(NewsbtError, match=message):
        parse_values("p", values)


def test_equal_values_of_different_types_are_distinct():
    assert parse_values("p", [1, 1.0, True, "1"]) == (1, 1.0, True, "1")


def test_oversized_grid_is_refused():
    with pytest.raises(NewsbtError, match="more than the limit"):
        plan_sweep({"a": "1:1000:1", "b": "1:1000:1", "c": [1, 2]})
    assert MAX_GRID_SIZE == 1_000_000


# --- ranges ----------------------------------------------------------------------------------------


def test_int_range_includes_stop_and_stays_int():
    values = parse_range("1:10:3")
    assert values == (1, 4, 7, 10)
    assert all(type(v) is int for v in values)
    assert parse_range("1:9:3") == (1, 4, 7)
    assert parse_range("10:1:-3") == (10, 7, 4, 1)
    assert parse_range("5:5:1") == (5,)


def test_float_range_has_clean_values_and_inclusive_stop():
    assert parse_range("0.1:0.9:0.1") == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    assert parse_range("0:1:0.3") == (0.0, 0.3, 0.6, 0.9)
    assert parse_range("1:2:0.25") == (1.0, 1.25, 1.5, 1.75, 2.0)
    assert parse_range("1e-3:3e-3:1e-3") == (0.001, 0.002, 0.003)
    assert all(type(v) is float for v in parse_range("1:3:1.0"))


@settings(max_examples=100, deadline=None)
@given(st.integers(-50, 50), st.integers(0, 60), st.integers(1, 7))
def test_int_range_matches_python_range(start, length, step):
    stop = start + length
    assert parse_range(f"{start}:{stop}:{step}") == tuple(range(start, stop + 1, step))
    assert parse_range(f"{stop}:{start}:{-step}") == tuple(range(stop, start - 1, -step))


@settings(max_examples=100, deadline=None)
@given(st.integers(-500, 500), st.integers(0, 40), st.integers(1, 30))
def test_decimal_range_values_are_the_shortest_decimals(start, count, step):
    """k/100 steps: every point equals the float of its two-decimal text, the stop included."""
    stop = start + count * step
    values = parse_range(f"{start / 100}:{stop / 100}:{step / 100}")
    assert values == tuple(float(f"{(start + i * step) / 100:.2f}") for i in range(count + 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1:10", "must be start:stop:step"),
        ("1:2:3:4", "must be start:stop:step"),
        ("1:10:0", "zero step"),
        ("10:1:1", "is empty"),
        ("1:x:1", "not a finite number"),
        ("1:nan:1", "not a finite number"),
        ("0:1e9:1", "points, over"),
    ],
)
def test_bad_ranges_are_refused(text, message):
    with pytest.raises(NewsbtError, match=message):
        parse_values("p", text)


def test_a_string_with_a_colon_is_literal_inside_a_list():
    assert parse_values("open_time", ["09:30"]) == ("09:30",)


# --- constraints -----------------------------------------------------------------------------------


def test_constraint_between_swept_parameters():
    plan = plan_sweep(
        {"take_profit_pct": [5, 10, 15], "stop_loss_pct": [5, 10]}, constraints=["take_profit_pct > stop_loss_pct"]
    )
    assert plan.combinations == (
        {"take_profit_pct": 10, "stop_loss_pct": 5},
        {"take_profit_pct": 15, "stop_loss_pct": 5},
        {"take_profit_pct": 15, "stop_loss_pct": 10},
    )
    assert (plan.grid_size, plan.n_after_constraints, plan.n_sampled) == (6, 3, 3)


def test_constraint_with_arithmetic_and_a_base_parameter():
    plan = plan_sweep({"hold_days": "1:10:1"}, constraints=["hold_days * 2 <= window"], base={"window": 9})
    assert [c["hold_days"] for c in plan.combinations] == [1, 2, 3, 4]


def test_several_constraints_all_apply_and_chained_comparisons_work():
    plan = plan_sweep({"a": "0:5:1", "b": "0:5:1"}, constraints=["1 < a < b", "not (a + b == 7) or a == 3"])
    pairs = {(c["a"], c["b"]) for c in plan.combinations}
    expected = {(a, b) for a in range(6) for b in range(6) if 1 < a < b and (a + b != 7 or a == 3)}
    assert pairs == expected


def test_constraint_precedence_and_division():
    plan = plan_sweep({"a": [1, 2, 3, 4], "b": [2, 4]}, constraints=["a / b >= 1 and -a + 2 * b > 1 or a == 1"])
    pairs = [(c["a"], c["b"]) for c in plan.combinations]
    assert pairs == [(a, b) for a in (1, 2, 3, 4) for b in (2, 4) if (a / b >= 1 and -a + 2 * b > 1) or a == 1]


def test_bool_parameter_as_a_predicate():
    plan = plan_sweep({"use_stop": [True, False], "stop": [1, 2]}, constraints=["use_stop or stop == 1"])
    assert plan.combinations == (
        {"use_stop": True, "stop": 1},
        {"use_stop": True, "stop": 2},
        {"use_stop": False, "stop": 1},
    )


def test_constraint_naming_a_none_value_keeps_the_combination():
    plan = plan_sweep(
        {"take_profit_pct": [None, 5, 10], "stop_loss_pct": [None, 7]}, constraints=["take_profit_pct > stop_loss_pct"]
    )
    kept = [(c["take_profit_pct"], c["stop_loss_pct"]) for c in plan.combinations]
    assert kept == [(None, None), (None, 7), (5, None), (10, None), (10, 7)]


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os')",
        "__import__('os').system('true') or a > 1",
        "a.real > 1",
        "a[0] > 1",
        "a ** 2 > 1",
        "a // 2 > 1",
        "a % 2 == 0",
        "a > 1 if b else a < 1",
        "(lambda: 1)() > 0",
        "(x := 1) > 0",
        "a is b",
        "a in b",
        "'x' == a",
        "a == None",
        "a > True",
        "(a > b) + 1 > 0",
        "a + b",
        "[a] == [b]",
    ],
)
def test_unsafe_or_unsupported_expressions_are_refused(expression):
    with pytest.raises(NewsbtError, match="is not allowed"):
        parse_constraint(expression)


@pytest.mark.parametrize("expression", ["a > b; import os", "import os", "a >", "", "a = 1"])
def test_syntax_errors_are_refused(expression):
    with pytest.raises(NewsbtError, match="not a valid expression"):
        parse_constraint(expression)


def test_unknown_name_in_constraint_suggests_a_parameter():
    message = "unknown parameter 'stop_los_pct' in constraint.*did you mean 'stop_loss_pct'"
    with pytest.raises(NewsbtError, match=message):
        plan_sweep({"take_profit_pct": [5], "stop_loss_pct": [3]}, constraints=["take_profit_pct > stop_los_pct"])


def test_constraint_on_a_string_parameter_is_refused():
    with pytest.raises(NewsbtError, match="uses 'mode', whose value 'fast' is not a number"):
        plan_sweep({"mode": ["fast", "slow"], "a": [1]}, constraints=["mode > a"])


def test_division_by_zero_is_refused():
    with pytest.raises(NewsbtError, match="divides by zero"):
        plan_sweep({"a": [1, 2], "b": [0, 1]}, constraints=["a / b > 1"])


def test_constraints_excluding_everything_are_refused():
    with pytest.raises(NewsbtError, match="exclude every combination"):
        plan_sweep({"a": [1, 2]}, constraints=["a > 5"])


# --- random search ---------------------------------------------------------------------------------


def test_sampling_is_seeded_distinct_and_in_grid_order():
    spec = {"a": "1:30:1", "b": "1:30:1"}
    plan = plan_sweep(spec, samples=40, seed=7)
    again = plan_sweep(spec, samples=40, seed=7)
    other = plan_sweep(spec, samples=40, seed=8)
    grid = expand_grid(spec)
    assert plan.combinations == again.combinations
    assert plan.combinations != other.combinations
    assert len({tuple(c.items()) for c in plan.combinations}) == 40
    positions = [grid.index(c) for c in plan.combinations]
    assert positions == sorted(positions)
    assert (plan.grid_size, plan.n_after_constraints, plan.n_sampled) == (900, 900, 40)


def test_sampling_draws_only_feasible_combinations():
    plan = plan_sweep({"a": "1:20:1", "b": "1:20:1"}, constraints=["a < b"], samples=50, seed=1)
    assert plan.n_after_constraints == 190
    assert plan.n_sampled == 50
    assert all(c["a"] < c["b"] for c in plan.combinations)


def test_sampling_at_least_the_grid_returns_the_whole_grid():
    spec = {"a": [1, 2, 3], "b": [4, 5]}
    assert plan_sweep(spec, samples=6, seed=3).combinations == tuple(expand_grid(spec))
    assert plan_sweep(spec, samples=100, seed=3).combinations == tuple(expand_grid(spec))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**32))
def test_sampling_property(samples, seed):
    spec = {"a": "0:6:1", "b": [0.5, 1.5, 2.5]}
    combos = plan_sweep(spec, samples=samples, seed=seed).combinations
    grid = expand_grid(spec)
    assert len(combos) == min(samples, len(grid))
    assert len({tuple(c.items()) for c in combos}) == len(combos)
    assert all(c in grid for c in combos)


@pytest.mark.parametrize(("samples", "seed"), [(0, 0), (-1, 0), (2.5, 0), (True, 0), (3, -1), (3, 1.5)])
def test_bad_samples_or_seed_are_refused(samples, seed):
    with pytest.raises(NewsbtError, match="must be"):
        plan_sweep({"a": "1:10:1"}, samples=samples, seed=seed)


# --- names -----------------------------------------------------------------------------------------


def test_unknown_parameter_gets_a_suggestion():
    with pytest.raises(NewsbtError, match="unknown parameter 'drop_pc'; did you mean 'drop_pct'\\?"):
        plan_sweep({"drop_pc": [5, 7]}, known=KNOWN)


def test_unknown_base_parameter_is_refused_and_without_close_match_lists_known():
    with pytest.raises(NewsbtError, match="unknown parameter 'zzz'; expected one of: drop_pct, hold_days"):
        plan_sweep({"drop_pct": [5]}, known=KNOWN, base={"zzz": 1})


def test_known_names_pass():
    assert plan_sweep({"drop_pct": [5, 7]}, known=KNOWN, base={"hold_days": 3}).n_sampled == 2


# --- CLI form --------------------------------------------------------------------------------------


def test_cli_grid_options():
    spec = parse_grid_options(
        ["drop_pct=5,7,10", "hold_days=1:10:1", "mode = fast,slow", "tp=none,5.5,1e-1", "flag=true,False"]
    )
    assert spec == {
        "drop_pct": [5, 7, 10],
        "hold_days": "1:10:1",
        "mode": ["fast", "slow"],
        "tp": [None, 5.5, 0.1],
        "flag": [True, False],
    }
    assert type(spec["drop_pct"][0]) is int
    assert len(expand_grid(spec)) == 3 * 10 * 2 * 3 * 2


@pytest.mark.parametrize("option", ["drop_pct", "=5", "drop_pct=", "drop_pct=5,,7", "x=nan", "x=1,inf"])
def test_bad_cli_options_are_refused(option):
    with pytest.raises(NewsbtError):
        parse_grid_option(option)


def test_cli_option_given_twice_is_refused():
    with pytest.raises(NewsbtError, match="already given"):
        parse_grid_options(["a=1,2", "a=3"])


def test_cli_bad_range_is_refused_at_expansion():
    with pytest.raises(NewsbtError, match="range '1:10'"):
        plan_sweep(parse_grid_options(["hold_days=1:10"]))


# --- spec hash -------------------------------------------------------------------------------------


def test_spec_hash_is_pinned_and_ignores_key_order():
    combos = [{"drop_pct": 5, "hold_days": 1}, {"drop_pct": 7.5, "hold_days": None}]
    settings_ = {"start": date(2020, 1, 2), "data_dir": Path("data/prices"), "tickers": ("NVDA", "AMD")}
    digest = spec_hash("crash_dip", {"position_pct": 20.0}, combos, settings_)
    canonical = (
        '{"base":{"position_pct":20.0},'
        '"combinations":[{"drop_pct":5,"hold_days":1},{"drop_pct":7.5,"hold_days":null}],'
        '"settings":{"data_dir":"data/prices","start":"2020-01-02","tickers":["NVDA","AMD"]},'
        '"strategy":"crash_dip"}'
    )
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()
    assert digest == "5a2b5667ec6adbd68743c8fbe792e57cab44c3b5a7594e9760118af9c37acd67"
    reordered = spec_hash(
        "crash_dip",
        {"position_pct": 20.0},
        [{"hold_days": 1, "drop_pct": 5}, {"hold_days": None, "drop_pct": 7.5}],
        dict(reversed(settings_.items())),
    )
    assert reordered == digest


def test_spec_hash_changes_with_any_input():
    combos = [{"a": 1}, {"a": 2}]
    digest = spec_hash("s", {"x": 1}, combos, {"cash": 1000})
    assert spec_hash("t", {"x": 1}, combos, {"cash": 1000}) != digest
    assert spec_hash("s", {"x": 2}, combos, {"cash": 1000}) != digest
    assert spec_hash("s", {"x": 1}, combos[::-1], {"cash": 1000}) != digest
    assert spec_hash("s", {"x": 1}, combos, {"cash": 1001}) != digest
    assert spec_hash("s", {"x": 1}, [{"a": 1}, {"a": 2.0}], {"cash": 1000}) != digest


def test_spec_hash_refuses_unencodable_values():
    with pytest.raises(TypeError, match="cannot hash"):
        spec_hash("s", {}, [], {"obj": object()})
