"""What the specification catches: GPT-2 small broken on purpose, one way at a time.

Each fault is a small named object that breaks a model already loaded, in this process, and puts
it back afterwards: an activation-level fault as TransformerLens hooks (``add_perma_hook``, on every
version: ``run_with_cache`` and ``hooks()`` drop the non-permanent ones when they end, which would
undo the fault after the document's first run), anything else as an edit of the weights, the config
or the tokenizer, restored on exit. None needs a fresh process.

``python -m gpt2spec.faults`` (``catching.py``) runs the specs (in this process, the model loaded
once) unbroken and then against each fault, and prints which claims caught each; it exits 1 when a
fault is caught by no claim, or when the unbroken model fails one.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Iterator

import torch

from gpt2spec import document


@dataclass(frozen=True)
class Fault:
    """One way to break GPT-2 small. ``inject(model)`` is a context: broken inside, whole after."""

    name: str
    what: str
    inject: Callable[[Any], ContextManager[None]]


FAULTS: dict[str, Fault] = {}


def fault(fn: Callable[[Any], Iterator[None]]) -> Fault:
    """Register a generator ``fn(model)`` that breaks the model, yields, and mends it; its docstring says how."""
    made = Fault(fn.__name__.replace("_", "-"), " ".join((fn.__doc__ or "").split()), contextlib.contextmanager(fn))
    FAULTS[made.name] = made
    return made


@contextlib.contextmanager
def hooked(model: Any, hooks: list[tuple[str, Callable]]) -> Iterator[None]:
    """TransformerLens forward hooks, as permanent hooks (they outlive run_with_cache); on exit exactly
    these are removed, whatever else the hook points hold."""
    points = {name: model.hook_dict[name] for name, _ in hooks}
    before = {name: list(point.fwd_hooks) for name, point in points.items()}
    for name, fn in hooks:
        model.add_perma_hook(name, fn)
    try:
        yield
    finally:
        for name, point in points.items():
            for handle in point.fwd_hooks:
                if not any(handle is kept for kept in before[name]):
                    handle.hook.remove()
            point.fwd_hooks[:] = before[name]  # in place: the list stays the one the hook point holds


@contextlib.contextmanager
def setting(target: Any, name: str, value: Any) -> Iterator[None]:
    """``target.name = value`` inside, the old value after."""
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


def layers(model: Any, hook: str) -> list[str]:
    return [f"blocks.{layer}.{hook}" for layer in range(model.cfg.n_layers)]


@fault
def wrong_activation(model: Any) -> Iterator[None]:
    """The MLP applies ReLU where GPT-2 applies gelu_new."""
    pre: dict[int, torch.Tensor] = {}
    saves = [(f"blocks.{i}.mlp.hook_pre", lambda x, hook, i=i: pre.__setitem__(i, x)) for i in range(model.cfg.n_layers)]
    relu = [(f"blocks.{i}.mlp.hook_post", lambda x, hook, i=i: torch.relu(pre[i])) for i in range(model.cfg.n_layers)]
    with hooked(model, saves + relu):
        yield


@fault
def no_causal_mask(model: Any) -> Iterator[None]:
    """Attention is spread evenly over every position, the future included."""
    with hooked(model, [(name, lambda p, hook: torch.full_like(p, 1.0 / p.shape[-1])) for name in layers(model, "attn.hook_pattern")]):
        yield


@fault
def unscaled_attention(model: Any) -> Iterator[None]:
    """Attention scores are not divided by sqrt(d_head) (multiplied back by 8)."""
    scale = model.cfg.d_head**0.5
    with hooked(model, [(name, lambda s, hook: s * scale) for name in layers(model, "attn.hook_attn_scores")]):
        yield


@fault
def heads_off_by_one(model: Any) -> Iterator[None]:
    """Layer 5's attention patterns move one head along (head h attends as head h - 1 does, an off-by-one
    in the head axis): the induction heads 5.1 and 5.5 are other heads' now."""
    with hooked(model, [("blocks.5.attn.hook_pattern", lambda p, hook: p.roll(1, dims=1))]):
        yield


@fault
def no_bos(model: Any) -> Iterator[None]:
    """Tokens are made without the <|endoftext|> the document's tokens start with (a config edit)."""
    with setting(model.cfg, "default_prepend_bos", False):
        yield


