"""Structure: the parameters and activations of a block (In [31], [32]), and the residual stream."""

import re

import pytest
import torch

from gpt2spec import checksums, document, loading
from gpt2spec.radar import causes
from specs.shared import close

# In [31] lists block 0's parameters and the rest, with their shapes (in snapshots/document/).
PARAMETERS = [
    "embed.W_E", "pos_embed.W_pos",
    "blocks.0.attn.W_Q", "blocks.0.attn.W_K", "blocks.0.attn.W_V", "blocks.0.attn.W_O",
    "blocks.0.attn.b_Q", "blocks.0.attn.b_K", "blocks.0.attn.b_V", "blocks.0.attn.b_O",
    "blocks.0.mlp.W_in", "blocks.0.mlp.b_in", "blocks.0.mlp.W_out", "blocks.0.mlp.b_out",
    "unembed.W_U", "unembed.b_U",
]  # fmt: skip
# 4.x's TransformerLens view also lists the (folded) LayerNorm weights the document's LNPre lacks.
LAYERNORM_PARAMETERS = {"blocks.0.ln1.w", "blocks.0.ln1.b", "blocks.0.ln2.w", "blocks.0.ln2.b", "ln_final.w", "ln_final.b"}

def shown_by_in_31(name: str) -> bool:
    return ".0." in name or "blocks" not in name


@pytest.fixture(scope="module")
def params(model) -> dict[str, torch.Tensor]:
    """In [31]'s parameters by TransformerLens's names, gathered once (4.x stacks them per call)."""
    return loading.tl_parameters(model)


@pytest.mark.cell(31)
@pytest.mark.parametrize("name", [pytest.param(n, id=f"{n} has the printed shape") for n in PARAMETERS])
def test_parameter_shapes(params, name, printed, bench):
    """In [31]: e.g. blocks.0.attn.W_Q torch.Size([12, 768, 64]), blocks.0.mlp.W_in torch.Size([768, 3072])."""
    assert printed == bench(lambda: params[name].shape)


@pytest.mark.cell(31)
@pytest.mark.versioned(
    causes.TRANSFORMER_LENS_4.majors(),
    "4.x's TransformerLens view adds ln1.w, ln1.b, ...: compatibility mode's fold_ln keeps the LayerNorm "
    f"modules ({causes.COMPATIBILITY_MODE}); HookedTransformer replaced them with LayerNormPre",
)
def test_block_0_has_exactly_the_printed_parameters(model, bench):
    """In [31]: block 0 and the model outside the blocks have exactly these 16 parameters."""
    params = bench(lambda: loading.tl_parameters(model))
    shown = {n for n in params if shown_by_in_31(n)}
    assert shown == set(PARAMETERS) | (LAYERNORM_PARAMETERS if causes.TRANSFORMER_LENS_4.holds() else set())


@pytest.mark.cell(31)
@pytest.mark.versioned(
    causes.TRANSFORMER_LENS_4.majors(),
    "4.x's named_parameters() are the bridge's paths around Hugging Face's modules (transformer.h.0....): "
    "the bridge wraps Hugging Face's own model "
    f"({causes.MIGRATING_TO_V3}, 'Why the change?'), and HookedTransformer, which renamed them, was removed in "
    f"4.0 ({causes.MIGRATING_TO_V4}); get_params() gives TransformerLens's names",
)
def test_named_parameters_use_transformerlens_names(model, bench):
    """In [31]: for name, p in gpt2.named_parameters(): print(name, p.shape) lists embed.W_E, blocks.0.attn.W_Q, ..."""
    names = bench(lambda: {name for name, _ in model.named_parameters()})
    if causes.TRANSFORMER_LENS_4.holds():
        assert not names & set(PARAMETERS)
        assert any(name.startswith("transformer.h.0.") for name in names)
    else:
        assert set(PARAMETERS) <= names


# 4.x's view adds every LayerNorm's weight and bias, which fold_ln folded into the weights that read
# them, leaving 1 and 0 (causes.COMPATIBILITY_MODE); HookedTransformer's LNPre has neither.
FOLDED_LAYERNORM = re.compile(r"(blocks\.\d+\.ln[12]|ln_final)\.[wb]")


@pytest.mark.versioned(
    causes.TRANSFORMER_LENS_4.majors(),
    "4.x's TransformerLens view adds each LayerNorm's weight and bias (ln1.w, ..., ln_final.b), all 1 and 0: compatibility "
    f"mode's fold_ln folds them into the weights that read them and keeps the modules ({causes.COMPATIBILITY_MODE}); "
    "HookedTransformer replaced them with LayerNormPre; every other parameter has the same baseline on every version",
)
def test_every_parameter_is_as_recorded(params, snapshot, bench):
    """Beyond the document: every parameter of the loaded model (In [31] lists them), each as its shape,
    norm, sum, a seeded sketch and three entries at seeded positions (gpt2spec/checksums.py), as
    recorded: a loading regression anywhere in the weights fails it, not only in the embedding rows
    and activations of the example's 45 tokens, which are all the other claims read."""
    every = bench(lambda: checksums.every_parameter(params), rounds=1)  # 1-3 s: one round, no warm-up
    folded = {name for name in params if FOLDED_LAYERNORM.fullmatch(name)}
    if causes.TRANSFORMER_LENS_4.holds():
        assert len(folded) == 2 * 2 * 12 + 2
        for name in folded:
            assert params[name].eq(1.0 if name.endswith(".w") else 0.0).all(), f"{name} is not what fold_ln leaves"
    else:
        assert not folded
    assert snapshot == {name: text for name, text in every.items() if name not in folded}


@pytest.mark.cell(32)
@pytest.mark.parametrize("name", [pytest.param(n, id=f"{n} has the printed shape") for n in document.ACTIVATIONS])
def test_activation_shapes(run, name, printed, bench):
    """In [32]: e.g. blocks.0.attn.hook_pattern torch.Size([1, 12, 45, 45]), blocks.0.mlp.hook_pre
    torch.Size([1, 45, 3072]), ln_final.hook_scale torch.Size([1, 45, 1])."""
    assert printed == bench(lambda: run.cache[name].shape)


def test_the_residual_stream_starts_as_token_plus_position(run, bench):
    """Beyond the document: resid_pre of block 0 is hook_embed + hook_pos_embed."""
    c = run.cache
    close(bench(lambda: c["hook_embed"] + c["hook_pos_embed"]), c["blocks.0.hook_resid_pre"])


@pytest.mark.parametrize("layer", [pytest.param(i, id=f"block {i} adds attention then MLP") for i in range(12)])
def test_the_residual_stream_adds_up(run, layer, bench):
    """Beyond the document: resid_mid = resid_pre + attn_out and resid_post = resid_mid + mlp_out;
    the next block reads what this one wrote."""
    c = run.cache
    mid = bench(lambda: c["resid_pre", layer] + c["attn_out", layer])
    close(mid, c["resid_mid", layer])
    close(c["resid_mid", layer] + c["mlp_out", layer], c["resid_post", layer])
    if layer + 1 < 12:
        assert c["resid_post", layer].equal(c["resid_pre", layer + 1])
