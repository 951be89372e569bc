"""Beyond the document: the claims that hold for any weights still hold in half precision.

GPT-2 small loaded in bfloat16 and in float16 through TransformerLens's own loader (its ``dtype``),
on the document's text. Opt-in (``pytest --half-precision``): each dtype loads the model once more.
Tolerances come from the dtype's unit roundoff u (half the gap between 1
and the next number: bfloat16 keeps 8 significant bits, u = 2^-8 = 3.9e-3; float16 11, u = 2^-11 =
4.9e-4; ``torch.finfo(dtype).eps / 2``) and how many roundings separate the two sides.
"""

import pytest
import torch

from gpt2spec import loading
from gpt2spec.run import DocumentRun, document_run
from specs.shared import future, mlp_out, mlp_pre, mlp_weights, pattern_from_q_k

DTYPES = [pytest.param(torch.bfloat16, id="bfloat16"), pytest.param(torch.float16, id="float16")]
LAYERS = range(12)
# How far two computations of the same logits may spread, relative to their size: PyTorch's own
# default relative tolerance for each dtype (torch.testing.assert_close's documentation: bfloat16
# 1.6e-2, about 4 u; float16 1e-3, about 2 u). Each dtype's own, not one count of units for both.
LOGIT_SPREAD = {torch.bfloat16: 1.6e-2, torch.float16: 1e-3}


def unit_roundoff(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps / 2


def close(actual, expected, dtype: torch.dtype, units: float = 2):
    """Equal up to ``units`` roundings: each rounding moves a value by at most u of itself and, where
    terms cancel, by u of the largest value the result is formed from, taken as the largest |value| at
    the same position (the last dimension), not of the whole tensor: GPT-2's outlier activations
    (hundreds, at BOS) would make that whole units everywhere else."""
    u = units * unit_roundoff(dtype)
    a, e = actual.float(), expected.float()
    beyond = (a - e).abs() - u * (e.abs() + e.abs().amax(dim=-1, keepdim=True))
    worst = beyond.argmax()
    assert (beyond <= 0).all(), (
        f"{int((beyond > 0).sum())} of {beyond.numel()} values differ by more than {units} roundings of {dtype} "
        f"at their position; the worst: {a.flatten()[worst].item():.6g} against {e.flatten()[worst].item():.6g}"
    )


pytestmark = [pytest.mark.half_precision, pytest.mark.parametrize("dtype", DTYPES, scope="module")]


@pytest.fixture(scope="module")
def half(device, dtype, model_on) -> tuple[object, DocumentRun]:
    """GPT-2 small in half precision and its run on the document's text, once per device and dtype."""
    if device == "cuda" and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    model = model_on(device, dtype)
    return model, document_run(model)


def test_the_model_runs_in_that_dtype(half, dtype):
    """Beyond the document: loaded with dtype=..., the weights, the residual stream and the logits are in it."""
    model, run = half
    assert model.W_in.dtype == dtype
    assert run.cache["blocks.0.hook_resid_post"].dtype == dtype
    assert run.logits.dtype == dtype


def test_softmax_rows_sum_to_one(half, dtype, bench):
    """In [29] in half precision: probs = logits.softmax(dim=-1) sums to 1 at every position.

    Each probability is rounded once (at most u of itself), so the sum, taken in float32, is off by at
    most u."""
    _, run = half
    probs = bench(lambda: run.logits.squeeze().softmax(dim=-1))
    sums = probs.float().sum(dim=-1)
    torch.testing.assert_close(sums, torch.ones_like(sums), atol=unit_roundoff(dtype), rtol=0)


def test_nothing_attends_to_the_future_and_rows_sum_to_one(half, dtype, bench):
    """Beyond the document, in half precision: every pattern of every layer is exactly zero above the
    diagonal, and each row sums to 1 within u (one rounding of each entry)."""
    _, run = half
    patterns = bench(lambda: torch.stack([run.cache["pattern", layer] for layer in LAYERS]))
    assert (patterns[..., future(patterns)] == 0).all()
    sums = patterns.float().sum(dim=-1)
    torch.testing.assert_close(sums, torch.ones_like(sums), atol=unit_roundoff(dtype), rtol=0)


def test_the_pattern_is_softmax_of_scaled_masked_q_k(half, dtype, bench):
    """Beyond the document, in half precision: hook_pattern = softmax(mask(q . k / sqrt(d_head))) in every
    layer, recomputed from hook_q and hook_k, within two roundings (the model's and ours)."""
    _, run = half
    recomputed = bench(lambda: [pattern_from_q_k(run.cache, layer) for layer in LAYERS])
    for layer in LAYERS:
        close(recomputed[layer], run.cache["pattern", layer], dtype)


def test_the_mlp_recomputed_by_hand_equals_the_cache(half, dtype, bench):
    """In [35] and [37] in half precision: the MLP recomputed from W_in, gelu_new and W_out equals what
    the cache recorded, in every layer, within two roundings (the model's and ours)."""
    model, run = half
    mlp = mlp_weights(model)
    recomputed = bench(lambda: [(pre := mlp_pre(mlp, run.cache, layer), mlp_out(mlp, pre, layer)) for layer in LAYERS])
    for layer, (pre, out) in zip(LAYERS, recomputed):
        close(pre, run.cache["pre", layer, "mlp"], dtype)
        close(loading.gelu_new(run.cache["pre", layer, "mlp"]), run.cache["post", layer, "mlp"], dtype)
        close(out, run.cache["mlp_out", layer], dtype)


def test_the_residual_stream_adds_up(half, dtype, bench):
    """Beyond the document, in half precision: resid_mid = resid_pre + attn_out and resid_post = resid_mid
    + mlp_out in every block: one rounding of a sum, so within 2u of itself (one unit in the last place)."""
    _, run = half
    c = run.cache
    mids = bench(lambda: [c["resid_pre", layer] + c["attn_out", layer] for layer in LAYERS])
    for layer in LAYERS:
        u = 2 * unit_roundoff(dtype)
        torch.testing.assert_close(mids[layer], c["resid_mid", layer], rtol=u, atol=0)
        torch.testing.assert_close(c["resid_mid", layer] + c["mlp_out", layer], c["resid_post", layer], rtol=u, atol=0)


def test_the_top_next_token_is_float32s(half, dtype, run, bench):
    """In [21] in half precision: the top next token is float32's wherever float32's lead over its
    runner-up is beyond half precision's reach.

    Half precision moves a position's logits by about LOGIT_SPREAD x its largest |logit| (PyTorch's
    default tolerance for that dtype); where float32's top-2 margin exceeds twice that, the argmax must not
    change. Where it does not (random weights have close logits), the claim says nothing; it is
    skipped if no position qualifies."""
    _, low = half
    top = bench(lambda: low.logits[0].argmax(dim=-1))
    logits = run.logits[0]
    first, second = logits.topk(2, dim=-1).values.unbind(-1)
    reach = LOGIT_SPREAD[dtype] * logits.abs().max(dim=-1).values
    decided = (first - second) > 2 * reach
    if not decided.any():
        pytest.skip(f"no position's float32 top-2 margin exceeds {dtype}'s reach on these weights")
    positions = decided.nonzero().squeeze(-1).tolist()
    differs = [p for p in positions if top[p] != logits[p].argmax()]
    assert not differs, f"{len(differs)} of {len(positions)} decided positions changed their top token: {differs}"
