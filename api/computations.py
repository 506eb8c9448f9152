"""Where the API runs planner computations: in worker processes under a deadline, or on threads of its own.

``annoplan serve --workers N`` runs one HTTP process (parsing, validation, keys, storage, JSON) and hands
every computation (plans, quotes, fits, workbooks) to a pool of N worker processes (:mod:`pebble`) through
one queue, so each request waits for the next free process whichever connection it came on.

Every computation runs under a deadline (``Settings.computation_deadline_seconds``, counted from when a
worker starts it): past it the worker process is killed and replaced, and the caller gets
:class:`ComputationTimedOut` (a 503 naming the deadline). A worker that dies mid-computation (killed, out of
memory, a crash in native code) fails only the computation it was running (:class:`ComputationCrashed`);
the computations queued behind it run on its replacement. At most ``max_waiting`` computations wait for a
worker at once; more are refused at once with :class:`ComputationsBusy` (a 503 with ``Retry-After``), which
bounds the memory that waiting requests hold. Routes await a computation without holding a thread, so
health checks, 401s and reads never wait behind computations.

The callable and its arguments cross to the worker pickled, and so do the result and any exception: use
module-level functions (``planner.make_plan``) and models. An exception that cannot make the trip comes back
as a :class:`RuntimeError` with its text.

Without processes (``create_app()`` in tests, or ``ANNOPLAN_COMPUTATION_PROCESSES=0``) computations run on
``threads`` dedicated threads. A thread cannot be stopped: past the deadline its caller still gets
:class:`ComputationTimedOut` (counted from the submission), but the thread runs on. CPU-bound work in more
threads than cores only slows every request down, and few threads also bound memory: each thread that ever
ran a plan keeps a malloc arena of its size. A worker process runs one computation at a time on one thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import math
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

import pebble

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
#: longest wait for the worker processes to exit once stopped (s)
STOP_TIMEOUT_SECONDS = 10.0
#: what a worker imports when it starts, before any computation (the planner's entry points and the reports)
WARM_MODULES = (
    "annoplan.planner.fit",
    "annoplan.planner.plans",
    "annoplan.planner.quotes",
    "annoplan.reports.plan",
    "annoplan.reports.quote",
)
#: seconds a caller waits beyond the longest its computation could take (the queue ahead of it at deadline)
WAIT_SLACK_SECONDS = 5.0


class ComputationError(RuntimeError):
    """A computation did not answer, through no fault of its input that the planner could name."""


class ComputationCrashed(ComputationError):
    """The worker process running a computation stopped before answering (the answer is a 500)."""


class ComputationTimedOut(ComputationError):
    """A computation ran past the deadline; its worker process was stopped and replaced (a 503)."""

    def __init__(self, deadline_seconds: float) -> None:
        super().__init__(f"the computation did not finish within the deadline of {deadline_seconds:g} s")
        self.deadline_seconds = deadline_seconds

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.deadline_seconds,))


class ComputationsBusy(ComputationError):
    """Too many computations wait already; this one was refused before it was queued (a 503)."""

    def __init__(self, waiting: int) -> None:
        super().__init__(f"{waiting} computations are waiting for a worker already")
        self.waiting = waiting

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.waiting,))


class Computations:
    """Runs planner computations: in ``processes`` worker processes, or (``processes=0``) on ``threads``
    threads of this process; either way at most that many at once, at most ``max_waiting`` more waiting in
    one queue, each under ``deadline_seconds``."""

    def __init__(
        self,
        *,
        threads: int = 2,
        processes: int = 0,
        deadline_seconds: float = 60.0,
        max_waiting: int = 64,
    ) -> None:
        if threads < 1 or processes < 0 or deadline_seconds <= 0 or max_waiting < 0:
            raise ValueError(
                "threads must be at least 1, processes and max_waiting at least 0, and the deadline positive"
            )
        self.processes = processes
        self.threads = threads
        self.deadline_seconds = deadline_seconds
        self.max_waiting = max_waiting
        self._lock = threading.Lock()
        self._closed = False
        self._pending = 0
        self._pool: pebble.ProcessPool | ThreadPoolExecutor | None = None

    @property
    def slots(self) -> int:
        """Computations that run at once."""
        return self.processes or self.threads

    def start(self) -> None:
        """Take computations again after :meth:`shutdown`, and start every worker process (each imports the
        planner as it starts) and wait for them to answer, so that the first requests do not wait for it.

        Without it, the first computation starts what it needs.
        """
        with self._lock:
            self._closed = False
        pool = self._current()
        if isinstance(pool, pebble.ProcessPool):
            futures = [pool.schedule(os.getpid) for _ in range(self.processes)]
            for future in futures:
                future.result(timeout=START_TIMEOUT_SECONDS)

    def submit(self, compute: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue ``compute(*args, **kwargs)``; its future raises what :meth:`run` raises.

        Raises
        ------
        ComputationsBusy
            ``max_waiting`` computations wait already (nothing was queued).
        """
        return self._submit(compute, args, kwargs)[0]

    def _submit(
        self, compute: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Future[T], float]:
        """:meth:`submit`, and how long its caller waits for it at most (s): threads cannot be stopped, so
        their caller stops waiting at the deadline; a process pool stops the worker itself at the deadline,
        and its caller waits as long as the computation could take if every one ahead of it ran to its
        deadline, and no longer (a pool that lost the task, its worker killed before it started it, would
        never answer: pebble only fails tasks a worker has started)."""
        with self._lock:
            if self._pending >= self.slots + self.max_waiting:
                raise ComputationsBusy(self._pending - self.slots)
            ahead = self._pending
            self._pending += 1
        try:
            pool = self._current()
            if isinstance(pool, pebble.ProcessPool):
                inner: Future[Any] = pool.schedule(
                    call_in_worker, args=(compute, args, kwargs), timeout=self.deadline_seconds
                )
            else:
                inner = pool.submit(compute, *args, **kwargs)
        except BaseException:
            self._release(None)
            raise
        inner.add_done_callback(self._release)
        if not self.processes:
            return self._translated(inner), self.deadline_seconds
        rounds = math.ceil((ahead + 1) / self.slots)
        return self._translated(inner), rounds * self.deadline_seconds + WAIT_SLACK_SECONDS

    def run(self, compute: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``compute(*args, **kwargs)`` once a computation slot is free: its result, or its exception.

        Raises
        ------
        ComputationTimedOut
            it ran past the deadline (its worker process was replaced).
        ComputationCrashed
            the worker process died before answering (only this computation fails).
        ComputationsBusy
            too many computations wait already.
        """
        future, wait = self._submit(compute, args, kwargs)
        try:
            return future.result(timeout=wait)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ComputationTimedOut(self.deadline_seconds) from None

    async def run_async(self, compute: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """:meth:`run`, awaited without holding a thread (what the routes call)."""
        future, wait = self._submit(compute, args, kwargs)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=wait)
        except TimeoutError:
            future.cancel()
            raise ComputationTimedOut(self.deadline_seconds) from None

    def shutdown(self) -> None:
        """Stop taking computations (until :meth:`start`) and stop the worker processes at once (the
        server has answered, or given up on, its requests by then); queued computations are cancelled."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if isinstance(pool, pebble.ProcessPool):
            pool.stop()
            pool.join(timeout=STOP_TIMEOUT_SECONDS)
        elif pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _current(self) -> pebble.ProcessPool | ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the computations are shut down")
            if self._pool is None:
                self._pool = (
                    new_process_pool(self.processes)
                    if self.processes
                    else ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="annoplan-compute")
                )
            return self._pool

    def _release(self, _future: Future[Any] | None) -> None:
        with self._lock:
            self._pending -= 1

    def _translated(self, inner: Future[T]) -> Future[T]:
        """A future of ``inner``'s result, with pebble's timeout and lost-process errors as ours."""
        outer: Future[T] = Future()

        def settle(done: Future[T]) -> None:
            if done.cancelled():
                outer.cancel()
                return
            error = done.exception()
            if error is None:
                outer.set_result(done.result())
                return
            if isinstance(error, pebble.ProcessExpired):
                logger.error("a computation process stopped unexpectedly (%s); it was replaced", error)
                error = ComputationCrashed("a computation process stopped before answering")
            elif isinstance(error, concurrent.futures.TimeoutError) and self.processes:
                logger.error("a computation ran past %g s; its process was replaced", self.deadline_seconds)
                error = ComputationTimedOut(self.deadline_seconds)
            elif isinstance(error, concurrent.futures.CancelledError):
                error = ComputationCrashed("the computations were shut down before this one finished")
            outer.set_exception(error)

        def cancel_inner(done: Future[T]) -> None:
            if done.cancelled():
                inner.cancel()

        outer.add_done_callback(cancel_inner)
        inner.add_done_callback(settle)
        return outer


