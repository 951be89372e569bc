"""The scaling benchmark's grid: which implementations, shapes and dtypes are measured where, and why not the rest."""

from __future__ import annotations

import torch
from jaxtyping import Int
from torch import Tensor

SEQS = (45, 128, 256, 512, 1024)  # 45: the document's text; 1024: GPT-2's n_ctx
BATCHES = (1, 8, 32)
DTYPES = ("float32", "bfloat16", "float16")
IMPLEMENTATIONS = {
    "hf-eager": "Hugging Face forward (eager attention)",
    "hf-sdpa": "Hugging Face forward (sdpa attention)",
    "tl-forward": "TransformerLens forward",
    "tl-cache": "TransformerLens run_with_cache",
}
MODELS = {"hf-eager": "Hugging Face (eager)", "hf-sdpa": "Hugging Face (sdpa)", "tl-forward": "TransformerLens", "tl-cache": "TransformerLens"}
REFERENCE = "hf-eager"  # the same arithmetic TransformerLens runs: its cost is taken against this
# Paired rounds a point (gpt2spec/paired.py): 6 pairs give a 95% interval (the range of the six);
# more while under MIN_SECONDS, so that millisecond CUDA points get dozens.
ROUNDS, MIN_SECONDS, MAX_ROUNDS = 6, 1.0, 100

# On a 2-core CPU one GPT-2 small forward runs at one to two hundred tokens a second (measured here,
# 45 to 1024 tokens), so the CPU grid keeps batch 1 at every length, batch 8 on the document's 45
# tokens, and half precision on the document's 45 tokens.
CPU_SHAPES = {(1, seq) for seq in SEQS} | {(8, 45)}
CPU_HALF_SHAPES = {(1, 45)}
# run_with_cache keeps every activation: at batch 32 x 512 tokens its attention patterns and scores
# alone take 2 x 12 layers x 12 heads x 512^2 x 32 x 4 bytes = 9.7 GB, 39 GB at 1024 tokens.
CACHE_MAX_TOKENS = 8192
# The cross-dtype and cross-device pairs (TransformerLens forward and Hugging Face eager): the
# document's shape and the longest the CPU measures; on CUDA also a full batch of long inputs.
PAIR_SHAPES = {"cpu": [(1, 45)], "cuda": [(1, 45), (1, 1024), (32, 1024)]}
DEVICE_PAIR_SHAPES = [(1, 45), (1, 1024)]


def skip_reason(device: str, dtype: str, implementation: str, batch: int, seq: int) -> str | None:
    """Why a point of the grid is not measured on this device, or None."""
    if device == "cpu":
        if dtype != "float32" and (batch, seq) not in CPU_HALF_SHAPES:
            return "CPU: half precision on the document's 45 tokens only (keeps the CPU run to minutes)"
        if (batch, seq) not in CPU_SHAPES:
            return "CPU: batch 1 at every length and batch 8 on the document's 45 tokens only (keeps the CPU run to minutes)"
    if device.startswith("cuda") and dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bfloat16"
    if implementation == "tl-cache" and batch * seq > CACHE_MAX_TOKENS:
        return f"run_with_cache over {CACHE_MAX_TOKENS} tokens: its cache of every activation takes tens of GB"
    return None


def same_tokens(document_tokens: Int[Tensor, "1 pos"], batch: int, seq: int) -> Int[Tensor, "batch seq"]:
    """``batch`` rows of the document's tokens repeated to ``seq`` (GPT-2 reads up to 1024): the same for every implementation."""
    row = document_tokens.reshape(-1)
    row = row.repeat(-(-seq // row.numel()))[:seq]
    return row.expand(batch, seq).contiguous()
