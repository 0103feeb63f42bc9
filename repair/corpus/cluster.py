"""Running a batch on a Dask cluster: the optional extra ``pip install repair[cluster]``.

The same tasks as `repair.corpus.batch` runs locally go to Dask workers; a worker plugin
loads the model once in each worker process, and every task that worker runs uses
it. Results come back to this process, which writes them exactly as a local run
does, so the output does not depend on where the documents were repaired.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from repair.corpus.runners import (
    TASKS_PER_WORKER,
    LMFactory,
    Outcome,
    RepairFn,
    Runner,
    Task,
    limit_threads,
    no_model,
    process,
)
from repair.files.textio import InputError
from repair.pipeline import repair_text
from repair.text.tokens import count_words

INSTALL_HINT = "pip install repair[cluster]"
PLUGIN_NAME = "repair-model"

_PluginBase: Any
try:  # a worker plugin must subclass Dask's, when Dask is there at all
    from distributed import WorkerPlugin as _PluginBase
except ImportError:  # pragma: no cover - the error is raised when a cluster is asked for
    _PluginBase = object


class ModelPlugin(_PluginBase):  # type: ignore[misc]
    """Loads the model once when a worker starts; the worker's tasks find it here."""

    name = PLUGIN_NAME

    def __init__(self, lm_factory: LMFactory, threads: int) -> None:
        self.lm_factory = lm_factory
        self.threads = threads
        self.lm: Any = None

    def setup(self, worker: Any) -> None:
        limit_threads(self.threads)
        try:
            self.lm = self.lm_factory()
        except Exception as exc:  # raised in the client by `_check_workers`, not once per document
            self.error = exc


def _worker_error(dask_worker: Any) -> BaseException | None:
    """Run on each worker by `Client.run`, which passes the worker in."""
    return getattr(dask_worker.plugins.get(PLUGIN_NAME), "error", None)


def _work(task: Task, repair: RepairFn) -> Outcome:
    from distributed import get_worker

    plugin: Any = get_worker().plugins[PLUGIN_NAME]
    if getattr(plugin, "error", None) is not None:
        raise plugin.error
    return process(task, plugin.lm, repair)


def parse_cluster(spec: str) -> int:
    """The number of workers of a ``local:N`` cluster spec.

    >>> parse_cluster("local:2")
    2
    """
    kind, _, count = spec.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise InputError(f"--cluster takes local:N (N workers on this machine), not {spec!r}")
    return int(count)


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise InputError(f"running on a cluster needs Dask, which is not installed: {INSTALL_HINT}") from exc


@contextmanager
def dask_runner(
    *,
    local_workers: int | None = None,
    scheduler: str | None = None,
    lm_factory: LMFactory = no_model,
    repair: RepairFn = repair_text,
    threads: int = 1,
) -> Iterator[Runner]:
    """A runner on a Dask cluster: a new local one of ``local_workers`` processes, or the one at ``scheduler``.

    ``threads`` is the compute threads each worker gives the model.
    """
    _require_dask()
    import distributed

    dask: Any = distributed  # untyped library: reached through Any so the strict checks stay on elsewhere

    if (local_workers is None) == (scheduler is None):
        raise InputError("give either a local cluster size or a scheduler address")
    cluster: Any = None
    if local_workers is not None:
        cluster = dask.LocalCluster(
            n_workers=local_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    try:
        client = dask.Client(cluster if cluster is not None else scheduler)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    try:
        client.register_plugin(ModelPlugin(lm_factory, threads))
        for error in client.run(_worker_error).values():
            if error is not None:  # the model failed to load: the run's problem, not a document's
                raise error
        window = max(1, len(client.scheduler_info()["workers"])) * TASKS_PER_WORKER

        def run(tasks: Iterable[Task]) -> Iterator[Outcome]:
            pending = iter(tasks)
            of: dict[Any, Task] = {}
            done = dask.as_completed()

            def submit() -> None:
                task = next(pending, None)
                if task is not None:
                    fut = client.submit(_work, task, repair, pure=False)
                    of[fut] = task
                    done.add(fut)

            for _ in range(window):
                submit()
            for fut in done:
                task = of.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # the worker died on it (Dask retried it elsewhere first)
                    reason = f"the cluster could not repair it: {type(exc).__name__}: {exc}"
                    outcome = Outcome(task.index, task.key, error=reason, words=count_words(task.text))
                fut.release()
                submit()
                yield outcome

        yield run
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
