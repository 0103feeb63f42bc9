"""Speed and memory of `repair fix`: the bundled example cold and warm, and words/s on damaged copies.

    python benchmarks/bench_fix.py                       # cold + warm CLI runs, 20 damaged copies in-process
    python benchmarks/bench_fix.py --copies 40 --json fix-speed.json
    python benchmarks/bench_fix.py --no-model            # the pipeline without a language model

Cold is `repair fix` with a fresh, empty XDG_CACHE_HOME (the model is converted
and cached again); warm is the same command again with that cache filled. Peak
memory is the child process's maximum resident set size. The throughput part
loads the model once and repairs damaged copies (`repair corrupt` of the clean
example texts at several seeds, the other clean texts as references).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ap-syria"


def run_cli(args: list[str], env: dict[str, str]) -> dict[str, float | int | str]:
    """Run a command; its wall time, peak memory (MiB) and exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    took = time.perf_counter() - started
    last = stderr.strip().splitlines()[-1] if stderr.strip() and proc.returncode else ""
    return {
        "seconds": round(took, 2),
        "peak_mib": round(usage.ru_maxrss / 1024, 1),
        "exit": proc.returncode,
        "error": last,
    }


def cli_runs(work: Path) -> dict[str, dict[str, float | int | str]]:
    """`repair fix` on the damaged example with the four references, cold then warm."""
    damaged = next(EXAMPLE.glob("000_*.txt"))
    refs = sorted(p for p in EXAMPLE.glob("*.txt") if p != damaged)
    exe = shutil.which("repair") or sys.executable
    base = [exe] if exe.endswith("repair") else [exe, "-m", "repair"]
    args = [*base, "fix", str(damaged), *(a for r in refs for a in ("--ref", str(r)))]
    args += ["--out", str(work / "out.txt"), "--edits", str(work / "edits.json"), "--report", str(work / "r.html")]
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
    return {"cold": run_cli(args, env), "warm": run_cli(args, env)}


def throughput(copies: int, use_model: bool) -> dict[str, float | int | str]:
    """Words per second of the pipeline over damaged copies, the model loaded once."""
    from repair.bench.cases import example_cases
    from repair.pipeline import repair_text
    from repair.text.tokens import tokenize

    per_text = len([p for p in EXAMPLE.glob("*.txt") if not p.name.startswith("000_")])
    seeds = -(-copies // per_text)
    cases = [c for c in example_cases(EXAMPLE, seeds=seeds) if not c.clean][:copies]
    started = time.perf_counter()
    lm = None
    if use_model:
        from repair.lm import load_model

        lm = load_model(None)
    loaded = time.perf_counter() - started
    words = 0
    started = time.perf_counter()
    for case in cases:
        repair_text(case.input, case.refs, lm)
        words += sum(t.is_word for t in tokenize(case.input))
    took = time.perf_counter() - started
    return {
        "copies": len(cases),
        "words": words,
        "seconds": round(took, 2),
        "words_per_second": round(words / took, 1) if took else 0.0,
        "model": getattr(lm, "name", "none"),
        "model_load_seconds": round(loaded, 2),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20, help="damaged copies for the words/s part (default 20)")
    parser.add_argument("--no-model", action="store_true", help="run the words/s part without a language model")
    parser.add_argument("--skip-cli", action="store_true", help="skip the cold/warm `repair fix` runs")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    opts = parser.parse_args()
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fix-") as tmp:
        if not opts.skip_cli:
            report["fix"] = cli_runs(Path(tmp))
            for name, row in report["fix"].items():  # type: ignore[attr-defined]
                note = f"  (exit {row['exit']}: {row['error']})" if row["exit"] else ""
                print(f"repair fix {name:>4}: {row['seconds']:7.2f} s, peak {row['peak_mib']:7.1f} MiB{note}")
    tp = throughput(opts.copies, not opts.no_model)
    report["throughput"] = tp
    print(
        f"pipeline: {tp['copies']} damaged copies, {tp['words']} words in {tp['seconds']} s = "
        f"{tp['words_per_second']} words/s (model {tp['model']}, loaded in {tp['model_load_seconds']} s), "
        f"peak {tp['peak_mib']} MiB"
    )
    if opts.json:
        opts.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
