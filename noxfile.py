"""The same specs across TransformerLens versions, offline, on the stand-in weights.

    nox -l                      # the sessions
    nox -s tl-3.9               # one version
    nox -s tl-2.18 tl-3.9 tl-4.3 compat   # all, then COMPATIBILITY.md

Each session installs torch first (``TORCH_SPEC``, default ``torch==2.13.0``: the CPU wheel this
project's machines carry; a bare ``torch`` would pull a CUDA build of several GB), then the
project with that TransformerLens and only the pins it needs to import, builds the stand-in
cache (from the config and tokenizer the package ships) and runs the specs, writing its results
for ``compat``.
"""

from __future__ import annotations

import os
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


def specs(session: nox.Session, version: str) -> None:
    session.install(TORCH_SPEC)
    session.install("-e", ".", *VERSIONS[version], TORCH_SPEC)  # torch repeated: keep the wheel above
    hf_home = Path(session.create_tmp()) / "hf"
    session.run("python", "-m", "gpt2spec.standin", str(hf_home))
    session.env.update(HF_HOME=str(hf_home), HF_HUB_OFFLINE="1")
    session.run(
        "pytest", "specs", "tests/test_standin.py", "--benchmark-disable", "--device", "cpu",
        f"--spec-results={RESULTS / f'tl-{version}.json'}", *session.posargs,
    )  # fmt: skip


def _session_for(version: str):
    def run(session: nox.Session) -> None:
        specs(session, version)

    run.__doc__ = f"The specs under TransformerLens {version}, offline, on the stand-in."
    return nox.session(name=f"tl-{version}")(run)


for _version in VERSIONS:
    _session_for(_version)


@nox.session(python=False)
def compat(session: nox.Session) -> None:
    """COMPATIBILITY.md from the results the tl-* sessions left (run them first; uses nox's own Python,
    which needs this project installed: pip install -e . nox)."""
    found = sorted(str(p) for p in RESULTS.glob("tl-*.json"))
    if not found:
        session.error("no results yet: run nox -s tl-2.18 tl-3.9 tl-4.3 first")
    session.run(sys.executable, "-m", "gpt2spec.compat", *found, "-o", "COMPATIBILITY.md")
