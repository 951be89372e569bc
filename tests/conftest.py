"""Fixtures for the machinery's own tests: the stand-in, the models for in-process runs, and pytest in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpt2spec import standin
from gpt2spec.faults import catching

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def gpt2_files() -> Path:
    """GPT-2 small's config and tokenizer, as the package ships them."""
    return standin.PACKAGED


@pytest.fixture(scope="session")
def standin_home() -> Path:
    """The stand-in that `--weights standin` uses (standin.cache_root()), built once if absent: the specs'
    own runs share it, so a suite run builds none more (a build is 500 MB and ~10 s). The tests that
    build one on purpose (byte-identical, interrupted, concurrent, `auto` with no cache) build their own;
    tests that break files break a copy."""
    return standin.ensure()[0]


@pytest.fixture(scope="session")
def fault_models() -> catching.Models:
    """GPT-2 small (the stand-in) per device and dtype, loaded once for every in-process run of the specs."""
    return catching.Models()


STANDIN_CACHE = standin.cache_root()  # where --weights auto|standin finds the stand-in standin_home holds


def run_pytest(
    *args: str, hf_home: Path, cwd: Path = ROOT, online: bool = False, standin_cache: Path = STANDIN_CACHE
) -> subprocess.CompletedProcess:
    """pytest on the specs as a user runs it, in a fresh process (HF_HOME is read at import); offline
    unless ``online`` (then the hub's absence is found by trying it)."""
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "GPT2SPEC_CACHE": str(standin_cache)}
    if online:
        del env["HF_HUB_OFFLINE"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfE", "--benchmark-disable", "-p", "no:cacheprovider", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )

