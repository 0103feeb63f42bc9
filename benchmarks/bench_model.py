"""Speed and memory of the embedded model: cold and warm load, one forward pass, score(), propose(),
and the model work of a whole `repair fix` without references.

    python benchmarks/bench_model.py            # the table; a few minutes on 2 idle cores
    python benchmarks/bench_model.py --no-cold  # skip the ~25 s conversion into a fresh cache
    python benchmarks/bench_model.py --only-pipeline   # just the whole-article model work

Each phase runs in a fresh subprocess so load times and peak memory are those of a real run.
Targets (issue): first run < 60 s, warm end-to-end < 8 s, peak memory < 1.5 GB, and the model
work for a whole article within ~10x one plain forward pass over it.

On a shared machine wall times swing with the load, so the pipeline phase also counts what the
model did (calls, forward passes, tokens through the model) and reports CPU seconds, which
move much less; compare those between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ap-syria"
REPEATS = 3


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    """Median wall time of ``fn`` in seconds, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gap(text: str, index: int) -> tuple[str, str, str]:
    """Split ``text`` around its index-th word: (left, word, right)."""
    words = text.split(" ")
    spans, at = [], 0
    for w in words:
        spans.append((at, at + len(w)))
        at += len(w) + 1
    real = [s for s in spans if text[s[0] : s[1]].isalpha()]
    start, end = real[index % len(real)]
    return text[:start], text[start:end], text[end:]


def phase_cold(cache_dir: Path) -> dict[str, float]:
    from repair.lm import load_model

    start = time.perf_counter()
    load_model(None, cache_dir=cache_dir)
    return {"cold load (convert + cache)": time.perf_counter() - start, "peak RSS, cold load (MB)": peak_rss_mb()}


def phase_warm(cache_dir: Path | None) -> dict[str, float]:
    from repair.lm import load_model

    start = time.perf_counter()
    lm: Any = load_model(None, cache_dir=cache_dir)
    import torch  # after load_model, which sets how torch's threads wait before torch first loads

    loaded = time.perf_counter() - start
    after_load = peak_rss_mb()
    text = next(EXAMPLE.glob("000_*.txt")).read_text(encoding="utf-8")
    ids = torch.tensor([lm.encode([text])[0][0]])

    def forward() -> None:
        with torch.inference_mode():
            lm.model(input_ids=ids)

    left, word, right = gap(text, 100)
    others = sorted({w for w in text.split() if w.isalpha() and w != word})[:9]
    candidates = [word, *others]
    lm.propose(left, right, 1)  # builds the vocabulary word masks once
    row = {
        "warm load (from cache)": loaded,
        "peak RSS after load (MB)": after_load,
        "surprisal(article 000)": timed(lambda: lm.surprisal(text)),
        "score(): 10 candidates, sentence window": timed(lambda: lm.score(left, candidates, right)),
        "propose(n_words=1, k=10)": timed(lambda: lm.propose(left, right, 1)),
        "propose(n_words=2, k=10)": timed(lambda: lm.propose(left, right, 2)),
        "torch threads": float(torch.get_num_threads()),
        "peak RSS, warm run of the lm calls (MB)": peak_rss_mb(),
    }
    # Last, since its full logits matrix (tokens x 49152 floats) would set the peak memory.
    row[f"plain forward over article 000 ({ids.shape[1]} tokens)"] = timed(forward)
    return row


def phase_fix() -> dict[str, float]:
    """The whole `repair fix` command on article 000 with its four references, warm cache."""
    damaged = next(EXAMPLE.glob("000_*.txt"))
    refs = sorted(p for p in EXAMPLE.glob("00[1-9]_*.txt"))
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "repair", "fix", str(damaged)]
        for r in refs:
            cmd += ["--ref", str(r)]
        cmd += ["--out", f"{out}/o.txt", "--edits", f"{out}/o.json", "--report", f"{out}/o.html"]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        took = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode != 0:
        print(f"repair fix failed ({done.returncode}): {done.stderr.strip()[-300:]}", file=sys.stderr)
        return {}
    return {"warm `repair fix` 000 + 4 refs, end to end": took, "peak RSS, `repair fix` (MB)": usage}


class Counted:
    """The model with its `LanguageModel` calls counted, and every forward pass and token through it.

    Gaps are proposed side by side (`CausalLM.run_together`), their passes merged: a pass serves
    several calls at once, so passes and tokens are counted for the whole run, not per method.
    """

    METHODS = ("score", "score_parts", "propose", "surprisal", "surprisal_many", "read")

    def __init__(self, lm: Any) -> None:
        self.lm = lm
        self.name = lm.name
        self.passes = 0
        self.tokens = 0
        self.calls: dict[str, int] = {}
        lm.model.get_decoder().register_forward_hook(self.count, with_kwargs=True)

    def count(self, _module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], _out: Any) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        self.passes += 1
        self.tokens += int(ids.numel()) if ids is not None else 0

    def run_together(self, tasks: Any) -> Any:
        return self.lm.run_together(tasks)

    def __getattr__(self, name: str) -> Any:
        inner = getattr(self.lm, name)
        if name not in self.METHODS:
            return inner

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return inner(*args, **kwargs)

        return counted


