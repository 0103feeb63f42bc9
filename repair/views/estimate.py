"""How long a run will take, said before it starts, so a user can choose the model path or `--no-model`.

The rates are conservative figures measured on a machine without AVX-512 (the model in
float32, one thread): a faster machine finishes sooner, never later than said by much.
The progress line measures the real rate as the run goes.
"""

from __future__ import annotations

# words per CPU second of the whole pipeline with the embedded model: 58 measured in float32, one thread
# (`benchmarks/bench_throughput.py`, 27 before the changes of 2026-12-04); kept below it, since texts differ
MODEL_WORDS_PER_SECOND = 40.0
# ... and without it: rules and references only (benchmarks/bench_fix.py: ~9,000; big inputs less)
NO_MODEL_WORDS_PER_SECOND = 3_000.0
# runs expected to take longer than this with the model are announced
ANNOUNCE_ABOVE_SECONDS = 120.0


def duration(seconds: float) -> str:
    """A rough duration for people.

    >>> duration(42), duration(150), duration(7_200), duration(200_000)
    ('42 s', '2 min', '2.0 hours', '2.3 days')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86_400:.1f} days"


def model_time_note(words: int, processes: int = 1) -> str | None:
    """What to tell a user about to run the model over ``words`` words: the time, and the faster choice.

    None when the model path is quick enough not to need saying.

    >>> model_time_note(500) is None
    True
    >>> print(model_time_note(1_000_000))
    1,000,000 words: with the language model this takes about 6.9 hours here (~40 words/s);
    --no-model does the rule and reference repairs only, in about 6 min.
    """
    model_s = words / (MODEL_WORDS_PER_SECOND * max(1, processes))
    if model_s <= ANNOUNCE_ABOVE_SECONDS:
        return None
    fast_s = words / (NO_MODEL_WORDS_PER_SECOND * max(1, processes))
    rate = MODEL_WORDS_PER_SECOND * max(1, processes)
    return (
        f"{words:,} words: with the language model this takes about {duration(model_s)} here (~{rate:.0f} words/s);\n"
        f"--no-model does the rule and reference repairs only, in about {duration(fast_s)}."
    )
