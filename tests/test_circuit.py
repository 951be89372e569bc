"""The stand-in's built circuit: its position code is sharp, its arithmetic exact, and it touches only
what it says it does. That it works, through TransformerLens's forward pass, is specs/test_09's to say."""

import numpy as np
import pytest
from safetensors.numpy import load_file

from gpt2spec import circuit, standin


def test_cos_sin_without_libm_match_libm():
    """The Taylor table (exact operations only) agrees with the platform's cos and sin to 1e-15."""
    cos, sin = circuit.cos_sin_table()
    angle = 2 * np.pi * np.arange(circuit.PERIOD) / circuit.PERIOD
    assert np.abs(cos - np.cos(angle)).max() < 1e-15
    assert np.abs(sin - np.sin(angle)).max() < 1e-15


def test_the_position_code_singles_out_one_distance():
    """Head 4.11's score is the sum of the rotations' cosines at the distance from the previous position:
    32 at distance 0, at most 0.31 of that at any other distance GPT-2's context allows (1 to 1024)."""
    cos, _ = circuit.cos_sin_table()
    k = np.array(circuit.FREQUENCIES)
    distance = np.arange(1, 1025)
    kernel = cos[np.outer(k, distance) % circuit.PERIOD].sum(axis=0) / len(k)
    assert kernel.max() < 0.31


def test_the_subspaces_tile_the_reserved_dimensions():
    spans = list(circuit.SUBSPACES.values())
    assert spans[0].start == circuit.RESERVED.start and spans[-1].stop == circuit.RESERVED.stop == 768
    assert all(a.stop == b.start for a, b in zip(spans, spans[1:]))
    assert circuit.RESERVED.start > 2, "the fingerprint (In [14]) reads dimensions 0-2: they stay noise"


@pytest.fixture(scope="module")
def built(standin_home):
    snap = next((standin_home / "hub").rglob("model.safetensors"))
    return load_file(str(snap.resolve()))


def test_noise_writes_nothing_in_the_reserved_dimensions(built):
    """No head outside the circuit, no MLP, no bias writes a reserved dimension (they read them, as any
    other); LayerNorm passes them as they are (gain 1, bias 0)."""
    reserved = slice(circuit.RESERVED.start, circuit.RESERVED.stop)
    ours = {circuit.PREVIOUS_TOKEN_HEAD, *circuit.INDUCTION_HEADS}
    for layer in range(12):
        h = f"transformer.h.{layer}."
        others = [i for i in range(12) if (layer, i) not in ours]
        proj = built[h + "attn.c_proj.weight"].reshape(12, 64, 768)[others]
        assert not proj[:, :, reserved].any()
        assert not built[h + "mlp.c_proj.weight"][:, reserved].any()
        for name in ("attn.c_proj.bias", "mlp.c_proj.bias", "ln_1.bias", "ln_2.bias"):
            assert not built[h + name][reserved].any()
        for name in ("ln_1.weight", "ln_2.weight"):
            assert (built[h + name][reserved] == 1).all()


def test_the_circuit_reads_nothing_of_the_mean(built):
    """Each column of a circuit head's query, key and value sums to zero (the ``zero`` dimension takes
    the rest): LayerNorm's centring, which subtracts the whole vector's mean, drops out of every read."""
    for layer, index in {circuit.PREVIOUS_TOKEN_HEAD, *circuit.INDUCTION_HEADS}:
        qkv = built[f"transformer.h.{layer}.attn.c_attn.weight"].reshape(768, 3, 12, 64)[:, :, index]
        assert np.abs(qkv.astype(np.float64).sum(axis=0)).max() < 1e-5 * np.abs(qkv).max()
        assert not qkv[: circuit.RESERVED.start].any(), "a circuit head reads only the reserved dimensions"


def test_the_marker_names_the_circuit(standin_home):
    marker = next((standin_home / "hub").rglob(standin.MARKER))
    assert f'"circuit": {circuit.VERSION}' in marker.read_text()
    assert standin_home.name == standin.name() == f"standin-circuit{circuit.VERSION}-seed{standin.SEED}"


def test_a_stand_in_from_before_the_circuit_is_not_taken_for_it(standin_home, tmp_path):
    """A cache built before the circuit (same seed; its marker names no circuit) is not complete():
    the next run builds the circuit's, in a folder of its own name, never reads the old one's numbers."""
    from .conftest import copy_of

    (tmp_path / "old").mkdir()
    old = copy_of(standin_home, tmp_path / "old")
    for marker in old.rglob(standin.MARKER):
        text = marker.read_text().replace(f', "circuit": {circuit.VERSION}', "")
        marker.unlink()
        marker.write_text(text)
    assert not standin.complete(old)
    assert standin.name(version=None) != standin.name()
