"""Whose weights are these? Decided by a fingerprint from the document, not by where they came from.

The fingerprint is In [14]: the corner of the embedded example text, printed at 4 decimals on
OpenAI's GPT-2 small. Any other weights (the stand-in, a fine-tune, a broken download) miss it.
The cache's stand-in marker only names the seed for the header; it never decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gpt2spec import document, loading, snapshot
from gpt2spec.standin import MARKER


@dataclass(frozen=True)
class Weights:
    is_openai: bool
    deviation: float  # largest |observed - printed| over the fingerprint
    source: str  # where the loader found them, in words

    @property
    def snapshot_id(self) -> str:
        """The snapshots/ folder holding this weights' baselines."""
        if self.is_openai:
            return "openai-gpt2"
        marker = loading.cached_file(MARKER)
        seed = json.loads(marker.read_text())["seed"] if marker else None
        return f"standin-seed{seed}" if seed is not None else "other-weights"

    @property
    def evidence(self) -> str:
        cell = document.EMBEDDING_CORNER_CELL
        if self.is_openai:
            return f"fingerprint {cell} matches within its printed precision"
        return f"fingerprint {cell} is off by {self.deviation:.4f}"

    @property
    def verdict(self) -> str:
        return ("OpenAI's" if self.is_openai else "NOT OpenAI's") + f" GPT-2 small ({self.evidence})"


def source() -> str:
    """Where the loader takes GPT-2 small from, in words (no loading needed)."""
    where = loading.cached_file("config.json")
    mode = "offline" if loading.offline() else "hub, cached"
    if where is None:
        return f"Hugging Face hub (not cached yet under {loading.hf_home()})"
    marker = loading.cached_file(MARKER)
    if marker is not None:
        seed = json.loads(marker.read_text())["seed"]
        return f"stand-in weights, seed {seed}, from {where.parent} ({mode})"
    return f"Hugging Face cache {where.parent} ({mode})"


def identify(model: Any) -> Weights:
    tokens = model.to_tokens(document.TEXT)
    corner = loading.get_corner(model.W_E[tokens, :])[0].tolist()
    pairs = [
        (value, printed)
        for row, printed_row in zip(corner, document.EMBEDDING_CORNER, strict=True)
        for value, printed in zip(row, printed_row, strict=True)
    ]
    deviation = max(abs(value - float(printed)) for value, printed in pairs)
    matches = all(snapshot.within(value, printed) for value, printed in pairs)
    return Weights(is_openai=matches, deviation=deviation, source=source())
