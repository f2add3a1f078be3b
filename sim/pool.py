"""Where runs execute: in this process, in a pool of local worker processes, or on Dask.

`worker_pool` is the one way the runner and the calibration get workers, and `run_tasks` the one
way they run tasks on them. Local workers start from a fork server that has imported the model
once, leave Ctrl-C to the process that started them (which stops them at once and re-raises),
and exit by themselves if that process is killed. When a local worker process dies (the
out-of-memory killer, a stray ``kill -9``), the pool is rebuilt and the tasks it held run again,
a bounded number of times.
"""

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sim.errors import MissingExtraError, SweepError

#: Modules the fork server imports once, so every worker starts with the model loaded.
PRELOAD = ["sim.runner"]
#: Tries of a task whose worker process dies while it runs alone, before it is given up.
MAX_ATTEMPTS = 3
#: Local worker processes allowed per CPU: more only thrash (each holds a model in memory).
WORKERS_PER_CPU = 4


@dataclass(frozen=True)
class WorkerPool:
    """An executor, how many tasks it runs at once, and how to rebuild it after a worker dies
    (None: it cannot be, or need not be, rebuilt)."""

    executor: Executor
    parallelism: int
    rebuild: Callable[[], None] | None = None


class InlineExecutor(Executor):
    """Runs each task at submission, in this process (one worker, no pickling)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


class LocalProcesses(Executor):
    """A pool of local worker processes that can be rebuilt after one of them dies."""

    def __init__(self, workers: int) -> None:
        self._max_workers = workers
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._max_workers,
            mp_context=process_context(),
            initializer=start_worker,
            initargs=(os.getpid(),),
        )

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self._pool.submit(fn, *args, **kwargs)

    def rebuild(self) -> None:
        """Replace a broken pool (its tasks have all failed) with fresh workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._start()

    def stop(self) -> None:
        """Stop the workers at once (Ctrl-C or an error): the tasks they hold would be dropped."""
        terminate = getattr(self._pool, "terminate_workers", None)  # Python 3.14+
        if terminate is not None:
            terminate()
            return
        for process in list((self._pool._processes or {}).values()):
            process.terminate()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def check_workers(workers: int) -> None:
    """Refuse fewer than one worker, or more than `WORKERS_PER_CPU` per CPU of this machine."""
    cpus = os.cpu_count() or 1
    if workers < 1:
        raise SweepError("--workers", "", f"{workers}: must be at least 1")
    if workers > WORKERS_PER_CPU * cpus:
        raise SweepError(
            "--workers",
            "",
            f"{workers}: more than {WORKERS_PER_CPU} per CPU ({cpus} CPUs here); each worker "
            "holds a model in memory",
        )


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
        parallelism = getattr(executor, "_max_workers", workers)
        yield WorkerPool(executor, parallelism, getattr(executor, "rebuild", None))
        return
    check_workers(workers)
    if dask is not None:
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
    pool = LocalProcesses(workers)
    try:
        yield WorkerPool(pool, workers, pool.rebuild)
    except BaseException:
        pool.stop()
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


@contextmanager
def dask_pool(address: str, workers: int) -> Iterator[WorkerPool]:
    """``local``: a LocalCluster of ``workers`` (at least 2) processes; else a scheduler address,
    which must be well formed and answer within Dask's connect timeout."""
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
        with cluster, Client(cluster) as client:
            yield client_pool(client)
        return
    with dask_client(Client, address) as client:
        yield client_pool(client)


def client_pool(client: Any) -> WorkerPool:
    """The workers of a Dask client: its executor, running as many tasks as it has threads."""
    return WorkerPool(client.get_executor(), max(1, sum(client.nthreads().values())))


@contextmanager
def dask_client(client_class: Any, address: str) -> Iterator[Any]:
    """A client of the scheduler at ``address``; a malformed or unreachable address is bad input."""
    from distributed.comm import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        parse_host_port(location)
    except ValueError as error:
        raise SweepError("--dask", address, f"not a scheduler address ({error})") from None
    if scheme not in ("tcp", "tls", "ws", "wss", "ucx", "inproc"):
        raise SweepError("--dask", address, f"unknown protocol {scheme!r}")
    try:
        client = client_class(address)
    except (OSError, TimeoutError) as error:
        raise SweepError("--dask", address, f"no scheduler answers ({error})") from None
    with client:
        yield client


# --- running tasks --------------------------------------------------------------------------


@dataclass
class Faults:
    """What worker deaths cost a batch of tasks."""

    deaths: int = 0  # times a worker process died (and the pool was rebuilt)
    rerun: int = 0  # tasks run again because of it
    given_up: list[int] = field(default_factory=list)  # indices of tasks given up


