"""How many threads torch runs, and at what precision: read from the machine (/proc/stat, /proc/cpuinfo)
and the environment."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

MAX_THREADS = 8
IDLE_SAMPLE_SECONDS = 0.1  # how long to watch the CPUs before choosing a thread count
RETUNE_SECONDS = 2.0  # how often to look again at what other work leaves free
THREAD_ROUNDING = 0.3  # a core counts as free when others take less than 30% of it

# CPU flags of native bfloat16 matrix units: there a bfloat16 model runs 2-3x faster than float32
# (article 000's forward pass 1.48 s -> 0.64 s on 2 cores) for log-probabilities within 0.04 nat
# on average. Elsewhere bfloat16 is emulated and slower, so float32 stays.
BF16_FLAGS = ("amx_bf16", "avx512_bf16")
THREADS_ENV = "OMP_NUM_THREADS"
PRECISION_ENV = "REPAIR_PRECISION"  # "float32" forces full precision


def cpu_times(stat: str, cpus: Iterable[int]) -> tuple[int, int]:
    r"""Idle and total time (jiffies) of the given CPUs, summed, from the text of /proc/stat.

    >>> cpu_times("cpu  9 0 9 9 0\ncpu0 5 0 1 30 2 0 0 0\ncpu1 4 0 8 9 1 0 0 0\n", [0])
    (32, 38)
    """
    wanted = {f"cpu{c}" for c in cpus}
    idle = total = 0
    for line in stat.splitlines():
        name, *fields = line.split()
        if name in wanted:
            values = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
            idle += values[3] + values[4]
            total += sum(values)
    return idle, total


def our_cpus() -> list[int]:
    """The CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return list(range(os.cpu_count() or 1))


def read_cpu_times(cpus: Sequence[int]) -> tuple[int, int] | None:
    """Idle and total jiffies of ``cpus`` so far, or None where /proc/stat cannot be read."""
    try:
        idle, total = cpu_times(Path("/proc/stat").read_text(encoding="ascii"), cpus)
    except (OSError, ValueError, IndexError):
        return None
    return (idle, total) if total else None


def threads_for(cores: int, others: float) -> int:
    """Threads to run when other work keeps ``others`` cores busy: one per core left free, at least one.

    A core only partly taken by others already counts as taken, since each parallel step of
    torch waits for its slowest thread.

    >>> threads_for(2, 0.0), threads_for(2, 0.2), threads_for(2, 0.5), threads_for(2, 3.5)
    (2, 2, 1, 1)
    """
    return max(1, min(cores, MAX_THREADS, int(cores - others + THREAD_ROUNDING)))


def thread_count() -> int:
    """Threads for torch: the cores this process may use, fewer when other work already keeps them busy.

    On a busy machine a thread per core makes every operation wait for the slowest
    thread, which costs several times more than it gains. What is idle is sampled now:
    the load average trails a minute behind, so it still counts a run that just ended.
    """
    cpus = our_cpus()
    before = read_cpu_times(cpus)
    time.sleep(IDLE_SAMPLE_SECONDS)
    after = read_cpu_times(cpus)
    if before is None or after is None or after[1] <= before[1]:
        try:
            return threads_for(len(cpus), os.getloadavg()[0])
        except OSError:
            return threads_for(len(cpus), 0.0)
    busy = 1 - (after[0] - before[0]) / (after[1] - before[1])
    return threads_for(len(cpus), len(cpus) * busy)


def cpu_flags() -> frozenset[str]:
    """The flags of this machine's CPU (empty where /proc/cpuinfo cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def wants_bfloat16(flags: frozenset[str], setting: str | None) -> bool:
    """Whether to run the model in bfloat16: on CPUs with native bfloat16 units, unless set to float32.

    >>> wants_bfloat16(frozenset({"avx2", "amx_bf16"}), None), wants_bfloat16(frozenset({"avx2"}), None)
    (True, False)
    >>> wants_bfloat16(frozenset({"amx_bf16"}), "float32")
    False
    """
    if setting and setting.strip().lower() in ("float32", "fp32", "full"):
        return False
    return any(f in flags for f in BF16_FLAGS)


def model_dtype() -> Any:
    """The torch dtype models run in on this machine (see `BF16_FLAGS`)."""
    import torch

    return torch.bfloat16 if wants_bfloat16(cpu_flags(), os.environ.get(PRECISION_ENV)) else torch.float32


def set_threads(dtype: Any) -> None:
    """Set torch's thread count, unless the user chose one (OMP_NUM_THREADS).

    In bfloat16 the sums of a matrix product come out differently with each thread count, so
    the count is fixed (one per core) to keep the output the same from run to run; float32
    results do not depend on it, and there the count follows what other work leaves free.
    """
    import torch

    if not os.environ.get(THREADS_ENV):
        fixed = dtype != torch.float32
        torch.set_num_threads(min(len(our_cpus()), MAX_THREADS) if fixed else thread_count())


def runs_reduced(model: Any) -> bool:
    """Whether the model's weights are below float32 precision."""
    import torch

    try:
        return bool(next(model.parameters()).dtype != torch.float32)
    except (AttributeError, StopIteration, TypeError):
        return False


class CoreWatch:
    """Keeps torch's thread count at the cores other work leaves free, looked at again every few seconds.

    Other work is what kept the CPUs busy beyond this process's own CPU time since the last look.
    A thread count fixed at load goes badly wrong when other work starts in the middle of a long run.
    """

    def __init__(self, *, fixed: bool = False) -> None:
        self.fixed = fixed  # never retune (a bfloat16 model's results depend on the thread count)
        self.chosen = bool(os.environ.get(THREADS_ENV))  # the user chose the count: read once, at load
        self.paused = False  # set while tasks run together: their threads must keep to one torch thread
        self.cpus = our_cpus()
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.last = self.sample()

    def sample(self) -> tuple[float, float, int, int] | None:
        times = read_cpu_times(self.cpus)
        return None if times is None else (time.monotonic(), time.process_time(), *times)

    def tune(self) -> None:
        """Change the thread count if the free cores changed (never when the user chose it)."""
        import torch

        if self.fixed or self.paused or self.chosen:
            return
        if self.last is not None and time.monotonic() - self.last[0] < RETUNE_SECONDS:
            return
        now, last = self.sample(), self.last
        self.last = now
        if now is None or last is None or now[0] <= last[0]:
            return
        busy = ((now[3] - last[3]) - (now[2] - last[2])) / self.tick
        others = max(0.0, busy - (now[1] - last[1])) / (now[0] - last[0])
        threads = threads_for(len(self.cpus), others)
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
