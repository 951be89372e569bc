"""The download path, for real: GPT-2 small through huggingface_hub from a hub on 127.0.0.1.

The hub (tests/hub_server.py) serves the stand-in built once for the session as
``openai-community/gpt2`` and ``gpt2``; each run has its own HF_HOME and stand-in folder. Runs
load the model only where the case needs it, on two quick claims (one needs OpenAI's weights,
so the fingerprint's verdict is shown).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from huggingface_hub import constants, try_to_load_from_cache

from gpt2spec import faults, harness, hubcache, sources, standin
from gpt2spec.faults import catching

from .conftest import ROOT, environment, snapshots_copy
from .hub_server import Hub, sha256

CLAIMS = ["specs/test_04_embedding.py", "--device", "cpu", "-k", "1_by_45_by_768 or embedded_corner"]
OPTIONS = ["-q", "-rs", "--benchmark-disable", "-p", "no:cacheprovider"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def hub(standin_home: Path, monkeypatch: pytest.MonkeyPatch):
    """The hub, online: in a run with specs on the stand-in, the plugin has put this process offline."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    rev = standin.revision(standin.SEED)
    server = Hub(hubcache.repo_folder(standin_home / "hub", hubcache.REPOS[0]) / "snapshots" / rev, rev).start()
    yield server
    server.stop()


def run(
    hub: Hub, tmp_path: Path, *args: str, terminal: bool = False, models: catching.Models | None = None, broken: faults.Fault | None = None
) -> tuple[int, str]:  # fmt: skip
    """pytest as a user runs it, online, with HF_ENDPOINT at ``hub``: in this process, or in a process of
    its own on a terminal (a pty) if asked, where huggingface_hub draws its progress bars. Returns the
    exit code and what was printed (stdout and stderr together)."""
    env = environment(tmp_path / "hf", True, tmp_path / "standin") | {"HF_ENDPOINT": hub.endpoint, "COLUMNS": "200"}
    if not terminal:
        done = harness.run_pytest([*OPTIONS, *args], models.serving(broken) if models else None, environ=env)
        return done.code, done.output
    env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    command = [sys.executable, "-m", "pytest", *OPTIONS, *args]
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))  # tqdm draws nothing 0 columns wide
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 600
    while select.select([leader], [], [], max(deadline - time.monotonic(), 0))[0]:
        try:
            data = os.read(leader, 1 << 16)
        except OSError:  # EIO: the run ended and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    else:  # ten minutes without an end: do not hang the suite
        process.kill()
    os.close(leader)
    return process.wait(timeout=600), ANSI.sub("", b"".join(chunks).decode(errors="replace")).replace("\r", "\n")


def downloaded(tmp_path: Path, name: str = "model.safetensors") -> Path | None:
    found = [try_to_load_from_cache(repo, name, cache_dir=tmp_path / "hf" / "hub") for repo in hubcache.REPOS]
    return next((Path(f) for f in found if isinstance(f, str)), None)


def test_auto_downloads_once_then_asks_the_hub_nothing(hub, tmp_path, fault_models):
    """--weights auto with an empty cache downloads GPT-2 small through huggingface_hub (its progress
    on the terminal), resuming where the connection was cut 100 MB into model.safetensors, loads the
    whole file, says where from in the header, the summary and the page, and the fingerprint says
    whose; the next run loads from the cache and asks the hub nothing."""
    hub.faults.cut_after["model.safetensors"] = 100_000_000
    page = tmp_path / "page.html"
    code, out = run(hub, tmp_path, *CLAIMS, "--spec-report", str(page), terminal=True)
    assert code == 0, out[-3000:]
    assert re.search(rf"^gpt2spec: GPT-2 small from the Hugging Face cache at .*, downloaded from {hub.endpoint} when the model first loads", out, re.M), out
    assert re.search(r"model\.safetensors: +100%", out) and "Trying to resume download..." in out, out  # huggingface_hub's own
    resumed = [line for line in hub.answered if re.fullmatch(r"GET /gpt2/resolve/\w+/model\.safetensors bytes=\d+-", line)]
    assert len(resumed) == 1 and int(resumed[0].split("=")[1][:-1]) <= 100_000_000, hub.answered
    assert sha256(downloaded(tmp_path)) == sha256(hub.folder / "model.safetensors")  # what loaded is whole
    summary = "weights on cpu: NOT OpenAI's GPT-2 small (fingerprint In [14] is off by"
    assert summary in out and f"downloaded from {hub.endpoint} in this run" in out, out
    assert f"downloaded from {hub.endpoint} in this run" in page.read_text()
    asked = len(hub.answered)
    code, out = run(hub, tmp_path, *CLAIMS, models=fault_models)  # offline from the cache: it cannot ask; what loads is checked above
    assert code == 0, out[-3000:]
    assert re.search(r"^gpt2spec: GPT-2 small from Hugging Face cache .*models--gpt2.* \(offline\)$", out, re.M), out
    assert len(hub.answered) == asked, hub.answered[asked:]


