"""Checking a --model argument before the model libraries load: a wrong path is told at once, not after them.

Importing torch and transformers takes seconds (11-19 s on a loaded machine); a folder
that does not exist or holds no model is known without them. Nothing here imports them.
"""

from __future__ import annotations

import os
from pathlib import Path

from repair.lm.base import ModelError

# what `repair.lm.load_model` takes for the embedded model
DEFAULT_NAMES = frozenset({"smollm2", "default"})
CONFIG = "config.json"
# a Hugging Face model's weights: one file, shards with an index, or the older PyTorch format
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "model.safetensors.index.json", "*.gguf")


class ModelSpecError(ModelError):
    """A --model argument that cannot name a usable model, found before loading; a `ModelError` as any other."""


def looks_like_path(spec: str) -> bool:
    """A spec naming a folder rather than a hub model ("org/name").

    >>> looks_like_path("./my-model"), looks_like_path("google-bert/bert-base-uncased"), looks_like_path("a/b/c")
    (True, False, True)
    """
    return spec.startswith(("/", ".", "~")) or "\\" in spec or spec.count("/") > 1


def check_location(spec: str, error: type[ModelError] = ModelError) -> None:
    """Refuse a spec that names a file, or a folder that is not there (a hub name passes: it is no path)."""
    path = Path(spec).expanduser()
    if path.exists() and not path.is_dir():
        raise error(f"--model must be a folder holding a Hugging Face model, not a file: {spec}")
    if not path.exists() and looks_like_path(spec):
        raise error(
            f"model folder not found: {spec} (pass a folder holding a Hugging Face masked LM,"
            " or leave out --model to use the embedded default)"
        )


def not_cached(spec: str) -> str:
    """What to say of a hub name the local cache does not hold (nothing is ever downloaded)."""
    return (
        f"model '{spec}' is not a local folder and is not in the local Hugging Face cache"
        f" (nothing is downloaded): fetch it first, e.g. `hf download {spec}`, or pass its folder"
    )


def hub_cache() -> Path:
    """The local Hugging Face hub cache, where the libraries would look (they never download here)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def check_model_spec(spec: str | None) -> None:
    """Refuse a --model that names no model: a missing folder, a file, a folder without config and weights,
    or a hub name the local cache does not hold. The default names and None pass."""
    if spec is None or spec.strip().lower() in DEFAULT_NAMES:
        return
    path = Path(spec).expanduser()
    if path.is_dir():
        missing = [] if (path / CONFIG).is_file() else [CONFIG]
        if not any(next(path.glob(p), None) for p in WEIGHT_PATTERNS):
            missing.append("weights (model.safetensors or pytorch_model.bin)")
        if missing:
            raise ModelSpecError(
                f"--model folder holds no Hugging Face model: {' and '.join(missing)} missing in {spec}"
                " (pass a folder saved with save_pretrained, or leave out --model for the embedded default)"
            )
        return
    check_location(spec, ModelSpecError)
    if not (hub_cache() / f"models--{spec.replace('/', '--')}").is_dir():
        raise ModelSpecError(not_cached(spec))
