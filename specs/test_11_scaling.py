"""Beyond the document: how the forward pass's cost grows with sequence length, batch and dtype,
and what TransformerLens costs over plain Hugging Face (opt-in: ``pytest --scaling``).

Each point runs the implementations on one device, dtype and shape, paired round by round on the
same tokens; the terminal table, the page's plot and pytest-benchmark's JSON (``--benchmark-json``,
each point in ``extra_info``) carry the results. Half precision against float32 and CUDA against
the CPU are paired the same way. See ``gpt2spec/scaling/`` for what is measured and how.
"""

import statistics
from typing import Any, Callable

import pytest
import torch

from gpt2spec import document, fidelity, paired, timing
from gpt2spec.scaling import flops, grid, memory, points
from gpt2spec.plugin.keys import TALLY
from specs import shared

pytestmark = pytest.mark.scaling

SHAPES = [pytest.param((b, s), id=f"{b}x{s}") for b in grid.BATCHES for s in grid.SEQS]
TL_ATTENTION = "eager (TransformerLens's own: matmul, softmax, matmul)"


@pytest.fixture(scope="module")
def hugging_face_models():
    """Hugging Face's GPT2LMHeadModel from the files TransformerLens loaded, one per (device, attention, dtype),
    with the seconds its load took."""
    loaded: dict[tuple[str, str, str], tuple[object, float]] = {}

    def get(device: str, attention: str, dtype: str):
        if (device, attention, dtype) not in loaded:
            load = lambda: shared.hugging_face(device, attn_implementation=attention, dtype=getattr(torch, dtype))
            loaded[device, attention, dtype] = timing.timed(device, load)
        return loaded[device, attention, dtype]

    return get


@pytest.fixture(scope="module")
def implementation(model_on, hugging_face_models, pytestconfig):
    """``implementation(name, device, dtype, tokens)``: (the call that returns its logits, its attention, its load seconds)."""

    def get(name: str, device: str, dtype: str, tokens: torch.Tensor) -> tuple[Callable[[], Any], str, float | None]:
        if name.startswith("hf-"):
            attention = name.removeprefix("hf-")
            model, load_s = hugging_face_models(device, attention, dtype)
            return (lambda: model(tokens).logits), attention, load_s
        model = model_on(device, getattr(torch, dtype))
        load_s = pytestconfig.stash[TALLY].load_seconds(device, dtype)  # model_on timed it
        call = (lambda: model(tokens)) if name == "tl-forward" else (lambda: model.run_with_cache(tokens)[0])
        return call, TL_ATTENTION, load_s

    return get


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", grid.DTYPES)
def test_forward_cost(device, dtype, shape, run, model_on, implementation, benchmark, scaling_results, record_property):
    """One point of the scaling benchmark: the implementations on the same tokens, paired round by round; each
    one's median latency, tokens/s, memory and FLOP/s, its cost over Hugging Face's eager forward, and
    TransformerLens's log-prob gap to it."""
    batch, seq = shape
    tokens = grid.same_tokens(run.tokens, batch, seq)
    arms, reasons = {}, []
    for name in grid.IMPLEMENTATIONS:
        if reason := grid.skip_reason(device, dtype, name, batch, seq):
            scaling_results.skip(reason, device, dtype, name, batch, seq)
            reasons.append(reason)
        else:
            arms[name] = implementation(name, device, dtype, tokens)
    if not arms:
        pytest.skip(reasons[0])
    calls = {name: timing.synchronized(device, call) for name, (call, _, _) in arms.items()}
    benchmark.group = f"scaling {device} {dtype} {batch}x{seq}"
    times = benchmark.pedantic(lambda: paired.alternate(calls, grid.ROUNDS, grid.MIN_SECONDS, grid.MAX_ROUNDS), rounds=1, iterations=1)
    peak = flops.peak_flops(device, dtype)
    if peak:
        scaling_results.peak_sources[device] = peak[1]
    first_rows = {}
    for name, (call, attention, load_s) in arms.items():
        with memory.peak_memory(device) as used:  # one more call, untimed: the weights are paged in by now
            first_rows[name] = calls[name]()[0]
        where = timing.conditions(device, dtype, attention)
        over = None if name == grid.REFERENCE else paired.ratio(times, name, grid.REFERENCE, "over HF eager", name, where).as_dict()
        point = points.Point(
            device=device, dtype=dtype, implementation=name, batch=batch, seq=seq, median_s=statistics.median(times[name]),
            peak_bytes=used["peak_bytes"], added_bytes=used["added_bytes"],
            flops=flops.forward_flops(model_on(device).cfg, batch, seq), peak_flop_s=peak[0] if peak else None,
            load_s=load_s, attention=attention, over_reference=over, conditions=where,
        )  # fmt: skip
        scaling_results.points.append(point)
    benchmark.extra_info["points"] = [p.extra_info() for p in scaling_results.points[-len(arms):]]
    if "tl-forward" in first_rows:  # every row is the same tokens: the first row says it all
        gap = fidelity.log_prob_gap(first_rows["tl-forward"], first_rows[grid.REFERENCE])
        record_property("fidelity", fidelity.row(f"scaling, {batch} x {seq}: forward vs GPT2LMHeadModel (eager)", timing.conditions(device, dtype, "eager"), gap))