def test_hub_takes_the_same_download(hub, tmp_path, monkeypatch):
    """--weights hub settles on the same download as auto (what follows does not depend on the
    mode; the failing cases below run it to the end and see it never fall back)."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # empty
    auto, hub_only = (sources.choose(mode, endpoint=hub.endpoint) for mode in ("auto", "hub"))
    assert hub_only == sources.Choice("hub", "--weights hub: not in the cache, and the hub answered", offline=False, endpoint=hub.endpoint)
    assert (auto.home, auto.offline, auto.endpoint) == (hub_only.home, hub_only.offline, hub_only.endpoint)


@pytest.mark.parametrize(
    "mode, status, says",
    [
        ("hub", {"*": 503}, "ERROR: --weights hub: {endpoint} answered 503 Service Unavailable; connect to the hub"),
        ("hub", {"GET model.safetensors": 503}, "could not download GPT-2 small from {endpoint} (model.safetensors: answered 503 Service Unavailable); "),
        ("auto", {"model.safetensors": 404}, "could not download GPT-2 small from {endpoint} (gpt2 does not appear to have a file named"),
    ],
    ids=["the hub answers 503", "model.safetensors answers 503", "model.safetensors is missing"],
)
def test_a_failing_hub_is_one_line_and_leaves_no_whole_looking_cache(hub, tmp_path, mode, status, says):
    """A 5xx, or a 404 for the weights: one line, exit 4, no traceback, never the stand-in, and
    nothing in the cache that a later run would take for a whole GPT-2 small."""
    hub.faults.status.update(status)
    code, out = run(hub, tmp_path, *CLAIMS, "--weights", mode)
    assert code == 4, out[-3000:]
    lines = [line for line in out.splitlines() if says.format(endpoint=hub.endpoint) in line]
    assert len(lines) == 1 and "Traceback" not in out, out
    assert downloaded(tmp_path) is None and not (tmp_path / "standin").exists()


def test_a_slow_hub_is_not_taken_for_an_unreachable_one(hub):
    """Each header line and each 64 KiB of a body trickles in after 0.4 s: the probe, a HEAD as
    huggingface_hub's downloads start, waits for the answer and does not download anything."""
    hub.faults.pause_s = 0.4
    start = time.monotonic()
    assert sources.hub_error(hub.endpoint) is None
    assert time.monotonic() - start > 1.5  # it was slow
    assert [line.split()[0] for line in hub.answered] == ["HEAD"]


def test_an_answer_not_from_a_hub_is_no_hub(hub):
    """Something answers, but not as a hub (here: no X-Repo-Commit, as a proxy's or captive portal's
    page): the probe says so, where a download would fail later with huggingface_hub's message."""
    hub.faults.not_a_hub = True
    assert sources.hub_error(hub.endpoint) == f"{hub.endpoint} answered, but not as a Hugging Face hub (no X-Repo-Commit header: a proxy or a captive portal?)"


def test_a_silent_hub_makes_auto_fall_back_within_seconds(hub, standin_home, tmp_path, monkeypatch):
    """A hub that accepts the connection and never answers: --weights auto takes the stand-in after
    the probe's timeout (5 s; 1 s here, the same code waits less) and says why."""
    hub.faults.silent = True
    timeout = 1.0
    monkeypatch.setattr(sources, "HUB_TIMEOUT_S", timeout)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # empty
    monkeypatch.setattr(standin, "ensure", lambda: (standin_home, False))
    start = time.monotonic()
    choice = sources.choose("auto", say=print, endpoint=hub.endpoint)
    assert timeout <= time.monotonic() - start < timeout + 2  # it waited the timeout, and not much more
    assert choice.standin and choice.home == standin_home
    assert choice.why == f"--weights auto: the hub is out of reach ({hub.endpoint} gave no answer within 1 s)"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux's /proc, where nothing can be created")
def test_a_cache_that_cannot_be_written_is_one_line_before_the_download(hub, tmp_path):
    """The hub answers but HF_HOME cannot take GPT-2 small: said before the download, not when it fails."""
    env = environment(Path("/proc/hf"), True, tmp_path / "standin") | {"HF_ENDPOINT": hub.endpoint}
    done = harness.run_pytest([*OPTIONS, *CLAIMS], None, environ=env)
    assert done.code == 4 and "Traceback" not in done.output, done.output
    assert "ERROR: the Hugging Face cache (HF_HOME) /proc/hf: nothing can be written in /proc" in done.output
    assert "--weights standin" in done.output


