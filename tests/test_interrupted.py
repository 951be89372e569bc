"""Interrupted work never leaves half a file that looks whole: a stand-in build killed half-way or
out of disk, two builds at once, Ctrl-C while --snapshot-update writes."""

import errno
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from safetensors import SafetensorError
from syrupy.extensions.amber.serializer import AmberDataSerializer

from gpt2spec import hubcache, standin
from gpt2spec.compare import numbers_match

from .conftest import ROOT, digest, run_here, snapshots_copy


def build_in_subprocess(home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gpt2spec.standin", str(home)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def repo_folders(home: Path) -> list[Path]:
    return sorted((home / "hub").glob("models--*"))


def test_a_build_killed_half_way_leaves_no_cache(standin_home, standin_digest, tmp_path):
    build = build_in_subprocess(tmp_path)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(standin.BUILDING + "*/hub/*/snapshots/*/config.json")):
        assert build.poll() is None and time.monotonic() < deadline, "the build ended before it could be killed"
        time.sleep(0.01)
    build.send_signal(signal.SIGKILL)  # no cleanup runs: as a power cut, or the OOM killer
    build.wait()
    assert not standin.complete(tmp_path)
    assert repo_folders(tmp_path) == [], "a killed build must leave no repo folder in hub/"
    standin.build(tmp_path)  # a later build succeeds and clears the killed one's folder
    assert standin.complete(tmp_path)
    assert digest(tmp_path) == standin_digest


@pytest.fixture
def tiny(monkeypatch):
    """Builds of a few bytes of weights: the interruption, not the weights, is under test."""
    monkeypatch.setattr(standin, "gpt2_state_dict", lambda config, seed: {"w": np.full(4, seed % 7, np.float32)})


def disk_full(monkeypatch) -> None:
    """What safetensors raises when the disk fills up under it, after part of the file is written."""

    def half_then_fail(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"\0" * 100)
        raise SafetensorError(f"Error while serializing: I/O error: No space left on device (os error {errno.ENOSPC})")

    monkeypatch.setattr(safetensors.numpy, "save_file", half_then_fail)


def test_a_build_out_of_disk_keeps_the_previous_cache(tiny, monkeypatch, tmp_path):
    standin.build(tmp_path)
    before = digest(tmp_path)
    disk_full(monkeypatch)
    with pytest.raises(SafetensorError, match="No space left"):
        standin.build(tmp_path)
    assert standin.complete(tmp_path)
    assert digest(tmp_path) == before
    assert not list(tmp_path.glob(standin.BUILDING + "*")), "the failed build's folder is removed"


def test_a_first_build_out_of_disk_leaves_no_cache(tiny, monkeypatch, tmp_path):
    disk_full(monkeypatch)
    with pytest.raises(SafetensorError):
        standin.build(tmp_path)
    assert not standin.complete(tmp_path)
    assert repo_folders(tmp_path) == []


def test_a_folder_without_its_marker_is_not_complete(tiny, tmp_path):
    standin.build(tmp_path)
    assert standin.complete(tmp_path)
    assert not standin.complete(tmp_path, seed=standin.SEED + 1)
    next(tmp_path.rglob(hubcache.MARKER)).unlink()
    assert not standin.complete(tmp_path)
    standin.build(tmp_path)
    assert standin.complete(tmp_path)


def test_two_builds_at_once_make_one_whole_cache(standin_home, standin_digest, tmp_path):
    builds = [build_in_subprocess(tmp_path) for _ in range(2)]
    for build in builds:
        _, err = build.communicate(timeout=300)
        assert build.returncode == 0, err.decode()[-2000:]
    assert standin.complete(tmp_path)
    assert digest(tmp_path) == standin_digest
    assert not list(tmp_path.glob(standin.BUILDING + "*"))


def test_ctrl_c_during_snapshot_update_leaves_whole_files(standin_home, tmp_path, fault_models):
    """--snapshot-update rewrites an entry that changed; Ctrl-C lands a few lines into the file:
    the file is the old one or the new one, whole (``git diff snapshots/`` shows whole entries)."""
    copy = snapshots_copy(tmp_path / "repo")
    update = ("--rootdir", str(copy), "--device", "cpu", "specs/test_05_output.py", "-k", "actual_next_tokens", "--snapshot-update")
    target = copy / "snapshots" / standin.name() / "test_05_output.ambr"
    recorded = target.read_text()
    first = re.search(r"-\d+\.\d{6}", recorded).group()
    edited = recorded.replace(first, "-99.000000", 1)  # an entry --snapshot-update must rewrite
    target.write_text(edited)
    # The test plugin sends this process SIGINT: pytest.main ends the run as a user's Ctrl-C does.
    out = run_here(*update, "-p", "tests.interrupt_snapshot_write", hf_home=standin_home, models=fault_models)
    assert out.returncode == pytest.ExitCode.INTERRUPTED, out.stdout + out.stderr
    assert "Ctrl-C while writing a snapshot file" in out.stderr, out.stdout + out.stderr
    assert target.read_text() in (edited, recorded), "half a snapshot file was left"
    assert not [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")], "the staged copy is removed"

    # Uninterrupted, the same update rewrites that one entry and keeps every other as it was.
    out = run_here(*update, hf_home=standin_home, models=fault_models)
    assert out.returncode == 0, out.stdout + out.stderr
    now, was = (AmberDataSerializer.read_file(str(f)) for f in (target, ROOT / target.relative_to(copy)))
    assert {s.name for s in now} == {s.name for s in was}
    changed = [s.name for s in now if s.data != was.get(s.name).data]
    assert changed in ([], ["test_log_probabilities_of_the_actual_next_tokens"])
    assert numbers_match(str(now.get(changed[0]).data), str(was.get(changed[0]).data)) if changed else True


def test_the_command_says_so_in_one_line(tiny, monkeypatch, tmp_path, capsys):
    disk_full(monkeypatch)
    assert standin.main([str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could not build the stand-in" in err[0] and "No space left on device" in err[0]


def test_the_lock_is_reentrant_for_build_once(tiny, tmp_path):
    """How a caller builds once and reuses: check and build under one lock (build takes it again)."""
    for _ in range(2):
        with standin.lock(tmp_path):
            if not standin.complete(tmp_path):
                standin.build(tmp_path)
    assert standin.complete(tmp_path)
