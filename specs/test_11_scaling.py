"""Beyond the document: how the forward pass's cost grows with sequence length, batch and dtype,
and what TransformerLens costs over plain Hugging Face (opt-in: ``pytest --scaling``).

Each point times one implementation on one device, dtype and shape; the terminal table, the
page's plot and pytest-benchmark's JSON (``--benchmark-json``) carry the results. See
``gpt2spec/scaling.py`` for what is measured and how.
"""

from pathlib import Path

import pytest
import torch

from gpt2spec import loading, scaling

pytestmark = pytest.mark.scaling

SHAPES = [pytest.param((b, s), id=f"{b}x{s}") for b in scaling.BATCHES for s in scaling.SEQS]


@pytest.fixture(scope="module")
def hugging_face_models():
    """Hugging Face's GPT2LMHeadModel from the files TransformerLens loaded, one per (device, attention, dtype)."""
    loaded: dict[tuple[str, str, str], tuple[object, float]] = {}

    def get(device: str, attention: str, dtype: str):
        from transformers import GPT2LMHeadModel

        if (device, attention, dtype) not in loaded:
            folder = Path(loading.cached_file("config.json")).parent
            load = lambda: GPT2LMHeadModel.from_pretrained(folder, attn_implementation=attention, dtype=getattr(torch, dtype)).to(device).eval()
            loaded[device, attention, dtype] = scaling.timed_load(load, device)
        return loaded[device, attention, dtype]

    return get


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("implementation", list(scaling.IMPLEMENTATIONS))
@pytest.mark.parametrize("dtype", scaling.DTYPES)
def test_forward_cost(device, dtype, implementation, shape, run, model_on, hugging_face_models, benchmark, scaling_results):
    """One point of the scaling benchmark: median latency, tokens/s, memory and FLOP/s of a forward pass."""
    batch, seq = shape
    reason = scaling.skip_reason(device, dtype, implementation, batch, seq)
    if reason:
        scaling_results.skip(reason, device, dtype, implementation, batch, seq)
    tokens = scaling.same_tokens(run.tokens, batch, seq)
    torch_dtype = getattr(torch, dtype)
    if implementation.startswith("hf-"):
        attention = implementation.removeprefix("hf-")
        model, load_s = hugging_face_models(device, attention, dtype)
        fn = lambda: model(tokens).logits
    else:
        attention = "eager (TransformerLens's own: matmul, softmax, matmul)"
        step = "load the model" + ("" if dtype == "float32" else f" in {dtype}")
        model = model_on(device, torch_dtype)
        load_s = scaling_results.tally.seconds.get((device, step))  # model_on timed it
        fn = (lambda: model(tokens)) if implementation == "tl-forward" else (lambda: model.run_with_cache(tokens))

    benchmark.group = f"scaling {device} {dtype} {batch}x{seq}"
    median_s, memory = scaling_results.measure(benchmark, device, fn)
    peak = scaling.peak_flops(device, dtype)
    if peak:
        scaling_results.peak_sources[device] = peak[1]
    point = scaling.Point(
        device=device, dtype=dtype, implementation=implementation, batch=batch, seq=seq, median_s=median_s,
        peak_bytes=memory["peak_bytes"], added_bytes=memory["added_bytes"],
        flops=scaling.forward_flops(model_on(device).cfg, batch, seq), peak_flop_s=peak[0] if peak else None,
        load_s=load_s, attention=attention,
    )  # fmt: skip
    benchmark.extra_info.update(point.extra_info())
    scaling_results.points.append(point)
