"""The dask backend of a sweep (optional extra ``newsbt[dask]``): an existing cluster or a LocalCluster.

The setup (spec, combinations, validated prices) travels once to each worker inside a worker plugin,
which builds the worker's evaluator; tasks carry only chunks of combination indices.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from distributed import Client, LocalCluster, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from newsbt.core.errors import NewsbtError
from newsbt.sweep.worker import Evaluator, Row, WorkerSetup


class SweepPlugin(WorkerPlugin):
    """Holds one sweep's evaluator on each worker, the prices included."""

    def __init__(self, work: WorkerSetup) -> None:
        self.work = work
        self.evaluator: Evaluator | None = None

    def setup(self, worker) -> None:
        self.evaluator = Evaluator(self.work)


def _run_chunk(plugin_name: str, indices: list[int]) -> list[Row]:
    return get_worker().plugins[plugin_name].evaluator.run_chunk(indices)


def dask_results(setup: WorkerSetup, chunks: list[list[int]], workers: int, scheduler: str | None,
                 key: str) -> Iterator[list[Row]]:
    """Chunks run on the cluster, in completion order; pending ones are cancelled if the caller stops."""
    name = f"newsbt-sweep-{key[:16]}"
    with _client(scheduler, workers) as client:
        client.register_plugin(SweepPlugin(setup), name=name)
        futures = [client.submit(_run_chunk, name, chunk, pure=False) for chunk in chunks]
        try:
            for future in as_completed(futures):
                yield future.result()
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
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise NewsbtError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from None
    with client:
        yield client
