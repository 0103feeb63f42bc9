"""Nightly fuzzing: the invariants of tests/test_invariants.py over many more examples.

    python benchmarks/fuzz.py                      # 10,000 examples without a model, 1,000 with the fake one
    python benchmarks/fuzz.py --examples 50000 --seed 7 --json fuzz.json
    python benchmarks/fuzz.py --examples 0 --lm-examples 0 --cli-examples 10000   # `repair fix` on random bytes
    python benchmarks/fuzz.py --examples 0 --lm-examples 0 --read-examples 5000 --path-examples 2000

The --cli examples are files (random bytes, BOMs, mixed line ends, NUL, invalid UTF-8, lines
of up to 20,000 chars) run through `repair fix` end to end with the fake model, as
tests/test_cli_fuzz.py does: exit 0 or 2, no traceback, inputs unchanged, and with
``--min-confidence 1.0`` the input back byte for byte. It counts how many were refused.

The --read examples are edit lists and decisions files, valid ones mangled (a node replaced, dropped,
wrapped or made NaN; cut short; nested 100,000 deep), read by report, diff, export, review and
review --apply; the --path examples are file names of markup, terminal control sequences, odd
characters and undecodable bytes, some too long, given as fix's input, output and reference and as
batch's folder and output folder. Each must be used or refused in one line (exit 2), with no
traceback, no control sequence reaching the terminal, and its inputs unchanged.

Reports how many examples ran, the slowest input and its time; exits 1 with the
shrunk failing input if an invariant breaks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))  # this checkout's repair, not another one installed

from test_cli_fuzz import CliCase, cli_cases, run_case, run_path_cases, run_read_cases  # noqa: E402
from test_invariants import FakeLM, check_invariants, damaged_seed, text_and_refs  # noqa: E402


@dataclass
class Tally:
    """How many examples ran, and the slowest."""

    runs: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    slowest_case: tuple[str, list[tuple[str, str]]] = ("", [])
    chars: list[int] = field(default_factory=list)

    def add(self, case: tuple[str, list[tuple[str, str]]], took: float) -> None:
        self.runs += 1
        self.seconds += took
        self.chars.append(len(case[0]))
        if took > self.slowest:
            self.slowest, self.slowest_case = took, case


def long_run(examples: int) -> settings:
    """Hypothesis settings for a long run: no deadline, no example database, the shrunk failure printed."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def fuzz(examples: int, use_lm: bool, rng_seed: int) -> Tally:
    """Run ``examples`` generated cases through every invariant; raise on the first (shrunk) failure."""
    tally = Tally()
    lm = FakeLM() if use_lm else None

    @seed(rng_seed)
    @long_run(examples)
    @given(text_and_refs(60) | text_and_refs(400) | damaged_seed())  # short, long, and the real article
    def run(case: tuple[str, list[tuple[str, str]]]) -> None:
        started = time.perf_counter()
        check_invariants(case[0], case[1], lm)
        tally.add(case, time.perf_counter() - started)

    run()
    return tally


def fuzz_cli(examples: int, rng_seed: int, long_line: int = 20_000) -> Counter[str]:
    """Run ``examples`` generated files through `repair fix`; count how each ended (refused, repaired; streamed)."""
    ends: Counter[str] = Counter()

    @seed(rng_seed)
    @long_run(examples)
    @given(cli_cases(long_line))
    def run(case: CliCase) -> None:
        ends[run_case(case) + (" (streamed)" if case.streamed else "")] += 1

    run()
    return ends


def describe(case: tuple[str, list[tuple[str, str]]]) -> str:
    text, refs = case
    head = repr(text[:120]) + ("…" if len(text) > 120 else "")
    sizes = "+".join(str(len(r)) for _, r in refs) or "0"
    return f"{len(text)} chars, {len(refs)} refs ({sizes} chars): {head}"


def report_failure(label: str, exc: Exception) -> None:
    """The failing invariant, where it broke, and the shrunk example hypothesis found."""
    print(f"FAILED ({label}):", file=sys.stderr)
    for one in exc.exceptions if isinstance(exc, ExceptionGroup) else [exc]:
        print(f"  {type(one).__name__}: {one}", file=sys.stderr)
        tb = traceback.extract_tb(one.__traceback__)
        print(f"    at {tb[-1].filename}:{tb[-1].lineno}", file=sys.stderr)
        for note in getattr(one, "__notes__", []):  # hypothesis puts the shrunk example here
            print("    " + note.replace("\n", "\n    "), file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=10_000, help="examples without a model")
    ap.add_argument("--lm-examples", type=int, default=1_000, help="examples with the fake language model")
    ap.add_argument("--cli-examples", type=int, default=0, help="files run through `repair fix` (try 10000)")
    ap.add_argument("--long-line", type=int, default=20_000, help="--cli: the longest line a file may hold")
    ap.add_argument("--read-examples", type=int, default=0, help="mangled edit lists and decisions files (try 5000)")
    ap.add_argument("--path-examples", type=int, default=0, help="hostile file names (try 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the summary here")
    args = ap.parse_args()
    summary: dict[str, object] = {"seed": args.seed}
    for label, n, use_lm in (("no model", args.examples, False), ("fake model", args.lm_examples, True)):
        if n <= 0:
            continue
        started = time.perf_counter()
        try:
            tally = fuzz(n, use_lm, args.seed)
        except Exception as exc:
            report_failure(label, exc)
            return 1
        wall = time.perf_counter() - started
        mean_chars = sum(tally.chars) / max(1, len(tally.chars))
        print(
            f"{label}: {tally.runs} examples passed in {wall:.1f} s "
            f"(mean input {mean_chars:.0f} chars, {1000 * tally.seconds / max(1, tally.runs):.1f} ms each); "
            f"slowest {tally.slowest:.2f} s on {describe(tally.slowest_case)}"
        )
        summary[label] = {
            "examples": tally.runs,
            "seconds": round(wall, 2),
            "slowest_seconds": round(tally.slowest, 3),
            "slowest_input_chars": len(tally.slowest_case[0]),
            "slowest_input_head": tally.slowest_case[0][:200],
        }
    if args.cli_examples > 0:
        started = time.perf_counter()
        try:
            ends = fuzz_cli(args.cli_examples, args.seed, args.long_line)
        except Exception as exc:
            report_failure("repair fix", exc)
            return 1
        total = sum(ends.values())
        counts = ", ".join(f"{n} {what}" for what, n in sorted(ends.items()))
        print(f"repair fix: {total} files passed in {time.perf_counter() - started:.1f} s: {counts}")
        summary["repair fix"] = {"examples": total, **dict(ends)}
    for label, n, fuzz_files in (
        ("edit lists and decisions files", args.read_examples, run_read_cases),
        ("paths", args.path_examples, run_path_cases),
    ):
        if n <= 0:
            continue
        started = time.perf_counter()
        try:
            ends = fuzz_files(n, args.seed)
        except Exception as exc:
            report_failure(label, exc)
            return 1
        counts = ", ".join(f"{k} {what}" for what, k in sorted(ends.items()))
        print(f"{label}: {sum(ends.values())} cases passed in {time.perf_counter() - started:.1f} s: {counts}")
        summary[label] = {"examples": sum(ends.values()), **dict(ends)}
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
