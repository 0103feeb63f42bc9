"""Finding references: for each document, the documents of a pool that tell the same story.

A document is reduced to a set of features: its content words and the pairs of
content words that follow each other (function words dropped, so that a
re-tokenized or partly overwritten copy still shares most features with a clean
one). Every pool document goes into a MinHash LSH Forest (`datasketch`), which
answers "which documents have about the highest Jaccard similarity to this one"
in time that does not grow with the pool; the few candidates it returns are then
scored exactly and the best ``k`` above a threshold kept. Building and querying the
index for n documents therefore costs about n times a constant, not n squared.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSHForest

from repair.text.english import TOPIC_STOPWORDS

DEFAULT_TOP_K = 4
# exact similarity (Ochiai) a pool document must reach to be used as a reference: other
# outlets' versions of one story score about 0.1-0.3 here, unrelated stories below 0.05
DEFAULT_THRESHOLD = 0.08
# MinHash size and number of prefix trees: many shallow trees keep recall for the weak
# similarities (Jaccard 0.05-0.15) between outlets that rewrote the same story
NUM_PERM = 256
TREES = 64
# candidates the forest returns per query, scored exactly before the top k are kept
CANDIDATES = 32
# below this many pool texts every one is scored exactly: it costs little and misses nothing
EXHAUSTIVE_BELOW = 200
# a document is sketched by at most this many of its rarest features that another holds:
# generic words and phrases, found everywhere, say nothing about which story it is
SKETCH_FEATURES = 192
# a document with fewer shared features than this says too little to be matched
MIN_FEATURES = 3
# two texts sharing fewer features than this are not similar at all
MIN_SHARED = 3

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
# re-tokenized text splits "doesn't" into "does n't" and "Assad's" into "Assad 's": join both
# shapes the same way, so that a damaged copy and a clean one share these words
NEGATION_RE = re.compile(r"\s+(?=n['’]t\b)")
CLITIC_RE = re.compile(r"\s*['’](?=(?:s|t|re|ve|ll|d|m)\b)")


@dataclass(frozen=True)
class Match:
    """A pool document similar to the query: its index in the pool, and the exact similarity."""

    index: int
    score: float


def content_words(text: str) -> list[str]:
    """Lower-cased words with the function words dropped, in order; clitics joined to their word.

    >>> content_words("The U. S. said it does n’t matter to Russia ’s leaders.")
    ['u', 'matter', 'russias', 'leaders']
    >>> content_words("The U.S. said it doesn't matter to Russia's leaders.")
    ['u', 'matter', 'russias', 'leaders']
    """
    joined = CLITIC_RE.sub("", NEGATION_RE.sub("", text.lower()))
    return [w for w in WORD_RE.findall(joined) if w not in TOPIC_STOPWORDS]


def features(text: str) -> frozenset[str]:
    """Content words and adjacent content-word pairs: what two copies of one story share.

    >>> sorted(features("Tillerson met Lavrov in Moscow"))
    ['lavrov', 'lavrov moscow', 'met', 'met lavrov', 'moscow', 'tillerson', 'tillerson met']
    """
    words = content_words(text)
    return frozenset(words) | frozenset(f"{a} {b}" for a, b in itertools.pairwise(words))


def fingerprint(text: str) -> np.ndarray:
    """The features hashed to sorted unique 32-bit integers (stable across runs and machines)."""
    hashed = {zlib.crc32(f.encode("utf-8")) for f in features(text)}
    return np.array(sorted(hashed), dtype=np.uint32)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Ochiai similarity of two fingerprints: shared features over the geometric mean of the sizes.

    >>> overlap(np.array([1, 2, 3, 4, 5, 6], dtype=np.uint32), np.array([3, 4, 5], dtype=np.uint32))
    0.7071
    """
    shared = np.intersect1d(a, b, assume_unique=True).size
    if shared < MIN_SHARED:  # a word or two in common is chance, whatever the lengths
        return 0.0
    return round(shared / math.sqrt(a.size * b.size), 4)


def similarity(a: str, b: str) -> float:
    """Exact similarity of two texts, as the index scores its candidates.

    >>> similarity("Rex Tillerson met Lavrov in Moscow.", "In Moscow, Tillerson met Lavrov.")
    0.7559
    >>> similarity("Rex Tillerson met Lavrov in Moscow.", "Whisk the flour and the yeast.")
    0.0
    """
    return overlap(fingerprint(a), fingerprint(b))


def _identity(value: int) -> int:
    return value


