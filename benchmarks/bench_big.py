"""A 50 MB input through `repair fix`: time, peak memory, and that the layout survives.

    python benchmarks/bench_big.py                 # 2, 5 and 50 MB, --no-model, no references, all cores
    REPAIR_WORKERS=1 python benchmarks/bench_big.py --mb 50    # one process
    python benchmarks/bench_big.py --mb 50 --refs  # with the four other outlets as references
    python benchmarks/bench_big.py --mb 5 --one-line            # one 5 MB line, no line end at all
    OMP_NUM_THREADS=1 python benchmarks/bench_big.py --mb 50 --model --for 120
        # with the model: stopped (SIGINT) after 120 s of repair; the projected time is
        # the time so far plus the ETA of the last progress line

The input is the bundled example's texts repeated, paragraphs apart (or spaces apart,
with --one-line). Each run is a fresh process running the real `repair fix` command (the
streamed path big inputs take), so the numbers are the pipeline's own. Peak memory is the
child's maximum resident set; if the path streams, it stays about the same whatever the
input's size (2 MB is under the streaming threshold: read whole, for comparison). Its
stderr is not a terminal, so it gets the plain progress lines, one every few seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
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
sys.argv = ["repair", "fix", *sys.argv[1:]]
try:
    cli.main()
finally:
    with open(os.environ["REPAIR_PEAK_FILE"], "w") as fh:
        use = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the --workers processes, once they have ended
        cpu = use.ru_utime + use.ru_stime + kids.ru_utime + kids.ru_stime
        fh.write(f"{use.ru_maxrss} {cpu} {kids.ru_maxrss}")
"""


PROGRESS_RE = re.compile(r"^repair: +(\d+)%, ([\d,]+)/([\d,]+) words, ([\d,]+) words/s, ETA ([^,]+)", re.M)
UNITS = {"s": 1, "min": 60, "hours": 3600, "days": 86_400}


def make_input(path: Path, megabytes: float, *, one_line: bool = False) -> int:
    """Write the example's texts again and again, a blank line apart, up to ``megabytes``; return the bytes."""
    seeds = [p.read_text(encoding="utf-8").strip() for p in sorted(EXAMPLE.glob("*.txt"))]
    if one_line:
        seeds = [" ".join(s.split()) for s in seeds]
    sep = " " if one_line else "\n\n"
    block = (sep.join(seeds) + sep).encode("utf-8")
    target = int(megabytes * 1024 * 1024)
    with path.open("wb") as fh:
        written = 0
        while written < target:
            fh.write(block)
            written += len(block)
    return written


def seconds_of(eta: str) -> float:
    """The seconds of a progress line's ETA ("42 s", "3 min", "2.0 hours", "2.3 days")."""
    number, unit = eta.split()
    return float(number) * UNITS[unit]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process so far (from /proc: Linux only)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_with_model(path: Path, refs: list[Path], run_for: float, cap: float = 3600) -> dict[str, float | int | str]:
    """`repair fix` with the model, interrupted after ``run_for`` s of repair: the last ETA and peak memory.

    The clock starts at the first progress line (the model is loaded); if no line has an
    ETA yet after ``run_for`` s (nothing finished: a loaded machine), it runs on until one has.
    """
    args = [str(path)]
    for r in refs:
        args += ["--ref", str(r)]
    peak_file = path.with_suffix(".peak")
    env = {**os.environ, "REPAIR_PEAK_FILE": str(peak_file)}
    log = path.with_suffix(".log")
    with log.open("w") as err:
        child = subprocess.Popen([sys.executable, "-c", CHILD, *args], stderr=err, env=env)
        started = time.perf_counter()
        while "repair:" not in log.read_text() and child.poll() is None:  # the model is loaded
            time.sleep(0.5)
        repair_started = time.perf_counter()
        cpu_at_start = cpu_seconds(child.pid)
        while child.poll() is None:
            ran = time.perf_counter() - repair_started
            if (ran >= run_for and PROGRESS_RE.search(log.read_text())) or ran > cap:
                break
            time.sleep(1)
        cpu_of_repair = cpu_seconds(child.pid) - cpu_at_start
        ran = time.perf_counter() - repair_started
        child.send_signal(signal.SIGINT)
        child.wait()
    lines = PROGRESS_RE.findall(log.read_text())
    if not lines:
        raise SystemExit(f"no progress line with an ETA in {ran:.0f} s:\n{log.read_text()[-3000:]}")
    percent, done, total, rate, eta = lines[-1]
    words_done, words = int(done.replace(",", "")), int(total.replace(",", ""))
    peak_kb, _cpu, _workers_kb = peak_file.read_text().split()
    return {
        "input_mb": round(path.stat().st_size / 2**20, 1),
        "model_load_seconds": round(repair_started - started, 1),
        "repair_seconds": round(ran, 1),
        "repair_cpu_seconds": round(cpu_of_repair, 1),
        "percent_done": int(percent),
        "words_done": words_done,
        "words": words,
        "words_per_s": int(rate.replace(",", "")),
        "words_per_cpu_s": round(words_done / max(cpu_of_repair, 1e-9), 1),
        "eta": eta,
        "projected_hours": round((ran + seconds_of(eta)) / 3600, 1),
        "projected_cpu_hours": round(words / max(words_done, 1) * cpu_of_repair / 3600, 1),
        "peak_rss_mb": round(int(peak_kb) / 1024, 1),
        "exit_code": child.returncode,
        "outputs_left": ", ".join(p.name for p in path.parent.iterdir() if ".repaired" in p.name or ".edits" in p.name),
    }


