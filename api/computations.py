"""Where the API runs planner computations: on a few threads of its own process, or in worker processes.

``annoplan serve --workers N`` runs one HTTP process (parsing, validation, keys, storage, JSON) and hands
every computation (plans, quotes, fits, workbooks) to a pool of N worker processes through one queue, so
each request waits for the next free process whichever connection it came on. (With N uvicorn processes
sharing the listening socket instead, each served only the keep-alive connections it had accepted, which
split unevenly, 12 to 8 say, for good: the busier process set the tail latency.)

The callable and its arguments cross to the worker pickled, and so do the result and any exception: use
module-level functions (``planner.make_plan``) and models. An exception that cannot make the trip comes back
as a :class:`RuntimeError` with its text. A worker that dies mid-computation (killed, out of memory, a
crash in native code) breaks the pool: the requests it held fail with :class:`ComputationCrashed`, and the
next ones run on a fresh pool.

Without processes (``create_app()`` in tests, or ``ANNOPLAN_COMPUTATION_PROCESSES=0``) computations run on
``threads`` dedicated threads. CPU-bound work in more threads than cores only slows every request down, and
few threads also bound memory: each thread that ever ran a plan keeps a malloc arena of its size (in the
load benchmark, plans on a server's dozens of request threads grew it to 3.6 GB; on two threads, 0.6 GB).
A worker process runs one computation at a time on one thread.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ParamSpec, TypeVar

logger = logging.getLogger("annoplan.api")

T = TypeVar("T")
P = ParamSpec("P")

#: numeric libraries' thread pools, pinned to one thread in each worker process (processes are the
#: parallelism); set before the workers start, since the libraries read them when first imported
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: how often a worker checks that the server that started it is still there (s)
PARENT_CHECK_SECONDS = 1.0
#: longest wait for the worker processes to start and import the planner (s)
START_TIMEOUT_SECONDS = 300.0


class ComputationCrashed(RuntimeError):
    """The worker process running a computation stopped before answering (the answer is a 500)."""


class Computations:
    """Runs planner computations: in ``processes`` worker processes, or (``processes=0``) on ``threads``
    threads of this process; either way at most that many at once, the rest waiting in one queue."""

    def __init__(self, *, threads: int = 2, processes: int = 0) -> None:
        if threads < 1 or processes < 0:
            raise ValueError("threads must be at least 1 and processes at least 0")
        self.processes = processes
        self.threads = threads
        self._lock = threading.Lock()
        self._closed = False
        self._executor: Executor | None = None

    def start(self) -> None:
        """Take computations again after :meth:`shutdown`, and start every worker process (each imports the
        planner as it starts) and wait for them to answer, so that the first requests do not wait for it.

        Without it, the first computation starts what it needs: the threads, or the processes one by one.
        """
        with self._lock:
            self._closed = False
        executor = self._current()
        if self.processes == 0:
            return
        # no worker is idle yet, so each submission starts one more process until all are up
        futures = [executor.submit(os.getpid) for _ in range(self.processes)]
        for future in futures:
            future.result(timeout=START_TIMEOUT_SECONDS)

    def run(self, compute: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``compute(*args, **kwargs)`` once a computation slot is free: its result, or its exception.

        Raises
        ------
        ComputationCrashed
            the worker process died before answering (the pool is replaced for the next requests).
        """
        executor = self._current()
        try:
            if self.processes == 0:
                return executor.submit(compute, *args, **kwargs).result()
            return executor.submit(call_in_worker, compute, args, kwargs).result()
        except BrokenProcessPool as exc:
            self._replace(executor)
            raise ComputationCrashed("a computation process stopped before answering") from exc

    def shutdown(self) -> None:
        """Stop taking computations (until :meth:`start`) and stop the worker processes after their
        current computation; queued ones are cancelled (the server has answered its requests by then)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=self.processes > 0, cancel_futures=True)

    def _current(self) -> Executor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the computations are shut down")
            if self._executor is None:
                self._executor = (
                    new_process_pool(self.processes)
                    if self.processes
                    else ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="annoplan-compute")
                )
            return self._executor

    def _replace(self, broken: Executor) -> None:
        with self._lock:
            if self._executor is not broken:
                return  # shut down, or another request replaced it already
            logger.error("a computation process stopped unexpectedly; new ones start with the next request")
            self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)


def new_process_pool(processes: int) -> ProcessPoolExecutor:
    """``processes`` fresh interpreters ("spawn": a server's threads and connections are not copied into
    them), each with numeric libraries on one thread."""
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_worker,
        initargs=(os.getpid(),),
    )


def start_worker(parent: int) -> None:
    """A worker's first steps: leave Ctrl+C to the server (which stops the pool in order), exit if the
    server is gone, and import the planner before the first computation arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=exit_with_parent, args=(parent,), name="annoplan-parent", daemon=True).start()
    import planner  # noqa: F401
    import reports  # noqa: F401


def exit_with_parent(parent: int) -> None:
    """Exit when the server process ``parent`` has died (killed outright, it cannot stop its workers)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def call_in_worker(compute: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    """``compute(*args, **kwargs)`` in a worker; an exception that would not survive the trip back (one
    whose ``__init__`` cannot be called again with its ``args``, say) is replaced by a RuntimeError with
    its text, since a result that cannot be unpickled would break the whole pool."""
    try:
        return compute(*args, **kwargs)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise RuntimeError(f"{type(exc).__qualname__}: {exc}") from exc
        raise
