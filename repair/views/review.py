"""Accept or reject edits one by one: a small state machine, and the terminal loop that drives it.

Each decision makes a new `ReviewState` (edits are frozen; nothing is changed in
place), and the state remembers the ones before it so ``u`` can undo. The loop
takes its keys from a function and saves through a callback after every
decision, so a test can script the keys and a quit half-way loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from repair.edits import Edit
from repair.views.diffview import kind_style
from repair.views.sidebyside import overlaps

CONTEXT_CHARS = 90
PROMPT = "[a]ccept  [r]eject  [s]kip  [u]ndo  [q]uit"


@dataclass(frozen=True)
class ReviewState:
    """The edits as decided so far and the one under review."""

    source: str
    edits: tuple[Edit, ...]
    queue: tuple[int, ...] = ()  # the edits to ask about, in order (indexes into ``edits``)
    index: int = 0  # position in ``queue``
    history: tuple[tuple[tuple[Edit, ...], int], ...] = ()
    quit: bool = False

    @property
    def done(self) -> bool:
        return self.quit or self.index >= len(self.queue)

    @property
    def at(self) -> int:
        """Index into ``edits`` of the edit under review."""
        return self.queue[self.index]

    @property
    def current(self) -> Edit:
        return self.edits[self.at]

    def _next(self, edits: tuple[Edit, ...]) -> ReviewState:
        return replace(self, edits=edits, index=self.index + 1, history=(*self.history, (self.edits, self.index)))


def start(source: str, edits: Sequence[Edit], kinds: Sequence[str] = ()) -> ReviewState:
    """A review of ``edits`` in text order; with ``kinds``, only edits of those kinds are asked about."""
    ordered = tuple(sorted(edits, key=lambda e: (e.start, e.end, not e.applied)))
    queue = tuple(i for i, e in enumerate(ordered) if not kinds or e.kind in kinds)
    return ReviewState(source, ordered, queue)


def accept(state: ReviewState) -> ReviewState:
    """Apply the current edit; applied edits it overlaps are un-applied, so the output stays well formed.

    >>> s = start("a b", [Edit(0, 3, "a b", "ab", "x", .4, applied=False), Edit(1, 2, " ", "", "y", .9)])
    >>> [e.applied for e in accept(s).edits]
    [True, False]
    """
    chosen = state.current
    edits = tuple(
        replace(e, applied=True)
        if i == state.at
        else (replace(e, applied=False) if e.applied and overlaps(e, chosen) else e)
        for i, e in enumerate(state.edits)
    )
    return state._next(edits)


def reject(state: ReviewState) -> ReviewState:
    """Leave the input's reading where the current edit would change it."""
    edits = tuple(replace(e, applied=False) if i == state.at else e for i, e in enumerate(state.edits))
    return state._next(edits)


def skip(state: ReviewState) -> ReviewState:
    """Keep the current edit as it is and move on."""
    return state._next(state.edits)


def undo(state: ReviewState) -> ReviewState:
    """Go back to before the last decision (nothing to undo: no change)."""
    if not state.history:
        return state
    edits, index = state.history[-1]
    return replace(state, edits=edits, index=index, history=state.history[:-1])


def stop(state: ReviewState) -> ReviewState:
    return replace(state, quit=True)


# what each key does, and whether the edit list must be saved after it
ACTIONS: dict[str, tuple[Callable[[ReviewState], ReviewState], bool]] = {
    "a": (accept, True),
    "r": (reject, True),
    "s": (skip, False),
    "u": (undo, True),
    "q": (stop, False),
}


def visible(text: str) -> str:
    """Text with a space-only change made visible.

    >>> visible("  "), visible("its")
    ('··', 'its')
    """
    return "·" * len(text) if text and text.isspace() else text


def show_edit(state: ReviewState) -> RenderableType:
    """The current edit in its context, with its confidence and evidence."""
    e = state.current
    colour = kind_style(e.kind)
    src = state.source
    left = src[max(0, e.start - CONTEXT_CHARS) : e.start]
    right = src[e.end : e.end + CONTEXT_CHARS]
    line = Text("…" if e.start > CONTEXT_CHARS else "")
    line.append(left)
    line.append(visible(e.before) or "‸", style=f"bold {colour} strike" if e.before else f"bold {colour}")
    line.append("→", style="dim")
    line.append(visible(e.after) or "∅", style="bold reverse green" if e.after.strip() else "bold green")
    line.append(right)
    line.append("…" if e.end + CONTEXT_CHARS < len(src) else "")
    head = Text.assemble(
        (f"edit {state.index + 1} of {len(state.queue)}  ", "bold"),
        (e.kind, f"bold {colour}"),
        f"  confidence {e.confidence:.2f}  ",
        ("applied" if e.applied else "not applied", "green" if e.applied else "yellow"),
        f"  chars {e.start}–{e.end}",
    )
    change = Text.assemble((repr(e.before), "red"), " → ", (repr(e.after), "green"))
    evidence = Text()
    for ev in e.evidence:
        evidence.append(f"• {ev.source}", style="cyan")
        if ev.detail:
            evidence.append(f" {ev.detail}")
        if ev.score is not None:
            evidence.append(f"  score {ev.score:.3f}", style="dim")
        if ev.span is not None:
            evidence.append(f"  span {ev.span[0]}–{ev.span[1]}", style="dim")
        if ev.candidates:
            evidence.append("\n    " + ", ".join(f"{t!r} {s:.2f}" for t, s in ev.candidates[:5]), style="dim")
        evidence.append("\n")
    if not e.evidence:
        evidence.append("no evidence recorded", style="dim")
    evidence.rstrip()
    return Panel(Group(line, Text(), change, evidence), title=head, title_align="left")


def run_review(
    state: ReviewState,
    read_key: Callable[[], str],
    show: Callable[[RenderableType], None],
    save: Callable[[ReviewState], None],
) -> ReviewState:
    """Ask about each edit until the end or ``q``; ``save`` runs after every accept, reject and undo."""
    while not state.done:
        show(show_edit(state))
        show(Text(PROMPT, style="bold"))
        key = read_key().strip().lower()[:1]
        if key not in ACTIONS:
            show(Text(f"unknown key {key!r}: press one of a, r, s, u, q", style="yellow"))
            continue
        action, changes = ACTIONS[key]
        if key == "u" and not state.history:
            show(Text("nothing to undo", style="yellow"))
            continue
        state = action(state)
        if changes:
            save(state)
    return state
