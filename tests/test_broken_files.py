"""A broken cache (an interrupted download, a corrupt or missing file) gets one line naming the
file and what to do, before any model load: no traceback, and never a silent stand-in.

The runs are in this process (conftest.run_here: what pytest prints, stdout and stderr)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from gpt2spec import hubcache, loading

from .conftest import copy_of, run_here
from .test_setup_errors import one_clear_line

SPEC = "specs/test_01_config.py"  # 24 tests over the model: the run the issue reported


def snapshot(home: Path, repo: str = hubcache.REPOS[0]) -> Path:
    repo_dir = home / "hub" / ("models--" + repo.replace("/", "--"))
    return repo_dir / "snapshots" / (repo_dir / "refs" / "main").read_text()


def truncate(weights: Path, size: int) -> None:
    """An interrupted download: the first ``size`` bytes of the file (sparse: nothing is copied)."""
    original = weights.resolve()
    weights.unlink()
    with original.open("rb") as src, weights.open("wb") as dst:
        dst.write(src.read(1 << 20))
    os.truncate(weights, size)


def short_and_clear(result, *needles: str) -> None:
    one_clear_line(result, *needles)
    assert result.returncode == 4  # pytest's usage error: the setup, not a claim, is wrong
    assert len((result.stdout + result.stderr).strip().splitlines()) <= 5, result.stdout + result.stderr


def test_truncated_weights(standin_home, tmp_path):
    """The issue's case: 3,295 lines of traceback and 24 load attempts before; now one line."""
    home = copy_of(standin_home, tmp_path)
    truncate(snapshot(home) / "model.safetensors", 200_000_000)
    result = run_here(SPEC, hf_home=home)
    short_and_clear(result, "model.safetensors is truncated (200000000 of 497774208 bytes", "python -m gpt2spec.standin")


def test_weights_that_are_not_safetensors(standin_home, tmp_path):
    home = copy_of(standin_home, tmp_path)
    weights = snapshot(home) / "model.safetensors"
    weights.unlink()
    weights.write_bytes(b"<html>rate limited</html>")
    short_and_clear(run_here(SPEC, hf_home=home), "model.safetensors is not a safetensors file")


def test_a_config_that_does_not_parse(standin_home, tmp_path):
    home = copy_of(standin_home, tmp_path)
    config = snapshot(home, "gpt2") / "config.json"
    config.write_text(config.read_text()[:100])
    short_and_clear(run_here(SPEC, hf_home=home), "config.json is not valid JSON", "gpt2spec.standin")


def test_a_missing_tokenizer(standin_home, tmp_path):
    """With no tokenizer file, transformers loads one that maps every text to id 0: refuse instead."""
    home = copy_of(standin_home, tmp_path)
    for name in ("tokenizer.json", "vocab.json"):
        (snapshot(home, "gpt2") / name).unlink()
    short_and_clear(run_here(SPEC, hf_home=home), "has no tokenizer (tokenizer.json, or vocab.json and merges.txt)")


def test_a_downloaded_cache_says_download_again(standin_home, tmp_path):
    """Not a stand-in (no marker): the fix is to delete the repo's cache folder and download again."""
    home = copy_of(standin_home, tmp_path)
    for repo in hubcache.REPOS:
        (snapshot(home, repo) / hubcache.MARKER).unlink()
    truncate(snapshot(home) / "model.safetensors", 1 << 24)
    repo_dir = snapshot(home).parents[1]
    short_and_clear(run_here(SPEC, hf_home=home), "is truncated", f"delete {repo_dir} and run once online")


def test_a_load_that_fails_ends_the_run_once(standin_home, tmp_path):
    """Files that pass the checks but do not load (here a config whose width 12 heads cannot split):
    one line, once, not an error per test."""
    home = copy_of(standin_home, tmp_path)
    for repo in hubcache.REPOS:
        config = snapshot(home, repo) / "config.json"
        config.write_text(json.dumps(json.loads(config.read_text()) | {"n_embd": 700}))
    result = run_here(SPEC, hf_home=home)
    out = result.stdout + result.stderr
    assert result.returncode == 4
    assert "Traceback" not in out
    assert out.count("could not load GPT-2 small") == 1, out
    assert "could not load GPT-2 small on cpu (ValueError: `embed_dim` must be divisible by num_heads" in out
    assert len(out.strip().splitlines()) <= 5, out


@pytest.mark.parametrize("cut", [0, 4, 8, 100, -1], ids=["empty", "in the length", "no header", "in the header", "one byte short"])
def test_the_safetensors_check_reads_only_the_header(tmp_path, cut):
    whole = tmp_path / "model.safetensors"
    save_file({"a": np.zeros((3, 5), np.float32), "b": np.ones(7, np.float32)}, str(whole))
    assert hubcache.safetensors_problem(whole) is None
    data = whole.read_bytes()
    whole.write_bytes(data[:cut])
    assert hubcache.safetensors_problem(whole) is not None


def test_nothing_cached_is_not_a_broken_cache(monkeypatch):
    """--weights auto asks this before falling back to a stand-in: nothing cached passes."""
    monkeypatch.setattr(hubcache, "cached_snapshots", lambda: [])
    loading.check_cache_files()