def phase_pipeline() -> dict[str, float]:
    """`repair_text` on article 000 without references: the model work a reader waits for, counted."""
    from repair.lm import load_model
    from repair.pipeline import repair_text

    lm: Any = load_model(None)
    import torch  # after load_model, which sets how torch's threads wait before torch first loads

    text = next(EXAMPLE.glob("000_*.txt")).read_text(encoding="utf-8")
    ids = torch.tensor([lm.encode([text])[0][0]])

    def forward() -> None:
        with torch.inference_mode():
            lm.model(input_ids=ids)

    forward()
    cpus, walls = [], []
    for _ in range(REPEATS):  # one pass moves by 20-30% on a shared machine: the median of three
        cpu, wall = time.process_time(), time.perf_counter()
        forward()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    forward_cpu, forward_wall = statistics.median(cpus), statistics.median(walls)
    row = {
        f"plain forward over article 000 ({ids.shape[1]} tokens), CPU": forward_cpu,
        "plain forward over article 000, wall": forward_wall,
    }
    refs = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(EXAMPLE.glob("00[1-4]_*.txt"))]
    for label, given in (("no refs", []), ("4 refs", refs)):  # `repair fix` of the bundled example: the 4 refs
        counted = Counted(lm)
        cpu, wall = time.process_time(), time.perf_counter()
        repair_text(text, given, counted)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        for name, calls in counted.calls.items():
            row[f"pipeline, {label}: {name}() calls"] = calls
        row[f"pipeline, {label}: forward passes"] = counted.passes
        row[f"pipeline, {label}: tokens through the model"] = counted.tokens
        row[f"pipeline, {label}: tokens / plain forward's"] = counted.tokens / ids.shape[1]
        row[f"pipeline `repair_text` 000, {label}: CPU"] = cpu
        row[f"pipeline `repair_text` 000, {label}: wall"] = wall
        row[f"pipeline, {label}: CPU / plain forward CPU"] = cpu / forward_cpu
    row["torch threads"] = float(torch.get_num_threads())
    row["peak RSS, pipeline (MB)"] = peak_rss_mb()
    return row


def run_phase(name: str, *extra: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--phase", name, *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"phase {name} failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return {}
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark the embedded language model")
    parser.add_argument("--phase", choices=["cold", "warm", "fix", "pipeline"], help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold load into a fresh cache")
    parser.add_argument("--no-fix", action="store_true", help="skip the end-to-end `repair fix` run")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the whole-article model work")
    parser.add_argument("--only-pipeline", action="store_true", help="run only the whole-article model work")
    args = parser.parse_args()
    if args.phase == "cold":
        print(json.dumps(phase_cold(args.cache_dir)))
        return
    if args.phase == "warm":
        print(json.dumps(phase_warm(args.cache_dir)))
        return
    if args.phase == "fix":
        print(json.dumps(phase_fix()))
        return
    if args.phase == "pipeline":
        print(json.dumps(phase_pipeline()))
        return

    rows: dict[str, float] = {}
    if not args.only_pipeline:
        with tempfile.TemporaryDirectory(prefix="repair-bench-") as fresh:
            if not args.no_cold:
                rows |= run_phase("cold", "--cache-dir", fresh)
            rows |= run_phase("warm", *(["--cache-dir", fresh] if not args.no_cold else []))
        if not args.no_fix:
            rows |= run_phase("fix")
    if not args.no_pipeline:
        rows |= run_phase("pipeline")
    load = os.getloadavg()[0]
    print(f"{'measure':<58} {'value':>10}")
    print("-" * 69)
    for name, value in rows.items():
        counts = ("(MB)", "threads", "calls", "passes", "tokens through", "target")
        unit = "" if any(c in name for c in counts) else " s"
        print(f"{name:<58} {value:>8.2f}{unit}" if value != int(value) or unit else f"{name:<58} {int(value):>8}")
    forward = next((v for k, v in rows.items() if k.startswith("plain forward") and "CPU" not in k), None)
    if forward:
        print(f"{'budget for the whole article (10x forward)':<58} {10 * forward:>8.2f} s")
    print(f"(load average now {load:.1f} on {os.cpu_count()} cores; a busy machine slows every row)")


if __name__ == "__main__":
    main()