PAIR_SHAPES = sorted({shape for shapes in grid.PAIR_SHAPES.values() for shape in shapes})


@pytest.mark.parametrize("shape", [pytest.param(s, id=f"{s[0]}x{s[1]}") for s in PAIR_SHAPES])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_over_float32(device, dtype, shape, run, implementation, benchmark, record_property):
    """Half precision against float32 on one device: TransformerLens's forward and Hugging Face's eager forward in
    both dtypes on the same tokens, paired round by round (the ratio is half precision's time over float32's)."""
    if shape not in grid.PAIR_SHAPES.get(device, []):
        pytest.skip(f"{device}: half precision against float32 is paired at {grid.PAIR_SHAPES.get(device)} only")
    if grid.skip_reason(device, dtype, "tl-forward", *shape) == "this GPU has no bfloat16":
        pytest.skip("this GPU has no bfloat16")
    tokens = grid.same_tokens(run.tokens, *shape)
    arms = {f"{name} {d}": timing.synchronized(device, implementation(name, device, d, tokens)[0]) for name in ("tl-forward", "hf-eager") for d in ("float32", dtype)}
    benchmark.group = f"scaling {device} {dtype} over float32 {shape[0]}x{shape[1]}"
    times = benchmark.pedantic(lambda: paired.alternate(arms, grid.ROUNDS, grid.MIN_SECONDS, grid.MAX_ROUNDS), rounds=1, iterations=1)
    question = f"{dtype}'s time over float32's on {device.upper()}, {shape[0]} x {shape[1]}"
    for name in ("tl-forward", "hf-eager"):
        ratio = paired.ratio(times, f"{name} {dtype}", f"{name} float32", question, grid.IMPLEMENTATIONS[name], timing.conditions(device, dtype))
        record_property("ratios", ratio.as_dict())
        benchmark.extra_info[name] = ratio.as_dict()


@pytest.mark.parametrize("shape", [pytest.param(s, id=f"{s[0]}x{s[1]}") for s in grid.DEVICE_PAIR_SHAPES])
def test_cuda_over_cpu(shape, model_on, implementation, benchmark, record_property):
    """CUDA against the CPU, float32: TransformerLens's forward and Hugging Face's eager forward on both devices
    on the same tokens, paired round by round (the ratio is the CPU's time over CUDA's: the speedup)."""
    model_on("cuda")  # skips where there is none
    tokens = {d: grid.same_tokens(model_on(d).to_tokens(document.TEXT), *shape) for d in ("cpu", "cuda")}
    arms = {f"{name} {d}": timing.synchronized(d, implementation(name, d, "float32", tokens[d])[0]) for name in ("tl-forward", "hf-eager") for d in ("cpu", "cuda")}
    benchmark.group = f"scaling cuda over cpu {shape[0]}x{shape[1]}"
    times = benchmark.pedantic(lambda: paired.alternate(arms, grid.ROUNDS, grid.MIN_SECONDS, grid.MAX_ROUNDS), rounds=1, iterations=1)
    where = {**timing.conditions("cuda"), "device_name": f"{timing.device_name('cuda')} vs {timing.device_name('cpu')}"}
    for name in ("tl-forward", "hf-eager"):
        ratio = paired.ratio(times, f"{name} cpu", f"{name} cuda", f"CUDA's speedup over the CPU, float32, {shape[0]} x {shape[1]}", grid.IMPLEMENTATIONS[name], where)
        record_property("ratios", ratio.as_dict())
        benchmark.extra_info[name] = ratio.as_dict()
