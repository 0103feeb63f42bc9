"""The embedded model in plain torch: a LLaMA with its own key/value cache, and its tokenizer on `tokenizers` alone.

A warm start spent ~4 of its ~6 s importing transformers; the embedded model is a plain LLaMA,
so it runs on torch, safetensors and tokenizers alone. transformers still converts the GGUF
(first run) and loads any other model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def pack_mask(owner: torch.Tensor, pos: torch.Tensor, context: int, shared: bool = False) -> torch.Tensor:
    """Attention mask for segments packed in one row: a token sees the ``context`` cached tokens and the
    earlier tokens of its own segment (``owner`` and ``pos`` give each token's segment and position),
    and with ``shared`` also segment 0, whose positions come before all the others'.

    >>> import torch
    >>> pack_mask(torch.tensor([0, 0, 1]), torch.tensor([5, 6, 7]), 1, shared=True)[0, 0].int().tolist()
    [[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    """
    import torch

    earlier = pos.unsqueeze(1) >= pos.unsqueeze(0)
    sees = (owner.unsqueeze(1) == owner.unsqueeze(0)) & earlier
    if shared:
        sees |= (owner == 0).unsqueeze(0) & earlier
    return torch.cat([torch.ones(len(owner), context, dtype=torch.bool), sees], dim=1)[None, None]


# A warm start spent ~4 of its ~6 s importing transformers; the embedded model is a plain LLaMA,
# so it runs on torch, safetensors and tokenizers alone. transformers still converts the GGUF
# (first run) and loads any other model.
PLAIN_ARCHITECTURES = frozenset({"LlamaForCausalLM"})


@dataclass(frozen=True)
class Output:
    """What a forward pass gives, under the names transformers uses."""

    last_hidden_state: Any = None
    past_key_values: Any = None
    logits: Any = None


class KVLayer:
    """One layer's cached keys and values (batch × heads × positions × head size)."""

    def __init__(self, keys: Any = None, values: Any = None) -> None:
        self.keys, self.values = keys, values


class KVCache:
    """The keys and values of the positions seen so far, layer by layer, as `CausalLM` uses a transformers cache.

    Tensors are never changed in place (an update concatenates), so a copy shares them safely.
    """

    def __init__(self, layers: Sequence[KVLayer]) -> None:
        self.layers = list(layers)

    def __deepcopy__(self, memo: dict[int, Any]) -> KVCache:
        return KVCache([KVLayer(layer.keys, layer.values) for layer in self.layers])

    def get_seq_length(self) -> int:
        keys = self.layers[0].keys if self.layers else None
        return 0 if keys is None else int(keys.shape[-2])

    def crop(self, length: int) -> None:
        """Keep the first ``length`` positions (a negative ``length`` drops that many from the end)."""
        keep = self.get_seq_length() + length if length < 0 else length
        for layer in self.layers:
            if layer.keys is not None:
                layer.keys, layer.values = layer.keys[..., :keep, :], layer.values[..., :keep, :]

    def sink_and_recent(self, length: int, recent: int) -> KVCache:
        """The first position (the start token, where attention rests when nothing else fits) and the last
        ``recent`` of the first ``length``: views when that is all of them, else a copy of those kept.

        The tokens after it keep their true positions: a cache may hold fewer positions than come before them.
        """
        import torch

        if length <= recent + 1:
            return KVCache([KVLayer(lay.keys[..., :length, :], lay.values[..., :length, :]) for lay in self.layers])
        lo = length - recent
        return KVCache(
            [
                KVLayer(
                    torch.cat([layer.keys[..., :1, :], layer.keys[..., lo:length, :]], dim=-2),
                    torch.cat([layer.values[..., :1, :], layer.values[..., lo:length, :]], dim=-2),
                )
                for layer in self.layers
            ]
        )

    def update(self, keys: Any, values: Any, index: int) -> tuple[Any, Any]:
        """Append a pass's keys and values to layer ``index``; all of that layer's, for attention."""
        import torch

        layer = self.layers[index]
        if layer.keys is not None:
            keys, values = torch.cat([layer.keys, keys], dim=-2), torch.cat([layer.values, values], dim=-2)
        layer.keys, layer.values = keys, values
        return keys, values


class Block:
    """One request's share of a merged pass: its rows, its cached context and attention mask, and
    how many of its new positions to keep in ``out``, the cache the pass extends for it."""

    def __init__(self, start: int, end: int, cache: KVCache | None, mask: Any, keep: int) -> None:
        self.start, self.end, self.cache, self.mask, self.keep = start, end, cache, mask, keep
        self.out: KVCache | None = KVCache([]) if keep else None


class Blocks:
    """The attention of a merged pass, request by request (an attention mask over them all would
    cost as much as the rest of the pass: every token against every other request's context)."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = list(blocks)

    def attend(self, q: Any, k: Any, v: Any, index: int, scale: float) -> Any:
        """Attention output of every block's rows, each over its own cache and rows; fills the blocks' caches."""
        import torch
        import torch.nn.functional as F

        outs = []
        for b in self.blocks:
            keys, values = k[..., b.start : b.end, :], v[..., b.start : b.end, :]
            if b.cache is not None:
                layer = b.cache.layers[index]
                keys, values = torch.cat([layer.keys, keys], dim=-2), torch.cat([layer.values, values], dim=-2)
            if b.out is not None:
                held = keys.shape[-2] - (b.end - b.start) + b.keep
                b.out.layers.append(KVLayer(keys[..., :held, :], values[..., :held, :]))
            outs.append(
                F.scaled_dot_product_attention(
                    q[..., b.start : b.end, :], keys, values, attn_mask=b.mask, scale=scale, enable_gqa=True
                )
            )
        return torch.cat(outs, dim=-2)


def llama_model(config: dict[str, Any]) -> Any:
    """An empty (meta-device) LLaMA causal LM of ``config``, with the module names of transformers' checkpoints."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or hidden // heads)
    eps = float(config.get("rms_norm_eps", 1e-6))
    rope = config.get("rope_parameters") or {}
    theta = float(rope.get("rope_theta", config.get("rope_theta", 10000.0)))

    class RMSNorm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(hidden, device="meta"))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = x.float()
            h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
            return self.weight * h.to(x.dtype)

    def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q_proj = nn.Linear(hidden, heads * head_dim, bias=False, device="meta")
            self.k_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False, device="meta")
            self.v_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False, device="meta")
            self.o_proj = nn.Linear(heads * head_dim, hidden, bias=False, device="meta")

        def forward(
            self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: Any, cache: Any, index: int
        ) -> torch.Tensor:
            b, t, _ = x.shape
            q = rotate(self.q_proj(x).view(b, t, heads, head_dim).transpose(1, 2), cos, sin)
            k = rotate(self.k_proj(x).view(b, t, kv_heads, head_dim).transpose(1, 2), cos, sin)
            v = self.v_proj(x).view(b, t, kv_heads, head_dim).transpose(1, 2)
            if isinstance(mask, Blocks):
                merged = mask.attend(q, k, v, index, head_dim**-0.5)
                result_: torch.Tensor = self.o_proj(merged.transpose(1, 2).reshape(b, t, heads * head_dim))
                return result_
            if cache is not None:
                k, v = cache.update(k, v, index)
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, is_causal=mask is None and t > 1, scale=head_dim**-0.5, enable_gqa=True
            )
            result: torch.Tensor = self.o_proj(out.transpose(1, 2).reshape(b, t, heads * head_dim))
            return result

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            size = int(config["intermediate_size"])
            self.gate_proj = nn.Linear(hidden, size, bias=False, device="meta")
            self.up_proj = nn.Linear(hidden, size, bias=False, device="meta")
            self.down_proj = nn.Linear(size, hidden, bias=False, device="meta")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            result: torch.Tensor = self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
            return result

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input_layernorm = RMSNorm()
            self.self_attn = Attention()
            self.post_attention_layernorm = RMSNorm()
            self.mlp = MLP()

        def forward(
            self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: Any, cache: Any, index: int
        ) -> torch.Tensor:
            x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache, index)
            result: torch.Tensor = x + self.mlp(self.post_attention_layernorm(x))
            return result

    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed_tokens = nn.Embedding(
                int(config["vocab_size"]), hidden, _weight=torch.empty(int(config["vocab_size"]), hidden, device="meta")
            )  # given, not drawn: a random draw on the meta device imports torch._dynamo
            self.layers = nn.ModuleList(Block() for _ in range(int(config["num_hidden_layers"])))
            self.norm = RMSNorm()

        def forward(
            self,
            input_ids: torch.Tensor,
            position_ids: torch.Tensor | None = None,
            attention_mask: torch.Tensor | None = None,
            past_key_values: Any = None,
            use_cache: bool = False,
        ) -> Output:
            cache = past_key_values
            if cache is None and use_cache:
                cache = KVCache([KVLayer() for _ in self.layers])
            past = cache.get_seq_length() if cache is not None else 0
            t = input_ids.shape[1]
            if position_ids is None:
                position_ids = torch.arange(past, past + t).unsqueeze(0)
            if attention_mask is None and past:
                attention_mask = torch.ones(t, past + t, dtype=torch.bool).tril(past)[None, None]
            x = self.embed_tokens(input_ids)
            inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
            freqs = position_ids[..., None].float() * inv_freq
            emb = torch.cat((freqs, freqs), dim=-1).unsqueeze(1)
            cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
            for index, block in enumerate(self.layers):
                x = block(x, cos, sin, attention_mask, cache, index)
            return Output(last_hidden_state=self.norm(x), past_key_values=cache)

    class CausalModel(nn.Module):
        is_activation_checkpointing = False
        plain_torch = True  # its caches are `KVCache`s, which `Engine.merged_pass` can merge

        def __init__(self) -> None:
            super().__init__()
            self.model = Decoder()
            self.lm_head = nn.Linear(hidden, int(config["vocab_size"]), bias=False, device="meta")

        def get_decoder(self) -> Decoder:
            return self.model

        def get_output_embeddings(self) -> nn.Linear:
            return self.lm_head

        def forward(self, input_ids: torch.Tensor, **kwargs: Any) -> Output:
            out = self.model(input_ids, **kwargs)
            return Output(out.last_hidden_state, out.past_key_values, self.lm_head(out.last_hidden_state))

    # Each module is made on the meta device by hand: `with torch.device("meta")` imports
    # torch._dynamo, a second of a warm start.
    return CausalModel()