class WorkersKeepDying(RuntimeError):
    """Worker processes die again and again, whatever task they run."""


def run_tasks[T, R](
    fn: Callable[[T], R],
    tasks: Iterator[T],
    pool: WorkerPool,
    give_up: Callable[[T, str], R],
    faults: Faults | None = None,
) -> Iterator[tuple[int, R]]:
    """Yield (task index, ``fn(task)``) as tasks finish, keeping a few per worker in flight.

    When a local worker process dies, the pool is rebuilt and the tasks that were in flight run
    again one at a time, so a task that kills its worker is found out: when its worker has died
    `MAX_ATTEMPTS` times it yields ``give_up(task, reason)`` instead. Dask reruns a lost
    worker's tasks itself; a task it gives up on (``KilledWorker``) is given up here too.
    ``faults`` counts what happened. Raises `WorkersKeepDying` when workers die
    ``2 * MAX_ATTEMPTS`` times in a row with no task finishing.
    """
    return iter(Batch(fn, tasks, pool, give_up, faults if faults is not None else Faults()))


@dataclass
class Batch[T, R]:
    """Tasks running on a pool: those in flight, and those to run alone after a worker died."""

    fn: Callable[[T], R]
    tasks: Iterator[T]
    pool: WorkerPool
    give_up: Callable[[T, str], R]
    faults: Faults
    pending: dict[Future, tuple[int, T]] = field(default_factory=dict)
    suspects: deque[tuple[int, T]] = field(default_factory=deque)
    attempts: Counter[int] = field(default_factory=Counter)
    deaths_in_a_row: int = 0

    def __iter__(self) -> Iterator[tuple[int, R]]:
        queue = iter(enumerate(self.tasks))
        while self.fill(queue):
            finished, _ = wait(self.pending, return_when=FIRST_COMPLETED)
            lost: list[tuple[int, T]] = []
            for future in sorted(finished, key=lambda f: self.pending[f][0]):
                yield from self.collect(future, lost)
            if lost:
                yield from self.recover(lost)

    def fill(self, queue: Iterator[tuple[int, T]]) -> bool:
        """Submit tasks: a few per worker, or a suspect alone; whether any is in flight."""
        if not self.suspects:
            while len(self.pending) < 2 * self.pool.parallelism:
                if (item := next(queue, None)) is None:
                    break
                self.submit(item)
        elif not self.pending:
            self.submit(self.suspects.popleft())
        return bool(self.pending)

    def submit(self, item: tuple[int, T]) -> None:
        try:
            future = self.pool.executor.submit(self.fn, item[1])
        except BrokenExecutor as error:  # the pool broke since the last task finished
            future = Future()
            future.set_exception(error)
        self.pending[future] = item

    def collect(self, future: Future, lost: list[tuple[int, T]]) -> Iterator[tuple[int, R]]:
        """A finished future's result, or its task added to ``lost`` if its worker died."""
        index, task = self.pending.pop(future)
        error = future.exception()
        if isinstance(error, BrokenExecutor) and self.pool.rebuild is not None:
            lost.append((index, task))
        elif type(error).__name__ == "KilledWorker":  # Dask gave up on it
            self.faults.given_up.append(index)
            yield index, self.give_up(task, "it killed the Dask workers that ran it")
        else:
            self.deaths_in_a_row = 0
            yield index, future.result()

    def recover(self, lost: list[tuple[int, T]]) -> Iterator[tuple[int, R]]:
        """Rebuild the pool after a worker died; the tasks it lost run again, alone."""
        alone = len(lost) + len(self.pending) == 1
        self.pool.rebuild()  # every task of the old pool has now finished or failed
        for future in sorted(self.pending, key=lambda f: self.pending[f][0]):
            if future.cancelled() or future.exception() is not None:
                lost.append(self.pending.pop(future))
            else:  # it finished before the worker died
                yield from self.collect(future, lost)
        self.faults.deaths += 1
        self.deaths_in_a_row += 1
        if self.deaths_in_a_row >= 2 * MAX_ATTEMPTS:
            raise WorkersKeepDying(
                f"worker processes died {self.deaths_in_a_row} times in a row with no task "
                "finishing"
            )
        for index, task in sorted(lost, key=lambda item: item[0]):
            self.attempts[index] += 1
            if alone and self.attempts[index] >= MAX_ATTEMPTS:
                self.faults.given_up.append(index)
                reason = f"its worker process died {self.attempts[index]} times"
                yield index, self.give_up(task, reason)
            else:
                self.faults.rerun += 1
                self.suspects.append((index, task))
