"""Where runs execute: in this process, in a pool of local worker processes, or on Dask.

`worker_pool` is the one way the runner and the calibration get workers. Local workers start from
a fork server that has imported the model once, leave Ctrl-C to the process that started them
(which stops them at once and re-raises), and exit by themselves if that process is killed.
"""

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from sim.errors import MissingExtraError

#: Modules the fork server imports once, so every worker starts with the model loaded.
PRELOAD = ["sim.runner"]


@dataclass(frozen=True)
class WorkerPool:
    """An executor and how many tasks it runs at once."""

    executor: Executor
    parallelism: int


class InlineExecutor(Executor):
    """Runs each task at submission, in this process (one worker, no pickling)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


@contextmanager
def worker_pool(
    workers: int = 1, dask: str | None = None, executor: Executor | None = None
) -> Iterator[WorkerPool]:
    """Workers for a batch of tasks, stopped when the block ends.

    Args:
        workers: local worker processes (1: run in this process); with ``dask="local"``, the
            size of the local cluster.
        dask: a Dask scheduler address, or ``"local"`` for a `distributed.LocalCluster`.
        executor: use this executor as it is (the caller shuts it down) instead.
    """
    if executor is not None:
        yield WorkerPool(executor, getattr(executor, "_max_workers", workers))
    elif dask is not None:
        with dask_pool(dask, workers) as pool:
            yield pool
    elif workers == 1:
        yield WorkerPool(InlineExecutor(), 1)
    else:
        with process_pool(workers) as pool:
            yield pool


@contextmanager
def process_pool(workers: int) -> Iterator[WorkerPool]:
    """``workers`` local processes; on Ctrl-C or an error they are stopped at once."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=process_context(),
        initializer=start_worker,
        initargs=(os.getpid(),),
    )
    try:
        yield WorkerPool(pool, workers)
    except BaseException:
        stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def process_context() -> multiprocessing.context.BaseContext:
    """A fork server that has imported the model once: workers start fast and, unlike plain
    fork, safely (numpy's and Arrow's threads make this process multi-threaded)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_worker(parent_pid: int) -> None:
    """Leave Ctrl-C to the parent (it stops its workers), and exit if the parent is killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=exit_with, args=(parent_pid,), daemon=True).start()


def exit_with(pid: int) -> None:
    """Exit this process once process ``pid`` is gone."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(1)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the workers at once (Ctrl-C or an error): the tasks they hold would be dropped."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list((pool._processes or {}).values()):
        process.terminate()


@contextmanager
def dask_pool(address: str, workers: int) -> Iterator[WorkerPool]:
    """``local``: a LocalCluster of ``workers`` (at least 2) processes; else a scheduler address."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingExtraError("--dask", "dask") from None
    if address == "local":
        cluster = LocalCluster(
            n_workers=max(2, workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    else:
        cluster = nullcontext(address)
    with cluster as target, Client(target) as client:
        yield WorkerPool(client.get_executor(), max(1, sum(client.nthreads().values())))
