"""How far TransformerLens's numbers are from Hugging Face's: the gap between their log-probabilities.

Printed beside the speed ratios (TransformerLens issue #496 asks for such a table). Log-probabilities,
not logits: TransformerLens centres the unembedding, which shifts each position's logits by a constant.
"""

from __future__ import annotations

from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor


def log_prob_gap(ours: Float[Tensor, "... d_vocab"], theirs: Float[Tensor, "... d_vocab"]) -> dict[str, float]:
    """The largest and the median absolute difference of log-probabilities, over every position and
    vocabulary entry, computed in float32 on the tensors' device."""
    gap = (ours.float().log_softmax(-1) - theirs.to(ours.device).float().log_softmax(-1)).abs().flatten()
    return {"max": gap.max().item(), "median": gap.median().item(), "values": gap.numel()}


def row(what: str, conditions: dict[str, str], gap: dict[str, Any]) -> dict[str, Any]:
    """One row of the fidelity table: what was compared, where (device, dtype, attention), the gap."""
    return {"what": what, **conditions, **gap}


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [f"{'TransformerLens vs Hugging Face: |log-prob difference|':<58} {'device':<6} {'dtype':<9} {'largest':>9} {'median':>9}"]
    for r in rows:
        lines.append(f"{r['what']:<58} {r['device']:<6} {r['dtype']:<9} {r['max']:>9.1e} {r['median']:>9.1e}")
    return lines
