"""`repair corrupt`: damage like the real article's, reproducible per seed, with an answer key that undoes it."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from repair.bench.corrupt import ALL_KINDS, CORRUPTION_KINDS, Mix, corrupt, load_answers, mentions
from repair.bench.originals import REAL_MIX, original_class
from repair.bench.score import squash
from repair.cli import app
from repair.edits import apply_edits
from repair.text.english import PASTED_FUNCTION_WORDS as FUNCTION_WORDS

STORY = (
    "LUCCA, Italy (AP) — U.S. Secretary of State Rex Tillerson said Russia doesn’t want to lose its alliance. "
    "The Kremlin said the talks in Moscow would go on, and Tillerson said the U.S. saw no role for Assad. "
    "“We cannot let this happen again,” Tillerson said. Russia’s foreign minister said the Kremlin had not "
    "decided whether Putin would meet Tillerson, though the U.S. has asked. Assad’s forces kept fighting.\n"
    "The talks in Astana could help, Tillerson added, though the U.S. has doubts about Russia and Iran."
)


def clean_texts(example_dir: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(example_dir.glob("00[1-9]_*.txt"))]


def test_the_same_seed_gives_the_same_damage() -> None:
    a, b = corrupt(STORY, 7), corrupt(STORY, 7)
    assert a.damaged == b.damaged and a.answers == b.answers
    assert corrupt(STORY, 8).damaged != a.damaged


def test_global_random_state_does_not_matter() -> None:
    random.seed(1)
    a = corrupt(STORY, 3)
    random.seed(2)
    random.random()
    assert corrupt(STORY, 3) == a


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), rate=st.floats(0.0, 6.0), kinds=st.sets(st.sampled_from(ALL_KINDS)))
def test_answers_point_at_the_damage_and_undo_it(seed: int, rate: float, kinds: set[str]) -> None:
    d = corrupt(STORY, seed, rate=rate, kinds=sorted(kinds))
    for a in d.answers:
        assert d.damaged[a.start : a.end] == a.before
        assert a.kind in kinds
    assert apply_edits(d.damaged, d.answers) == d.clean == STORY
    if not kinds:
        assert d.damaged == STORY and not d.answers


def test_the_answer_key_on_disk_undoes_the_damage_of_every_example_text(example_dir: Path) -> None:
    for seed, text in enumerate(clean_texts(example_dir)):
        d = corrupt(text, seed)
        clean, answers = load_answers(d.to_json())
        assert clean == text
        assert apply_edits(d.damaged, answers) == text


def test_damage_is_as_dense_and_mixed_as_in_the_real_article(example_dir: Path) -> None:
    # the real article 000 has 41 damaged spans over ~800 words, by original: REAL_MIX
    counts: Counter[str] = Counter()
    words = 0
    for text in clean_texts(example_dir):
        for seed in range(25):
            counts.update(c for a in corrupt(text, seed).answers if (c := original_class(a)))
            words += len(text.split())
    total = sum(counts.values())
    assert 3.5 < 100 * total / words < 6.5
    real = sum(REAL_MIX.values())
    for kind, n in REAL_MIX.items():
        assert abs(counts[kind] / total - n / real) < 0.05, kind
    assert corrupt_rate(example_dir, 2.0) > 1.6 * corrupt_rate(example_dir, 1.0)


def test_each_case_draws_its_own_mix_and_density() -> None:
    mixes = [Mix.draw(random.Random(seed), 1.0) for seed in range(20)]
    assert len({round(m.spans_per_100, 3) for m in mixes}) == 20
    pronoun_shares = [m.shares["pronoun"] for m in mixes]
    assert max(pronoun_shares) > 2 * min(pronoun_shares)
    assert all(abs(sum(m.shares.values()) - 1) < 1e-9 for m in mixes)


def corrupt_rate(example_dir: Path, rate: float) -> int:
    return sum(
        1 for text in clean_texts(example_dir) for a in corrupt(text, 0, rate=rate).answers if a.kind == "substitution"
    )


def test_pasted_words_are_mostly_names_of_the_text_itself() -> None:
    names = mentions(STORY)
    assert {"Tillerson", "Russia", "the U.S.", "The Kremlin", "Assad"} <= set(names)
    assert "LUCCA" not in names or names["LUCCA"] == 1
    pasted = [
        a.before for seed in range(30) for a in corrupt(STORY, seed, rate=3.0).answers if a.kind == "substitution"
    ]
    known = {squash(n) for n in names}
    assert sum(squash(p) in known for p in pasted) > 0.65 * len(pasted)
    assert all(squash(p) in known or p.strip() in FUNCTION_WORDS for p in pasted)


def test_names_come_from_the_text_not_a_list() -> None:
    text = "Ms Okonkwo met the Zorblatt Council in Quenville. Okonkwo said the Zorblatt Council would vote."
    assert {"Okonkwo", "the Zorblatt Council", "Quenville"} <= set(mentions(text))
    pasted = {a.before for s in range(40) for a in corrupt(text, s, rate=5.0, kinds=["substitution"]).answers}
    assert {"Okonkwo", "the Zorblatt Council"} & pasted


def test_the_damage_looks_like_the_ap_example() -> None:
    spaced = corrupt(STORY, 11, kinds=["tokenization"]).damaged
    assert "U. S." in spaced and "U.S." not in spaced
    assert " , " in spaced and "( AP )" in spaced
    assert "does n’t" in spaced and "can not" in spaced and "Assad ’s" in spaced
    assert "“ We" in spaced
    d = corrupt(STORY, 11, rate=1.5)
    kinds = {a.kind for a in d.answers}
    assert {"tokenization", "substitution"} <= kinds
    for a in d.answers:
        if a.kind == "gap":
            assert re.fullmatch(r" {3,4}", a.before)
        if a.kind == "duplicate":
            following = d.damaged[a.end :].split()[0]
            assert a.before.strip() == following


def test_only_the_chosen_kinds() -> None:
    d = corrupt(STORY, 5, rate=5.0, kinds=["duplicate", "gap"])
    assert {a.kind for a in d.answers} <= {"duplicate", "gap"}
    assert "U.S." in d.damaged  # no re-tokenization
    spacing = corrupt(STORY, 5, kinds=["tokenization"])
    assert squash(spacing.damaged) == squash(STORY)
    with pytest.raises(ValueError, match="unknown damage kind"):
        corrupt(STORY, 1, kinds=["typo"])


def test_the_command_writes_the_damaged_text_and_the_key(tmp_path: Path) -> None:
    clean = tmp_path / "story.txt"
    clean.write_text(STORY, encoding="utf-8")
    out, key = tmp_path / "damaged.txt", tmp_path / "answers.json"
    args = ["corrupt", str(clean), "--seed", "3", "--rate", "2", "--out", str(out), "--answers", str(key)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    damaged = out.read_text(encoding="utf-8")
    assert damaged == corrupt(STORY, 3, rate=2.0).damaged
    doc = json.loads(key.read_text(encoding="utf-8"))
    assert doc["seed"] == 3 and doc["clean"] == STORY
    _, answers = load_answers(key.read_text(encoding="utf-8"))
    assert apply_edits(damaged, answers) == STORY


def test_the_command_restricts_kinds_and_refuses_bad_ones(tmp_path: Path) -> None:
    clean = tmp_path / "story.txt"
    clean.write_text(STORY, encoding="utf-8")
    out, key = tmp_path / "d.txt", tmp_path / "a.json"
    base = ["corrupt", str(clean), "--seed", "1", "--out", str(out), "--answers", str(key)]
    ok = CliRunner().invoke(app, [*base, "--kinds", "gap,duplicate", "--rate", "5"])
    assert ok.exit_code == 0
    assert {a["kind"] for a in json.loads(key.read_text(encoding="utf-8"))["answers"]} <= {"gap", "duplicate"}
    bad = CliRunner().invoke(app, [*base, "--kinds", "typo"])
    assert bad.exit_code == 2 and "unknown damage kind typo" in bad.output
    over = CliRunner().invoke(app, ["corrupt", str(clean), "--seed", "1", "--out", str(clean), "--answers", str(key)])
    assert over.exit_code == 2 and "refusing to overwrite" in over.output
    assert clean.read_text(encoding="utf-8") == STORY


def test_mojibake_only_when_asked_and_ftfy_can_undo_it() -> None:
    assert "mojibake" not in CORRUPTION_KINDS
    assert all(a.kind != "mojibake" for seed in range(10) for a in corrupt(STORY, seed, rate=5.0).answers)
    garbled = [a for seed in range(10) for a in corrupt(STORY, seed, rate=5.0, kinds=["mojibake"]).answers]
    assert garbled and all(a.kind == "mojibake" for a in garbled)
    assert all(ftfy.fix_text(a.before, uncurl_quotes=False) == a.after for a in garbled)


def test_pastes_overwrite_every_kind_of_original_pronouns_a_few(example_dir: Path) -> None:
    # the real article: 3 of 41 spans at a pronoun; most over content words, several words, punctuation
    seen: Counter[str] = Counter()
    for text in clean_texts(example_dir):
        names = {squash(n) for n in mentions(text)}
        for seed in range(5):
            for e in corrupt(text, seed).answers:
                cls = original_class(e)
                if e.kind == "substitution" and cls is not None:
                    seen[cls] += 1
                    if cls == "pronoun":
                        assert squash(e.before) in names
    subs = sum(seen.values())
    assert {"pronoun", "function", "content", "words", "punctuation"} <= set(seen)
    assert 0.03 < seen["pronoun"] / subs < 0.2
    assert seen["content"] + seen["words"] > 0.5 * subs


def test_a_name_over_punctuation_keeps_the_words_apart() -> None:
    over = [a for s in range(40) for a in corrupt(STORY, s).answers if original_class(a) == "punctuation"]
    assert over
    for a in over:
        assert a.before.startswith(" ") and a.after.strip() in {".", ",", ";", ":", "—"}
