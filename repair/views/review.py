"""Accept, reject or choose an alternative edit by edit: a small state machine, and the terminal loop that drives it.

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
from repair.files.decisions import Decision, apply_decisions, decide_edit, key_of
from repair.views.diffview import kind_style
from repair.views.terminal import printable, text_shown

CONTEXT_CHARS = 90
PROMPT = "[a]ccept  [r]eject  [1-9] choose  [t]ype a replacement  [s]kip  [u]ndo  [q]uit"
QUESTION_PROMPT = "[1-9] choose  [t]ype a replacement  [r] keep the text  [s]kip  [u]ndo  [q]uit"


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


def start(
    source: str, edits: Sequence[Edit], kinds: Sequence[str] = (), decisions: Sequence[Decision] = ()
) -> ReviewState:
    """A review of ``edits`` in text order; with ``kinds``, only edits of those kinds are asked about.

    ``decisions`` made before (a saved review) are applied first and the review goes on
    from the first edit they leave undecided.
    """
    ordered = apply_decisions(sorted(edits, key=lambda e: (e.start, e.end, not e.applied)), decisions)
    queue = tuple(i for i, e in enumerate(ordered) if not kinds or e.kind in kinds)
    done = {d.key for d in decisions}
    index = next((n for n, i in enumerate(queue) if key_of(ordered[i]) not in done), len(queue))
    return ReviewState(source, ordered, queue, index)


def accept(state: ReviewState) -> ReviewState:
    """Apply the current edit; applied edits it overlaps are un-applied, so the output stays well formed.

    >>> s = start("a b", [Edit(0, 3, "a b", "ab", "x", .4, applied=False), Edit(1, 2, " ", "", "y", .9)])
    >>> [e.applied for e in accept(s).edits]
    [True, False]
    """
    return state._next(decide_edit(state.edits, state.at, "accepted"))


def reject(state: ReviewState) -> ReviewState:
    """Leave the input's reading where the current edit would change it."""
    return state._next(decide_edit(state.edits, state.at, "rejected"))


def choose(state: ReviewState, text: str) -> ReviewState:
    """Apply the current edit with ``text`` (an alternative, or the reviewer's own) in place of its proposal.

    >>> s = start("Assad", [Edit(0, 5, "Assad", "influence", "substitution", .1, applied=False,
    ...                          alternatives=(("its", .5), ("influence", .1)))])
    >>> e = choose(s, s.current.alternatives[0][0]).edits[0]
    >>> e.after, e.applied, e.decided_by
    ('its', True, 'chosen')
    """
    return state._next(decide_edit(state.edits, state.at, "chosen", text))


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


# what each key does (the digits and ``t`` choose, see `run_review`)
ACTIONS: dict[str, Callable[[ReviewState], ReviewState]] = {
    "a": accept,
    "r": reject,
    "s": skip,
    "u": undo,
    "q": stop,
}


def seen(state: ReviewState) -> tuple[int, ...]:
    """Indexes into ``edits`` of the edits the reviewer has passed, decided or skipped."""
    return state.queue[: state.index]


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
    line.append(text_shown(left))
    line.append(text_shown(visible(e.before)) or "‸", style=f"bold {colour} strike" if e.before else f"bold {colour}")
    if e.question:
        line.append("?", style=f"bold {colour}")
    else:
        line.append("→", style="dim")
        after = text_shown(visible(e.after)) or "∅"
        line.append(after, style="bold reverse green" if e.after.strip() else "bold green")
    line.append(text_shown(right))
    line.append("…" if e.end + CONTEXT_CHARS < len(src) else "")
    head = Text.assemble(
        (f"edit {state.index + 1} of {len(state.queue)}  ", "bold"),
        (printable(e.kind), f"bold {colour}"),
        ("  question: no fix beat the text" if e.question else f"  confidence {e.confidence:.2f}  "),
        ("" if e.question else (e.decided_by, "green" if e.applied else "yellow")),
        f"  chars {e.start}–{e.end}",
    )
    if e.question:
        change = Text.assemble(("is ", "bold"), (repr(e.before), "yellow"), (" right?", "bold"))
    else:
        change = Text.assemble((repr(e.before), "red"), " → ", (repr(e.after), "green"))
    if e.alternatives:
        change.append("\n")
        for k, (text, share) in enumerate(e.alternatives, 1):
            change.append(f"  {k} ", style="bold cyan")
            change.append(repr(text), style="green" if text == e.after and not e.question else "")
            change.append(f" {share:.2f}", style="dim")
    evidence = Text()
    for ev in e.evidence:
        evidence.append(f"• {printable(ev.source)}", style="cyan")
        if ev.detail:
            evidence.append(f" {printable(ev.detail)}")
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
    read_text: Callable[[], str | None] | None = None,
) -> ReviewState:
    """Ask about each edit until the end or ``q``; ``save`` runs after every decision, skip and undo.

    A digit picks that alternative, ``t`` asks ``read_text`` (default ``read_key``) for a replacement; None
    from it (the end of the input) quits with the edit undecided, as ``q`` does.
    """
    ask_text = read_text or read_key
    while not state.done:
        show(show_edit(state))
        show(Text(QUESTION_PROMPT if state.current.question else PROMPT, style="bold"))
        key = read_key().strip().lower()[:1]
        alternatives = state.current.alternatives
        if key.isdigit() and 1 <= int(key) <= len(alternatives):
            state = choose(state, alternatives[int(key) - 1][0])
        elif key == "t":
            show(Text("replacement (the whole span; empty to delete it):", style="bold"))
            typed = ask_text()
            if typed is None:
                return stop(state)
            state = choose(state, typed.rstrip("\r\n"))
        elif key == "a" and state.current.question:
            show(
                Text(
                    "a question proposes no change: pick an alternative, type one, or r to keep the text",
                    style="yellow",
                )
            )
            continue
        elif key in ACTIONS:
            if key == "u" and not state.history:
                show(Text("nothing to undo", style="yellow"))
                continue
            state = ACTIONS[key](state)
        else:
            digits = f", 1-{len(alternatives)}" if alternatives else ""
            show(Text(f"unknown key {key!r}: press one of a, r, s, t, u, q{digits}", style="yellow"))
            continue
        if key != "q":
            save(state)
    return state
