"""Any TransformerLens a maintainer can name, offline: the installed release rebuilt as a wheel of the
next major (5.0.0.dev0), installed by the radar as a session installs a branch or a wheel, in a
throwaway environment that sees this one's packages; then the specs run under it with one warning.

The rebuilt wheel is TransformerLens 4.3's code under another version: it stands for a major this
suite has not run that still loads GPT-2 through a known entry point (the bridge)."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from gpt2spec import loading
from gpt2spec.radar import axes as radar

from .conftest import ROOT

NEXT_MAJOR = "5.0.0.dev0"


def rebuild_wheel(package: str, version: str, dest: Path) -> Path:
    """The installed ``package`` as a wheel under ``version``: its files (bytecode and scripts left
    out) and its dist-info renamed, with METADATA's version and a RECORD of its own (PEP 427)."""
    dist = importlib.metadata.distribution(package)
    old_info, new_info = f"{package}-{dist.version}.dist-info", f"{package}-{version}.dist-info"
    wheel = dest / f"{package}-{version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in dist.files or []:
            name = str(file)
            if name.startswith("..") or "__pycache__" in name or name.endswith(("/RECORD", "/INSTALLER", "/REQUESTED", "/direct_url.json")):
                continue
            data = Path(dist.locate_file(file)).read_bytes()
            if name.startswith(old_info):
                name = new_info + name.removeprefix(old_info)
                if name.endswith("/METADATA"):
                    data = data.replace(f"\nVersion: {dist.version}\n".encode(), f"\nVersion: {version}\n".encode(), 1)
            zf.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        zf.writestr(f"{new_info}/RECORD", "\n".join(record + [f"{new_info}/RECORD,,"]) + "\n")
    return wheel


