"""A 50 MB input through `repair fix`: time, peak memory, and that the layout survives.

    python benchmarks/bench_big.py                 # 2, 5 and 50 MB, no model, no references
    python benchmarks/bench_big.py --mb 50 --refs  # with the four other outlets as references

The input is the bundled example's texts repeated, paragraphs apart. Each run is a
fresh process running the real `repair fix` command (the streamed path big inputs
take) with the model replaced by none, so the numbers are the pipeline's own. Peak
memory is the child's maximum resident set; if the path streams, it stays about
the same whatever the input's size (2 MB is under the streaming threshold: read whole,
for comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ap-syria"

CHILD = """
import os, resource, sys
import repair.cli as cli
cli.load_lm = lambda spec: None
sys.argv = ["repair", "fix", *sys.argv[1:]]
try:
    cli.main()
finally:
    with open(os.environ["REPAIR_PEAK_FILE"], "w") as fh:
        use = resource.getrusage(resource.RUSAGE_SELF)
        fh.write(f"{use.ru_maxrss} {use.ru_utime + use.ru_stime}")
"""


def make_input(path: Path, megabytes: float) -> int:
    """Write the example's texts again and again, a blank line apart, up to ``megabytes``; return the bytes."""
    seeds = [p.read_text(encoding="utf-8").strip() for p in sorted(EXAMPLE.glob("*.txt"))]
    block = ("\n\n".join(seeds) + "\n\n").encode("utf-8")
    target = int(megabytes * 1024 * 1024)
    with path.open("wb") as fh:
        written = 0
        while written < target:
            fh.write(block)
            written += len(block)
    return written


def run_fix(path: Path, refs: list[Path]) -> dict[str, float | int | str]:
    """Run `repair fix` on ``path`` in a child process; time it and read its peak memory."""
    args = [str(path)]
    for r in refs:
        args += ["--ref", str(r)]
    peak_file = path.with_suffix(".peak")
    started = time.perf_counter()
    env = {**os.environ, "REPAIR_PEAK_FILE": str(peak_file)}
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"repair fix failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    peak_kb, cpu = peak_file.read_text().split()
    stem = path.with_suffix("")
    out = stem.with_name(stem.name + ".repaired.txt")
    edits = stem.with_name(stem.name + ".edits.json")
    data, repaired = path.read_bytes(), out.read_bytes()
    applied = held = 0
    for e in json.loads(edits.read_text(encoding="utf-8"))["edits"]:
        applied += bool(e["applied"])
        held += not e["applied"]
    return {
        "input_mb": round(len(data) / 2**20, 1),
        "seconds": round(wall, 1),
        "cpu_seconds": round(float(cpu), 1),  # the wall time includes waiting for a shared CPU
        "mb_per_cpu_min": round(len(data) / 2**20 / float(cpu) * 60, 2),
        "peak_rss_mb": round(int(peak_kb) / 1024, 1),
        "edits_applied": applied,
        "edits_held": held,
        "line_ends_kept": data.count(b"\n") == repaired.count(b"\n") and data.count(b"\r") == repaired.count(b"\r"),
        "report_written": stem.with_name(stem.name + ".report.html").exists(),
        "stderr_tail": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, nargs="+", default=[2, 5, 50], help="input sizes (2 MB: read whole)")
    ap.add_argument("--refs", action="store_true", help="give the four other outlets as references")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    refs = sorted(EXAMPLE.glob("00[1-9]_*.txt")) if args.refs else []
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-big-") as tmp:
        for mb in args.mb:
            path = Path(tmp) / f"big-{mb:g}mb.txt"
            make_input(path, mb)
            result = run_fix(path, refs)
            result["refs"] = len(refs)
            results.append(result)
            print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
