"""Fixtures for the machinery's own tests: a fresh stand-in cache, and pytest in a subprocess."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gpt2spec import faults, standin

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def gpt2_files() -> Path:
    """GPT-2 small's config and tokenizer, as the package ships them."""
    return standin.PACKAGED


@pytest.fixture(scope="session")
def standin_home(gpt2_files: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("hf_standin")
    standin.build(home, gpt2_files)
    return home


@pytest.fixture(scope="session")
def fault_models() -> faults.Models:
    """GPT-2 small (the stand-in) per device and dtype, loaded once for every in-process run of the specs."""
    return faults.Models()


STANDIN_CACHE = Path(tempfile.mkdtemp(prefix="gpt2spec-cache-"))  # --weights auto|standin builds here, not in ~/.cache
atexit.register(shutil.rmtree, STANDIN_CACHE, ignore_errors=True)  # a stand-in is 500 MB


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

