"""The same specs across TransformerLens versions, offline, on the stand-in weights.

    nox -l                      # the sessions
    nox -s tl-3.9               # one version
    nox -s tl-2.18 tl-3.9 tl-4.3 compat   # all, then results/ and COMPATIBILITY.md
    nox -s tl-newest transformers-oldest transformers-newest torch-oldest torch-newest   # the upgrade radar
    nox -s tl-pre                                    # the newest release or pre-release on the index
    nox -s tl-ref -- 'transformer_lens @ git+https://github.com/TransformerLensOrg/TransformerLens@dev'   # any pip requirement, a checkout, a wheel
    nox -s versus -- tl-2.18 tl-3.9 tl-4.3           # speed and memory across versions, paired
    nox -s bisect -- transformer_lens 3.0.0 3.9.0   # which release changed what (by hand)

Each session installs torch first (``TORCH_SPEC``, default ``torch==2.13.0``, which resolves to
torch's CPU wheel where pip is given torch's CPU index; a bare ``torch`` would pull a CUDA build of several GB), then the
project with that TransformerLens and only the pins it needs to import, says what each axis
package was asked for and what it got (``prepare``: exit 3 where they differ), and runs the specs with
``--weights standin`` (the stand-in is built once, into the user cache, and shared by every
session), writing its results for ``compat``. ``nox -s ... -- --weights hub`` runs them on
OpenAI's weights instead (the workflow in .github/workflows/ does, with --require-pretrained):
the last ``--weights`` given wins.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nox
from packaging.version import Version  # nox's own dependency

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
    out = RESULTS / f"tl-{version}.json"
    axes = prepare(session, f"tl-{version}", f"transformer_lens=={version}.*")
    session.run(*PYTEST, "specs", "tests/test_standin.py", f"--spec-results={out}", *session.posargs)
    session.run("python", "-m", "gpt2spec.radar.axes", "attach", str(axes), str(out))


# Exit code of a session that could not install what it was asked for (gpt2spec.radar.axes.NOT_INSTALLED).
NOT_INSTALLED = 3


def prepare(session: nox.Session, name: str, *asks: str) -> Path:
    """Install what each axis package (TransformerLens, transformers, torch) was asked for and say it in
    one line each (asked; offered; installed; why they differ): python -m gpt2spec.radar.axes. A version
    asked for that pip cannot install stops the session with exit 3, unless GPT2SPEC_ACCEPT_INSTALLABLE=1."""
    asked = {"transformer_lens": "transformer_lens", "transformers": "transformers", "torch": TORCH_SPEC}
    for ask in asks:  # PACKAGE=newest/oldest/pre, a requirement or a path (TransformerLens), replacing that package's default
        package = "transformer_lens" if Path(ask).exists() else re.match(r"[\w.-]+", ask).group()
        asked[package.lower().replace("-", "_")] = ask
    axes = RESULTS / f"{name}.axes.json"
    axes.unlink(missing_ok=True)
    session.run_install("python", "-m", "gpt2spec.radar.axes", "prepare", str(axes), *asked.values(), "--keep", TORCH_SPEC,
                        success_codes=[0, NOT_INSTALLED])  # fmt: skip  # it installs: nox --install-only runs it too
    if json.loads(axes.read_text())["refused"]:
        raise SystemExit(NOT_INSTALLED)  # the line above says what and why; nox would exit 1 for any failure
    return axes


def _session_for(version: str):
    def run(session: nox.Session) -> None:
        specs(session, version)

    run.__doc__ = f"The specs under TransformerLens {version}, offline, on the stand-in."
    return nox.session(name=f"tl-{version}")(run)


for _version in VERSIONS:
    _session_for(_version)


# The upgrade radar: what the index offers now, against the committed results of the newest pinned
# version. Each writes .nox/results/radar/NAME.json and NAME.md (python -m gpt2spec.radar.changes) and
# fails when a claim that held there fails now.
COMMITTED = ROOT / "results"  # the pinned sessions' results COMPATIBILITY.md is made from
RADAR = RESULTS / "radar"
NEWEST_PINNED = max(VERSIONS, key=Version)


def pinned(session: nox.Session) -> None:
    session.install(TORCH_SPEC)
    session.install("-e", project(session), *VERSIONS[NEWEST_PINNED], TORCH_SPEC)


def radar(session: nox.Session, name: str, *asks: str, pytest_args: list[str] | None = None) -> None:
    """Run the specs on what ``asks`` install (e.g. ``transformers=newest``) and report what changed;
    ``pytest_args``: what goes to pytest (default: the arguments after ``--``)."""
    axes = prepare(session, f"radar/{name}", f"transformer_lens=={NEWEST_PINNED}.*", *asks)  # asks given win
    out = RADAR / f"{name}.json"
    out.unlink(missing_ok=True)
    session.run(
        *PYTEST, "specs", f"--spec-results={out}", *(session.posargs if pytest_args is None else pytest_args),
        success_codes=[0, 1],  # failed claims: the report below says which, against the baseline
    )  # fmt: skip
    session.run("python", "-m", "gpt2spec.radar.axes", "attach", str(axes), str(out))
    baseline = COMMITTED / f"tl-{NEWEST_PINNED}.json"
    old, new = (str(path.relative_to(ROOT)) for path in (baseline, out))  # nox runs in ROOT: short paths in the report
    session.run("python", "-m", "gpt2spec.radar.changes", old, new, "-o", str(Path(new).with_suffix(".md")))


@nox.session(name="tl-newest")
def tl_newest(session: nox.Session) -> None:
    """The newest TransformerLens (and transformers) the index offers, against the committed results."""
    pinned(session)
    radar(session, "tl-newest", "transformer_lens=newest", "transformers=newest")


@nox.session(name="tl-pre")
def tl_pre(session: nox.Session) -> None:
    """The newest TransformerLens release or pre-release the index offers (pip index versions --pre), against the committed results."""
    pinned(session)
    radar(session, "tl-pre", "transformer_lens=pre")


@nox.session(name="tl-ref")
def tl_ref(session: nox.Session) -> None:
    """Any TransformerLens pip can install, against the committed results: nox -s tl-ref -- REQUIREMENT [PYTEST ARGS...].

    The first argument after ``--`` is the TransformerLens to run (``'transformer_lens @
    git+https://github.com/TransformerLensOrg/TransformerLens@BRANCH'``, a pull request's
    ``...@refs/pull/N/head``, a local checkout or a wheel file, or ``transformer_lens==4.2.0``); the
    rest go to pytest, as in every other session. It installs past the project's own pin
    (``transformer_lens<5``, kept for users): the project and its requirements first, as a user gets
    them, then the reference in place of the release they pulled in (pip warns of the pin and goes
    on). pip has no way to override a dependency's pin (a constraint can only narrow it), and
    installing the project with --no-deps would mean listing its requirements twice.
    """
    if not session.posargs:
        session.error("give the TransformerLens to run: nox -s tl-ref -- 'transformer_lens @ git+https://github.com/TransformerLensOrg/TransformerLens@dev'")
    requirement, *pytest_args = session.posargs
    pinned(session)
    radar(session, "tl-ref", requirement, pytest_args=pytest_args)


@nox.session(name="transformers-oldest")
def transformers_oldest(session: nox.Session) -> None:
    """The oldest transformers the newest pinned TransformerLens supports, against the committed results."""
    pinned(session)
    radar(session, "transformers-oldest", "transformers=oldest")


@nox.session(name="transformers-newest")
def transformers_newest(session: nox.Session) -> None:
    """The newest transformers on the index under the newest pinned TransformerLens, against the committed results."""
    pinned(session)
    radar(session, "transformers-newest", "transformers=newest")


# The torch axis. Only torch's CPU wheels install without gigabytes of CUDA libraries: give torch's
# index the way pip takes it (PIP_EXTRA_INDEX_URL, e.g. https://download.pytorch.org/whl/cpu, as the
# workflow does); TORCH_SPEC is what every other install keeps.
@nox.session(name="torch-oldest")
def torch_oldest(session: nox.Session) -> None:
    """The oldest torch the newest pinned TransformerLens declares it supports, against the committed results."""
    pinned(session)
    radar(session, "torch-oldest", "torch=oldest")


@nox.session(name="torch-newest")
def torch_newest(session: nox.Session) -> None:
    """The newest torch on the index (PIP_EXTRA_INDEX_URL) under the newest pinned TransformerLens, against the committed results."""
    pinned(session)
    radar(session, "torch-newest", "torch=newest")


@nox.session(reuse_venv=True)
def bisect(session: nox.Session) -> None:
    """Which release between two versions changed each claim (nox -s bisect -- PACKAGE OLD NEW): run
    by hand, its finding committed to results/history/; each release's results cached in .nox/bisect-cache."""
    if len(session.posargs) < 3:
        session.error("give a package and two of its versions: nox -s bisect -- transformer_lens 3.0.0 3.9.0")
    session.install(TORCH_SPEC)
    session.install("-e", ".", TORCH_SPEC)
    session.run("python", "-m", "gpt2spec.radar.bisection", *session.posargs, "--torch", TORCH_SPEC)


@nox.session(python=False)
def versus(session: nox.Session) -> None:
    """Speed and memory across environments, paired (nox -s versus -- tl-3.9 tl-4.3 [OPTIONS]): with
    more than two, each next pair and the first against the last. Make the environments first (nox -s
    tl-3.9 tl-4.3, or with --install-only); uses nox's own Python, as compat does. Options after the
    environments go to python -m gpt2spec.radar.versus (--rounds, --long, --threads); results in .nox/results/versus/."""
    envs = list(itertools.takewhile(lambda a: not a.startswith("-"), session.posargs))
    options = session.posargs[len(envs):]
    if len(envs) < 2:
        session.error("give two environments or more: nox -s versus -- tl-3.9 tl-4.3")
    pairs = list(zip(envs, envs[1:])) + ([(envs[0], envs[-1])] if len(envs) > 2 else [])
    for a, b in pairs:
        session.run(sys.executable, "-m", "gpt2spec.radar.versus", a, b, *options)


@nox.session(python=False)
def compat(session: nox.Session) -> None:
    """results/ and COMPATIBILITY.md from the results the tl-* and versus sessions left (run them first;
    uses nox's own Python, which needs this project installed: pip install -e . nox). A version (or a
    pair) not run this time keeps its committed results."""
    fresh = [RESULTS / f"tl-{v}.json" for v in VERSIONS if (RESULTS / f"tl-{v}.json").exists()]
    fresh_versus = sorted((RESULTS / "versus").glob("*.json"))  # nox -s versus's
    if not fresh and not fresh_versus:
        session.error("no results yet: run nox -s tl-2.18 tl-3.9 tl-4.3 (and nox -s versus -- tl-2.18 tl-3.9 tl-4.3) first")
    (COMMITTED / "versus").mkdir(parents=True, exist_ok=True)
    for path in fresh:
        shutil.copyfile(path, COMMITTED / path.name)
    for path in fresh_versus:
        shutil.copyfile(path, COMMITTED / "versus" / path.name)
    found = sorted(str(COMMITTED / f"tl-{v}.json") for v in VERSIONS if (COMMITTED / f"tl-{v}.json").exists())
    history = sorted(str(path) for path in (COMMITTED / "history").glob("*.json"))  # nox -s bisect's findings
    versus = sorted(str(path) for path in (COMMITTED / "versus").glob("*.json"))
    session.run(sys.executable, "-m", "gpt2spec.radar.compat", *found, *(["--versus", *versus] if versus else []),
                *(["--history", *history] if history else []), "-o", "COMPATIBILITY.md")  # fmt: skip
