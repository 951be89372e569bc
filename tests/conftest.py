"""Fixtures for the machinery's own tests: the stand-in, the models for in-process runs, and pytest run as a user runs it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gpt2spec import harness, standin
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


def digest(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.name != standin.LOCK  # a built cache may hold its empty lock file
    }


@pytest.fixture(scope="session")
def standin_digest(standin_home: Path) -> dict[str, str]:
    """What the stand-in's files hash to (500 MB read once), for the tests that build another."""
    return digest(standin_home)


@pytest.fixture(scope="session")
def fault_models() -> catching.Models:
    """GPT-2 small (the stand-in) per device and dtype, loaded once for every in-process run of the specs."""
    return catching.Models()


def copy_of(home: Path, dest: Path) -> Path:
    """A copy of a stand-in cache whose small files can be broken; the 500 MB of weights are a link."""
    for src in sorted(home.rglob("*")):
        to = dest / src.relative_to(home)
        if src.is_dir() and not src.is_symlink():
            to.mkdir(parents=True, exist_ok=True)
        elif src.is_symlink():
            to.symlink_to(os.readlink(src))
        elif src.name == "model.safetensors":
            to.symlink_to(src)
        else:
            shutil.copy2(src, to)
    return dest


def snapshots_copy(dest: Path) -> Path:
    """``dest`` holding a copy of snapshots/, for a run with ``--rootdir dest``: the plugin reads and
    writes the snapshots under the rootdir, so the run's may be broken or rewritten, not the project's."""
    shutil.copytree(ROOT / "snapshots", dest / "snapshots")
    return dest


STANDIN_CACHE = standin.cache_root()  # where --weights auto|standin finds the stand-in standin_home holds


PYTEST = ["-q", "-rfE", "--benchmark-disable", "-p", "no:cacheprovider"]


def environment(hf_home: Path, online: bool, standin_cache: Path) -> dict[str, str | None]:
    """A user's run: this HF_HOME and stand-in folder, offline unless ``online`` (then the hub's
    absence is found by trying it)."""
    return {"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": None if online else "1", "GPT2SPEC_CACHE": str(standin_cache)}


def run_here(
    *args: str, hf_home: Path, online: bool = False, standin_cache: Path = STANDIN_CACHE, models: catching.Models | None = None
) -> subprocess.CompletedProcess:
    """pytest on the specs as a user runs it, in this process (harness.suite_state reads the environment
    as a fresh process does, and puts everything back). ``models``: serve the model this session loaded,
    for runs on the same stand-in (saves a load: 7 s); without, the run loads what it chooses.
    Processes of their own stay where only a process shows it: the download on a terminal
    (test_hub.py), a stand-in build killed or two at once (test_interrupted.py)."""
    run = harness.run_pytest([*PYTEST, *args], models.serving() if models else None, environ=environment(hf_home, online, standin_cache))
    return subprocess.CompletedProcess(args, run.code, run.stdout, run.stderr)
