"""The draft search of the causal model: fillers for a gap drafted token by token from the left context, the
best few scored with the right context (`CausalLM.propose`).

A causal model cannot see the right context while generating: it drafts the best first words
after the left context and extends each to the words asked by its `DraftSettings.grow_branch`
likeliest next tokens, keeping as many drafts as it started with. The step that ends a draft
also gives the chance of the token after the gap, which cuts the drafts to the best few at no
cost; only those are scored with the next words of the right context, in the same packed pass
as any draft still finishing its last word. Each draft is in one `DraftState` at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

from repair.lm.base import PROPOSE_STARTS
from repair.lm.context import DocumentWindows
from repair.lm.engine import TOGETHER_TASKS, Engine
from repair.lm.memo import LRU
from repair.lm.prefixes import Prefixes

# next-token distributions of drafts kept: propose() for one and two words share the first step
STEP_MEMO = 4 * TOGETHER_TASKS
NEW_WORD = re.compile(r"^ (?!_)\w[\w'’-]*$")  # a vocabulary piece that starts a word
WORD_PIECE = re.compile(r"^[\w'’-]+$")  # ...and one that goes on with a word

Tokens = tuple[int, ...]
Steps = LRU[tuple[Tokens, Tokens], "torch.Tensor"]  # (left context, draft) -> the next token's log-distribution
Rests = LRU[tuple[Tokens, Tokens], tuple[float, ...]]  # (left context, continuation) -> its tokens' log-probabilities


class DraftState(Enum):
    """What a draft needs next."""

    GROW = "grow"  # fewer words than asked: it may only extend words
    CHECK = "check"  # its words are there, but its last word may go on
    ENDED = "ended"  # complete; ``ahead`` is the log-probability of the token after the gap
    SPEC = "spec"  # to be scored with the right context on the guess that its last word is complete
    SCORED = "scored"  # ``score`` is its score()


DRAFTING = (DraftState.GROW, DraftState.CHECK)


@dataclass(frozen=True)
class DraftSettings:
    """The numbers of the draft search."""

    # Drafts start from the first tokens that hold starts_mass of the next-token mass, at least min_starts (or
    # the k asked for) and at most max_starts of them: a peaked distribution (a function word is due) needs few
    # drafts, a flat one (a content word) many.
    min_starts: int = PROPOSE_STARTS
    max_starts: int = 16
    starts_mass: float = 0.9
    # Next tokens a draft of several words branches into while it grows (the drafts kept to the number of starts):
    # 1 -> 3 put 2-3-word originals among the candidates for 24% of the flagged, not 16% (held-out seed 3), for
    # 4% more model tokens.
    grow_branch: int = 3
    # Rounds after the last word is drafted: one scores the drafts (a word may grow one piece meanwhile);
    # each further round lets a longer word grow a piece more, for a whole forward pass.
    rounds: int = 1


@dataclass(frozen=True)
class Draft:
    """A filler being drafted: its tokens, their log-probabilities, how many words they start, and its state."""

    tokens: Tokens
    lps: tuple[float, ...]
    words: int
    state: DraftState
    ahead: float = 0.0
    score: float = 0.0

    def extend(self, token: int, lp: float, new_word: bool, state: DraftState) -> Draft:
        """The draft with one more token."""
        return replace(
            self, tokens=(*self.tokens, token), lps=(*self.lps, lp), words=self.words + int(new_word), state=state
        )


def word_masks(tokenizer: Any, vocabulary: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks over the model's ``vocabulary``: tokens that start a new word, and tokens that continue one."""
    import torch

    pieces = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
    pieces = (pieces + [""] * vocabulary)[:vocabulary]
    new = torch.tensor([bool(NEW_WORD.match(p)) for p in pieces])
    return new, torch.tensor([bool(WORD_PIECE.match(p)) for p in pieces])


def first_tokens(lp: torch.Tensor, k: int, settings: DraftSettings) -> Any:
    """The first tokens worth drafting from the log-distribution ``lp`` (-inf where not allowed): as many of the
    likeliest as hold ``starts_mass`` of the allowed mass, between ``min_starts`` (or k) and ``max_starts``.

    >>> import torch
    >>> len(first_tokens(torch.log_softmax(torch.arange(200.0), 0), 1, DraftSettings()).indices)
    16
    """
    import torch

    least = max(k, settings.min_starts)
    top = torch.topk(lp, min(max(least, settings.max_starts), lp.shape[0]))
    share = torch.exp(top.values - torch.logsumexp(lp, 0)).cumsum(0)
    wanted = int((share < settings.starts_mass).sum()) + 1
    n = min(max(least, wanted), len(top.values))
    return torch.return_types.topk((top.values[:n], top.indices[:n]))


def likeliest(drafts: list[Draft], n: int) -> list[Draft]:
    """At most ``n`` drafts still being drafted (the likeliest by their own log-probability), and all others:
    branching words must not multiply the drafts a step reads."""
    live = [d for d in drafts if d.state in DRAFTING]
    if len(live) <= n:
        return drafts
    chosen = {id(d) for d in sorted(live, key=lambda d: -sum(d.lps))[:n]}
    return [d for d in drafts if d.state not in DRAFTING or id(d) in chosen]


