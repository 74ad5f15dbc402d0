"""Backtest files: every mistake is one line naming file, line of the key, problem and expectation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newsbt.core.errors import NewsbtError
from newsbt.backtest.registry import validate_params
from newsbt.backtest.spec import apply_override, load_spec, spec_from_dict

REPO = Path(__file__).resolve().parents[1]

# Line numbers below refer to this file: [run] is line 1, [strategy] line 8, [costs] line 13.
BASE = """\
[run]
name = "t"
start = 2024-01-01
end = 2024-12-31
cash = 1000
benchmark = "QQQ"

[strategy]
name = "crash_dip"
drop_pct = 7
hold_days = 5

[costs]
commission_bps = 5
slippage_bps = 5
"""


def write(tmp_path: Path, text: str = BASE) -> Path:
    path = tmp_path / "bt.toml"
    path.write_text(text, encoding="utf-8")
    return path


def edited(tmp_path: Path, old: str, new: str) -> Path:
    assert old in BASE, old
    return write(tmp_path, BASE.replace(old, new))


def error_of(path: Path, overrides=()) -> str:
    with pytest.raises(NewsbtError) as info:
        load_spec(path, overrides)
    return str(info.value)


# --- the file itself -----------------------------------------------------------------------------


# [run] keys a daily file leaves at their defaults
DAILY_BARS = {"bars": "1d", "sessions": ("regular",), "intraday_dir": None, "suspect_prints": "keep"}


def test_base_file_loads(tmp_path):
    spec = load_spec(write(tmp_path))
    assert spec.run.model_dump() == {"name": "t", "start": dt.date(2024, 1, 1), "end": dt.date(2024, 12, 31),
                                     "cash": 1000.0, "benchmark": "QQQ", "events": None, "news": None, "engine": "backtrader", **DAILY_BARS}
    assert spec.strategy.name == "crash_dip"
    assert spec.strategy.params == {"drop_pct": 7, "hold_days": 5}
    assert spec.costs.model_dump() == {"commission_bps": 5.0, "commission_per_share": 0.0, "commission_min": 0.0,
                                       "slippage_bps": 5.0, "extended_slippage_bps": None, "borrow_fee_pct": 0.0,
                                       "cash_interest_pct": 0.0}


def test_missing_backtest_file(tmp_path):
    path = tmp_path / "nope.toml"
    assert error_of(path) == f"{path}: no such backtest file"



def test_directory_instead_of_backtest_file_is_a_user_error(tmp_path):
    assert error_of(tmp_path).startswith(f"{tmp_path}: ")



def test_non_utf8_backtest_file_is_a_user_error(tmp_path):
    path = tmp_path / "bt.toml"
    path.write_bytes(BASE.replace('"t"', '"caf\xe9"').encode("latin-1"))
    assert error_of(path).startswith(f"{path}: ")


def test_toml_syntax_error_names_its_line(tmp_path):
    path = edited(tmp_path, "cash = 1000", "cash = = 1000")
    message = error_of(path)
    assert message.startswith(f"{path}:5: not valid TOML: ")
    assert "(at line 5, column 8)" in message


def test_shipped_ai_crash_dip_loads_to_expected_values():
    spec = load_spec(REPO / "backtests" / "ai_crash_dip.toml")
    universe = ["NVDA", "AMD", "AVGO", "MU", "TSM", "ARM", "SMCI", "ORCL", "MSFT", "META", "GOOGL", "AMZN"]
    assert spec.run.model_dump() == {"name": "ai_crash_dip", "start": dt.date(2019, 1, 1),
                                     "end": dt.date(2025, 6, 30), "cash": 100_000.0, "benchmark": "QQQ",
                                     "events": None, "news": None, "engine": "fast", **DAILY_BARS}
    assert spec.strategy.name == "crash_dip"
    assert spec.strategy.params == {"tickers": universe, "drop_pct": 7, "hold_days": 5, "position_pct": 20}
    assert spec.costs.model_dump() == {"commission_bps": 5.0, "commission_per_share": 0.0, "commission_min": 0.0,
                                       "slippage_bps": 5.0, "extended_slippage_bps": None, "borrow_fee_pct": 0.0,
                                       "cash_interest_pct": 0.0}
    params = validate_params(spec.strategy.name, spec.strategy.params)
    assert params.model_dump() == {"tickers": tuple(universe), "drop_pct": 7.0, "hold_days": 5,
                                   "position_pct": 20.0, "take_profit_pct": None, "stop_loss_pct": None}


# --- unknown names -------------------------------------------------------------------------------


def test_unknown_section_is_named_with_suggestion_and_line(tmp_path):
    path = write(tmp_path, BASE + "\n[rnu]\nx = 1\n")
    assert error_of(path) == f"{path}:17: unknown section [rnu]; did you mean 'run'?"


def test_unknown_section_without_close_match_lists_known_sections(tmp_path):
    path = write(tmp_path, BASE + "\n[zzz]\n")
    assert error_of(path) == f"{path}:17: unknown section [zzz]; expected one of: run, strategy, costs, sweep, study"


def test_sweep_and_study_sections_are_left_to_other_modules(tmp_path):
    spec = load_spec(write(tmp_path, BASE + "\n[sweep]\ndrop_pct = [5, 7]\n\n[study]\nwindow = 3\n"))
    assert spec.strategy.params == {"drop_pct": 7, "hold_days": 5}


def test_unknown_run_key_suggests_benchmark(tmp_path):
    path = edited(tmp_path, "benchmark =", "benchmrk =")
    assert error_of(path) == f"{path}:6: unknown key 'benchmrk' in [run]; did you mean 'benchmark'?"


def test_unknown_costs_key_suggests_commission_bps(tmp_path):
    path = edited(tmp_path, "commission_bps", "comission_bps")
    assert error_of(path) == f"{path}:14: unknown key 'comission_bps' in [costs]; did you mean 'commission_bps'?"


def test_unknown_key_without_close_match_lists_known_keys(tmp_path):
    path = edited(tmp_path, "cash = 1000", "cash = 1000\nzzzzzz = 1")
    assert error_of(path) == (
        f"{path}:6: unknown key 'zzzzzz' in [run]; expected one of: name, start, end, cash, benchmark, events, "
        "news, engine, bars, sessions, intraday_dir, suspect_prints"
    )


def test_unknown_strategy_name_gets_suggestion(tmp_path):
    path = edited(tmp_path, '"crash_dip"', '"crash_dipp"')
    assert error_of(path).endswith("unknown strategy 'crash_dipp'; did you mean 'crash_dip'?")


def test_unknown_strategy_without_close_match_lists_strategies(tmp_path):
    path = edited(tmp_path, '"crash_dip"', '"xyz"')
    from newsbt.backtest.registry import strategy_names

    assert "buy_and_hold" in strategy_names() and "crash_dip" in strategy_names()
    assert error_of(path).endswith(f"unknown strategy 'xyz'; expected one of: {', '.join(strategy_names())}")



def test_unknown_strategy_name_is_located_in_the_file(tmp_path):
    path = edited(tmp_path, '"crash_dip"', '"crash_dipp"')
    assert error_of(path) == f"{path}:9: unknown strategy 'crash_dipp'; did you mean 'crash_dip'?"


def test_unknown_strategy_parameter_suggests_and_names_line(tmp_path):
    path = edited(tmp_path, "drop_pct", "drop_pc")
    assert error_of(path) == (
        f"{path}:10: unknown parameter 'drop_pc' for strategy 'crash_dip'; did you mean 'drop_pct'?"
    )


# --- types and values -----------------------------------------------------------------------------


def test_cash_as_text_is_a_type_error(tmp_path):
    path = edited(tmp_path, "cash = 1000", 'cash = "lots"')
    message = error_of(path)
    assert message.startswith(f"{path}:5: [run] cash: Input should be a valid number")
    assert message.endswith("(got 'lots')")


def test_drop_pct_as_text_is_a_type_error(tmp_path):
    path = edited(tmp_path, "drop_pct = 7", 'drop_pct = "seven"')
    message = error_of(path)
    assert message.startswith(f"{path}:10: [strategy] drop_pct: Input should be a valid number")
    assert message.endswith("(got 'seven')")


def test_fractional_hold_days_is_a_type_error(tmp_path):
    path = edited(tmp_path, "hold_days = 5", "hold_days = 2.5")
    message = error_of(path)
    assert message.startswith(f"{path}:11: [strategy] hold_days: Input should be a valid integer")
    assert message.endswith("(got 2.5)")


def test_benchmark_as_number_is_a_type_error(tmp_path):
    path = edited(tmp_path, 'benchmark = "QQQ"', "benchmark = 5")
    assert error_of(path) == f"{path}:6: [run] benchmark: Input should be a valid string (got 5)"



def test_boolean_cash_is_a_type_error(tmp_path):
    path = edited(tmp_path, "cash = 1000", "cash = true")
    assert error_of(path).startswith(f"{path}:5: [run] cash")



def test_boolean_drop_pct_is_a_type_error(tmp_path):
    path = edited(tmp_path, "drop_pct = 7", "drop_pct = true")
    assert error_of(path).startswith(f"{path}:10: [strategy] drop_pct")


def test_unparseable_start_date_is_a_type_error(tmp_path):
    path = edited(tmp_path, "start = 2024-01-01", 'start = "Jan 1"')
    message = error_of(path)
    assert message.startswith(f"{path}:3: [run] start: Input should be a valid date")
    assert message.endswith("(got 'Jan 1')")


@pytest.mark.parametrize("end", ["2023-12-31", "2024-01-01"])
def test_end_not_after_start_is_refused_at_the_end_line(tmp_path, end):
    path = edited(tmp_path, "end = 2024-12-31", f"end = {end}")
    assert error_of(path) == (f"{path}:4: [run] end: end ({end}) must be after start (2024-01-01) "
                              f"(got datetime.date({end[:4]}, {int(end[5:7])}, {int(end[8:])}))")


@pytest.mark.parametrize("cash", ["-5", "0"])
def test_non_positive_cash_is_refused(tmp_path, cash):
    path = edited(tmp_path, "cash = 1000", f"cash = {cash}")
    assert error_of(path) == f"{path}:5: [run] cash: Input should be greater than 0 (got {cash})"


@pytest.mark.parametrize(("key", "line"), [("commission_bps", 14), ("slippage_bps", 15)])
def test_negative_cost_is_refused(tmp_path, key, line):
    path = edited(tmp_path, f"{key} = 5", f"{key} = -1")
    assert error_of(path) == f"{path}:{line}: [costs] {key}: Input should be greater than or equal to 0 (got -1)"


def test_cost_of_whole_price_is_refused(tmp_path):
    path = edited(tmp_path, "commission_bps = 5", "commission_bps = 10000")
    assert error_of(path) == f"{path}:14: [costs] commission_bps: Input should be less than 10000 (got 10000)"


@pytest.mark.parametrize(("value", "bound"), [("150", "less than 100"), ("100", "less than 100"),
                                               ("0", "greater than 0"), ("-7", "greater than 0")])
def test_drop_pct_outside_0_100_is_refused(tmp_path, value, bound):
    path = edited(tmp_path, "drop_pct = 7", f"drop_pct = {value}")
    assert error_of(path) == f"{path}:10: [strategy] drop_pct: Input should be {bound} (got {value})"


def test_zero_hold_days_is_refused(tmp_path):
    path = edited(tmp_path, "hold_days = 5", "hold_days = 0")
    assert error_of(path) == f"{path}:11: [strategy] hold_days: Input should be greater than or equal to 1 (got 0)"


def test_empty_ticker_list_is_refused(tmp_path):
    path = edited(tmp_path, "drop_pct = 7", "tickers = []\ndrop_pct = 7")
    message = error_of(path)
    assert message.startswith(f"{path}:10: [strategy] tickers: ")
    assert message.endswith("(got [])")


def test_run_name_unfit_for_a_folder_is_refused(tmp_path):
    path = edited(tmp_path, 'name = "t"', 'name = "my run/x"')
    assert error_of(path) == (
        f"{path}:2: [run] name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]*$' (got 'my run/x')"
    )


# --- missing pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["name", "start", "end"])
def test_missing_run_key_is_required(tmp_path, key):
    line = next(line for line in BASE.splitlines(keepends=True) if line.startswith(f"{key} ="))
    path = write(tmp_path, BASE.replace(line, "", 1))
    assert error_of(path) == f"{path}: [run] {key} is required"


def test_missing_run_section_is_required(tmp_path):
    path = write(tmp_path, BASE[BASE.index("[strategy]"):])
    assert error_of(path) == f"{path}: [run] is required"


def test_missing_strategy_name_points_to_strategy_list(tmp_path):
    path = edited(tmp_path, 'name = "crash_dip"\n', "")
    assert error_of(path) == f'{path}: [strategy] needs name = "<strategy>"; see `newsbt strategies`'


def test_missing_costs_section_defaults_to_zero(tmp_path):
    spec = load_spec(write(tmp_path, BASE[: BASE.index("[costs]")]))
    costs = spec.costs.model_dump()
    assert costs.pop("extended_slippage_bps") is None  # unset: pre/post fills slip like regular ones
    assert set(costs.values()) == {0.0}


# --- overrides ------------------------------------------------------------------------------------------


def test_override_number_is_parsed_as_toml_number():
    raw = {"strategy": {"drop_pct": 7}}
    apply_override(raw, "strategy.drop_pct=10")
    assert raw["strategy"]["drop_pct"] == 10 and type(raw["strategy"]["drop_pct"]) is int


def test_override_float_with_spaces():
    raw = {}
    apply_override(raw, " strategy.drop_pct = 10.5 ")
    assert raw == {"strategy": {"drop_pct": 10.5}}


def test_override_bare_word_becomes_a_string():
    raw = {"run": {"benchmark": "QQQ"}}
    apply_override(raw, "run.benchmark=SPY")
    assert raw["run"]["benchmark"] == "SPY"


def test_override_date_and_list_are_parsed_as_toml():
    raw = {}
    apply_override(raw, "run.end=2025-01-01")
    apply_override(raw, 'strategy.tickers=["A", "B"]')
    assert raw == {"run": {"end": dt.date(2025, 1, 1)}, "strategy": {"tickers": ["A", "B"]}}


@pytest.mark.parametrize("item", ["drop_pct10", "drop_pct=10", "strategy.drop_pct", "strategy.drop_pct:10",
                                  ".drop_pct=10", "strategy.=10"])
def test_malformed_override_is_refused_with_the_expected_form(item):
    with pytest.raises(NewsbtError) as info:
        apply_override({}, item)
    assert str(info.value) == f"--set {item!r}: expected section.key=value, e.g. strategy.drop_pct=10"


def test_overrides_apply_before_validation(tmp_path):
    spec = load_spec(write(tmp_path), ["strategy.drop_pct=10", "run.benchmark=SPY", "costs.slippage_bps=0"])
    assert spec.strategy.params == {"drop_pct": 10, "hold_days": 5}
    assert spec.run.benchmark == "SPY"
    assert spec.costs.slippage_bps == 0.0
    assert validate_params("crash_dip", spec.strategy.params).drop_pct == 10.0


def test_bad_override_value_is_checked_like_the_file(tmp_path):
    path = write(tmp_path)
    assert error_of(path, ["strategy.drop_pct=150"]) == (
        f"{path}: --set strategy.drop_pct: [strategy] drop_pct: Input should be less than 100 (got 150)"
    )


def test_override_of_unknown_parameter_gets_suggestion(tmp_path):
    path = write(tmp_path)
    assert error_of(path, ["strategy.drop_pc=3"]) == (
        f"{path}: --set strategy.drop_pc: unknown parameter 'drop_pc' for strategy 'crash_dip'; "
        "did you mean 'drop_pct'?"
    )


def test_malformed_override_is_refused_by_load_spec(tmp_path):
    assert error_of(write(tmp_path), ["drop_pct10"]) == (
        "--set 'drop_pct10': expected section.key=value, e.g. strategy.drop_pct=10"
    )


# --- the Python API: spec_from_dict ---------------------------------------------------------------------


def base_dict(**run) -> dict:
    return {"run": {"name": "t", "start": "2024-01-01", "end": "2024-12-31", **run},
            "strategy": {"name": "crash_dip", "drop_pct": 7}}


def test_spec_from_dict_accepts_iso_date_strings_and_defaults():
    spec = spec_from_dict(base_dict())
    assert (spec.run.start, spec.run.end) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert (spec.run.cash, spec.run.benchmark) == (100_000.0, "QQQ")


def test_spec_from_dict_errors_name_the_default_source_without_line():
    with pytest.raises(NewsbtError) as info:
        spec_from_dict(base_dict(benchmrk="SPY"))
    assert str(info.value) == "<spec>: unknown key 'benchmrk' in [run]; did you mean 'benchmark'?"


def test_spec_is_frozen():
    spec = spec_from_dict(base_dict())
    with pytest.raises(Exception):
        spec.run.cash = 5.0  # type: ignore[misc]
