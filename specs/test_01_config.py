"""Getting acquainted with the model: its configuration (In [5], ``print(gpt2.cfg)``)."""

import pytest

from gpt2spec.radar import causes

# In [5], field by field, as printed. The expected values live in snapshots/document/.
FIELDS = [
    "act_fn", "attention_dir", "attn_only", "d_head", "d_mlp", "d_model", "d_vocab", "d_vocab_out",
    "default_prepend_bos", "dtype", "eps", "final_rms", "gated_mlp", "n_ctx", "n_heads", "n_layers",
    "n_params", "normalization_type", "parallel_attn_mlp", "positional_embedding_type",
    "post_embedding_ln", "rotary_dim", "scale_attn_by_inverse_layer_idx", "tokenizer_prepends_bos",
]  # fmt: skip

# Where a version differs from the document by design: what causes it (causes.Since), the value
# then, and why (cited). Measured on the stand-in with compatibility mode (4.x) and HookedTransformer (3.9).
BY_VERSION = {
    "normalization_type": (
        causes.TRANSFORMER_LENS_4,
        "LN",
        "4.x: compatibility mode's fold_ln folds LayerNorm weights but keeps the LayerNorm modules "
        f"({causes.COMPATIBILITY_MODE}); GPT-2's bridge adapter says LN ({causes.GPT2_ADAPTER}), where "
        f"HookedTransformer's fold_ln set LNPre ({causes.HOOKED_FOLD_LN})",
    ),
    "n_params": (
        causes.TRANSFORMER_LENS_4,
        None,
        f"4.x: HookedTransformer was removed in 4.0 ({causes.MIGRATING_TO_V4}); the bridge's config takes "
        f"n_params as given, None by default ({causes.BRIDGE_CONFIG}), where HookedTransformerConfig computed it",
    ),
    "tokenizer_prepends_bos": (
        causes.TRANSFORMERS_5,
        True,
        f"TransformerLens hands GPT-2's tokenizer add_bos_token=True ({causes.HOOKED_ADD_BOS}); transformers 5 "
        "applies it (4.57.6 did not: measured), and TransformerLens 3 requires transformers >= 5.4 "
        f"({causes.MIGRATING_TO_V3}, 'Dependency changes in 3.0')",
    ),
}


@pytest.mark.cell(5)
@pytest.mark.parametrize(
    "field",
    [
        pytest.param(f, id=f"cfg.{f} is as printed", marks=[pytest.mark.versioned(BY_VERSION[f][0].majors(), BY_VERSION[f][2])] if f in BY_VERSION else [])
        for f in FIELDS
    ],
)
def test_the_config_is_gpt2_small(model, field, printed, bench):
    """In [5]: print(gpt2.cfg) shows GPT-2 small: 12 layers of 12 heads of 64, d_model 768, d_mlp 3072,
    a 50257-token vocabulary, 1024 positions, gelu_new, causal attention, float32."""
    value = bench(lambda: getattr(model.cfg, field))
    shown = str(value) if field == "dtype" else value
    cause, value, why = BY_VERSION.get(field, (None, None, ""))
    if cause and cause.holds():
        assert shown == value, why
    else:
        assert printed == shown
