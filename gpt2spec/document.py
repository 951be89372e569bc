"""What the document (the notebook this project specifies; README.md) feeds the suite: its example text and the few printed
values the machinery itself needs. Every other printed value lives, as printed, in
``snapshots/document/``. Cells are cited as the notebook numbers them (``In [n]``).
"""

from __future__ import annotations

# The cells in the order the document shows them (execution counts are not in order: In [29]
# comes before In [21], and In [28] after In [30]).
CELL_ORDER = (1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 29, 21, 24, 30, 28, 31, 32, 34, 35, 37, 38, 39, 45)


def position(cell: int | None) -> float:
    """Where a cell comes in the document; None (a claim beyond the document) after them all."""
    if cell is None:
        return float("inf")
    return CELL_ORDER.index(cell) if cell in CELL_ORDER else len(CELL_ORDER) + cell

# In [9]
TEXT = (
    "This is a story about Quomatarus."
    + " When one day Quomatarus decided to do something different and bought a plane ticket to Lamanandu."
    + " When he arrived to the airport Quomatarus noticed"
)

# In [14]: utils.get_corner(gpt2.W_E[tokens, :]) on OpenAI's weights (processed by
# HookedTransformer's defaults), printed at 4 decimals. The fingerprint of OpenAI's GPT-2.
EMBEDDING_CORNER = (
    ("0.0517", "-0.0274", "0.0502"),
    ("0.0270", "-0.0939", "0.0738"),
    ("-0.0078", "0.0120", "0.0575"),
)
EMBEDDING_CORNER_CELL = "In [14]"
# The fingerprint is the corner's first row (<|endoftext|>'s first three numbers, each within about
# 1e-4). The other two rows are left to In [14]'s own claim, so that the claim is more than the
# fingerprint again, and fails on weights wrongly taken for OpenAI's.
FINGERPRINT = EMBEDDING_CORNER[:1]

# In [32] lists block 0's activations and the rest, in the order computed; In [16] prints the
# cache's keys in that same order (the export truncates it after blocks.1.hook_resid_pre).
ACTIVATIONS = [
    "hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre", "blocks.0.ln1.hook_scale",
    "blocks.0.ln1.hook_normalized", "blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_v",
    "blocks.0.attn.hook_attn_scores", "blocks.0.attn.hook_pattern", "blocks.0.attn.hook_z",
    "blocks.0.hook_attn_out", "blocks.0.hook_resid_mid", "blocks.0.ln2.hook_scale",
    "blocks.0.ln2.hook_normalized", "blocks.0.mlp.hook_pre", "blocks.0.mlp.hook_post",
    "blocks.0.hook_mlp_out", "blocks.0.hook_resid_post", "ln_final.hook_scale",
]  # fmt: skip
CACHE_KEYS_SHOWN = ACTIVATIONS[:-1] + ["blocks.1.hook_resid_pre"]

# Published outside the document (cited where used).
# TransformerLens's acceptance test tests/acceptance/test_hooked_transformer.py: the loss of
# gpt2-small on "Hello world!" is 5.331855773925781, checked there with atol 4e-5.
HELLO_WORLD = "Hello world!"
HELLO_WORLD_LOSS = 5.331855773925781
HELLO_WORLD_ATOL = 4e-5