def new_process_pool(processes: int) -> pebble.ProcessPool:
    """``processes`` fresh interpreters ("spawn": a server's threads and connections are not copied into
    them), each with numeric libraries on one thread."""
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    return pebble.ProcessPool(
        max_workers=processes,
        initializer=start_worker,
        initargs=(os.getpid(),),
        context=multiprocessing.get_context("spawn"),
    )


def start_worker(parent: int) -> None:
    """A worker's first steps: leave Ctrl+C to the server (which stops the pool in order), exit if the
    server is gone, and import the planner before the first computation arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=exit_with_parent, args=(parent,), name="annoplan-parent", daemon=True).start()
    # the planner's entry points load scipy and scikit-learn on first use (planner/__init__ is lazy, for a
    # fast command line): import them here, or a fresh worker's first computation pays seconds of imports
    # inside its deadline (until now the reports package happened to import them)
    for module in WARM_MODULES:
        importlib.import_module(module)


def exit_with_parent(parent: int) -> None:
    """Exit when the server process ``parent`` has died (killed outright, it cannot stop its workers)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def call_in_worker(compute: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    """``compute(*args, **kwargs)`` in a worker; an exception that would not survive the trip back (one
    whose ``__init__`` cannot be called again with its ``args``, say) is replaced by a RuntimeError with
    its text, since a result that cannot be unpickled would break the pool."""
    try:
        return compute(*args, **kwargs)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise RuntimeError(f"{type(exc).__qualname__}: {exc}") from exc
        raise
