"""Output: "What comes out?" Logits, the cache, probabilities and the next token (In [15]-[30])."""

import einops
import pytest
import torch
from jaxtyping import Float
from torch import Tensor

from gpt2spec import compare as numeric, document, loading
from gpt2spec.radar import causes
from gpt2spec.run import next_token_log_probs
from specs.shared import close

# In [30]: the two later "Quomatarus" are predicted piece by piece. Index i of
# probs[:, tokens].diag(1) is the probability of token i+1; ' Qu' sits at 6, 14 and 40.
LATER_PIECES = {"second": [14, 15, 16], "third": [40, 41, 42]}


@pytest.fixture(scope="module")
def forward(model, run) -> Float[Tensor, "1 pos d_vocab"]:
    """In [15]'s gpt2(tokens), without the cache: one forward pass, for the two claims that read it."""
    return model(run.tokens)


@pytest.mark.workload
@pytest.mark.cell(15)
def test_the_logits_are_1_by_45_by_50257(model, run, forward, printed, bench):
    """In [15]: gpt2(tokens).shape is torch.Size([1, 45, 50257]): a score for every token at every position."""
    logits = bench(lambda: model(run.tokens), shared=forward)
    assert printed == logits.shape
    close(logits, run.logits)


@pytest.mark.workload
@pytest.mark.cell(16)
def test_run_with_cache_returns_the_same_logits(model, run, forward, printed, bench):
    """In [16]: logits, cache = gpt2.run_with_cache(tokens); logits.shape is torch.Size([1, 45, 50257]), and
    they are the logits of gpt2(tokens) (In [15]): caching changes nothing."""
    logits, _ = bench(lambda: model.run_with_cache(run.tokens), shared=(run.logits, run.cache))
    assert printed == logits.shape
    close(logits, forward)  # a forward pass without the cache, not the session's run again


# How many keys the cache holds (measured on GPT-2 small), by what changed it: 3.0.0 added the unembed's
# hook_in/hook_out (2 over 2.18's 208); 4.0's compatibility mode adds the bridge's names beside the legacy ones.
CACHE_KEY_COUNT = [(causes.TRANSFORMER_LENS_4, 493), (causes.TRANSFORMER_LENS_3, 210)]
DOCUMENT_KEY_COUNT = 208  # TransformerLens 2.18's, as the document ran it


@pytest.mark.cell(16)
@pytest.mark.versioned(
    causes.TRANSFORMER_LENS_3.majors(),
    "the number of cached activations: 208 in 2.18; 210 in 3.x, where HookedTransformer's unembed gained hook_in "
    f"and hook_out ({causes.UNEMBED_HOOKS}, in 3.0.0); 493 in 4.x, whose compatibility mode caches the bridge's "
    f"own hook names and the legacy aliases both ({causes.HOOK_SYSTEM})",
)
def test_the_cache_holds_the_printed_activations_in_order(run, printed, bench):
    """In [16]: ActivationCache with keys ['hook_embed', 'hook_pos_embed', 'blocks.0.hook_resid_pre', ...]:
    every activation of the forward pass, in the order computed."""
    keys = bench(lambda: list(run.cache.keys()))
    shown_in_order = [k for k in keys if k in set(document.CACHE_KEYS_SHOWN)]
    assert printed == shown_in_order
    expected = next((count for cause, count in CACHE_KEY_COUNT if cause.holds()), DOCUMENT_KEY_COUNT)
    assert len(keys) == expected, "the number of keys is version-specific"


@pytest.mark.workload
@pytest.mark.cell(29)
def test_softmax_rows_sum_to_one(run, bench):
    """In [29]: einops.reduce(probs, 'pos token -> pos', 'sum') is 1.0000 at all 45 positions."""
    probs = bench(lambda: run.logits.squeeze().softmax(dim=-1))
    sums = einops.reduce(probs, "pos token -> pos", "sum")
    assert sums.shape == (45,)
    torch.testing.assert_close(sums, torch.ones_like(sums), atol=numeric.NOISE_ABS, rtol=0)


@pytest.mark.cell(29)
def test_log_probabilities_of_the_first_tokens(run, snapshot, bench):
    """In [29]: probs = logits.squeeze().softmax(dim=-1); its corner, as log-probabilities (a baseline)."""
    probs = bench(lambda: run.logits.squeeze().softmax(dim=-1))
    assert snapshot == loading.get_corner(probs.log())


@pytest.mark.openai
@pytest.mark.cell(29)
def test_the_probability_corner_is_as_printed(run, printed, bench):
    """In [29]: utils.get_corner(probs) is [[6.6198e-04, 2.4113e-02, 9.5430e-04], [1.1472e-05, ...], ...]."""
    probs = bench(lambda: run.logits.squeeze().softmax(dim=-1))
    assert printed == loading.get_corner(probs)


