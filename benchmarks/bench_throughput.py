"""Throughput with the model, as issue 17 measures it: CPU per word of `repair batch` (1 worker, 1 thread)
over damaged copies of the bundled stories, as a ratio to one plain forward pass of the same model over
the same texts, with where the time goes.

    OMP_NUM_THREADS=1 python benchmarks/bench_throughput.py            # 8 copies of 001-004
    OMP_NUM_THREADS=1 python benchmarks/bench_throughput.py --docs 4 --json out.json

The ratio is what to compare between machines (bfloat16 on CPUs with bfloat16 units, float32
elsewhere: see `repair.lm.threads`); the CPU flags that decide it are printed with it. Each copy
finds its references among the others, as `repair batch` does by default. CPU seconds of this process
are read, which a loaded machine moves much less than wall time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_batch import make_corpus
from bench_model import Counted

from repair.corpus.batch import run_batch
from repair.lm import load_model
from repair.lm.threads import BF16_FLAGS, cpu_flags

MODEL_METHODS = ("read", "surprisal_many", "score", "score_parts", "propose")  # read: detection's pass


class Timed(Counted):
    """The model with its tokens counted (`bench_model.Counted`) and the CPU spent inside each of its
    pipeline-facing methods summed.

    `run_together` holds the proposing of a wave of suspects (its score/propose calls run inside it),
    so the time inside a method called from within it is counted once, under `run_together`.
    """

    def __init__(self, lm: Any) -> None:
        super().__init__(lm)
        self.cpu: dict[str, float] = {}
        self._depth = 0

    def _timed(self, name: str, call: Callable[[], Any]) -> Any:
        if self._depth:
            return call()
        self._depth += 1
        start = time.process_time()
        try:
            return call()
        finally:
            self._depth -= 1
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - start

    def run_together(self, tasks: Any) -> Any:
        return self._timed("run_together", lambda: self.lm.run_together(tasks))

    def __getattr__(self, name: str) -> Any:
        inner = super().__getattr__(name)
        if name not in MODEL_METHODS:
            return inner
        return lambda *args, **kwargs: self._timed(name, lambda: inner(*args, **kwargs))


def plain_pass_cpu(lm: Any, texts: list[str]) -> tuple[float, int]:
    """CPU seconds of one forward pass over each text (windows of the model's surprisal size), and its tokens."""
    import torch

    from repair.lm.context import WINDOW as SURPRISAL_WINDOW

    def once() -> tuple[float, int]:
        tokens = 0
        start = time.process_time()
        with torch.inference_mode():
            for text in texts:
                ids = lm.encode([text])[0][0]
                for i in range(0, len(ids), SURPRISAL_WINDOW):
                    piece = torch.tensor([ids[i : i + SURPRISAL_WINDOW]])
                    lm.model(input_ids=piece)
                    tokens += piece.shape[1]
        return time.process_time() - start, tokens

    once()  # warm: the first pass sets up kernels
    return min((once() for _ in range(2)), key=lambda r: r[0])


def measure(docs: int, lm: Any, progress: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        words = make_corpus(corpus, docs)
        texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()]
        progress(f"{docs} damaged copies, {words} words: plain passes")
        plain, plain_tokens = plain_pass_cpu(lm, texts)
        timed = Timed(lm)
        progress("repair batch, 1 worker")
        start = time.process_time()
        summary = run_batch(corpus, Path(tmp) / "out", workers=1, lm_factory=lambda: timed, model="default")
        batch = time.process_time() - start
    model_cpu = sum(timed.cpu.values())
    return {
        "cpu_flags_bf16": sorted(f for f in BF16_FLAGS if f in cpu_flags()),
        "dtype": str(lm.model.get_output_embeddings().weight.dtype),
        "docs": docs,
        "words": words,
        "edits_applied": summary.repaired,
        "plain_pass_cpu": plain,
        "plain_pass_tokens": plain_tokens,
        "batch_cpu": batch,
        "ratio": batch / plain,
        "model_tokens": timed.tokens,
        "model_tokens_ratio": timed.tokens / plain_tokens,
        "model_passes": timed.passes,
        "cpu_by_method": {k: round(v, 2) for k, v in sorted(timed.cpu.items())},
        "cpu_outside_model": batch - model_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=8, help="damaged copies (of 001-004 in turn)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    lm = load_model(None)
    result = measure(args.docs, lm, lambda s: print(s, flush=True))
    w = result["words"]
    print(f"CPU flags with bfloat16 units: {result['cpu_flags_bf16'] or 'none'}; model in {result['dtype']}")
    print(f"plain pass: {result['plain_pass_cpu']:.2f} CPU s for {w} words ({result['plain_pass_tokens']} tokens)")
    print(f"repair batch: {result['batch_cpu']:.2f} CPU s = {result['ratio']:.2f}x the plain pass per word")
    tokens, passes = result["model_tokens"], result["model_passes"]
    print(f"  model tokens {tokens} = {result['model_tokens_ratio']:.2f}x, {passes} passes")
    for name, cpu in result["cpu_by_method"].items():
        print(f"  inside {name}: {cpu:.2f} CPU s ({cpu / result['plain_pass_cpu']:.2f}x)")
    out = result["cpu_outside_model"]
    print(f"  outside the model: {out:.2f} CPU s ({out / result['plain_pass_cpu']:.2f}x)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
