"""Attention patterns (In [39], [45]): shapes, causality, and the pattern recomputed from q and k."""

import pytest
import torch

from gpt2spec import compare as numeric, loading
from specs.shared import future, pattern_from_q_k

LAYERS = [pytest.param(i, id=f"layer {i}") for i in range(12)]


@pytest.mark.cell(39)
def test_layer_0_has_12_patterns_of_45_by_45(run, printed, bench):
    """In [39]: attention = cache["pattern", 0].squeeze(); attention.shape is torch.Size([12, 45, 45])."""
    assert printed == bench(lambda: run.cache["pattern", 0].squeeze()).shape


@pytest.mark.cell(45)
def test_layer_5_has_12_patterns_of_45_by_45(run, printed, bench):
    """In [45]: attention_pattern = cache["pattern", 5, "attn"].squeeze(); its shape is torch.Size([12, 45, 45])."""
    assert printed == bench(lambda: run.cache["pattern", 5, "attn"].squeeze()).shape


@pytest.mark.cell(39)
@pytest.mark.parametrize("layer", [pytest.param(0, id="layer 0 head 5"), pytest.param(5, id="layer 5 head 5")])
def test_the_pattern_the_document_draws(run, layer, snapshot, bench):
    """In [39]: cv.attention.attention_pattern(attention=attention[5], tokens=str_tokens), and "Compare block 0
    head 5 to block 5 head 5!": the drawn pattern (a baseline of its corner and its last row)."""
    head = bench(lambda: run.cache["pattern", layer].squeeze()[5])
    assert snapshot == {"corner": loading.get_corner(head), "last row": head[-1]}


@pytest.mark.parametrize("layer", LAYERS)
def test_nothing_attends_to_the_future_and_rows_sum_to_one(run, layer, bench):
    """Beyond the document: every pattern is causal (zero above the diagonal) and each row is a distribution."""
    pattern = bench(lambda: run.cache["pattern", layer])
    assert (pattern[..., future(pattern)] == 0).all()
    sums = pattern.sum(dim=-1)
    torch.testing.assert_close(sums, torch.ones_like(sums), atol=numeric.NOISE_ABS, rtol=0)


@pytest.mark.workload
@pytest.mark.parametrize("layer", LAYERS)
def test_the_pattern_is_softmax_of_scaled_masked_q_k(run, layer, bench):
    """Beyond the document: hook_pattern = softmax(mask(q . k / sqrt(d_head))), recomputed from hook_q, hook_k."""
    recomputed = bench(lambda: pattern_from_q_k(run.cache, layer))
    torch.testing.assert_close(recomputed, run.cache["pattern", layer], atol=numeric.NOISE_ABS, rtol=numeric.NOISE_REL)
