"""Corpus-mode throughput: words per second per core with 1 and 2 workers, and peak memory per worker.

The corpus is DOCS damaged copies of the bundled example's clean(er) versions (001-004),
each damaged with its own seed by `repair.bench.corrupt`, as JSONL. No references are given:
every copy finds its references among the others, as `repair batch` does by default.
Each configuration runs in a fresh process so its memory figures are its own.

    python benchmarks/bench_batch.py                      # 200 copies, rules and references only
    python benchmarks/bench_batch.py --model smollm2 --docs 20   # with the language model (slow)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from repair.bench.corrupt import corrupt
from repair.corpus.batch import default_lm_factory, run_batch
from repair.corpus.runners import no_model
from repair.text.tokens import count_words

SEEDS = Path(__file__).resolve().parent.parent / "examples" / "ap-syria"


def make_corpus(path: Path, n_docs: int) -> int:
    """Write ``n_docs`` damaged copies as JSONL; return their word count."""
    sources = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("00[1-9]_*.txt"))]
    words = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n_docs):
            damaged = corrupt(sources[i % len(sources)], seed=i).damaged
            words += count_words(damaged)
            fh.write(json.dumps({"id": f"copy{i:04d}", "text": damaged}, ensure_ascii=False) + "\n")
    return words


def run_one(corpus: Path, out: Path, workers: int, model: str) -> dict[str, float]:
    """One timed batch run in this process; peak RSS of the process or of its largest worker."""
    factory = no_model if model == "none" else default_lm_factory(None if model == "default" else model)
    start = time.perf_counter()
    summary = run_batch(corpus, out, workers=workers, lm_factory=factory, model=model)
    seconds = time.perf_counter() - start
    who = resource.RUSAGE_SELF if workers == 1 else resource.RUSAGE_CHILDREN
    return {
        "seconds": seconds,
        "words": summary.words,
        "repaired": summary.repaired,
        "peak_mb_per_worker": resource.getrusage(who).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--model", default="none", help="none (no LM), default, or a model spec")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--run", nargs=3, metavar=("CORPUS", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        corpus, out, workers = args.run
        print(json.dumps(run_one(Path(corpus), Path(out), int(workers), args.model)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        words = make_corpus(corpus, args.docs)
        print(f"{args.docs} damaged copies, {words} words, model: {args.model}")
        print(f"{'workers':>7} {'seconds':>8} {'words/s':>8} {'words/s/core':>12} {'peak MB/worker':>14}")
        outputs = []
        for w in args.workers:
            out = Path(tmp) / f"out{w}"
            cmd = [sys.executable, __file__, "--model", args.model, "--run", str(corpus), str(out), str(w)]
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            rate = res["words"] / res["seconds"]
            print(f"{w:>7} {res['seconds']:>8.1f} {rate:>8.0f} {rate / w:>12.0f} {res['peak_mb_per_worker']:>14.0f}")
            outputs.append((out / "repaired.jsonl").read_bytes())
        print("identical output for every worker count:", all(o == outputs[0] for o in outputs))


if __name__ == "__main__":
    main()