def _minhashes(sketches: Sequence[np.ndarray]) -> list[MinHash]:
    # the features are hashed already, so the MinHash only permutes the integers
    return list(MinHash.bulk(([int(v) for v in s] for s in sketches), num_perm=NUM_PERM, hashfunc=_identity))


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class _Frequencies:
    """How many documents hold each feature, to sketch every document by its rarest shared features."""

    def __init__(self, prints: Sequence[np.ndarray]) -> None:
        values = np.concatenate(list(prints)) if prints else np.zeros(0, dtype=np.uint32)
        self._features, self._counts = np.unique(values, return_counts=True)

    def sketch(self, fp: np.ndarray, *, counted: bool) -> np.ndarray:
        """The up to SKETCH_FEATURES rarest features of ``fp`` that some other document shares.

        Rarity is one order for all documents (count, then hash), so two documents that
        share their rare features pick the same ones, as a bottom-k sketch does.
        """
        pos = np.searchsorted(self._features, fp)
        pos = np.minimum(pos, max(self._features.size - 1, 0))
        known = self._features.size > 0 and self._features[pos] == fp
        counts = np.where(known, self._counts[pos] if self._features.size else 0, 0) + (0 if counted else 1)
        shared = counts >= 2
        fp, counts = fp[shared], counts[shared]
        order = np.lexsort((fp, counts))[:SKETCH_FEATURES]
        return np.sort(fp[order])


class SimilarityIndex:
    """An index over a pool of texts that finds, for any text, the most similar pool texts.

    ``queries`` are the texts that will be looked up, when known in advance: counting
    their features too lets a pool text be sketched by the features it shares with them.
    """

    def __init__(
        self, pool: Sequence[str], queries: Sequence[str] = (), *, exhaustive_below: int = EXHAUSTIVE_BELOW
    ) -> None:
        self._exhaustive = len(pool) < exhaustive_below
        self._prints = [fingerprint(t) for t in pool]
        self._digests = [_digest(t) for t in pool]
        # a text present twice is counted once: its copy shares everything and says nothing
        self._counted: set[bytes] = set()
        distinct: list[np.ndarray] = []
        for d, p in zip(self._digests, self._prints, strict=True):
            if d not in self._counted:
                self._counted.add(d)
                distinct.append(p)
        for q in queries:
            d = _digest(q)
            if d not in self._counted:
                self._counted.add(d)
                distinct.append(fingerprint(q))
        self._freq = _Frequencies(distinct)
        sketches = [self._freq.sketch(p, counted=True) for p in self._prints]
        usable = [i for i, s in enumerate(sketches) if s.size >= MIN_FEATURES]
        self._forest = MinHashLSHForest(num_perm=NUM_PERM, l=TREES)
        for i, m in zip(usable, _minhashes([sketches[i] for i in usable]), strict=True):
            self._forest.add(i, m)
        self._forest.index()

    def __len__(self) -> int:
        return len(self._prints)

    def query(
        self,
        text: str,
        *,
        k: int = DEFAULT_TOP_K,
        threshold: float = DEFAULT_THRESHOLD,
        exclude: int | None = None,
    ) -> tuple[Match, ...]:
        """The up to ``k`` pool texts most similar to ``text`` (best first), other than ``exclude``.

        A pool text identical to ``text`` is never returned: it has nothing to add.
        """
        if k <= 0 or self._forest.is_empty():
            return ()
        probe = fingerprint(text)
        digest = _digest(text)
        sketch = self._freq.sketch(probe, counted=digest in self._counted)
        if sketch.size < MIN_FEATURES:
            return ()
        if self._exhaustive:
            found: list[object] = list(range(len(self._prints)))
        else:
            (minhash,) = _minhashes([sketch])
            found = self._forest.query(minhash, max(CANDIDATES, 2 * k) + 1)
        scored = [
            Match(i, overlap(probe, self._prints[i]))
            for i in found
            if isinstance(i, int) and i != exclude and self._digests[i] != digest
        ]
        best = sorted((m for m in scored if m.score >= threshold), key=lambda m: (-m.score, m.index))
        return tuple(best[:k])


def find_references(
    texts: Sequence[str],
    pool: Sequence[str] | None = None,
    *,
    k: int = DEFAULT_TOP_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[tuple[Match, ...]]:
    """For each text, its most similar texts of ``pool`` (or, without a pool, of ``texts`` themselves).

    >>> story = "Tillerson told Russia to choose between the U.S. and Assad, Iran and Hezbollah on Syria."
    >>> other = "Russia must choose: side with the United States on Syria, or with Assad, Iran and Hezbollah."
    >>> bread = "Whisk the flour, salt and yeast, add warm water and leave the dough to rise for hours."
    >>> find_references([story, other, bread], threshold=0.1)
    [(Match(index=1, score=0.4451),), (Match(index=0, score=0.4451),), ()]
    """
    if pool is None:
        index = SimilarityIndex(texts)
        return [index.query(t, k=k, threshold=threshold, exclude=i) for i, t in enumerate(texts)]
    index = SimilarityIndex(pool, texts)
    return [index.query(t, k=k, threshold=threshold) for t in texts]
