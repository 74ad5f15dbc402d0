"""The dask backend of a sweep (optional extra ``newsbt[dask]``): an existing cluster or a LocalCluster.

The setup (spec, combinations, validated prices) travels once to each worker inside a worker plugin,
which builds the worker's evaluator; tasks carry only chunks of combination indices.

A worker lost mid-sweep (killed, out of memory, its machine gone) costs only its unfinished chunk:
the scheduler runs that chunk again elsewhere and the plugin sets up any replacement worker, so each
combination still arrives exactly once. A chunk that kills workers again and again ends the sweep
with a one-line error (finished chunks stay saved). A scheduler address that does not answer is
reported within ``CONNECT_SECONDS``: ``Client`` alone waits forever on an address that accepts the
connection but never speaks (a wrong port, a firewall), so the scheduler is asked who it is first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
from distributed import Client, LocalCluster, as_completed, get_worker
from distributed.comm import connect
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.scheduler import KilledWorker

from newsbt.core.errors import NewsbtError
from newsbt.sweep.worker import Evaluator, WorkerSetup

CONNECT_SECONDS = 10


class SweepPlugin(WorkerPlugin):
    """Holds one sweep's evaluator on each worker, the prices included."""

    def __init__(self, work: WorkerSetup) -> None:
        self.work = work
        self.evaluator: Evaluator | None = None

    def setup(self, worker) -> None:
        self.evaluator = Evaluator(self.work)


def _run_chunk(plugin_name: str, indices: list[int]) -> pa.Table:
    return get_worker().plugins[plugin_name].evaluator.run_chunk(indices)


def dask_results(setup: WorkerSetup, chunks: list[list[int]], workers: int, scheduler: str | None,
                 key: str) -> Iterator[pa.Table]:
    """Chunks run on the cluster, in completion order; pending ones are cancelled if the caller stops."""
    name = f"newsbt-sweep-{key[:16]}"
    with _client(scheduler, workers) as client:
        client.register_plugin(SweepPlugin(setup), name=name)
        futures = [client.submit(_run_chunk, name, chunk, pure=False) for chunk in chunks]
        try:
            for future in as_completed(futures):
                yield future.result()
        except KilledWorker as exc:
            raise NewsbtError(f"dask workers died running one chunk of the sweep again and again ({exc}); "
                              "finished combinations are saved, run the same command again to resume") from None
        finally:
            client.cancel(futures)
            client.unregister_worker_plugin(name)


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a LocalCluster of ``workers`` processes ("local")."""
    if scheduler in (None, "local"):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        with ThreadPoolExecutor(1) as pool:  # its own event loop, even when the caller runs one (Jupyter)
            pool.submit(asyncio.run, asyncio.wait_for(_identity(scheduler), CONNECT_SECONDS)).result()
        client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, ValueError) as exc:  # TimeoutError is an OSError; ValueError: a malformed address
        reason = " ".join(str(exc).split()) or f"no answer within {CONNECT_SECONDS} s"
        raise NewsbtError(f"cannot reach the dask scheduler at {scheduler}: {reason}; "
                          "check the address (tcp://host:8786) and that the scheduler is running") from None
    with client:
        yield client


async def _identity(address: str) -> Any:
    """The scheduler's identity: proof that something at ``address`` speaks dask."""
    comm = await connect(address, timeout=CONNECT_SECONDS)
    try:
        await comm.write({"op": "identity"})
        return await comm.read()
    finally:
        await comm.close()
