"""--weights: where GPT-2 small comes from when a user just types `pytest`.

The runs are in this process: what is tested is the choice (made before any load), so the model
served is the session's stand-in, loaded once (the same seed: builds are byte-identical,
test_standin.py); loading a freshly built stand-in is test_standin.py's."""

import re

import pytest

from gpt2spec import sources, standin

from .conftest import run_here

SPEC = "specs/test_03_tokenization.py"


@pytest.mark.skipif(sources.hub_error() is None, reason="this machine reaches the hub: auto takes OpenAI's weights")
def test_auto_builds_the_standin_once_when_the_hub_is_out_of_reach(tmp_path, fault_models):
    """A fresh machine with no hub and no cache: the run builds the stand-in once, says so, and passes;
    the next run reuses it."""
    cache = tmp_path / "cache"
    first = run_here(SPEC, "-v", hf_home=tmp_path / "hf", online=True, standin_cache=cache, models=fault_models)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert f"built the stand-in GPT-2 small (seed {standin.SEED}) in {cache}" in first.stderr
    assert re.search(r"^gpt2spec: GPT-2 small from stand-in weights, seed \d+, induction circuit v\d+ built in, in .*--weights auto: the hub is out of reach", first.stdout, re.M)
    assert "NOT OpenAI's GPT-2 small" in first.stdout
    assert standin.complete(cache / standin.name())
    again = run_here(SPEC, hf_home=tmp_path / "hf", online=True, standin_cache=cache, models=fault_models)
    assert again.returncode == 0 and "built the stand-in" not in again.stderr


def test_weights_standin_needs_no_environment(standin_home, tmp_path, fault_models):
    """--weights standin: the stand-in whatever HF_HOME says (here an empty cache), and offline."""
    result = run_here(SPEC, "-v", "--weights", "standin", hf_home=tmp_path / "empty", online=True, models=fault_models)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "--weights standin" in result.stdout and "stand-in weights, seed" in result.stdout


def test_auto_prefers_the_cache(standin_home, fault_models):
    """A cached GPT-2 small is used as it is: nothing is built, the hub is not asked."""
    result = run_here(SPEC, "-v", hf_home=standin_home, models=fault_models)
    assert result.returncode == 0, result.stdout[-2000:]
    assert f"in {standin_home} (offline)" in result.stdout and "built the stand-in" not in result.stderr
