"""The same specs across TransformerLens versions, offline, on the stand-in weights.

    nox -l                      # the sessions
    nox -s tl-3.9               # one version
    nox -s tl-2.18 tl-3.9 tl-4.3 compat   # all, then results/ and COMPATIBILITY.md
    nox -s tl-newest transformers-oldest transformers-newest   # the upgrade radar


Each session installs torch first (``TORCH_SPEC``, default ``torch==2.13.0``: the CPU wheel this
project's machines carry; a bare ``torch`` would pull a CUDA build of several GB), then the
project with that TransformerLens and only the pins it needs to import, and runs the specs with
``--weights standin`` (the stand-in is built once, into the user cache, and shared by every
session), writing its results for ``compat``. ``nox -s ... -- --weights hub`` runs them on
OpenAI's weights instead (the workflow in .github/workflows/ does, with --require-pretrained):
the last ``--weights`` given wins.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tl-4.3"]

ROOT = Path(__file__).parent
RESULTS = ROOT / ".nox" / "results"
TORCH_SPEC = os.environ.get("TORCH_SPEC", "torch==2.13.0")

# What each TransformerLens needs beyond the project's own requirements, found by installing it:
# 2.18 caps numpy below 2 while pyarrow 26 (through datasets) needs numpy >= 2 to import.
VERSIONS = {
    "2.18": ["transformer_lens==2.18.*", "pyarrow<26"],
    "3.9": ["transformer_lens==3.9.*"],
    "4.3": ["transformer_lens==4.3.*"],
}


def project(session: nox.Session) -> str:
    """This project, with the page's drawing packages when the run writes the page (--spec-report)."""
    return ".[report]" if any(arg.startswith("--spec-report") for arg in session.posargs) else "."


# Offline on the stand-in unless the arguments after `--` say otherwise (pytest keeps the last --weights).
PYTEST = ["pytest", "--benchmark-disable", "--device", "cpu", "--weights", "standin"]


def specs(session: nox.Session, version: str) -> None:
    session.install(TORCH_SPEC)
    session.install("-e", project(session), *VERSIONS[version], TORCH_SPEC)  # torch repeated: keep the wheel above
    session.run(*PYTEST, "specs", "tests/test_standin.py", f"--spec-results={RESULTS / f'tl-{version}.json'}", *session.posargs)


def _session_for(version: str):
    def run(session: nox.Session) -> None:
        specs(session, version)

    run.__doc__ = f"The specs under TransformerLens {version}, offline, on the stand-in."
    return nox.session(name=f"tl-{version}")(run)


for _version in VERSIONS:
    _session_for(_version)


# The upgrade radar: what the index offers now, against the committed results of the newest pinned
# version. Each writes .nox/results/radar/NAME.json and NAME.md (python -m gpt2spec.changes) and
# fails when a claim that held there fails now.
COMMITTED = ROOT / "results"  # the pinned sessions' results COMPATIBILITY.md is made from
RADAR = RESULTS / "radar"
NEWEST_PINNED = max(VERSIONS, key=lambda v: [int(x) for x in v.split(".")])


def pinned(session: nox.Session) -> None:
    session.install(TORCH_SPEC)
    session.install("-e", project(session), *VERSIONS[NEWEST_PINNED], TORCH_SPEC)


def radar(session: nox.Session, name: str, *upgrade: str) -> None:
    """Run the specs after ``pip install --upgrade *upgrade`` and report what changed."""
    if upgrade:  # past the project's own pins where the index has more: pip says which it breaks
        session.install("--upgrade", *upgrade, TORCH_SPEC)
    session.run("python", "-c", "import gpt2spec.provenance as p; print(p.environment())")
    out = RADAR / f"{name}.json"
    out.unlink(missing_ok=True)
    session.run(
        *PYTEST, "specs", f"--spec-results={out}", *session.posargs,
        success_codes=[0, 1],  # failed claims: the report below says which, against the baseline
    )  # fmt: skip
    baseline = COMMITTED / f"tl-{NEWEST_PINNED}.json"
    old, new = (str(path.relative_to(ROOT)) for path in (baseline, out))  # nox runs in ROOT: short paths in the report
    session.run("python", "-m", "gpt2spec.changes", old, new, "-o", str(Path(new).with_suffix(".md")))


@nox.session(name="tl-newest")
def tl_newest(session: nox.Session) -> None:
    """The newest TransformerLens (and transformers) the index offers, against the committed results."""
    pinned(session)
    radar(session, "tl-newest", "transformer_lens", "transformers")


def transformers_floor(session: nox.Session) -> str:
    """The oldest transformers the installed TransformerLens declares it supports (its Requires-Dist)."""
    code = (
        "import importlib.metadata as m; "
        "print(*[r for r in m.requires('transformer_lens') if r.replace(' ', '').startswith('transformers>=')])"
    )
    requirement = (session.run("python", "-c", code, silent=True) or "").strip()
    if not requirement:
        session.error("TransformerLens declares no 'transformers>=' in its Requires-Dist: no oldest to pin")
    return requirement.replace(" ", "").removeprefix("transformers>=").split(",")[0].split(";")[0]


@nox.session(name="transformers-oldest")
def transformers_oldest(session: nox.Session) -> None:
    """The oldest transformers the newest pinned TransformerLens supports, against the committed results."""
    pinned(session)
    radar(session, "transformers-oldest", f"transformers=={transformers_floor(session)}")


@nox.session(name="transformers-newest")
def transformers_newest(session: nox.Session) -> None:
    """The newest transformers on the index under the newest pinned TransformerLens, against the committed results."""
    pinned(session)
    radar(session, "transformers-newest", "transformers")


@nox.session(reuse_venv=True)
def bisect(session: nox.Session) -> None:
    """Which release between two versions changed each claim (nox -s bisect -- PACKAGE OLD NEW): run
    by hand, its finding committed to results/history/; each release's results cached in .nox/bisect-cache."""
    if len(session.posargs) < 3:
        session.error("give a package and two of its versions: nox -s bisect -- transformer_lens 3.0.0 3.9.0")
    session.install(TORCH_SPEC)
    session.install("-e", ".", TORCH_SPEC)
    session.run("python", "-m", "gpt2spec.bisect", *session.posargs, "--torch", TORCH_SPEC)


@nox.session(python=False)
def compat(session: nox.Session) -> None:
    """results/ and COMPATIBILITY.md from the results the tl-* sessions left (run them first; uses
    nox's own Python, which needs this project installed: pip install -e . nox). A version not run
    this time keeps its committed results."""
    fresh = [RESULTS / f"tl-{v}.json" for v in VERSIONS if (RESULTS / f"tl-{v}.json").exists()]
    if not fresh:
        session.error("no results yet: run nox -s tl-2.18 tl-3.9 tl-4.3 first")
    COMMITTED.mkdir(exist_ok=True)
    for path in fresh:
        shutil.copyfile(path, COMMITTED / path.name)
    found = sorted(str(COMMITTED / f"tl-{v}.json") for v in VERSIONS if (COMMITTED / f"tl-{v}.json").exists())
    session.run(sys.executable, "-m", "gpt2spec.compat", *found, "-o", "COMPATIBILITY.md")
