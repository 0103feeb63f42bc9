"""Where the texts of a batch are repaired: the unit of work (`Task` in, `Outcome` out) and the local pool of
worker processes that runs them; `cluster` offers a Dask cluster behind the same `Runner` signature."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from repair.edits import Edit
from repair.lm import LanguageModel
from repair.pipeline import Result, repair_text
from repair.text.tokens import count_words

LMFactory = Callable[[], LanguageModel | None]
RepairFn = Callable[..., Result]
Runner = Callable[[Iterable["Task"]], Iterator["Outcome"]]

# tasks in flight per worker: enough to keep it busy, few enough to lose little on a crash
TASKS_PER_WORKER = 2

# The model of a worker process: set once by the pool's initializer, read by every task
# the process runs. It lives in the worker only; the parent never touches it.
_WORKER: dict[str, Any] = {}


@dataclass(frozen=True)
class Task:
    """What a worker needs to repair one document."""

    index: int  # position in the run's to-do list, which is in input order
    key: str
    text: str
    refs: tuple[tuple[str, str], ...]  # (name, text)
    min_confidence: float


@dataclass(frozen=True)
class Outcome:
    """A worker's answer for one task: the repair, or why it failed."""

    index: int
    key: str
    output: str = ""
    edits: tuple[Edit, ...] = ()
    model: str = ""
    error: str = ""
    words: int = 0


def no_model() -> None:
    """An LM factory for runs without a language model (references and rules only)."""
    return None


def process(task: Task, lm: LanguageModel | None, repair: RepairFn = repair_text) -> Outcome:
    """Repair one document; a failure inside the pipeline becomes the outcome's error, never an exception."""
    words = count_words(task.text)
    try:
        result = repair(task.text, list(task.refs), lm, min_confidence=task.min_confidence)
    except Exception as exc:  # one bad document must not stop the corpus
        return Outcome(task.index, task.key, error=f"the repair failed: {type(exc).__name__}: {exc}", words=words)
    model = lm.name if lm is not None else ""
    return Outcome(task.index, task.key, result.output, tuple(result.edits), model, words=words)


def limit_threads(n: int) -> None:
    """Give this process ``n`` compute threads: for torch if it loads later, and if it is loaded already."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    torch = sys.modules.get("torch")  # not imported here: only repair.lm (the package) imports torch
    if torch is not None:
        torch.set_num_threads(n)


def threads_per_worker(workers: int) -> int:
    """The cores this process may use, shared out between the workers."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def default_workers() -> int:
    """How many processes a run uses unless told: the cores it may use, or ``REPAIR_WORKERS`` if set."""
    told = os.environ.get("REPAIR_WORKERS", "").strip()
    return max(1, int(told)) if told.isdigit() else threads_per_worker(1)


# Linux's prctl option that sends the calling process a signal when its parent dies
PR_SET_PDEATHSIG = 1
ORPHAN_POLL_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends, even by SIGKILL, which gives the pool no chance to stop its workers.

    On Linux the kernel sends SIGKILL (prctl PR_SET_PDEATHSIG); elsewhere a thread checks every second
    whether the process has been handed to another parent. Either way nothing is left running on its own.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        armed = False
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    if armed:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="repair-orphan-watch", daemon=True).start()


def _init_worker(lm_factory: LMFactory, repair: RepairFn, threads: int, parent: int) -> None:
    die_with_parent(parent)
    limit_threads(threads)
    _WORKER["repair"] = repair
    try:
        _WORKER["lm"] = lm_factory()
    except Exception as exc:  # kept for the parent to raise: a failing initializer only breaks the pool
        _WORKER["error"] = exc


def _ready() -> BaseException | None:
    """Whether this worker could load its model: None, or the error to raise in the parent."""
    return _WORKER.get("error")


def _work(task: Task) -> Outcome:
    if "error" in _WORKER:
        raise _WORKER["error"]
    return process(task, _WORKER["lm"], _WORKER["repair"])


@contextmanager
def local_runner(
    workers: int = 1, lm_factory: LMFactory = no_model, repair: RepairFn = repair_text
) -> Iterator[Runner]:
    """A runner on this machine: in this process for one worker, else a pool of spawned processes.

    The model is loaded once per process, and only when there is work.
    """
    if workers <= 1:
        loaded: list[LanguageModel | None] = []

        def run_inline(tasks: Iterable[Task]) -> Iterator[Outcome]:
            for t in tasks:
                if not loaded:
                    loaded.append(lm_factory())
                yield process(t, loaded[0], repair)

        yield run_inline
        return
    pools: list[ProcessPoolExecutor] = []

    def new_pool() -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_init_worker,
            initargs=(lm_factory, repair, threads_per_worker(workers), os.getpid()),
        )
        pools.append(pool)
        # a pool that cannot start or load the model is this run's problem, not a document's
        try:
            error = pool.submit(_ready).result()
        except BrokenProcessPool as exc:
            raise RuntimeError(f"the worker processes could not start: {exc}") from exc
        if error is not None:
            raise error
        return pool

    def run_pool(tasks: Iterable[Task]) -> Iterator[Outcome]:
        return _run_pool(tasks, new_pool, workers * TASKS_PER_WORKER)

    try:
        yield run_pool
    except BaseException:
        # interrupted (Ctrl-C, SIGTERM, a failure): the work in the workers' hands is abandoned, not waited
        # for (a chunk with the model takes minutes), and no worker is left running
        for pool in pools:
            processes: dict[int, Any] = getattr(pool, "_processes", None) or {}  # the executor's own table
            for worker in list(processes.values()):
                worker.terminate()
        raise
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def _run_pool(tasks: Iterable[Task], new_pool: Callable[[], ProcessPoolExecutor], window: int) -> Iterator[Outcome]:
    """Keep ``window`` tasks in flight; if a worker process dies, find the document that killed it.

    A dead worker breaks the whole pool: the tasks then in flight are rerun one at a
    time in a fresh pool, so the one that kills it again is reported and skipped.
    """
    pending = iter(tasks)
    pool = new_pool()
    inflight: dict[Future[Outcome], Task] = {}
    suspects: list[Task] = []
    while True:
        limit = 1 if suspects else window
        while len(inflight) < limit:
            task = suspects.pop(0) if suspects else next(pending, None)
            if task is None:
                break
            inflight[pool.submit(_work, task)] = task
        if not inflight:
            return
        finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
        broken: list[Task] = []
        for fut in finished:
            task = inflight.pop(fut)
            try:
                yield fut.result()
            except BrokenProcessPool:
                broken.append(task)
        if broken:
            alone = len(broken) + len(inflight) == 1
            broken += list(inflight.values())
            inflight.clear()
            pool.shutdown(wait=False, cancel_futures=True)
            pool = new_pool()
            if alone:
                (task,) = broken
                reason = "the worker process died repairing it (a crash, or out of memory)"
                yield Outcome(task.index, task.key, error=reason, words=count_words(task.text))
            else:
                suspects = sorted(broken, key=lambda t: t.index) + suspects
