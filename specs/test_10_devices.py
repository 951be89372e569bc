"""Beyond the document: CPU and CUDA side by side, and what TransformerLens costs over plain Hugging Face.

The reference line times Hugging Face's ``GPT2LMHeadModel`` forward (no hooks) on the document's
tokens; TransformerLens's forward and its ``run_with_cache`` on the same tokens are the document's
own In [15] and In [16], timed in the same run (the CPU vs CUDA table sets them side by side).
"""

from pathlib import Path

import pytest
import torch

from gpt2spec import compare as numeric, loading


@pytest.fixture(scope="module")
def hugging_face(device):
    """The raw Hugging Face model, from the same cached files TransformerLens loaded."""
    from transformers import GPT2LMHeadModel

    folder = loading.cached_file("config.json")
    assert folder is not None, "the model was loaded, so its files are in the cache"
    return GPT2LMHeadModel.from_pretrained(Path(folder).parent).to(device).eval()


@pytest.mark.workload
def test_reference_hugging_face_forward(hugging_face, run, bench):
    """Reference: GPT2LMHeadModel(tokens) gives the distribution TransformerLens gives (TransformerLens
    centres the unembedding, which shifts each position's logits by a constant: log-softmax is unmoved).

    Two implementations, one with LayerNorm folded into the weights, so rounding differs more than
    between two runs of one: within 1e-4 absolute (where TransformerLens's guide calls a difference
    suspicious) and 1e-4 relative (the 5 significant digits In [30] prints log-probabilities at)."""
    logits = bench(lambda: hugging_face(run.tokens).logits)
    torch.testing.assert_close(logits.log_softmax(-1), run.logits.log_softmax(-1), atol=1e-4, rtol=numeric.NOISE_SCI_REL)


@pytest.mark.parametrize(
    "hook", [pytest.param(h, id=f"{h} agrees across devices") for h in ("hook_embed", "blocks.5.attn.hook_pattern", "blocks.11.hook_resid_post", "ln_final.hook_normalized")]
)
def test_cpu_and_cuda_agree(model_on, hook):
    """Numerics across devices: the same weights and tokens give the same activations and logits on CPU and
    CUDA within fp32 noise (TransformerLens's guide: under 5e-5 is noise)."""
    from gpt2spec.run import document_run

    cpu, cuda = model_on("cpu"), model_on("cuda")
    on_cpu, on_cuda = document_run(cpu), document_run(cuda)
    torch.testing.assert_close(on_cuda.cache[hook].cpu(), on_cpu.cache[hook], atol=numeric.NOISE_ABS, rtol=numeric.NOISE_REL)
    torch.testing.assert_close(on_cuda.logits.cpu(), on_cpu.logits, atol=numeric.NOISE_ABS, rtol=numeric.NOISE_REL)