def run_fix(path: Path, refs: list[Path]) -> dict[str, float | int | str]:
    """Run `repair fix --no-model` on ``path`` in a child process; time it and read its peak memory."""
    args = [str(path), "--no-model"]
    for r in refs:
        args += ["--ref", str(r)]
    peak_file = path.with_suffix(".peak")
    started = time.perf_counter()
    env = {**os.environ, "REPAIR_PEAK_FILE": str(peak_file)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    lines = [(time.perf_counter(), line) for line in proc.stderr]  # each progress line with when it came
    proc.wait()
    wall = time.perf_counter() - started
    stderr = "".join(line for _, line in lines)
    if proc.returncode != 0:
        raise SystemExit(f"repair fix failed ({proc.returncode}):\n{stderr[-3000:]}")
    peak_kb, cpu, worker_peak_kb = peak_file.read_text().split()
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
        "worker_peak_rss_mb": round(int(worker_peak_kb) / 1024, 1),  # the largest worker process's
        "workers": os.environ.get("REPAIR_WORKERS", "the machine's cores"),
        "edits_applied": applied,
        "edits_held": held,
        "line_ends_kept": data.count(b"\n") == repaired.count(b"\n") and data.count(b"\r") == repaired.count(b"\r"),
        "report_written": stem.with_name(stem.name + ".report.html").exists(),
        "stderr_tail": stderr.strip().splitlines()[-1] if stderr.strip() else "",
        "words_per_cpu_s": round(words_of(lines) / max(float(cpu), 1e-9)),
        "eta_checks": eta_checks(lines, started + wall),
    }


def words_of(lines: list[tuple[float, str]]) -> int:
    """The run's words, as its progress lines count them (0 without a progress line)."""
    found = [PROGRESS_RE.search(line) for _, line in lines]
    return max((int(m.group(3).replace(",", "")) for m in found if m), default=0)


def eta_checks(lines: list[tuple[float, str]], ended: float) -> str:
    """What the progress lines' ETA said at about a quarter, half and three quarters, against the time that was
    really left then: "25%: ETA 60 s, took 58 s; ..."."""
    said = []
    for at, line in lines:
        m = PROGRESS_RE.search(line)
        if m:
            said.append((int(m.group(1)), seconds_of(m.group(5)), ended - at))
    out = []
    for mark in (25, 50, 75):
        near = [x for x in said if x[0] >= mark]
        if near:
            percent, eta, left = near[0]
            out.append(f"{percent}%: ETA {eta:.0f} s, took {left:.0f} s")
    return "; ".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, nargs="+", default=[2, 5, 50], help="input sizes (2 MB: read whole)")
    ap.add_argument("--refs", action="store_true", help="give the four other outlets as references")
    ap.add_argument("--one-line", action="store_true", help="the input is one line, no line end at all")
    ap.add_argument("--model", action="store_true", help="with the embedded model, stopped after --for seconds")
    ap.add_argument("--for", dest="run_for", type=float, default=120.0, help="seconds of repair with --model")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    refs = sorted(EXAMPLE.glob("00[1-9]_*.txt")) if args.refs else []
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-big-") as tmp:
        for mb in args.mb:
            path = Path(tmp) / f"big-{mb:g}mb.txt"
            make_input(path, mb, one_line=args.one_line)
            result = run_with_model(path, refs, args.run_for) if args.model else run_fix(path, refs)
            result["one_line"] = args.one_line
            result["refs"] = len(refs)
            results.append(result)
            print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
