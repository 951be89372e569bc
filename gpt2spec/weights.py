"""Whose weights are these? Decided by a fingerprint from the document, not by where they came from.

The fingerprint is In [14]: the corner of the embedded example text, printed at 4 decimals on
OpenAI's GPT-2 small. Any other weights (the stand-in, a fine-tune, a broken download) miss it.
The cache's stand-in marker names the seed and the circuit built in (for the header, the baselines'
folder, and whether claims about mechanisms run); it never decides whose weights these are.
Where the weights come from (``--weights``) is ``sources.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpt2spec import compare, document, loading
from gpt2spec.hubcache import standin_marker, standin_name


@dataclass(frozen=True)
class Weights:
    is_openai: bool
    deviation: float  # largest |observed - printed| over the fingerprint
    source: str  # where the loader found them, in words
    circuit: int | None = None  # the version of the induction circuit the stand-in's marker says was built in
    standin: str | None = None  # the stand-in's name, from its marker (``hubcache.standin_name``); None for other weights

    @property
    def snapshot_id(self) -> str:
        """The snapshots/ folder holding this weights' baselines."""
        if self.is_openai:
            return "openai-gpt2"
        return self.standin or "other-weights"

    @property
    def evidence(self) -> str:
        cell = document.EMBEDDING_CORNER_CELL
        if self.is_openai:
            return f"fingerprint {cell} matches within its printed precision"
        return f"fingerprint {cell} is off by {self.deviation:.4f}"

    @property
    def verdict(self) -> str:
        return ("OpenAI's" if self.is_openai else "NOT OpenAI's") + f" GPT-2 small ({self.evidence})"


def identify(model: Any, source: str = "") -> Weights:
    """Whose weights ``model`` holds, by the fingerprint; ``source``: where from, in words (``sources.Choice.describe``)."""
    tokens = model.to_tokens(document.TEXT)
    corner = loading.get_corner(model.W_E[tokens, :])[0].tolist()
    pairs = [
        (value, printed)
        for row, printed_row in zip(corner[: len(document.FINGERPRINT)], document.FINGERPRINT, strict=True)
        for value, printed in zip(row, printed_row, strict=True)
    ]
    deviation = max(abs(value - float(printed)) for value, printed in pairs)
    matches = all(compare.within(value, printed) for value, printed in pairs)
    marker = standin_marker()
    return Weights(
        is_openai=matches,
        deviation=deviation,
        source=source,
        circuit=marker.get("circuit") if marker is not None else None,
        standin=standin_name(marker["seed"], marker.get("circuit")) if marker is not None else None,
    )