# Baseline claims (not `openai`) with no entry in snapshots/openai-gpt2/: a fork's first run on OpenAI's weights.
UNRECORDED = [
    "specs/test_07_mlp.py::test_w_in_recomputes_the_mlp_input[cpu-layer 0]",
    "specs/test_07_mlp.py::test_gelu_new_and_w_out_recompute_the_mlp_output[cpu-layer 0]",
    "specs/test_06_structure.py::test_every_parameter_is_as_recorded[cpu]",
    "--device", "cpu",
]  # fmt: skip


def test_a_forks_first_run_records_openais_baselines_and_the_command_commits_them(hub, tmp_path, fault_models):
    """The workflow's pytest options (nox passes them on), against the hub: the first run on a fork,
    where snapshots/openai-gpt2/ lacks these claims' baselines, passes, counts them "no baseline yet",
    writes them into the artifact's folder and ends with the one command that commits them; that
    command, run in the fork, commits them, and the next run compares them (--require-baselines holds).

    The hub answers as the real one would, but no test here can hold OpenAI's weights: the model is the
    stand-in with OpenAI's fingerprint forged into it (faults.forged_fingerprint), so the fingerprint
    takes it for OpenAI's, as it would the real weights (the download itself: the tests above)."""
    fork = snapshots_copy(tmp_path / "fork")
    git = lambda *words: subprocess.run(["git", "-C", str(fork), *words], check=True, capture_output=True, text=True).stdout
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=fork", "-c", "user.email=fork@example.org", "commit", "-q", "-m", "the fork: snapshots/ as this project has it")
    artifact = tmp_path / "artifact"
    forged = faults.FAULTS["forged-fingerprint"]
    workflow = ["--weights", "hub", "--require-pretrained", f"--record-baselines={artifact}", "--rootdir", str(fork)]

    code, out = run(hub, tmp_path, *UNRECORDED, *workflow, models=fault_models, broken=forged)
    assert code == 0, out[-3000:]
    assert out.count("UserWarning: no recorded value for ") == 3, out[-3000:]  # each claim: "no baseline yet" (--rootdir: no tally)
    said = [line for line in out.splitlines() if line.startswith("gpt2spec: recorded ")]
    assert len(said) == 1 and "recorded 3 baselines snapshots/openai-gpt2/ lacked" in said[0], out[-3000:]
    assert sorted(p.name for p in (artifact / "openai-gpt2").iterdir()) == ["test_06_structure.ambr", "test_07_mlp.ambr"]
    assert not (fork / "snapshots" / "openai-gpt2" / "test_07_mlp.ambr").exists()  # the checkout is left as it was

    command = said[0].split("; commit them: ", 1)[1]
    env = {**os.environ, "GIT_AUTHOR_NAME": "fork", "GIT_AUTHOR_EMAIL": "fork@example.org", "GIT_COMMITTER_NAME": "fork", "GIT_COMMITTER_EMAIL": "fork@example.org"}
    subprocess.run(command, shell=True, cwd=fork, env=env, check=True, capture_output=True)
    assert set(git("show", "--name-only", "--format=", "HEAD").split()) == {
        "snapshots/openai-gpt2/test_06_structure.ambr", "snapshots/openai-gpt2/test_07_mlp.ambr",
    }  # fmt: skip
    assert git("status", "--porcelain") == ""

    code, out = run(hub, tmp_path, *UNRECORDED, *workflow, "--require-baselines", models=fault_models, broken=forged)
    assert code == 0 and "gpt2spec: recorded" not in out and "no recorded value" not in out, out[-3000:]
    assert "3 snapshots passed." in out, out[-3000:]  # compared with what the command committed


def test_require_baselines_fails_a_forks_first_run_in_one_line(hub, tmp_path, fault_models):
    """--require-baselines: the same first run fails, and one line says why and the command that records them."""
    fork = snapshots_copy(tmp_path / "fork")
    args = ["--weights", "hub", "--require-pretrained", "--require-baselines", "--rootdir", str(fork)]
    code, out = run(hub, tmp_path, *UNRECORDED, *args, models=fault_models, broken=faults.FAULTS["forged-fingerprint"])
    assert code == pytest.ExitCode.TESTS_FAILED, out[-3000:]
    said = [line for line in out.splitlines() if "no baseline in snapshots/openai-gpt2/" in line]
    assert said == [
        "gpt2spec: 3 claims have no baseline in snapshots/openai-gpt2/ for these weights (counted 'no baseline yet': nothing "
        "checked); record them: pytest --weights hub --record-baselines snapshots (--require-baselines: the run fails until they are committed)"
    ], out[-3000:]
    assert " failed" not in out and "3 passed" in out  # no claim failed: the run did
