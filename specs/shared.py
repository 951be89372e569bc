"""What several specs compute the same way, written once: the fp32 comparison, the causal mask, the
attention pattern from q and k, the MLP by hand, and Hugging Face's own GPT-2 from the same files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from fancy_einsum import einsum
from jaxtyping import Bool, Float
from torch import Tensor

from gpt2spec import compare as numeric, hubcache, loading


def close(actual: Tensor, expected: Tensor) -> None:
    """Equal within fp32 noise (TransformerLens's guide: differences under 5e-5 are noise)."""
    torch.testing.assert_close(actual, expected, atol=numeric.NOISE_ABS, rtol=numeric.NOISE_REL)


def future(scores: Tensor) -> Bool[Tensor, "q k"]:
    """The positions above the diagonal of the last two dimensions: what causal attention never sees."""
    return torch.triu(torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device), diagonal=1)


def pattern_from_q_k(cache: Any, layer: int) -> Float[Tensor, "batch head q k"]:
    """softmax(q k^T / sqrt(d_head)) with the future masked out, in the cache's dtype: what hook_pattern should hold."""
    q, k = cache["q", layer], cache["k", layer]
    scores = einsum("batch q head d, batch k head d -> batch head q k", q, k) / math.sqrt(q.shape[-1])
    return scores.masked_fill(future(scores), float("-inf")).softmax(dim=-1)


def mlp_weights(model: Any) -> dict[str, Tensor]:
    """gpt2.W_in, gpt2.b_in, gpt2.W_out, gpt2.b_out, each stacking all 12 layers when asked for: asked
    for once (so a benchmark times the recomputation, not the stacking)."""
    return {"W_in": model.W_in, "b_in": model.b_in, "W_out": model.W_out, "b_out": model.b_out}


def mlp_pre(mlp: dict[str, Tensor], cache: Any, layer: int) -> Float[Tensor, "batch pos d_mlp"]:
    """In [35]: einsum of the normalized ln2 output with W_in, plus b_in. The LayerNorm output is cast to
    the weights' dtype (in half precision LayerNorm computes in float32, and the MLP reads it cast)."""
    normalized = cache["normalized", layer, "ln2"].to(mlp["W_in"].dtype)
    return einsum("batch pos d_model, d_model d_mlp -> batch pos d_mlp", normalized, mlp["W_in"][layer]) + mlp["b_in"][layer]


def mlp_out(mlp: dict[str, Tensor], pre: Float[Tensor, "batch pos d_mlp"], layer: int) -> Float[Tensor, "batch pos d_model"]:
    """In [37]: gelu_new, then W_out and b_out."""
    mid = loading.gelu_new(pre)
    return einsum("batch pos d_mlp, d_mlp d_model -> batch pos d_model", mid, mlp["W_out"][layer]) + mlp["b_out"][layer]


def hugging_face(device: str, **options: Any) -> Any:
    """Hugging Face's GPT2LMHeadModel from the files TransformerLens loaded (``options``: from_pretrained's)."""
    from transformers import GPT2LMHeadModel

    folder = hubcache.cached_file("config.json")
    assert folder is not None, "the model was loaded, so its files are in the cache"
    return GPT2LMHeadModel.from_pretrained(Path(folder).parent, **options).to(device).eval()
