"""Many texts from Python: one model per process, and a batch function ready for `datasets.Dataset.map`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from repair.lm import LanguageModel, load_model
from repair.lm.modelspec import check_model_spec
from repair.pipeline import Result, repair_text
from repair.stages.decide import DEFAULT_MIN_CONFIDENCE


class Repairer:
    """Repairs text after text with one language model, loaded the first time it is needed and then kept.

    ``Repairer()`` loads the embedded model, ``Repairer("./my-bert")`` a Hugging Face masked LM,
    ``Repairer(lm=model)`` uses one already loaded, ``Repairer(no_model=True)`` none (rules and
    references only). Called on a batch, a dict of columns as ``Dataset.map(fix, batched=True)``
    passes one, it returns two new columns: ``repaired`` (the texts) and ``edits`` (each text's edit list
    as JSON text: an array of the edits that repair/data/edits.schema.json describes). A null text gives
    nulls. With ``refs_column``, each row's references are that column's list of texts (or one text).

    Pickled (as ``map(num_proc=N)`` sends it to its processes, and as `datasets` hashes it for its cache),
    a Repairer leaves behind a model it loaded itself: each process loads its own once.

    >>> fix = Repairer(no_model=True)
    >>> out = fix({"text": ["Assad Assad must go , he said ."]})
    >>> out["repaired"]
    ['Assad must go, he said.']
    >>> [e["kind"] for e in json.loads(out["edits"][0])]
    ['duplicate', 'tokenization', 'tokenization']
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        lm: LanguageModel | None = None,
        no_model: bool = False,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        text_column: str = "text",
        refs_column: str | None = None,
    ) -> None:
        if sum((model is not None, lm is not None, no_model)) > 1:
            raise ValueError("give a model to load, a loaded lm, or no_model=True: one of them")
        if not no_model and lm is None:
            check_model_spec(model)  # a wrong spec is told now, not after the first batch is read
        self.model = model
        self.no_model = no_model
        self.min_confidence = min_confidence
        self.text_column = text_column
        self.refs_column = refs_column
        self._lm = lm
        self._own = lm is None  # loaded here (so left behind when pickled) or given

    @property
    def lm(self) -> LanguageModel | None:
        """The model, loaded on first use (None with no_model)."""
        if self.no_model:
            return None
        if self._lm is None:
            self._lm = load_model(self.model)
        return self._lm

    def repair(self, text: str, refs: Sequence[tuple[str, str]] = ()) -> Result:
        """Repair one text with the references given as (name, text); see `repair.repair_text`."""
        return repair_text(text, refs, self.lm, min_confidence=self.min_confidence)

    def __call__(self, batch: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
        texts = batch[self.text_column]
        refs: Sequence[Any] = batch[self.refs_column] if self.refs_column else [None] * len(texts)
        repaired: list[str | None] = []
        edits: list[str | None] = []
        for text, ref_texts in zip(texts, refs, strict=True):
            if text is None:
                repaired.append(None)
                edits.append(None)
                continue
            if isinstance(ref_texts, str):  # one reference, not a list of its characters
                ref_texts = [ref_texts]
            named = [(f"{self.refs_column}[{i}]", r) for i, r in enumerate(ref_texts or [])]
            result = self.repair(text, named)
            repaired.append(result.output)
            edits.append(json.dumps([e.to_json() for e in result.edits], ensure_ascii=False))
        return {"repaired": repaired, "edits": edits}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self._own:
            state["_lm"] = None
        return state
