"""Engine speed: newsbt's compiled engine against a hand-written numba loop, vectorbt and backtrader,
and whole commands end to end, measured in one run on this machine and printed as ratios.

    NEWSBT_DATA_DIR=../shared/data/prices python benchmarks/engine_speed.py [--big 2500,10000] [--skip-backtrader]

Sections (each figure is one measurement on a machine that may be shared, except the 48-grid's fast figures
and vectorbt's, the median of five warm runs, and whole commands, the median of three; compare ratios):

1. compiling the compiled engine from an empty numba cache, and loading it from the cache: the first
   run of each fast form (crash_dip, rotation_spread, news_reaction), each in a fresh process with an
   empty ``NUMBA_CACHE_DIR`` of its own, then again in a second process (from the cache); then the
   three in one process;
2. the 48-combination crash_dip grid (backtests/ai_crash_dip_sweep.toml): the sweep phase
   (``run_sweep``: prices in memory to every row saved) on ``engine = "fast"`` and ``"backtrader"``;
   the same rule as a plain numba loop over arrays (the practical limit: no order log, no refusals
   recorded, no report rows); and vectorbt's ``Portfolio.from_signals`` when installed
   (``pip install -e ".[bench]"``). vectorbt runs a *similar* rule, not the same: it sizes each entry
   at 20 % of the cash left (``size_type="percent"``), not of portfolio value with whole shares and
   cash set aside for pending orders, so its values are not compared;
3. rotation_spread and news_reaction grids of 48 combinations, fast against backtrader;
4. crash_dip sweeps of ``--big`` sizes (about 2,500 and 10,000 combinations) as whole ``newsbt sweep``
   commands (DSR, PBO, heatmaps, the best run's report), with their peak memory next to the size of
   the returns matrix they produce, so that the growth of one can be read against the other;
5. whole commands (``newsbt run backtests/ai_crash_dip.toml``, ``newsbt sweep`` of the example sweep
   file, whose walk-forward draws a second tearsheet, and of the issue's 48-grid without it; with and
   without ``--no-tearsheet``; the median of three runs each), with the processor time of all their
   processes, and where each one's time goes, phase by phase in a fresh process (``--only-commands``:
   this section only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq
from numba import njit

from command_phases import ROOT, timed  # benchmarks/ is the script's directory
from sweep_speed import MemorySampler

GRIDS = {  # name -> (backtest file, --set overrides, --grid values); 48 combinations each
    "crash_dip": ("ai_crash_dip_sweep.toml", [], [
        "drop_pct=5,6,7,8,9,10,12,15", "hold_days=1,3,5,10,20,40", "position_pct=20"]),
    "rotation_spread": ("rotation_qqq_iwm.toml", [], [
        "signal=gap,zscore", "mode=momentum,reversion", "hedge=dollar,beta", "hold_days=1,3,5,10,20,40"]),
    "news_reaction": ("deepseek_fade.toml", [
        "run.start=2019-01-01", "run.end=2025-06-30", 'strategy.tickers=["NVDA", "AMD", "AVGO", "MU", "TSM", "ARM"]',
        'strategy.categories=["model_release", "earnings", "market_move", "guidance"]'],
        ["mode=follow,fade", "hold_days=1,2,3,5,10,20", "position_pct=10,20,30,50"]),
}


REPEATS = 5  # the 48-grid's fast figures: the median of this many warm runs (one is noise on a shared machine)


def median_timed(fn, *args, **kwargs):
    """(the last output, the median seconds) of ``REPEATS`` calls."""
    runs = [timed(fn, *args, **kwargs) for _ in range(REPEATS)]
    return runs[-1][0], sorted(seconds for _, seconds in runs)[REPEATS // 2]


COMMAND_REPEATS = 3  # whole commands: the median of this many runs, each in a fresh process


@dataclass(frozen=True)
class Command:
    """A whole ``newsbt`` command's wall time and the processor time of all its processes (the command,
    its report process and the pool it forks: each waits for its children, so ``wait4`` counts them all),
    each the median of ``COMMAND_REPEATS`` runs. The processor time over the cores is the least wall
    time any schedule of that work could take here."""

    seconds: float
    cpu_seconds: float

    def __str__(self) -> str:
        return (f"{self.seconds:>5.2f} s (processor time {self.cpu_seconds:.2f} s: at best "
                f"{self.cpu_seconds / (os.cpu_count() or 1):.2f} s on {os.cpu_count()} cores)")


def newsbt_cmd(*args: str) -> Command:
    """A whole ``newsbt`` command (a fresh process: imports and every output included), run
    ``COMMAND_REPEATS`` times, each into a new reports folder."""
    script = Path(sys.executable).with_name("newsbt")  # the console script a user types (not python -m newsbt)
    command = [str(script)] if script.exists() else [sys.executable, "-m", "newsbt"]
    runs = []
    for _ in range(COMMAND_REPEATS):
        started = time.perf_counter()
        process = subprocess.Popen([*command, *args, "--reports-dir", tempfile.mkdtemp()], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        runs.append((time.perf_counter() - started, usage.ru_utime + usage.ru_stime))
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, process.args)
    middle = COMMAND_REPEATS // 2
    return Command(sorted(w for w, _ in runs)[middle], sorted(c for _, c in runs)[middle])


# --- 1. compile time ------------------------------------------------------------------------------

COMPILE_SNIPPET = """
import time
from newsbt import api
from newsbt.backtest.fast.runner import FastRunner
first_runs = 0.0
for name, overrides in {grids!r}.items():
    spec = api.load_spec({root!r} + "/backtests/" + overrides[0], overrides=overrides[1])
    runner = FastRunner(api.load_prices_for(spec), api.load_events_for(spec) if spec.run.events else ())
    started = time.perf_counter()
    runner.summary(spec)
    first_runs += time.perf_counter() - started