@pytest.fixture(scope="module")
def next_major(tmp_path_factory) -> tuple[Path, Path]:
    """(the 5.0.0.dev0 wheel, a throwaway venv that sees this environment's packages but has none of its own)."""
    where = tmp_path_factory.mktemp("next-major")
    wheel = rebuild_wheel("transformer_lens", NEXT_MAJOR, where)
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    # Its own site-packages first, then this environment's (pip, torch, TransformerLens 4.3...): what
    # it installs shadows what is here, and nothing here changes.
    (Path(purelib) / "parent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return wheel, python


def run(python: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_the_radar_installs_a_wheel_of_the_next_major_and_says_what_it_ran(next_major, tmp_path):
    wheel, python = next_major
    axes = tmp_path / "axes.json"
    done = run(python, "-m", "gpt2spec.radar.axes", "prepare", str(axes), str(wheel), "--keep", f"torch=={importlib.metadata.version('torch').split('+')[0]}")
    assert done.returncode == 0, done.stderr
    (line,) = [x.strip() for x in done.stdout.splitlines() if x.strip().startswith("transformer_lens:")]
    asked = f"transformer_lens @ {wheel.as_uri()}"
    assert line.startswith(f"transformer_lens: asked {asked}; index: ")  # what the index offers: whatever it says here, or ? offline
    assert line.endswith(f"; installed {NEXT_MAJOR} from {wheel.as_uri()}")
    (axis,) = json.loads(axes.read_text())["axes"]
    assert (axis["reference"], axis["installed"], axis["why"]) == (wheel.as_uri(), NEXT_MAJOR, None)
    assert run(python, "-c", "import importlib.metadata as m; print(m.version('transformer_lens'))").stdout.strip() == NEXT_MAJOR


def test_the_specs_run_under_the_next_major_with_one_warning_line(next_major, standin_home, tmp_path):
    _, python = next_major
    if run(python, "-c", "import importlib.metadata as m; print(m.version('transformer_lens'))").stdout.strip() != NEXT_MAJOR:
        run(python, "-m", "pip", "install", "--quiet", "--no-deps", str(next_major[0]))  # this test on its own
    out = tmp_path / "results.json"
    done = run(python, "-m", "pytest", "specs/test_01_config.py", "--weights", "standin", "--benchmark-disable", "-q", "-p", "no:cacheprovider", f"--spec-results={out}")
    assert done.returncode == 0, done.stdout[-3000:]
    warnings = [x for x in done.stdout.splitlines() if "WARNING" in x]
    assert warnings == [
        f"gpt2spec: WARNING: TransformerLens {NEXT_MAJOR} is a major this suite has not run (it knows 2.x, 3.x and 4.x): "
        "it loads GPT-2 through TransformerBridge.boot_transformers + enable_compatibility_mode, and the claims say what it breaks"
    ]
    found = json.loads(out.read_text())
    assert found["versions"]["transformer_lens"] == NEXT_MAJOR and found["provenance"]["untested"] == warnings[0].removeprefix("gpt2spec: WARNING: ")
    held = {c: e["outcome"] for c, e in found["claims"].items()}
    assert set(held.values()) == {"passed"} and len(held) == 24  # In [5]'s fields, the three 4.x ones version-specific
    assert sum(bool(e["versioned"] and 5 in e["versioned"]["majors"]) for e in found["claims"].values()) == 3


def test_a_transformerlens_with_no_known_entry_point_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(loading, "tl_version", lambda: "5.0.0")
    monkeypatch.setattr(loading, "has", lambda entry: False)
    with pytest.raises(loading.SetupError) as refused:
        loading.check_supported()
    message = str(refused.value)
    assert "\n" not in message and message.startswith("TransformerLens 5.0.0 cannot load GPT-2 through any entry point this suite knows")
    assert "HookedTransformer.from_pretrained" in message and "TransformerBridge.boot_transformers" in message


def test_an_untested_major_takes_the_entry_point_it_has(monkeypatch):
    monkeypatch.setattr(loading, "tl_version", lambda: "5.0.0")
    monkeypatch.setattr(loading, "has", lambda entry: entry == "hooked")  # a 5.x that brought HookedTransformer back
    assert loading.entry_point() == "hooked" and "HookedTransformer.from_pretrained" in loading.check_supported()
    monkeypatch.setattr(loading, "tl_version", lambda: "4.3.0")
    assert loading.entry_point() == "bridge" and loading.check_supported() is None  # a major it has run: no probing, no warning


def test_a_path_is_taken_as_transformerlens_and_a_wheel_by_its_name(tmp_path):
    checkout = tmp_path / "TransformerLens"
    checkout.mkdir()
    assert radar.as_requirement(str(checkout)) == f"transformer_lens @ {checkout.as_uri()}"
    wheel = tmp_path / "transformer_lens-5.0.0.dev0-py3-none-any.whl"
    wheel.touch()
    assert radar.as_requirement(str(wheel)) == f"transformer_lens @ {wheel.as_uri()}"
    branch = "transformer_lens @ git+https://github.com/TransformerLensOrg/TransformerLens@dev"
    assert radar.as_requirement(branch) == branch and radar.parse(branch) == ("transformer_lens", branch)


def test_nox_lists_the_pre_release_ref_and_versus_sessions():
    from .test_workflow import nox_sessions

    assert {"tl-pre", "tl-ref", "versus"} <= nox_sessions()


def test_tl_ref_takes_its_first_argument_as_transformerlens_and_gives_the_rest_to_pytest(tmp_path, monkeypatch):
    from .test_workflow import FakeSession, noxfile

    module = noxfile()[0]
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    for name, path in (("RADAR", "radar"), ("ROOT", ""), ("COMMITTED", "results")):
        monkeypatch.setattr(module, name, tmp_path / path)  # the report's paths are relative to the root
    wheel = tmp_path / f"transformer_lens-{NEXT_MAJOR}-py3-none-any.whl"
    wheel.touch()
    session = FakeSession([])
    session.posargs = [str(wheel), "-k", "test_05"]
    session.install = lambda *args: session.ran.append((("install", *args), {}))
    session.run = lambda *args, **kwargs: session.ran.append((args, kwargs))
    module.tl_ref(session)
    prepared = next(args for args, _ in session.ran if args[2:4] == ("gpt2spec.radar.axes", "prepare"))
    assert prepared[5:8] == (str(wheel), "transformers", module.TORCH_SPEC)  # the path in place of the pinned transformer_lens
    pytest_run = next(args for args, _ in session.ran if args[0] == "pytest")
    assert pytest_run[-2:] == ("-k", "test_05") and str(wheel) not in pytest_run


def test_a_prerelease_newer_than_any_release_is_what_pre_asks_for():
    from packaging.version import Version

    from .test_radar import PINNED, FakePip

    pip = FakePip(PINNED)
    pip.prereleases = lambda package: [Version(v) for v in ("4.0.0b1", "4.3.0", "5.0.0b1")]
    (axis,) = radar.prepare(["transformer_lens=pre"], ["torch==2.13.0"], accept=False, pip=pip)
    assert axis.target == "5.0.0b1" and pip.installs == [("transformer_lens==5.0.0b1", "torch==2.13.0")] and not axis.missed
    assert axis.line() == "transformer_lens: asked pre (5.0.0b1); index: newest 4.3.0, oldest allowed 2.18.0; installed 5.0.0b1"


def test_a_reference_pip_cannot_install_is_refused_with_pips_line():
    from .test_radar import PINNED, FakePip

    pip = FakePip(PINNED)
    branch = "transformer_lens @ git+https://github.com/TransformerLensOrg/TransformerLens@no-such-branch"
    pip.install_reference = lambda requirement, *keep: "git clone --filter=blob:none --quiet https://github.com/... did not run successfully"
    pip.source = lambda package: None
    (axis,) = radar.prepare([branch], ["torch==2.13.0"], accept=False, pip=pip)
    assert axis.missed and axis.installed == "4.3.0"
    assert axis.refusal() == f"asked for {branch} but 4.3.0 is installed: pip: git clone --filter=blob:none --quiet https://github.com/... did not run successfully"
