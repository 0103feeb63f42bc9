"""A Dask cluster run survives a worker killed mid-way: every document comes out once, as without the kill."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from repair.corpus.batch import run_batch
from repair.corpus.runners import no_model
from repair.pipeline import Result, repair_text

KILL_MARKER = "REPAIR_TEST_KILL_MARKER"  # a file: absent, the next document named KILL kills its worker


def killing_repair(text: str, refs: Sequence[tuple[str, str]], lm: Any, *, min_confidence: float = 0.7) -> Result:
    """The real pipeline, except that the first worker asked for a KILL document dies on it (SIGKILL)."""
    marker = Path(os.environ[KILL_MARKER])
    if "KILL" in text and not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)
    return repair_text(text, refs, lm, min_confidence=min_confidence)


def corpus(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            text = f"Report {i} : the U. S. said on day {i} that the the talks would go on , officials said ."
            if i == n // 2:
                text += " KILL"
            fh.write(json.dumps({"id": f"doc{i:03d}", "text": text}) + "\n")
    return path


def test_a_worker_killed_mid_way_loses_and_repeats_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    from repair.corpus.cluster import dask_runner

    marker = tmp_path / "killed"
    monkeypatch.setenv(KILL_MARKER, str(marker))
    docs = corpus(tmp_path / "corpus.jsonl", 200)
    with dask_runner(local_workers=2, lm_factory=no_model, repair=killing_repair) as runner:
        summary = run_batch(docs, tmp_path / "cluster", runner=runner, top_k=0)
    assert marker.exists(), "no worker was killed"
    marker.write_text("", encoding="utf-8")  # the run in this process must not kill itself
    run_batch(docs, tmp_path / "here", lm_factory=no_model, repair=killing_repair, top_k=0)
    rows = (tmp_path / "cluster" / "repaired.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["id"] for r in rows] == [f"doc{i:03d}" for i in range(200)]
    assert rows == (tmp_path / "here" / "repaired.jsonl").read_text(encoding="utf-8").splitlines()
    assert summary.repaired == 200 and not summary.skipped