class DraftSearch:
    """One gap's search, on the model's ``engine`` and left-context ``prefixes``, remembering the steps of drafts
    (``steps``) and the continuations it scores (``rests``, shared with score()); ``masks`` are `word_masks`."""

    def __init__(
        self,
        engine: Engine,
        prefixes: Prefixes,
        steps: Steps,
        rests: Rests,
        masks: tuple[torch.Tensor, torch.Tensor],
        settings: DraftSettings,
        windows: DocumentWindows | None,
    ) -> None:
        self.engine, self.prefixes, self.steps, self.rests = engine, prefixes, steps, rests
        self.new, self.cont = masks
        self.settings = settings
        self.windows = windows

    def run(self, prefix: list[int], first: torch.Tensor, tail: Tokens, n_words: int, k: int) -> list[Draft]:
        """The scored drafts of about ``n_words`` words after ``prefix``, from the next-token log-distribution
        ``first`` (-inf where a draft may not start), scored with the right context's tokens ``tail``."""
        best = first_tokens(first, k, self.settings)
        start = DraftState.CHECK if n_words == 1 else DraftState.GROW
        drafts = [
            Draft((int(t),), (float(v),), 1, start)
            for t, v in zip(best.indices, best.values, strict=True)
            if v > float("-inf")
        ]
        for step in range(n_words + self.settings.rounds):
            if step >= n_words:  # drafts still unsure where their words end are scored as they are, or dropped
                drafts = [
                    replace(d, state=DraftState.SPEC) if d.state == DraftState.CHECK else d
                    for d in drafts
                    if d.state != DraftState.GROW
                ]
            probe = [d for d in drafts if d.state in DRAFTING]
            score: list[Draft] = []
            if not probe:  # every draft has its words: score the look-ahead's best and those still growing
                ended = sorted(
                    (d for d in drafts if d.state == DraftState.ENDED), key=lambda d: -(sum(d.lps) + d.ahead)
                )
                score = ended[:k] + [d for d in drafts if d.state == DraftState.SPEC]
                if not score:
                    break
            if score:
                kept = [d for d in drafts if d.state == DraftState.SCORED]
            else:
                kept = [d for d in drafts if d not in probe]
            drafts = kept + likeliest(self.advance(prefix, probe, score, tail, n_words), len(best.indices))
        return [d for d in drafts if d.state == DraftState.SCORED]

    def advance(
        self, prefix: list[int], probe: list[Draft], score: list[Draft], tail: Tokens, n_words: int
    ) -> list[Draft]:
        """One step for every draft in one packed pass: the next token of those being probed; for those being
        scored, the right context's log-probability, or their next token if their last word goes on."""
        import torch

        key = tuple(prefix)
        dists: dict[Tokens, torch.Tensor] = {}
        nexts = torch.zeros(0)  # nothing to compute when every probe is remembered and none is scored
        inner: list[list[float]] = []
        fresh = list(dict.fromkeys(d.tokens for d in probe if (key, d.tokens) not in self.steps))
        for d in probe:
            if d.tokens not in fresh:
                dists[d.tokens] = self.steps.peek((key, d.tokens))
        segments = [list(t) for t in fresh] + [[*d.tokens, *tail] for d in score]
        if segments:
            cache, _ = self.prefixes.state(prefix, self.windows)
            hidden, _ = self.engine.packed_pass(segments, cache, len(prefix))
            starts = [sum(len(s) for s in segments[:i]) for i in range(len(segments))]
            drafted = [len(t) for t in fresh] + [len(d.tokens) for d in score]
            # Only the scored drafts need the right context's log-probabilities; every draft needs its next token.
            inner, nexts = self.engine.segment_logprobs(
                hidden,
                segments,
                skip=[n - 1 for n in drafted],
                keep=[s + n - 1 for s, n in zip(starts, drafted, strict=True)],
            )
            inner = inner[len(fresh) :]
            for i, tokens in enumerate(fresh):
                dists[tokens] = nexts[i].clone()  # a row of a merged output: a copy (see `Prefixes.keep`)
                self.steps.add((key, tokens), dists[tokens])
            self.steps.trim()
        new, cont = self.new, self.cont
        words_only = new | cont
        out: list[Draft] = []
        for d in probe:
            lp = dists[d.tokens]
            if d.state == DraftState.GROW:  # until a draft has its words it may only extend words
                for tok in lp.masked_fill(~words_only, float("-inf")).topk(self.settings.grow_branch).indices.tolist():
                    grown = d.extend(tok, float(lp[tok]), bool(new[tok]), DraftState.GROW)
                    out.append(replace(grown, state=DraftState.CHECK) if grown.words >= n_words else grown)
                continue
            tok = int(lp.argmax())
            if cont[tok]:  # the last word goes on
                out.append(d.extend(tok, float(lp[tok]), False, DraftState.CHECK))
            else:
                out.append(replace(d, state=DraftState.ENDED, ahead=float(lp[tail[0]]) if tail else 0.0))
        for i, d in enumerate(score):
            lp = nexts[len(fresh) + i]
            tok = int(lp.argmax())
            if cont[tok]:
                out.append(d.extend(tok, float(lp[tok]), False, DraftState.SPEC))
                continue
            lps = (*d.lps, *inner[i])
            self.rests.add((key, (*d.tokens, *tail)), lps)
            out.append(replace(d, state=DraftState.SCORED, score=float(sum(lps))))
        self.rests.trim()
        return out
