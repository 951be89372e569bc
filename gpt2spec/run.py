"""The document's forward pass (In [12], In [16]): computed once per device and shared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jaxtyping import Float, Int
from torch import Tensor

from gpt2spec import document


@dataclass(frozen=True)
class DocumentRun:
    tokens: Int[Tensor, "1 pos"]
    str_tokens: list[str]
    logits: Float[Tensor, "1 pos d_vocab"]
    cache: Any  # transformer_lens ActivationCache

    def __repr__(self) -> str:  # failure reports show this; the tensors would drown them
        return f"DocumentRun({len(self.str_tokens)} tokens, logits {tuple(self.logits.shape)}, {len(self.cache.keys())} cached activations)"


def next_token_log_probs(logits: Float[Tensor, "1 pos d_vocab"], tokens: Int[Tensor, "1 pos"]) -> Float[Tensor, "pos_minus_1"]:
    """In [30]: log_probs[:, tokens.squeeze()].diag(1), the log-probability of each actual next token."""
    log_probs = logits.squeeze().log_softmax(dim=-1)
    return log_probs[:, tokens.squeeze()].diag(1)


def document_run(model: Any, text: str = document.TEXT) -> DocumentRun:
    tokens = model.to_tokens(text)  # In [12]
    logits, cache = model.run_with_cache(tokens)  # In [16]
    return DocumentRun(tokens=tokens, str_tokens=list(model.to_str_tokens(text)), logits=logits, cache=cache)
