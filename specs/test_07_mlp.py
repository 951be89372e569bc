"""The MLP of a block, recomputed by hand (In [35], [37]): it equals what the cache recorded."""

import pytest
from torch import Tensor

from gpt2spec import loading
from specs.shared import close, mlp_out, mlp_pre, mlp_weights

LAYERS = [pytest.param(i, id=f"layer {i}") for i in range(12)]


@pytest.fixture(scope="module")
def mlp(model) -> dict[str, Tensor]:
    """gpt2.W_in, gpt2.b_in, gpt2.W_out, gpt2.b_out, gathered once."""
    return mlp_weights(model)


@pytest.mark.workload
@pytest.mark.cell(35)
@pytest.mark.parametrize("layer", LAYERS)
def test_w_in_recomputes_the_mlp_input(mlp, run, layer, snapshot, bench):
    """In [35]: mlp_mid1 = einsum("batch pos d_model, d_model d_mlp -> batch pos d_mlp",
    cache["normalized", 0, "ln2"], gpt2.W_in[0]) + gpt2.b_in[0] prints the same corner as cache["pre", 0, "mlp"]
    (here for every layer)."""
    pre = bench(lambda: mlp_pre(mlp, run.cache, layer))
    close(pre, run.cache["pre", layer, "mlp"])
    assert snapshot == loading.get_corner(pre)


@pytest.mark.workload
@pytest.mark.cell(37)
@pytest.mark.parametrize("layer", LAYERS)
def test_gelu_new_and_w_out_recompute_the_mlp_output(mlp, run, layer, snapshot, bench):
    """In [37]: mlp_after = einsum(utils.gelu_new(mlp_mid1), gpt2.W_out[0]) + gpt2.b_out[0] prints the same
    corner as cache["mlp_out", 0] (here for every layer)."""
    pre = run.cache["pre", layer, "mlp"]
    out = bench(lambda: mlp_out(mlp, pre, layer))
    close(loading.gelu_new(pre), run.cache["post", layer, "mlp"])
    close(out, run.cache["mlp_out", layer])
    assert snapshot == loading.get_corner(out)


@pytest.mark.openai
@pytest.mark.cell(35)
def test_the_mlp_input_corner_is_as_printed(mlp, run, printed, bench):
    """In [35]: [[-0.1944, -2.0492, -2.7343], [0.3661, -1.2688, -1.3038], [0.0980, -1.5448, -1.3435]]."""
    assert printed == loading.get_corner(bench(lambda: mlp_pre(mlp, run.cache, 0)))


@pytest.mark.openai
@pytest.mark.cell(37)
def test_the_mlp_output_corner_is_as_printed(mlp, run, printed, bench):
    """In [37]: [[-0.5169, 0.2836, 0.4329], [-0.6278, -0.1156, 1.0684], [-1.6660, 0.3645, -0.8681]]."""
    pre = run.cache["pre", 0, "mlp"]
    assert printed == loading.get_corner(bench(lambda: mlp_out(mlp, pre, 0)))
