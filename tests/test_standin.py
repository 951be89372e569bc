"""The stand-in cache: reproducible to the byte, and loaded by TransformerLens's own entry point."""

import json
import os

import numpy as np

from gpt2spec import harness, hubcache, loading, seeded, standin, weights

from .conftest import digest


def test_two_builds_are_byte_identical(standin_digest, gpt2_files, tmp_path):
    standin.build(tmp_path, gpt2_files)
    assert digest(tmp_path) == standin_digest


def test_the_generator_is_splitmix64():
    """Counters 1, 2, 3 give SplitMix64's first three outputs from state 0 (Vigna's reference
    splitmix64.c): the weights come from a published generator, not from a library's RNG stream."""
    words = seeded.splitmix64(np.arange(1, 4, dtype=np.uint64))
    assert [hex(w) for w in words.tolist()] == ["0xe220a8397b1dcdaf", "0x6e789e6aa1b965f4", "0x6c45d188009454f"]


def test_the_cache_has_the_hub_layout(standin_home):
    for repo in hubcache.REPOS:
        repo_dir = standin_home / "hub" / ("models--" + repo.replace("/", "--"))
        rev = (repo_dir / "refs" / "main").read_text()
        snap = repo_dir / "snapshots" / rev
        assert {p.name for p in snap.iterdir()} >= set(hubcache.SMALL_FILES) | {"model.safetensors"}
        assert json.loads((snap / hubcache.MARKER).read_text())["seed"] == standin.SEED


def test_the_installed_transformerlens_loads_it_offline(standin_home):
    """Through HookedTransformer.from_pretrained (TransformerLens < 4) or TransformerBridge.boot_transformers
    + enable_compatibility_mode (4.x), whichever is installed; CI runs this under 3.9 and 4.x. Offline,
    with HF_HOME the stand-in's and no other setting of Hugging Face's or ours (harness.suite_state
    reads the environment as a fresh process does)."""
    ours = {name: None for name in os.environ if name.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "GPT2SPEC_"))}
    with harness.suite_state({**ours, "HF_HOME": str(standin_home), "HF_HUB_OFFLINE": "1"}):
        model = loading.load("cpu")
        found = weights.identify(model)
    assert type(model).__name__ == ("TransformerBridge" if loading.tl_major() >= 4 else "HookedTransformer")
    assert not found.is_openai, "the fingerprint must say the stand-in is not OpenAI's"
    assert found.snapshot_id == standin.name()


class _Embedding:
    """Just enough of a model for weights.identify: tokens and an embedding matrix."""

    def __init__(self, corner):
        import torch

        self.W_E = torch.zeros(50257, 768)
        self.corner = corner
        for row, token in enumerate((50256, 1212, 318)):
            self.W_E[token, :3] = torch.tensor(corner[row])

    def to_tokens(self, text):
        import torch

        return torch.tensor([[50256, 1212, 318, 257]])


def test_the_fingerprint_recognises_the_printed_embedding():
    """Weights whose In [14] corner is what the document printed count as OpenAI's; 2e-4 off does not."""
    from gpt2spec import document, weights

    printed = [[float(x) for x in row] for row in document.EMBEDDING_CORNER]
    assert weights.identify(_Embedding(printed)).is_openai
    off = [[x + 2e-4 for x in row] for row in printed]
    assert not weights.identify(_Embedding(off)).is_openai
