"""Shared fixtures: the bundled example, and the real default model loaded once per session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# the test suite draws the same examples on every run, so CI is repeatable; benchmarks/fuzz.py
# is where random exploration happens (10,000+ examples), and what it finds becomes a test here
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.load_profile("repeatable")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ap-syria"


@pytest.fixture(autouse=True)
def _one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """`repair fix` and `batch` run in this process unless a test asks for --workers: a test's patches of the
    library then reach the repair, and no test waits for worker processes to start."""
    monkeypatch.setenv("REPAIR_WORKERS", "1")


@pytest.fixture(autouse=True)
def _edit_lists_fit_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every edit list a test makes the tool write is checked against repair/data/edits.schema.json.

    The one edits.json writer's header and each edit it adds (byte for byte what it writes: see
    test_export's json.dumps check), and the edits of every batch output row (JSONL and Parquet).
    """
    from repair.corpus import batch
    from repair.edits import Edit
    from repair.files.editlist import EditListWriter
    from repair.files.schema import validate_edit_list, validate_edits

    real_init, real_add, real_row = EditListWriter.__init__, EditListWriter.add, batch.output_row

    def init(self: EditListWriter, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        validate_edit_list({**self.head, "edits": []}, name="the edit list's header")

    def add(self: EditListWriter, edit: Edit) -> None:
        validate_edits([edit.to_json()], name=f"edit {self.count}")
        real_add(self, edit)

    def output_row(*args: Any) -> dict[str, Any]:
        row = real_row(*args)
        validate_edits(row["edits"], name="a batch output row's edits")
        return row

    monkeypatch.setattr(EditListWriter, "__init__", init)
    monkeypatch.setattr(EditListWriter, "add", add)
    monkeypatch.setattr(batch, "output_row", output_row)


@pytest.fixture(scope="session")
def example_dir() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def damaged_text() -> str:
    return next(EXAMPLE.glob("000_*.txt")).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def reference_paths() -> list[Path]:
    return sorted(p for p in EXAMPLE.glob("00[1-9]_*.txt"))


@pytest.fixture(scope="session")
def default_lm() -> Any:
    """The real embedded SmolLM2 model, loaded once for the whole test session."""
    from repair.lm import load_model

    return load_model(None)


@pytest.fixture(scope="session")
def converted_once() -> tuple[Any, Any]:
    """The embedded GGUF de-quantized once per session (the ~30 s step), for the cache tests to reuse."""
    from repair.lm import load

    return load.convert_gguf(load.find_gguf())


@pytest.fixture
def quick_conversion(converted_once: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`convert_gguf` answers with a copy of the session's real conversion; the list counts the calls.

    Each cache test exercises the whole rebuild path (validity check, atomic save, reload) except
    the de-quantization itself, which would cost every one of them the same 30 s of identical work.
    """
    import copy

    from repair.lm import load

    calls: list[int] = []
    model, tokenizer = converted_once

    def convert(_gguf: Path) -> tuple[Any, Any]:
        calls.append(1)
        return copy.deepcopy(model), tokenizer  # the unwritable-cache path may cast the copy in place

    monkeypatch.setattr(load, "convert_gguf", convert)
    return calls