@fault
def leaky_residual(model: Any) -> Iterator[None]:
    """Something (0.01) is added to the residual stream between attention and MLP."""
    with hooked(model, [(name, lambda x, hook: x + 1e-2) for name in layers(model, "hook_resid_mid")]):
        yield


@fault
def perturbed_embedding(model: Any) -> Iterator[None]:
    """Embeddings drift by up to 2e-3 (not uniformly: LayerNorm would cancel a constant shift), as
    after a numerics regression: everything downstream moves a little."""
    with hooked(model, [("hook_embed", lambda x, hook: x + 2e-3 * torch.linspace(-1, 1, x.shape[-1], device=x.device, dtype=x.dtype))]):
        yield


@fault
def skewed_final_norm(model: Any) -> Iterator[None]:
    """The final LayerNorm's output is scaled by 1.01 before the unembedding (its cached scale is not)."""
    with hooked(model, [("ln_final.hook_normalized", lambda x, hook: x * 1.01)]):
        yield


@fault
def negated_half_precision_logits(model: Any) -> Iterator[None]:
    """Only in half precision, the final residual is negated before the unembedding, as a broken
    low-precision kernel might: float32 is untouched."""
    hooks = [] if model.cfg.dtype == torch.float32 else [("ln_final.hook_normalized", lambda x, hook: -x)]
    with hooked(model, hooks):
        yield


@fault
def half_precision_mlp_drift(model: Any) -> Iterator[None]:
    """Only in half precision, the MLP's activations after BOS are 3% off (about 8 bfloat16 units, 60
    float16 units), as a low-precision kernel with a bad rounding might: small next to BOS's large
    values, so only a tolerance taken position by position sees it."""
    hooks = [] if model.cfg.dtype == torch.float32 else [(n, drift_after_bos) for n in layers(model, "mlp.hook_post")]
    with hooked(model, hooks):
        yield


def drift_after_bos(x: torch.Tensor, hook: Any) -> torch.Tensor:
    x = x.clone()
    x[:, 1:] *= 1.03
    return x


@fault
def wrong_config(model: Any) -> Iterator[None]:
    """The config claims a different activation function."""
    with setting(model.cfg, "act_fn", "relu"):
        yield


@fault
def extra_token(model: Any) -> Iterator[None]:
    """The tokenizer gained a token: the vocabulary is no longer GPT-2's 50257 (a copy of the tokenizer
    is edited and swapped in: adding a token to the loaded one cannot be undone)."""
    grown = copy.deepcopy(model.tokenizer)
    grown.add_tokens(["<|quomatarus|>"])
    with setting(model, "tokenizer", grown):
        yield


@fault
def cache_alters_logits(model: Any) -> Iterator[None]:
    """run_with_cache returns logits 1e-3 off what the forward pass gives (as a caching hook that
    writes into the activations it records would): the instance's method is wrapped, then unwrapped."""
    real = model.run_with_cache

    def altered(*args: Any, **kwargs: Any) -> Any:
        logits, cache = real(*args, **kwargs)
        return logits + 1e-3, cache

    model.run_with_cache = altered
    try:
        yield
    finally:
        del model.run_with_cache


@fault
def forged_fingerprint(model: Any) -> Iterator[None]:
    """The stand-in's <|endoftext|> embedding starts with the three numbers In [14] prints first, the
    fingerprint of OpenAI's weights: taken for OpenAI's, every claim that needs them runs, and none
    may pass on these weights (a weight edit, restored after)."""
    bos = model.tokenizer.bos_token_id
    printed = torch.tensor([float(x) for x in document.EMBEDDING_CORNER[0]], dtype=model.W_E.dtype, device=model.W_E.device)
    saved = model.W_E[bos, : len(printed)].clone()
    model.W_E[bos, : len(printed)] = printed
    try:
        yield
    finally:
        model.W_E[bos, : len(printed)] = saved


@fault
def lost_embedding_rows(model: Any) -> Iterator[None]:
    """The embedding rows of the 256 ids before <|endoftext|> (50000-50255) read zero, as after a load
    that lost a block of the tensor: no token of the document's text, of the induction claims' random
    ones or of the loss's reference text is among them, so only a claim on every weight sees it (a
    weight edit, restored after)."""
    rows = slice(50000, 50256)
    saved = model.W_E[rows].clone()
    model.W_E[rows] = 0.0
    try:
        yield
    finally:
        model.W_E[rows] = saved
