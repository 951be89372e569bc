"""The scaling benchmark's machinery, without timing anything: FLOPs, the grid's skips, memory, the table, the plot, the opt-in."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from gpt2spec import standin, timing
from gpt2spec.scaling import flops, grid, memory, table
from gpt2spec.scaling.points import Point, Scaling

from .conftest import run_here

GPT2 = SimpleNamespace(d_model=768, n_layers=12, d_mlp=3072, d_vocab=50257, n_heads=12)


def test_forward_flops_of_gpt2_small():
    """2 x 123.5M matmul weights a token (84.9M in the blocks, 38.6M unembedding), plus 4 n_layer seq d_model."""
    per_token = flops.forward_flops(GPT2, 1, 1)
    assert per_token == 2 * (12 * (4 * 768**2 + 2 * 768 * 3072) + 768 * 50257) + 4 * 12 * 768
    assert flops.forward_flops(GPT2, 8, 1024) == 8 * 1024 * (per_token - 4 * 12 * 768 + 4 * 12 * 1024 * 768)


@pytest.mark.parametrize("batch, seq", [(1, 45), (2, 1024)])
def test_forward_flops_match_torchs_count_of_the_matmuls(batch, seq):
    """torch.utils.flop_counter counts every matmul of a forward of the stand-in's architecture (GPT-2 small's
    packaged config; Hugging Face's eager attention, the arithmetic TransformerLens runs) on the meta device:
    no weights, no arithmetic, only shapes. forward_flops must agree within 1%; what both leave out (LayerNorm,
    GELU, softmax, biases, residual adds), counted generously, stays under 1% of it."""
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config.from_json_file(standin.PACKAGED / "config.json")
    config._attn_implementation = "eager"
    with torch.device("meta"):
        model = GPT2LMHeadModel(config)
    with FlopCounterMode(display=False) as counted:
        model(torch.zeros(batch, seq, dtype=torch.long, device="meta"))
    ours = flops.forward_flops(GPT2, batch, seq)
    assert abs(counted.get_total_flops() - ours) <= 0.01 * ours
    d, layers = GPT2.d_model, GPT2.n_layers  # per token: 2 LayerNorms at 10 d, GELU at 20 d_mlp, softmax at 5 heads seq, biases and adds at 8 d
    left_out = batch * seq * (layers * (2 * 10 * d + 20 * GPT2.d_mlp + 5 * GPT2.n_heads * seq + 8 * d) + 10 * d)
    assert left_out < 0.01 * ours


def test_the_cpu_grid_is_small_and_says_why():
    measured = [
        (d, b, s) for d in grid.DTYPES for b in grid.BATCHES for s in grid.SEQS
        if grid.skip_reason("cpu", d, "tl-forward", b, s) is None
    ]  # fmt: skip
    assert ("float32", 1, 1024) in measured and ("float32", 8, 45) in measured and ("float32", 8, 128) not in measured
    assert ("bfloat16", 1, 45) in measured and ("bfloat16", 1, 128) not in measured
    assert sum(b * s for d, b, s in measured if d == "float32") == 2325
    assert "CPU" in grid.skip_reason("cpu", "float32", "hf-eager", 32, 1024)
    assert "run_with_cache" in grid.skip_reason("cuda", "float32", "tl-cache", 32, 1024)


def test_the_cpu_peak_is_the_kernels_high_water_mark():
    """A short-lived 400 MB array shows in full, though it is gone when the block ends."""
    with memory.peak_memory("cpu") as used:
        array = np.ones(50_000_000)
        del array
    assert used["added_bytes"] is not None and used["added_bytes"] >= 0.95 * 400e6


def test_the_table_and_the_plot_name_every_point():
    where = timing.conditions("cpu", "float32", "eager")
    over = {"median": 1.2, "low": 1.15, "high": 1.25}
    points = [
        Point("cpu", "float32", impl, 1, 45, median, peak_bytes=None, added_bytes=2**21, flops=2e9,
                      peak_flop_s=None, load_s=1.0, attention="eager", over_reference=ratio, conditions=where)
        for impl, median, ratio in (("hf-eager", 0.1, None), ("tl-forward", 0.12, over))
    ]  # fmt: skip
    lines = table.table_lines(points)
    assert len(lines) == 3 and "1.00x" in lines[1] and "1.20x (1.15-1.25)" in lines[2] and "450" in lines[1]  # 45 tokens / 0.1 s
    notes = table.notes(points, {})
    assert any(line.startswith("conditions:") and "torch threads" in line for line in notes)
    assert any("VmHWM" in line for line in notes) and any("95% confidence interval" in line for line in notes)
    figures = table.figures(points)
    assert len(figures) == 1 and "TransformerLens forward" in next(iter(figures.values()))
    (section,) = table.page_sections(Scaling(points=points))
    assert list(section.figures) == list(figures) and section.pre == lines + notes  # the page shows what the run measured


def test_the_same_tokens_fill_any_shape():
    row = torch.arange(45).unsqueeze(0)
    tokens = grid.same_tokens(row, 8, 128)
    assert tokens.shape == (8, 128) and tokens[3, 45:90].equal(torch.arange(45))


def test_scaling_is_opt_in(tmp_path):
    """Listing needs no model: any HF_HOME will do."""
    default = run_here("specs", "--co", hf_home=tmp_path)
    assert "deselected" in default.stdout and "test_11_scaling" not in default.stdout
    chosen = run_here("specs/test_11_scaling.py", "--co", "--scaling", "--benchmark-enable", hf_home=tmp_path)
    assert "test_forward_cost[cpu-float32-1x45]" in chosen.stdout and "test_cuda_over_cpu[1x45]" in chosen.stdout
    disabled = run_here("specs/test_11_scaling.py", "--co", "--scaling", hf_home=tmp_path)
    assert disabled.returncode == 4 and "drop --benchmark-disable" in disabled.stderr + disabled.stdout
