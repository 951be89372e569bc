"""The work of a forward pass and what a device could do at most: achieved FLOP/s against the published peak."""

from __future__ import annotations

from typing import Any

import torch


def forward_flops(cfg: Any, batch: int, seq: int) -> float:
    """FLOPs of one forward pass over ``batch`` x ``seq`` tokens, logits at every position.

    Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Table 1: 2 FLOPs per weight of
    each matmul (QKV, attention output, MLP: 4 d_model^2 + 2 d_model d_mlp a layer; the de-embedding
    d_model n_vocab) plus 2 n_layer n_ctx d_attn for attention over the context. Eager attention
    computes both q.k and pattern.v over the whole seq x seq square, so that term is counted twice.
    LayerNorm, GELU, softmax and biases are left out: under 1% here, which tests/test_scaling.py
    checks against torch's own count of the matmuls (torch.utils.flop_counter) on the stand-in.
    """
    d, layers = cfg.d_model, cfg.n_layers
    weights = layers * (4 * d * d + 2 * d * cfg.d_mlp) + d * cfg.d_vocab
    per_token = 2 * weights + 2 * 2 * layers * seq * d
    return float(per_token * batch * seq)


# Dense (no sparsity) peaks in FLOP/s from NVIDIA's datasheets, keyed by torch's device name. The
# datasheets quote tensor-core rates with 2:4 sparsity; dense is half. PyTorch runs float32 matmuls
# on the plain FP32 units unless torch.backends.cuda.matmul.allow_tf32 is set (its default: off).
H100_SXM = {"float32": 67e12, "tf32": 494.5e12, "bfloat16": 989.5e12, "float16": 989.5e12}
GPU_PEAKS: dict[str, tuple[dict[str, float], str]] = {
    "NVIDIA H200": (H100_SXM, "NVIDIA H200 datasheet, H200 SXM: FP32 67, TF32 989*, BF16/FP16 1,979* TFLOPS (*with sparsity)"),
    "NVIDIA H200 NVL": (
        {"float32": 60e12, "tf32": 417.5e12, "bfloat16": 835.5e12, "float16": 835.5e12},
        "NVIDIA H200 datasheet, H200 NVL: FP32 60, TF32 835*, BF16/FP16 1,671* TFLOPS (*with sparsity)",
    ),
    "NVIDIA H100 80GB HBM3": (H100_SXM, "NVIDIA H100 datasheet, H100 SXM: FP32 67, TF32 989*, BF16/FP16 1,979* TFLOPS (*with sparsity)"),
}


def peak_flops(device: str, dtype: str) -> tuple[float, str] | None:
    """The device's published dense peak for this dtype and its source, or None where none is known.

    CPUs: none; a CPU's peak depends on its cores, vector units and clocks, which no datasheet here grounds.
    """
    if not device.startswith("cuda"):
        return None
    found = GPU_PEAKS.get(torch.cuda.get_device_name(device))
    if found is None:
        return None
    peaks, source = found
    key = "tf32" if dtype == "float32" and torch.backends.cuda.matmul.allow_tf32 else dtype
    return peaks[key], source