print(first_runs)
"""


def compile_times(names: list[str]) -> tuple[float, float]:
    """Seconds of the first run of each fast form in ``names``, summed, in one fresh process with an empty
    numba cache (compiling), then in another one with the cache it left (loading)."""
    code = COMPILE_SNIPPET.format(grids={name: GRIDS[name] for name in names}, root=str(ROOT))
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        compiled, loaded = (float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                                                 capture_output=True, text=True).stdout) for _ in range(2))
    return compiled, loaded


def print_compile_times() -> None:
    print("compiled engine, first run of a fast form in a fresh process: compile from an empty numba cache / "
          "load from the cache")
    for names in ([name] for name in GRIDS):
        compiled, loaded = compile_times(names)
        print(f"  {names[0]:<36}{compiled:>6.1f} s / {loaded:.1f} s")
    compiled, loaded = compile_times(list(GRIDS))
    print(f"  {'the three in one process':<36}{compiled:>6.1f} s / {loaded:.1f} s\n")


# --- 2. the 48-combination grid -------------------------------------------------------------------

def plan(name: str, engine: str = "fast"):
    from newsbt.sweep.runner import plan_sweep

    file, overrides, grid = GRIDS[name]
    return plan_sweep(ROOT / "backtests" / file, overrides=[*overrides, f'sweep.engine="{engine}"'], grid_args=grid)


def rows_only(name: str) -> float:
    """Seconds to run the grid's combinations and compute their rows (no store): the engine's own rate."""
    from newsbt import api
    from newsbt.sweep.worker import Evaluator, WorkerSetup

    sweep = plan(name)
    setup = WorkerSetup(sweep.spec, sweep.combinations, "fast", api.load_prices_for(sweep.spec),
                        tuple(api.load_events_for(sweep.spec)) if sweep.spec.run.events else ())
    evaluator = Evaluator(setup)
    evaluator.run_chunk(range(len(sweep.combinations)))  # warm
    return median_timed(evaluator.run_chunk, range(len(sweep.combinations)))[1]


def sweep_phase(name: str, engine: str, workers: int | None) -> tuple[float, list[float]]:
    """Seconds of ``run_sweep`` (prices already in memory, engine warm; the median of ``REPEATS`` runs on
    engine fast, one run on backtrader) and the final values."""
    from newsbt import api
    from newsbt.sweep.runner import run_sweep

    sweep = plan(name, engine)
    prices = api.load_prices_for(sweep.spec)
    with tempfile.TemporaryDirectory() as reports:
        run_sweep(sweep, reports_dir=reports, workers=workers, resume=False, prices=prices)  # warm-up
        outcome, seconds = (median_timed if engine == "fast" else timed)(
            run_sweep, sweep, reports_dir=reports, workers=workers, resume=False, prices=prices)
    assert outcome.failed == 0, outcome.table["error"].dropna().head()
    return seconds, outcome.table["final_value"].tolist()


@njit(cache=True)
def hand_crash_dip(opens, closes, prev, bar, drop_pct, hold_days, position_pct, cash, bps, slip):
    """crash_dip written directly: next-open fills with slippage, bps commission, 20 % of value in whole
    shares within free cash, a buy the cash cannot cover at the open dropped, exits hold_days later."""
    n, k = closes.shape
    size, held, pend = np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64)
    last = np.full(k, np.nan)
    for i in range(n):
        for j in range(k):  # fills at the open
            if bar[i, j] and pend[j] != 0:
                up = pend[j] > 0
                price = opens[i, j] * (1.0 + slip if up else 1.0 - slip)
                cost = pend[j] * price + abs(pend[j]) * price * bps * 1e-4
                if cash - cost >= 0.0 or not up:
                    cash -= cost
                    size[j] += pend[j]
                    held[j] = 0
                pend[j] = 0
        value, reserved = cash, 0.0
        for j in range(k):
            if bar[i, j]:
                last[j] = closes[i, j]
            if size[j] != 0:
                value += size[j] * last[j]
        for j in range(k):  # decisions at the close
            if not bar[i, j]:
                continue
            if size[j] != 0:
                if held[j] >= hold_days - 1:
                    pend[j] = -size[j]
                held[j] += 1
            elif prev[i, j] == prev[i, j] and closes[i, j] / prev[i, j] - 1.0 <= -drop_pct / 100.0:
                budget = min(value * position_pct / 100.0, cash - reserved)
                unit = closes[i, j] * (1.0 + slip)
                shares = int(budget // unit) if budget > 0 else 0
                while shares > 0 and shares * unit * (1 + bps * 1e-4) > budget:
                    shares -= 1
                pend[j] = shares
                reserved += shares * unit * (1 + bps * 1e-4)
    for j in range(k):
        cash += size[j] * last[j]
    return cash


def hand_loop() -> tuple[float, list[float]]:
    from newsbt import api
    from newsbt.backtest.fast.market import build_prices

    sweep = plan("crash_dip")
    spec = sweep.spec
    prices = api.load_prices_for(spec)
    tickers = tuple(spec.strategy.params["tickers"])
    mk = build_prices(prices, tickers, spec.run.start, spec.run.end).market
    args = (mk.px[0], mk.px[1], mk.px[2], mk.ix[0].astype(bool))
    costs = (spec.run.cash, spec.costs.commission_bps, spec.costs.slippage_bps * 1e-4)

    combos = [{**spec.strategy.params, **c} for c in sweep.combinations]

    def run_all() -> list[float]:
        return [hand_crash_dip(*args, c["drop_pct"], c["hold_days"], c["position_pct"], *costs) for c in combos]

    run_all()  # compile
    values, seconds = median_timed(run_all)
    return seconds, values


def vectorbt_warm() -> float | None:
    """Seconds of a warm ``Portfolio.from_signals`` over all combinations (the median of ``REPEATS``, as
    newsbt's), or None without vectorbt."""
    try:
        import vectorbt as vbt
    except ImportError:
        return None
    import pandas as pd

    from newsbt import api

    sweep = plan("crash_dip")
    spec = sweep.spec
    prices = api.load_prices_for(spec)
    tickers = list(spec.strategy.params["tickers"])
    close = pd.DataFrame({t: prices[t]["close"] for t in tickers}).loc[str(spec.run.start):str(spec.run.end)]
    open_ = pd.DataFrame({t: prices[t]["open"] for t in tickers}).reindex(close.index)
    returns = close / close.shift(1) - 1
    entries, exits = [], []
    for c in sweep.combinations:
        crash = (returns <= -c["drop_pct"] / 100).shift(1, fill_value=False)  # filled at the next open
        entries.append(crash)
        exits.append(crash.shift(c["hold_days"], fill_value=False))
    index = pd.MultiIndex.from_tuples([(i // len(tickers), t) for i, t in enumerate(tickers * len(entries))],
                                      names=["combination", "ticker"])

    def stacked(frames):
        return pd.DataFrame(np.hstack([f.to_numpy() for f in frames]), index=close.index, columns=index)

    args = dict(close=stacked([close] * len(entries)), entries=stacked(entries), exits=stacked(exits),
                price=stacked([open_] * len(entries)), size=0.2, size_type="percent", fees=5e-4, slippage=5e-4,
                init_cash=spec.run.cash, cash_sharing=True, group_by="combination", call_seq="auto")
    vbt.Portfolio.from_signals(**args).final_value()  # compile and warm
    return median_timed(lambda: vbt.Portfolio.from_signals(**args).final_value())[1]


# --- 4. big sweeps, whole commands ----------------------------------------------------------------

@dataclass(frozen=True)
class BigSweep:
    combinations: int
    seconds: float
    peak_pss_mb: float  # all the command's processes summed (pages shared between them counted once), sampled
    largest_rss_mb: float  # the exact peak of its largest process (ru_maxrss, from wait4)
    returns_mb: float  # the sessions x combinations returns matrix the sweep produced (float64)


def big_sweep(combinations: int) -> BigSweep:
    """A whole ``newsbt sweep`` of about ``combinations`` crash_dip combinations (drop_pct in steps of
    0.1 x hold_days 1..101), its memory sampled every 50 ms over the command's own process tree."""
    drops = max(1, combinations // 101)
    text = (ROOT / "backtests" / "ai_crash_dip_sweep.toml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.toml"
        path.write_text(text.replace('name = "ai_crash_dip_sweep"', 'name = "big_sweep"'), encoding="utf-8")
        grid = ["--grid", f"drop_pct=3:{3 + (drops - 1) * 0.1:.1f}:0.1", "--grid", "hold_days=1:101:1",
                "--grid", "position_pct=20"]
        started = time.perf_counter()
        errors = (Path(tmp) / "stderr.txt").open("w+", encoding="utf-8")  # its progress bar, or why it failed
        command = subprocess.Popen([sys.executable, "-m", "newsbt", "sweep", str(path), *grid, "--reports-dir",
                                    str(Path(tmp) / "reports")], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        sampler = MemorySampler(psutil.Process(command.pid))
        sampler.start()
        _, status, usage = os.wait4(command.pid, 0)  # wait4: the exact peak RSS of the command's processes
        seconds = time.perf_counter() - started
        sampler.stop()
        command.returncode = os.waitstatus_to_exitcode(status)
        errors.close()
        if command.returncode:
            raise subprocess.CalledProcessError(command.returncode, command.args,
                                                stderr=(Path(tmp) / "stderr.txt").read_text(encoding="utf-8"))
        returns = pq.ParquetFile(Path(tmp) / "reports" / "big_sweep" / "sweep" / "returns.parquet")
        n_sessions, n_columns = returns.metadata.num_rows, len(returns.schema_arrow.names) - 1  # - the date index
    return BigSweep(n_columns, seconds, sampler.peak_pss / 2**20, usage.ru_maxrss / 2**10,
                    n_sessions * n_columns * 8 / 2**20)


def print_big_sweeps(sizes: list[int]) -> None:
    runs = [big_sweep(size) for size in sizes]
    print("newsbt sweep, whole command (DSR, PBO, heatmaps, the best run's report), crash_dip:")
    print(f"  {'combinations':>12}{'seconds':>9}{'comb/s':>8}{'peak MB, all processes':>24}"
          f"{'largest process MB':>20}{'returns matrix MB':>19}")
    for r in runs:
        print(f"  {r.combinations:>12,}{r.seconds:>9.1f}{r.combinations / r.seconds:>8,.0f}{r.peak_pss_mb:>24,.0f}"
              f"{r.largest_rss_mb:>20,.0f}{r.returns_mb:>19,.0f}")
    for small, large in zip(runs, runs[1:]):
        grown = large.returns_mb - small.returns_mb
        print(f"  from {small.combinations:,} to {large.combinations:,} combinations the returns matrix grows by "
              f"{grown:,.0f} MB; the peak of all processes by {large.peak_pss_mb - small.peak_pss_mb:,.0f} MB "
              f"({(large.peak_pss_mb - small.peak_pss_mb) / grown:.1f}x), the largest process by "
              f"{large.largest_rss_mb - small.largest_rss_mb:,.0f} MB "
              f"({(large.largest_rss_mb - small.largest_rss_mb) / grown:.1f}x)")
    print()


# --- 5. where a whole command's time goes ---------------------------------------------------------

def phases(command: str) -> dict[str, float]:
    """Seconds per phase of ``newsbt run backtests/ai_crash_dip.toml`` (``command`` "run") or ``newsbt sweep``
    of the 48-grid ("sweep"), in a fresh process doing what the command does, step by step."""
    code = ("import gc, sys, time; t = time.perf_counter(); import newsbt.cli; imported = time.perf_counter() - t; "
            "gc.freeze(); "  # as the console script does
            f"sys.path.insert(0, {str(Path(__file__).parent)!r}); import command_phases; "  # imports nothing more
            f"command_phases.print_phases_json({command!r}, t, imported)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def print_phases(title: str, figures: dict[str, float]) -> None:
    print(f"\nwhere {title}'s time goes (a fresh process, phase by phase):")
    for phase, seconds in figures.items():
        print(f"  {phase:<96}{seconds:>7.2f} s")


def whole_commands() -> None:
    print(f"whole commands, start to exit (the median of {COMMAND_REPEATS} runs):")
    with tempfile.TemporaryDirectory() as tmp:
        issue_grid = Path(tmp) / "issue_grid.toml"  # the 48-grid without walk-forward: one tearsheet
        text = (ROOT / "backtests" / "ai_crash_dip_sweep.toml").read_text(encoding="utf-8")
        issue_grid.write_text("".join(line for line in text.splitlines(keepends=True)
                                      if not line.startswith("walk_forward")), encoding="utf-8")
        commands = {
            "newsbt run backtests/ai_crash_dip.toml": ["run", "backtests/ai_crash_dip.toml"],
            "newsbt sweep backtests/ai_crash_dip_sweep.toml (48; walk-forward: 2 tearsheets)":
                ["sweep", "backtests/ai_crash_dip_sweep.toml"],
            "newsbt sweep, the issue's 48-grid (no walk-forward: 1 tearsheet)":
                ["sweep", str(issue_grid), *(arg for value in GRIDS["crash_dip"][2] for arg in ("--grid", value))],
        }
        for title, command in commands.items():
            print(f"  {title}\n      {newsbt_cmd(*command)}\n      with --no-tearsheet "
                  f"{newsbt_cmd(*command, '--no-tearsheet')}")
    print_phases("newsbt run backtests/ai_crash_dip.toml", phases("run"))
    print_phases("newsbt sweep backtests/ai_crash_dip_sweep.toml", phases("sweep"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big", default="2500,10000",
                        help="combinations of the big sweeps, comma-separated (0: skip them)")
    parser.add_argument("--skip-backtrader", action="store_true", help="skip the (slow) backtrader sweeps")
    parser.add_argument("--only-commands", action="store_true", help="only section 5: whole commands, by phase")
    args = parser.parse_args()
    if not os.environ.get("NEWSBT_DATA_DIR"):
        sys.exit("set NEWSBT_DATA_DIR to the real price directory")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(ROOT)  # backtest files name their event files relative to the repository
    load = os.getloadavg()[0]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load:.1f} at start; Python {platform.python_version()}\n")
    if args.only_commands:
        whole_commands()
        return

    print_compile_times()

    print(f"{'grid (48 combinations)':<28}{'method':<40}{'seconds':>9}{'comb/s':>10}{'ratio':>9}")
    fast_s, fast_values = sweep_phase("crash_dip", "fast", None)
    rows = [("crash_dip", "newsbt sweep phase, engine fast", fast_s, len(fast_values))]
    rows.append(("crash_dip", "newsbt compiled engine + rows (no store)", rows_only("crash_dip"), len(fast_values)))
    hand_s, hand_values = hand_loop()
    rows.append(("crash_dip", "hand-written numba loop (the limit)", hand_s, len(hand_values)))
    vbt_s = vectorbt_warm()
    if vbt_s is not None:
        rows.append(("crash_dip", "vectorbt from_signals, warm (similar rule)", vbt_s, len(fast_values)))
    for name in ("rotation_spread", "news_reaction"):
        seconds, values = sweep_phase(name, "fast", None)
        rows.append((name, "newsbt sweep phase, engine fast", seconds, len(values)))
        rows.append((name, "newsbt compiled engine + rows (no store)", rows_only(name), len(values)))
        if not args.skip_backtrader:
            bt_s, bt_values = sweep_phase(name, "backtrader", 2)
            assert bt_values == values, f"{name}: engines disagree"
            rows.append((name, "newsbt sweep phase, engine backtrader", bt_s, len(bt_values)))
    if not args.skip_backtrader:
        bt_s, bt_values = sweep_phase("crash_dip", "backtrader", 2)
        assert bt_values == fast_values, "crash_dip: engines disagree"
        rows.append(("crash_dip", "newsbt sweep phase, engine backtrader", bt_s, len(bt_values)))
    for grid, method, seconds, n in rows:
        print(f"{grid:<28}{method:<40}{seconds:>9.3f}{n / seconds:>10,.0f}{fast_s / seconds:>8.2f}x")
    print("(ratio: speed relative to newsbt's crash_dip sweep phase on engine fast; >1 is faster)")
    cents = max(abs(a - b) for a, b in zip(hand_values, fast_values))
    print(f"hand-written loop vs newsbt final values: largest difference {cents:.4f} (to the cent: "
          f"{'yes' if cents < 0.005 else 'no'})\n")

    sizes = [int(size) for size in args.big.split(",") if int(size)]
    if sizes:
        print_big_sweeps(sizes)
    whole_commands()


if __name__ == "__main__":
    main()
