"""Sweep speed: backtrader's own ``cerebro.optstrategy`` against ``newsbt`` sweeps, on the same grid.

    NEWSBT_DATA_DIR=../shared/data/prices python benchmarks/sweep_speed.py [--workers N]

The grid is backtests/ai_crash_dip_sweep.toml's (48 combinations of crash_dip over the AI universe,
2019-01-02 to 2025-06-30, real prices). Each method runs in a fresh child process, with N worker
processes (default: all cores):

* ``optstrategy``: one Cerebro as lean as backtrader allows (stdstats off, no observers, preload and
  runonce, prices loaded once in the parent and shared with the workers: ``optdatas``, ``optreturn``),
  the same strategy class, costs and Recorder analyzer as ``newsbt run``, ``maxcpus = N``;
* ``newsbt (backtrader)``: ``run_sweep`` with ``engine = "backtrader"``: a full ``newsbt run`` per
  combination on prices validated once per worker, each result saved to a parquet part;
* ``newsbt (fast)``: ``run_sweep`` with ``engine = "fast"`` (the compiled simulator,
  proved identical to backtrader in tests/test_fast_engine.py), everything else the same.

Measured: wall time from loading prices to having every result (Python start-up and imports
excluded), combinations per second, and memory of the whole process tree sampled every 50 ms:
the peak of the summed PSS (proportional set size: pages shared between forked workers counted
once, split between them) and the peak RSS of the largest single process. Every method's final
portfolio value per combination must equal optstrategy's, exactly.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import backtrader as bt
import psutil

from newsbt import api
from newsbt.backtest.costs import configure
from newsbt.backtest.feeds import make_feed, window
from newsbt.backtest.strategy import Recorder
from newsbt.sweep.runner import plan_sweep, run_sweep
from strategies.crash_dip import CrashDip

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "backtests" / "ai_crash_dip_sweep.toml"
METHODS = ("optstrategy", "newsbt (backtrader)", "newsbt (fast)")


class MemorySampler(threading.Thread):
    """Peak summed PSS and peak single-process RSS of ``root`` (default: this process) and its descendants."""

    def __init__(self, root: psutil.Process | None = None) -> None:
        super().__init__(daemon=True)
        self.peak_pss = self.peak_rss = 0
        self._root = root or psutil.Process()
        self._stop_event = threading.Event()

    def run(self) -> None:
        me = self._root
        while not self._stop_event.wait(0.05):
            pss, rss = 0, 0
            try:
                tree = [me, *me.children(recursive=True)]
            except psutil.NoSuchProcess:  # the root has ended
                continue
            for proc in tree:
                try:
                    info = proc.memory_full_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                pss, rss = pss + info.pss, max(rss, info.rss)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_optstrategy(workers: int) -> list[float]:
    """Final value per combination, in grid order, from backtrader's own optimiser."""
    sweep = plan_sweep(SPEC)
    prices = api.load_prices_for(sweep.spec)
    configs = [CrashDip.Params.model_validate({**sweep.spec.strategy.params, **c}) for c in sweep.combinations]
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True, maxcpus=workers, optreturn=True, optdatas=True)
    cerebro.broker.setcash(sweep.spec.run.cash)
    configure(cerebro, sweep.spec.costs)
    for ticker in configs[0].required_tickers():
        cerebro.adddata(make_feed(window(prices[ticker], sweep.spec.run.start, sweep.spec.run.end), ticker),
                        name=ticker)
    cerebro.optstrategy(CrashDip, config=configs, events=[()])
    cerebro.addanalyzer(Recorder, _name="recorder")
    runs = cerebro.run()
    return [run[0].analyzers.recorder.get_analysis()["bars"][-1]["value"] for run in runs]


def run_newsbt(workers: int, engine: str) -> list[float]:
    sweep = plan_sweep(SPEC, overrides=[f'sweep.engine="{engine}"'])
    with tempfile.TemporaryDirectory() as reports:
        outcome = run_sweep(sweep, reports_dir=reports, workers=workers, resume=False)
    assert outcome.failed == 0
    return outcome.table["final_value"].tolist()


def child(method: str, workers: int) -> dict:
    """Run one method in this (fresh) process and measure it."""
    sampler = MemorySampler()
    sampler.start()
    started = time.perf_counter()
    if method == "optstrategy":
        values = run_optstrategy(workers)
    else:
        values = run_newsbt(workers, "fast" if "fast" in method else "backtrader")
    seconds = time.perf_counter() - started
    sampler.stop()
    return {"method": method, "seconds": seconds, "combinations": len(values), "final_values": values,
            "peak_pss_mb": sampler.peak_pss / 2**20, "peak_rss_mb": sampler.peak_rss / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.workers)))
        return
    if not os.environ.get("NEWSBT_DATA_DIR"):
        sys.exit("set NEWSBT_DATA_DIR to the real price directory")
    results = []
    for method in METHODS:
        done = subprocess.run([sys.executable, __file__, "--child", method, "--workers", str(args.workers)],
                              cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    report(results, args.workers)


def report(results: list[dict], workers: int) -> None:
    base = results[0]
    print(f"{base['combinations']} combinations of crash_dip, AI universe 2019-2025, {workers} workers "
          f"({os.cpu_count()} cores)")
    print(f"{'method':<22}{'seconds':>9}{'comb/s':>9}{'vs opt':>8}{'peak PSS MB':>13}{'peak RSS MB':>13}  same values")
    for r in results:
        rate = r["combinations"] / r["seconds"]
        ratio = rate / (base["combinations"] / base["seconds"])
        same = r["final_values"] == base["final_values"]
        print(f"{r['method']:<22}{r['seconds']:>9.1f}{rate:>9.2f}{ratio:>7.1f}x{r['peak_pss_mb']:>13.0f}"
              f"{r['peak_rss_mb']:>13.0f}  {'yes' if same else 'NO'}")
    if not all(r["final_values"] == base["final_values"] for r in results):
        sys.exit("final values differ between methods")


if __name__ == "__main__":
    main()
