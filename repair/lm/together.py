"""Tasks run side by side in threads, one at a time, so that the forward passes they wait on run merged."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from repair.lm.base import T


@dataclass(frozen=True)
class PassRequest:
    """One packed pass a caller asks for (see `repair.lm.engine.Engine.packed_pass`)."""

    segments: list[list[int]]
    cache: Any
    context: int
    shared: bool


@dataclass(frozen=True)
class HeadRequest:
    """Log-probabilities a caller asks of the output projection: of ``targets`` at each row of ``hidden``,
    and the whole distribution at the last ``keep`` rows (see `head_logprobs`)."""

    hidden: Any
    targets: Any
    keep: int


class Together:
    """Runs tasks in threads, one at a time, and collects the passes they wait on to run them merged.

    A task hands over when it asks for a job (a forward pass, an output projection); when every
    task waits or is done, the collected jobs run (``run_jobs``) and the waiting tasks go on, in task order.
    """

    def __init__(self, run_jobs: Callable[[Sequence[Any]], list[Any]]) -> None:
        self.run_jobs = run_jobs
        self.cond = threading.Condition()
        self.local = threading.local()
        self.turn: int | None = None
        self.pending: dict[int, Any] = {}
        self.results: dict[int, Any] = {}

    def inside(self) -> bool:
        """Whether the caller is one of the tasks."""
        return getattr(self.local, "index", None) is not None

    def request(self, job: Any) -> Any:
        """Wait for ``job`` (a pass, an output projection) to run with the other tasks' jobs; its result."""
        index = self.local.index
        with self.cond:
            self.pending[index] = job
            self.turn = None
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.turn == index)
            result = self.results.pop(index)
        if isinstance(result, BaseException):
            raise result
        return result

    def run(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        outs: list[Any] = [None] * len(tasks)
        errors: list[BaseException | None] = [None] * len(tasks)

        def work(index: int) -> None:
            import torch

            # A task's own torch work is small (a top-k, an argmax over the vocabulary); parallel, each
            # task thread would start a team of OpenMP threads of its own, spinning between uses.
            # This sets the calling thread's count only: the passes run in the thread that called run().
            torch.set_num_threads(1)
            self.local.index = index
            with self.cond:
                self.cond.wait_for(lambda: self.turn == index)
            try:
                outs[index] = tasks[index]()
            except BaseException as exc:  # handed to the caller below, after every task has ended
                errors[index] = exc
            finally:
                with self.cond:
                    self.turn = None
                    self.cond.notify_all()

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(tasks))]
        for thread in threads:
            thread.start()
        ready = list(range(len(tasks)))
        while ready:
            for index in ready:
                with self.cond:
                    self.turn = index
                    self.cond.notify_all()
                    self.cond.wait_for(lambda: self.turn is None)
            waiting = sorted(self.pending)
            requests = [self.pending.pop(i) for i in waiting]
            try:
                results: list[Any] = list(self.run_jobs(requests)) if requests else []
            except Exception as exc:  # every waiting task gets the error, so none waits forever
                results = [exc] * len(requests)
            self.results.update(zip(waiting, results, strict=True))
            ready = waiting
        for thread in threads:
            thread.join()
        for error in errors:
            if error is not None:
                raise error
        return outs
