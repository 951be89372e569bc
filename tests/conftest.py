"""Fixtures for the machinery's own tests: a fresh stand-in cache, and pytest in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpt2spec import standin

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


def run_pytest(*args: str, hf_home: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """pytest on the specs as a user runs it, offline, in a fresh process (HF_HOME is read at import)."""
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfE", "--benchmark-disable", "-p", "no:cacheprovider", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )


def failed_ids(result: subprocess.CompletedProcess) -> set[str]:
    return {line.split(" ", 1)[1].split(" - ")[0] for line in result.stdout.splitlines() if line.startswith("FAILED ")}
