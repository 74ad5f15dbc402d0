"""The dask backend under faults: a worker killed mid-sweep, a scheduler that never answers."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pandas as pd
import pytest

from newsbt.backtest.spec import spec_from_dict
from newsbt.core.errors import NewsbtError
from newsbt.sweep.runner import run_sweep, sweep_from_section
from tests.conftest import write_price_files
from tests.sweep_strategies import register_test_strategies, slow_sweep
from tests.sweepdata import crashy_prices, spec_dict
from tests.test_sweep import sweep_of

distributed = pytest.importorskip("distributed", reason="the dask backend needs the newsbt[dask] extra")


class StrategiesEverywhere(distributed.WorkerPlugin):
    """Registers the test strategies on every worker, including the ones started to replace the dead."""

    name = "newsbt-test-strategies"

    def setup(self, worker) -> None:
        register_test_strategies()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return write_price_files(tmp_path_factory.mktemp("prices"), crashy_prices())


def test_a_worker_killed_mid_sweep_still_gives_every_combination_exactly_once(tmp_path, data_dir):
    killed: list[int] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        client.register_plugin(StrategiesEverywhere())
        pids = client.run(os.getpid)

        def kill_a_busy_worker(progress) -> None:
            if progress.done >= 2 and not killed:  # a chunk is back, the others are running
                busy = [address for address, keys in client.processing().items() if keys]
                killed.append(pids[busy[0]])
                os.kill(killed[0], signal.SIGKILL)

        outcome = run_sweep(slow_sweep(0.2), data_dir, tmp_path / "dask", backend="dask",
                            scheduler=cluster.scheduler_address, progress=kill_a_busy_worker)
        assert killed and killed[0] not in client.run(os.getpid).values()  # the nanny started a new worker
    assert outcome.table["combination"].tolist() == list(range(24)) and outcome.failed == 0
    assert (outcome.ran, outcome.resumed) == (24, 0)
    clean = run_sweep(slow_sweep(0.0), data_dir, tmp_path / "clean", workers=1)
    pd.testing.assert_frame_equal(outcome.table, clean.table)
    pd.testing.assert_frame_equal(outcome.returns, clean.returns)


def test_a_chunk_that_kills_every_worker_it_meets_stops_the_sweep_with_one_line(tmp_path, data_dir):
    raw = spec_dict()
    raw["strategy"]["name"] = "test_fatal_dip"
    register_test_strategies()
    sweep = sweep_from_section(spec_from_dict(raw), {"drop_pct": [7, 13]})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        client.register_plugin(StrategiesEverywhere())
        with pytest.raises(NewsbtError) as error:
            run_sweep(sweep, data_dir, tmp_path, backend="dask", scheduler=cluster.scheduler_address)
    message = str(error.value)
    assert "\n" not in message and message.startswith("dask workers died running one chunk of the sweep again")
    assert message.endswith("finished combinations are saved, run the same command again to resume")


def test_a_scheduler_that_never_answers_is_one_line_within_30_seconds(tmp_path, data_dir):
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
    started = time.monotonic()
    with silent, pytest.raises(NewsbtError) as error:
        run_sweep(sweep_of({"drop_pct": [5, 7]}), data_dir, tmp_path, backend="dask", scheduler=address)
    assert time.monotonic() - started < 30
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"cannot reach the dask scheduler at {address}: ")
    assert message.endswith("check the address (tcp://host:8786) and that the scheduler is running")
