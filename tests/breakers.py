"""A pytest plugin for the machinery's tests: ``-p tests.breakers --break KIND`` loads the model as
usual, then breaks it on purpose with permanent TransformerLens hooks (the API of every version):
every model the run loads, in float32 and in half precision alike."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import torch


def wrong_activation(model: Any) -> None:
    """The MLP applies ReLU where GPT-2 applies gelu_new."""
    saved: dict[int, torch.Tensor] = {}
    for layer in range(model.cfg.n_layers):
        model.add_perma_hook(f"blocks.{layer}.mlp.hook_pre", lambda x, hook, layer=layer: saved.__setitem__(layer, x))
        model.add_perma_hook(f"blocks.{layer}.mlp.hook_post", lambda x, hook, layer=layer: torch.relu(saved[layer]))


def no_causal_mask(model: Any) -> None:
    """Attention is spread evenly over every position, the future included."""
    for layer in range(model.cfg.n_layers):
        model.add_perma_hook(f"blocks.{layer}.attn.hook_pattern", lambda p, hook: torch.full_like(p, 1.0 / p.shape[-1]))


def unscaled_attention(model: Any) -> None:
    """Attention scores are not divided by sqrt(d_head) (multiplied back by 8)."""
    for layer in range(model.cfg.n_layers):
        model.add_perma_hook(f"blocks.{layer}.attn.hook_attn_scores", lambda s, hook: s * 8.0)


def no_bos(model: Any) -> None:
    """Tokens are made without the <|endoftext|> the document's tokens start with."""
    model.cfg.default_prepend_bos = False


def leaky_residual(model: Any) -> None:
    """Something is added to the residual stream between attention and MLP."""
    for layer in range(model.cfg.n_layers):
        model.add_perma_hook(f"blocks.{layer}.hook_resid_mid", lambda x, hook: x + 1e-2)


def perturbed_embedding(model: Any) -> None:
    """Embeddings drift by up to 2e-3 (not uniformly: LayerNorm would cancel a constant shift), as after
    a numerics regression: everything downstream moves a little."""
    model.add_perma_hook("hook_embed", lambda x, hook: x + 2e-3 * torch.linspace(-1, 1, x.shape[-1], device=x.device))


def skewed_final_norm(model: Any) -> None:
    """The final LayerNorm's output is scaled by 1.01 before the unembedding."""
    model.add_perma_hook("ln_final.hook_normalized", lambda x, hook: x * 1.01)


def negated_half_precision_logits(model: Any) -> None:
    """Only in half precision, the final residual is negated before the unembedding, as a broken
    low-precision kernel might: float32 is untouched."""
    if model.W_E.dtype != torch.float32:
        model.add_perma_hook("ln_final.hook_normalized", lambda x, hook: -x)


def wrong_config(model: Any) -> None:
    """The config claims a different activation function."""
    model.cfg.act_fn = "relu"


def extra_token(model: Any) -> None:
    """The tokenizer gained a token: the vocabulary is no longer GPT-2's 50257."""
    model.tokenizer.add_tokens(["<|quomatarus|>"])


BREAKERS: dict[str, Callable[[Any], None]] = {
    f.__name__.replace("_", "-"): f
    for f in (
        wrong_activation, no_causal_mask, unscaled_attention, no_bos, leaky_residual, perturbed_embedding,
        skewed_final_norm, negated_half_precision_logits, wrong_config, extra_token,
    )
}  # fmt: skip


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--break", dest="break_kind", choices=sorted(BREAKERS), help="break the model on purpose")
    parser.addoption(
        "--pretend-openai",
        action="store_true",
        help="take any weights for OpenAI's, so the claims that need them run (and must fail) on the stand-in",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--pretend-openai"):
        import dataclasses

        from gpt2spec.plugin import models

        real = models.identify
        models.identify = lambda model: dataclasses.replace(real(model), is_openai=True)
    kind = config.getoption("break_kind")
    if kind:
        from gpt2spec import loading

        load = loading.load

        def broken(*args: Any, **kwargs: Any) -> Any:
            """Every model the run loads, on any device and in any dtype, is broken the same way."""
            model = load(*args, **kwargs)
            BREAKERS[kind](model)
            return model

        loading.load = broken