def load_plain_llama(folder: Path, dtype: Any) -> Any:
    """The LLaMA in ``folder`` (a transformers checkpoint in safetensors) as a `llama_model`, weights in ``dtype``."""
    import torch
    from safetensors import safe_open

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model = llama_model(config)
    state: dict[str, Any] = {}
    with safe_open(str(folder / "model.safetensors"), framework="pt") as fh:
        for name in fh.keys():  # noqa: SIM118 (a safetensors file is not a mapping)
            state[name] = fh.get_tensor(name).to(dtype or torch.float32)
    if "lm_head.weight" not in state:  # tied to the input embedding
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval().requires_grad_(False)


class PlainTokenizer:
    """The calls `CausalLM` makes of a transformers tokenizer, on the `tokenizers` library alone."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        self.bos_token_id = self.token_id(config.get("bos_token"))
        self.eos_token_id = self.token_id(config.get("eos_token"))

    def token_id(self, token: Any) -> int | None:
        content = token.get("content") if isinstance(token, dict) else token
        found = self.backend.token_to_id(content) if isinstance(content, str) else None
        return int(found) if found is not None else None

    def __len__(self) -> int:
        return int(self.backend.get_vocab_size(with_added_tokens=True))

    def __call__(
        self, texts: Sequence[str], add_special_tokens: bool = False, return_offsets_mapping: bool = False
    ) -> dict[str, list[Any]]:
        encs = self.backend.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        out: dict[str, list[Any]] = {"input_ids": [e.ids for e in encs]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encs]
        return out

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.backend.decode(list(ids), skip_special_tokens=False))

    def batch_decode(self, batch: Sequence[Sequence[int]]) -> list[str]:
        return [str(t) for t in self.backend.decode_batch([list(b) for b in batch], skip_special_tokens=False)]

    def convert_ids_to_tokens(self, index: int) -> str | None:
        token = self.backend.id_to_token(index)
        return None if token is None else str(token)


def plain_loadable(folder: Path) -> bool:
    """Whether ``folder`` holds a model `load_plain_llama` runs (else transformers loads it)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        bool(PLAIN_ARCHITECTURES & set(config.get("architectures") or []))
        and config.get("model_type") == "llama"
        and not config.get("attention_bias")
        and not config.get("mlp_bias")
        and (config.get("rope_parameters") or {}).get("rope_type", "default") == "default"
        and config.get("hidden_act", "silu") == "silu"
        and all((folder / name).is_file() for name in ("model.safetensors", "tokenizer.json", "tokenizer_config.json"))
    )
