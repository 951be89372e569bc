"""The scaling benchmark's machinery, without a model: FLOPs, the grid's skips, the table, the plot, the opt-in."""

from types import SimpleNamespace

import torch

from gpt2spec import scaling

from .conftest import run_pytest

GPT2 = SimpleNamespace(d_model=768, n_layers=12, d_mlp=3072, d_vocab=50257)


def test_forward_flops_of_gpt2_small():
    """2 x 123.5M matmul weights a token (84.9M in the blocks, 38.6M unembedding), plus 4 n_layer seq d_model."""
    per_token = scaling.forward_flops(GPT2, 1, 1)
    assert per_token == 2 * (12 * (4 * 768**2 + 2 * 768 * 3072) + 768 * 50257) + 4 * 12 * 768
    assert scaling.forward_flops(GPT2, 8, 1024) == 8 * 1024 * (per_token - 4 * 12 * 768 + 4 * 12 * 1024 * 768)


def test_the_cpu_grid_is_small_and_says_why():
    measured = [
        (d, b, s) for d in scaling.DTYPES for b in scaling.BATCHES for s in scaling.SEQS
        if scaling.skip_reason("cpu", d, "tl-forward", b, s) is None
    ]  # fmt: skip
    assert ("float32", 1, 1024) in measured and ("float32", 8, 45) in measured and ("float32", 8, 128) not in measured
    assert ("bfloat16", 1, 45) in measured and ("bfloat16", 1, 128) not in measured
    assert sum(b * s for d, b, s in measured if d == "float32") == 2325
    assert "CPU" in scaling.skip_reason("cpu", "float32", "hf-eager", 32, 1024)
    assert "run_with_cache" in scaling.skip_reason("cuda", "float32", "tl-cache", 32, 1024)


def test_the_table_and_the_plot_name_every_point():
    points = [
        scaling.Point("cpu", "float32", impl, 1, 45, median, peak_bytes=None, added_bytes=2**21, flops=2e9,
                      peak_flop_s=None, load_s=1.0, attention="eager")
        for impl, median in (("hf-eager", 0.1), ("tl-forward", 0.12))
    ]  # fmt: skip
    lines = scaling.table_lines(points)
    assert len(lines) == 3 and "1.20x" in lines[2] and "450" in lines[1]  # 45 tokens / 0.1 s
    figures = scaling.figures(points)
    assert len(figures) == 1 and "TransformerLens forward" in next(iter(figures.values()))
    (section,) = scaling.Scaling(points=points).pytest_spec_page_sections(config=None)
    assert list(section.figures) == list(figures)  # the page draws what the run measured


def test_the_same_tokens_fill_any_shape():
    row = torch.arange(45).unsqueeze(0)
    tokens = scaling.same_tokens(row, 8, 128)
    assert tokens.shape == (8, 128) and tokens[3, 45:90].equal(torch.arange(45))


def test_scaling_is_opt_in(tmp_path):
    """Listing needs no model: any HF_HOME will do."""
    default = run_pytest("specs", "--co", hf_home=tmp_path)
    assert "deselected" in default.stdout and "test_11_scaling" not in default.stdout
    chosen = run_pytest("specs/test_11_scaling.py", "--co", "--scaling", "--benchmark-enable", hf_home=tmp_path)
    assert "test_forward_cost[cpu-float32-hf-eager-1x45]" in chosen.stdout
    disabled = run_pytest("specs/test_11_scaling.py", "--co", "--scaling", hf_home=tmp_path)
    assert disabled.returncode == 4 and "drop --benchmark-disable" in disabled.stderr + disabled.stdout
