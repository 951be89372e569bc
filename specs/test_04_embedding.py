"""Embedding (In [13], [14])."""

import pytest

from gpt2spec import loading


@pytest.mark.cell(13)
def test_the_embedding_matrix_is_50257_by_768(model, printed, bench):
    """In [13]: gpt2.W_E.shape is torch.Size([50257, 768]): one row per token."""
    assert printed == bench(lambda: model.W_E.shape)


@pytest.mark.cell(14)
def test_embedding_the_tokens_gives_1_by_45_by_768(model, run, printed, bench):
    """In [14]: embedded = gpt2.W_E[tokens, :]; embedded.shape is torch.Size([1, 45, 768])."""
    embedded = bench(lambda: model.W_E[run.tokens, :])
    assert printed == embedded.shape


@pytest.mark.cell(14)
def test_embedding_is_row_lookup(model, run, snapshot, bench):
    """In [14]: indexing W_E by the tokens is the model's own embedding: it equals hook_embed."""
    embedded = bench(lambda: model.W_E[run.tokens, :])
    assert embedded.equal(run.cache["hook_embed"])
    assert snapshot == loading.get_corner(embedded)


@pytest.mark.openai
@pytest.mark.cell(14)
def test_the_embedded_corner_is_as_printed(run, printed, bench):
    """In [14]: utils.get_corner(embedded) is [[0.0517, -0.0274, 0.0502], [0.0270, -0.0939, 0.0738],
    [-0.0078, 0.0120, 0.0575]] (OpenAI's weights), as the forward pass embeds the tokens (hook_embed).
    Only the first row is the fingerprint that decides whose weights these are: the rest is checked here."""
    assert printed == loading.get_corner(bench(lambda: run.cache["hook_embed"]))
