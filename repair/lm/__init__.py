"""Language models behind one interface; the only package that imports torch.

Two backends share the `LanguageModel` protocol (`base`): `causal.CausalLM`, the embedded
SmolLM2-135M (run on the plain-torch LLaMA of `llama` by `engine`, its gaps worked on side by side
by `together`, its left contexts kept by `prefixes` and `context`, its fillers drafted by `drafts`,
everything it remembers in `memo`'s one LRU type), and `masked.MaskedLM`, any Hugging Face masked LM.
`load` finds, converts and caches them; `threads` chooses torch's thread count and precision.

torch and transformers are imported inside functions so that ``import repair`` stays fast.
"""

from repair.lm.base import LanguageModel, ModelError
from repair.lm.engine import TOGETHER_TASKS
from repair.lm.load import load_model

__all__ = ["TOGETHER_TASKS", "LanguageModel", "ModelError", "load_model"]
