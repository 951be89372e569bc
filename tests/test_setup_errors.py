"""Bad input gets one clear line saying what to do: no traceback, nothing overwritten."""

import pytest
import torch

from gpt2spec import loading, sources

from .conftest import copy_of, run_here


def one_clear_line(result, *needles: str) -> None:
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("ERROR: ")]
    assert len(lines) == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_weights_hub_offline_with_an_empty_cache(tmp_path):
    """--weights hub never falls back to the stand-in: no model to be had is one line."""
    result = run_here("specs/test_03_tokenization.py", "--weights", "hub", hf_home=tmp_path)
    one_clear_line(result, "HF_HUB_OFFLINE=1", "no GPT-2 small", "--weights standin")


@pytest.mark.skipif(sources.hub_error() is None, reason="this machine reaches the hub")
def test_weights_hub_with_no_hub(tmp_path):
    """Online but out of reach (this machine's case): --weights hub says so at once, without ~27 s of retries."""
    result = run_here("specs/test_03_tokenization.py", "--weights", "hub", hf_home=tmp_path, online=True)
    one_clear_line(result, "--weights hub:", "--weights standin")


def test_a_cache_without_weights(standin_home, tmp_path):
    home = copy_of(standin_home, tmp_path)
    for file in home.rglob("model.safetensors"):
        file.unlink()
    result = run_here("specs/test_03_tokenization.py", "--weights", "hub", hf_home=home)
    one_clear_line(result, "no weights")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA, so --device cuda is valid")
def test_device_cuda_without_cuda(tmp_path):
    result = run_here("specs/test_03_tokenization.py", "--device", "cuda", hf_home=tmp_path)
    one_clear_line(result, "--device cuda", "--device cpu")


def test_an_untested_transformerlens_runs_with_a_warning(monkeypatch):
    """A major this suite has not run is not refused while it loads GPT-2 through a known entry point
    (tests/test_any_transformerlens.py refuses one that cannot, and runs the specs under one)."""
    monkeypatch.setattr(loading, "tl_version", lambda: "5.0.0")
    assert loading.check_supported().startswith("TransformerLens 5.0.0 is a major this suite has not run")


def test_collect_only_needs_no_model(tmp_path):
    """Reading the table of contents works anywhere, even with no model at hand."""
    result = run_here("--co", hf_home=tmp_path)
    assert result.returncode == 0
    assert "test_the_next_token_is_that" in result.stdout