@pytest.mark.cell(21)
def test_the_top_token_decodes_from_the_argmax(model, run, snapshot, bench):
    """In [21]: last = logits[0, -1]; gpt2.tokenizer.decode(last.argmax()) names the predicted next token
    (a baseline of its id and its text)."""
    last = run.logits[0, -1]
    top = bench(lambda: last.argmax())
    assert snapshot == (top.item(), model.tokenizer.decode(top))


@pytest.mark.openai
@pytest.mark.cell(21)
def test_the_next_token_is_that(model, run, printed, bench):
    """In [21]: last.argmax() is tensor(326), and gpt2.tokenizer.decode(326) is ' that'."""
    top = bench(lambda: run.logits[0, -1].argmax())
    assert printed == (top.item(), model.tokenizer.decode(top))


@pytest.mark.cell(24)
def test_the_top_five_next_tokens(model, run, snapshot, bench):
    """In [24]: last.topk(5) gives the five largest logits, in descending order, their token ids and
    their text (a baseline)."""
    top = bench(lambda: run.logits[0, -1].topk(5))
    assert snapshot == {"values": top.values, "indices": top.indices, "decoded": [model.tokenizer.decode(i) for i in top.indices]}


@pytest.mark.openai
@pytest.mark.cell(24)
def test_the_top_five_are_that_a_the_he_his(model, run, printed, bench):
    """In [24]: values=[16.2408, 15.2805, 14.8070, 13.7773, 13.6780], indices=[326, 257, 262, 339, 465]:
    " that", " a", " the", " he", " his"."""
    top = bench(lambda: run.logits[0, -1].topk(5))
    assert printed == {"values": top.values, "indices": top.indices, "decoded": [model.tokenizer.decode(i) for i in top.indices]}


@pytest.mark.workload
@pytest.mark.cell(30)
def test_log_probabilities_of_the_actual_next_tokens(run, snapshot, bench):
    """In [30]: token_log_probs = log_probs[:, tokens.squeeze()].diag(1): 44 values, one for each token
    after the first (a baseline)."""
    token_log_probs = bench(lambda: next_token_log_probs(run.logits, run.tokens))
    assert token_log_probs.shape == (44,)
    assert snapshot == token_log_probs


@pytest.mark.openai
@pytest.mark.cell(30)
def test_the_next_token_probabilities_are_as_printed(run, printed, bench):
    """In [30]: t.round(probs[:, tokens.squeeze()].diag(1), decimals=3) is [0.0080, 0.1840, 0.3330, ...]
    (rounded as the document rounds them: to 3 decimals)."""
    probs = bench(lambda: next_token_log_probs(run.logits, run.tokens).exp().round(decimals=3))
    assert printed == probs


@pytest.mark.openai
@pytest.mark.cell(30)
def test_the_next_token_log_probabilities_are_as_printed(run, printed, bench):
    """In [30]: token_log_probs is [-4.8580e+00, -1.6949e+00, -1.1008e+00, ..., -3.9126e+00]."""
    assert printed == bench(lambda: next_token_log_probs(run.logits, run.tokens))


@pytest.mark.mechanism  # in-context prediction: what induction heads do (specs/test_09)
@pytest.mark.cell(30)
@pytest.mark.parametrize("occurrence", [pytest.param(o, id=f"the {o} Quomatarus is predicted above 0.9") for o in LATER_PIECES])
def test_in_context_the_name_is_predicted(run, occurrence, bench, margin):
    """In [30]: once seen, the made-up name is predicted piece by piece: 'om', 'atar', 'us' get
    0.9140, 0.9800, 0.9960 the second time and 0.9930, 0.9940, 0.9980 the third."""
    probs = bench(lambda: next_token_log_probs(run.logits, run.tokens).exp())
    margin(probs[LATER_PIECES[occurrence]].min().item() - 0.9)
    assert (probs[LATER_PIECES[occurrence]] > 0.9).all()


@pytest.mark.workload
def test_the_logits_are_the_unembedded_final_residual(model, run, bench):
    """Beyond the document: logits = ln_final(resid_post of the last block) @ W_U + b_U."""
    logits = bench(lambda: unembed(model, run.cache))
    close(logits, run.logits)


def unembed(model, cache) -> Float[Tensor, "1 pos d_vocab"]:
    """The final LayerNorm (folded: centre, divide by the cached scale), then W_U and b_U."""
    resid = cache[f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"]
    centred = resid - resid.mean(dim=-1, keepdim=True)
    return centred / cache["ln_final.hook_scale"] @ model.W_U + model.b_U


@pytest.mark.openai
def test_the_loss_on_hello_world_is_transformerlens_reference(model, bench):
    """TransformerLens's own acceptance test: gpt2-small's loss on "Hello world!" is 5.331855773925781
    (tests/acceptance/test_hooked_transformer.py, tolerance 4e-5)."""
    loss = bench(lambda: model(document.HELLO_WORLD, return_type="loss"))
    assert abs(loss.item() - document.HELLO_WORLD_LOSS) < document.HELLO_WORLD_ATOL
