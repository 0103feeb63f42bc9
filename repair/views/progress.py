"""Progress on stderr: a bar on a terminal, a plain line every few seconds in a log, the same numbers in both.

The stages report counts through `pipeline.Progress` (a stage name, and how many of its
items are done); `text_progress` turns those into a share of one text's work, so a
`Meter` knows the words done, the words per second and the time left whatever runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from repair.pipeline import Progress
from repair.views.estimate import duration

# the share of a text's work done when each stage starts, as the model path spends it (a 64,000-char
# chunk: ~110 CPU s detecting, ~130 proposing); proposing moves on to the next stage's share as its
# suspects are done. Detection reports no counts, so its share is a guess the ETA leans on at first
STAGE_STARTS = {"normalizing": 0.0, "aligning": 0.02, "detecting": 0.05, "proposing": 0.45, "deciding": 0.98}
PLAIN_EVERY_SECONDS = 5.0


def share_done(stage: str, done: int = 0, total: int = 0) -> float:
    """How much of a text's work is behind a run at ``stage``, ``done`` of its ``total`` items finished.

    >>> share_done("aligning"), share_done("proposing", 0, 10), share_done("proposing", 5, 10)
    (0.02, 0.45, 0.715)
    """
    start = STAGE_STARTS.get(stage, 0.0)
    if total <= 0:
        return start
    later = [s for s in STAGE_STARTS.values() if s > start]
    end = min(later) if later else 1.0
    return round(start + (end - start) * min(done, total) / total, 6)


class Meter:
    """Words done of a total, shown as they move: a rich bar on a terminal, else a plain line now and then.

    Off a terminal a line comes every ``every`` seconds even while a stage reports nothing
    (a log then shows the run is alive, and its ETA drifts as the rate falls).
    """

    def __init__(
        self,
        label: str,
        total_words: int,
        console: Any,
        *,
        every: float = PLAIN_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = max(1, total_words)
        self.console = console
        self.every = every
        self.clock = clock
        self.started = clock()
        self.last_line = self.started
        self.done = 0.0
        self.note = ""
        self._bar: Any = None
        self._task: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def __enter__(self) -> Meter:
        if self.console.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn(f"[bold]{self.label}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[line]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total, line="")
        else:
            self._beat = threading.Thread(target=self._heartbeat, daemon=True)
            self._beat.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif exc[0] is None:
            self._say(final=True)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.every):
            self._say_if_due()

    def rate(self) -> float:
        """Words per second so far."""
        return self.done / max(self.clock() - self.started, 1e-9)

    def eta(self) -> float | None:
        """Seconds left at the rate so far; None before anything is done."""
        rate = self.rate()
        return (self.total - self.done) / rate if self.done > 0 and rate > 0 else None

    def status(self) -> str:
        """The numbers, as the plain line and the bar show them: words, words/s, time left, what runs."""
        eta = self.eta()
        parts = [
            f"{min(self.done, self.total):,.0f}/{self.total:,} words",
            f"{self.rate():,.0f} words/s" if self.done else "",
            f"ETA {duration(eta)}" if eta is not None else "ETA –",
            self.note,
        ]
        return ", ".join(p for p in parts if p)

    def update(self, done: float, note: str | None = None) -> None:
        """``done`` words finished in all (never going back); ``note`` says what is running."""
        self.done = max(self.done, min(done, float(self.total)))
        if note is not None:
            self.note = note
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, line=self.status())
        else:
            self._say_if_due()

    def _say_if_due(self) -> None:
        with self._lock:
            if self.clock() - self.last_line >= self.every:
                self._say_locked(final=False)

    def _say(self, *, final: bool = False) -> None:
        with self._lock:
            self._say_locked(final=final)

    def _say_locked(self, *, final: bool) -> None:
        self.last_line = self.clock()
        percent = 100.0 if final else 100.0 * self.done / self.total
        line = f"{self.label}: {percent:3.0f}%, {self.status()}"
        if final:
            line = f"{self.label}: done, {self.total:,} words in {duration(self.clock() - self.started)}"
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)


def _note(stage: str, done: int, total: int) -> str:
    return f"{stage} {done:,}/{total:,} suspects" if total else stage


def text_progress(meter: Meter, words: int) -> Progress:
    """A pipeline callback moving ``meter`` through one text of ``words`` words."""

    def say(stage: str, done: int = 0, total: int = 0, /) -> None:
        meter.update(words * share_done(stage, done, total), _note(stage, done, total))

    return say


def stream_progress(meter: Meter, total_chars: int, chunk_chars: int) -> tuple[Callable[[int, int], None], Progress]:
    """Callbacks moving ``meter`` through a text streamed in chunks: one per finished chunk, one for its stages.

    A chunk's words are guessed from its size in chars (it is about ``chunk_chars``).
    """
    per_char = meter.total / max(1, total_chars)
    at = [0]  # chars of the finished chunks

    def on_chunk(done_chars: int, _total: int) -> None:
        at[0] = done_chars
        meter.update(done_chars * per_char)

    def say(stage: str, done: int = 0, total: int = 0, /) -> None:
        chunk = min(chunk_chars, total_chars - at[0]) * per_char
        meter.update(at[0] * per_char + chunk * share_done(stage, done, total), _note(stage, done, total))

    return on_chunk, say


@contextmanager
def documents_progress(words: int, documents: int, console: Any) -> Iterator[Callable[[int], None]]:
    """A `Meter` through a corpus of ``documents`` holding ``words``: yields the callback told the words of
    each document as it finishes."""
    finished = [0]
    with Meter("repairing", words, console) as meter:

        def advance(doc_words: int) -> None:
            finished[0] += 1
            meter.update(meter.done + doc_words, f"{finished[0]}/{documents} docs")

        yield advance
