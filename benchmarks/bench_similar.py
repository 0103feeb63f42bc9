"""How finding references scales with the corpus: time for 100, 1,000, 10,000 documents.

The corpus is synthetic but built from the bundled example's sentences: every "story"
is a handful of seed sentences with their words shuffled (so stories are distinct),
half of its content words renamed to words of its own (stories differ in names and
topics, while sharing the common vocabulary), and every story comes in COPIES
versions that drop and reword some sentences, like outlets do.
Besides the time, it reports how many of the references found are copies of the
same story (precision) and how many of the copies were found (recall).

    python benchmarks/bench_similar.py            # 100, 1000, 10000 documents
    python benchmarks/bench_similar.py 100 2000   # other sizes
"""

from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path

from repair.corpus.similar import DEFAULT_TOP_K, SimilarityIndex
from repair.text.english import TOPIC_STOPWORDS as STOPWORDS

SEEDS = Path(__file__).resolve().parent.parent / "examples" / "ap-syria"
COPIES = 4
SENTENCES_PER_STORY = 12


def seed_sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 6]


def invented_word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))


def make_corpus(n_docs: int, rng: random.Random) -> tuple[list[str], list[int]]:
    """``n_docs`` texts and the story each belongs to."""
    sentences = seed_sentences()
    vocab = sorted({w for s in sentences for w in s.split()})
    texts: list[str] = []
    story_of: list[int] = []
    story = 0
    while len(texts) < n_docs:
        own: dict[str, str] = {}
        base = []
        for s in rng.sample(sentences, SENTENCES_PER_STORY):
            words = s.split()
            rng.shuffle(words)
            for i, w in enumerate(words):
                if w.lower() not in STOPWORDS and (w in own or rng.random() < 0.5):
                    words[i] = own.setdefault(w, invented_word(rng))
            base.append(words)
        for _ in range(min(COPIES, n_docs - len(texts))):
            kept = [list(w) for w in base if rng.random() > 0.2]
            for words in kept:  # an outlet rewords about one word in eight
                for i in range(len(words)):
                    if rng.random() < 0.12:
                        words[i] = rng.choice(vocab)
            texts.append(" ".join(" ".join(w) for w in kept))
            story_of.append(story)
        story += 1
    return texts, story_of


def run(n_docs: int) -> tuple[float, float, float, float]:
    """Seconds to index, seconds to query all, precision, recall of the references found."""
    texts, story_of = make_corpus(n_docs, random.Random(n_docs))
    t0 = time.perf_counter()
    index = SimilarityIndex(texts)
    t1 = time.perf_counter()
    found = [index.query(t, k=DEFAULT_TOP_K, exclude=i) for i, t in enumerate(texts)]
    t2 = time.perf_counter()
    hits = sum(story_of[m.index] == story_of[i] for i, ms in enumerate(found) for m in ms)
    total = sum(len(ms) for ms in found)
    wanted = sum(min(DEFAULT_TOP_K, story_of.count(story_of[i]) - 1) for i in range(n_docs))
    return t1 - t0, t2 - t1, hits / max(total, 1), hits / max(wanted, 1)


def main(sizes: list[int]) -> None:
    print(f"{'docs':>7} {'index s':>8} {'query s':>8} {'total s':>8} {'ms/doc':>7} {'precision':>9} {'recall':>7}")
    for n in sizes:
        build, query, precision, recall = run(n)
        total = build + query
        print(
            f"{n:>7} {build:>8.2f} {query:>8.2f} {total:>8.2f} {1000 * total / n:>7.2f}"
            f" {precision:>9.3f} {recall:>7.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 10000])
