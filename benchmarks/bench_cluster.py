"""`repair batch --cluster local:2` on a 200-document corpus: words/s, and a run that loses a worker mid-way.

    python benchmarks/bench_cluster.py                   # 200 copies, no model: in-process, cluster, cluster + kill
    python benchmarks/bench_cluster.py --docs 40 --kill-after 10

The corpus is `bench_batch.make_corpus`'s: damaged copies of the bundled story's versions
001-004, each at its own seed, as JSONL, each document finding its references among the
others. Three runs of the same corpus: in this process (the reference output), on a local
Dask cluster of 2 worker processes, and on a fresh cluster where one worker process is
killed (SIGKILL, as the OOM killer does) once ``--kill-after`` documents are back. The
killed run must give the reference output: every id once, in order, the same lines.
Wall times on a shared machine are rough; the kill check is the result that counts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import make_corpus

from repair.corpus.batch import run_batch
from repair.corpus.cluster import dask_runner
from repair.corpus.runners import Outcome, no_model


def children(pid: int) -> list[tuple[int, str]]:
    """The processes whose parent is ``pid``, with their command lines (read from /proc: Linux only)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ValueError):
                continue
            if parent == pid:
                found.append((int(entry.name), cmdline))
    return sorted(found)


def kill_a_worker() -> int:
    """SIGKILL one Dask worker process: a child of this process that multiprocessing spawned (a nanny restarts it)."""
    workers = [p for p, cmd in children(os.getpid()) if "spawn_main" in cmd]
    if not workers:
        raise SystemExit("no worker process found to kill")
    os.kill(workers[0], signal.SIGKILL)
    return workers[0]


def run(corpus: Path, out: Path, *, cluster: bool, kill_after: int = 0) -> dict[str, object]:
    """One batch run; with ``kill_after``, a worker is killed when that many documents are back."""
    back = [0]
    killed: list[int] = []

    def on_outcome(_o: Outcome) -> None:
        back[0] += 1
        if kill_after and back[0] == kill_after:
            killed.append(kill_a_worker())

    started = time.perf_counter()
    if cluster:
        with dask_runner(local_workers=2, lm_factory=no_model) as runner:
            ready = time.perf_counter()
            summary = run_batch(corpus, out, runner=runner, on_outcome=on_outcome)
    else:
        ready = started
        summary = run_batch(corpus, out, lm_factory=no_model, on_outcome=on_outcome)
    seconds = time.perf_counter() - ready
    return {
        "cluster": cluster,
        "killed_pid": killed[0] if killed else None,
        "repaired": summary.repaired,
        "skipped": len(summary.skipped),
        "words": summary.words,
        "startup_seconds": round(ready - started, 1),
        "seconds": round(seconds, 1),
        "words_per_s": round(summary.words / seconds),
    }


def check(out: Path, reference: Path, n_docs: int) -> dict[str, bool]:
    """Whether a run's output holds every document once, in order, and the reference run's lines."""
    rows = (out / "repaired.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(r)["id"] for r in rows]
    return {
        "every_id_once_in_order": ids == [f"copy{i:04d}" for i in range(n_docs)],
        "same_as_in_process": rows == (reference / "repaired.jsonl").read_text(encoding="utf-8").splitlines(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--kill-after", type=int, default=0, help="documents back before the kill (default: half)")
    args = ap.parse_args()
    kill_after = args.kill_after or args.docs // 2
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        words = make_corpus(corpus, args.docs)
        print(json.dumps({"docs": args.docs, "words": words}), flush=True)
        runs: list[tuple[str, Callable[[Path], dict[str, object]]]] = [
            ("in_process", lambda out: run(corpus, out, cluster=False)),
            ("cluster_2", lambda out: run(corpus, out, cluster=True)),
            ("cluster_2_one_killed", lambda out: run(corpus, out, cluster=True, kill_after=kill_after)),
        ]
        for name, go in runs:
            out = Path(tmp) / name
            result = {"run": name, **go(out)}
            if name != "in_process":
                result.update(check(out, Path(tmp) / "in_process", args.docs))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
