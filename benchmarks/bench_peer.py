"""The peer row: what a user would pick instead of `repair fix --no-model`, over the same file, side by side.

    python benchmarks/bench_peer.py                  # 5 MB of the bundled texts (bench_big.py's input)
    python benchmarks/bench_peer.py --mb 1 --json peer.json

The peer is ftfy (mojibake) then sacremoses' Moses detokenizer (tokenization artifacts), line by line:
no offsets, no evidence, no duplicates, gaps or strays, so it is the floor of the surface path's cost, not
its equal. Both run here in fresh processes on one core (`repair fix --no-model --workers 1`), each timed
in CPU seconds (user + system, the child's own accounting); words are whitespace-separated words of the
input. Then `repair fix --no-model` again with the machine's cores (`--workers` default) for the wall time.
sacremoses is a benchmark-only dependency (the dev extra): pip install sacremoses.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_big import make_input

PEER = """
import sys
import ftfy
from sacremoses import MosesDetokenizer

detok = MosesDetokenizer(lang="en")
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as out:
    for line in src:
        out.write(detok.detokenize(ftfy.fix_text(line.rstrip("\\n")).split()) + "\\n")
"""


def timed(args: list[str], env: dict[str, str], log: Path) -> dict[str, float]:
    """Run ``args`` to the end: wall seconds, CPU seconds and peak RSS (MB) of the child and the processes it
    waited for (its workers), as the kernel accounts them at the end (wait4)."""
    started = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, use = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{args[:4]} failed ({status}):\n{log.read_text()[-2000:]}")
    cpu = use.ru_utime + use.ru_stime
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_rss_mb": round(use.ru_maxrss / 1024, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=5.0, help="input size (bench_big.py's input)")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        src = Path(tmp) / "big.txt"
        make_input(src, args.mb)
        with src.open(encoding="utf-8") as fh:  # line by line: a forked child starts with this process's memory
            words = sum(len(line.split()) for line in fh)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        runs = {
            "ftfy + sacremoses, 1 core": [sys.executable, "-c", PEER, str(src), str(Path(tmp) / "peer.txt")],
            "repair fix --no-model, 1 worker": [
                sys.executable, "-m", "repair", "fix", str(src), "--no-model", "--workers", "1",
            ],
            "repair fix --no-model, all cores": [sys.executable, "-m", "repair", "fix", str(src), "--no-model"],
        }  # fmt: skip
        for name, command in runs.items():
            figures = timed(command, env, Path(tmp) / "stderr.log")
            row: dict[str, object] = {"run": name, "input_mb": args.mb, "words": words, **figures}
            row["words_per_cpu_s"] = round(words / max(float(row["cpu_s"]), 1e-9))  # type: ignore[arg-type]
            rows.append(row)
            print(json.dumps(row), flush=True)
    peer, ours = rows[0], rows[1]
    ratio = float(ours["cpu_s"]) / max(float(peer["cpu_s"]), 1e-9)  # type: ignore[arg-type]
    print(f"repair fix --no-model costs {ratio:.1f}x the peer's CPU seconds over the same {words:,} words")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
