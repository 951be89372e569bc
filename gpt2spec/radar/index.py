"""What the package index offers and what pip can install from it, in pip's own words.

Every answer comes from pip's own commands run by this Python (``pip index versions``, ``pip install
--dry-run --report``), so it sees the same index, constraints and installed packages as the install
it speaks for. Versions and requirements are read with ``packaging``.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


def pip(*args: str, python: str | Path = sys.executable) -> subprocess.CompletedProcess:
    """pip with ``args``, as ``python`` runs it (this Python's, unless another environment's is named)."""
    return subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True)


def offered(package: str, pre: bool = False) -> list[Version]:
    """The final releases the index lists for ``package``, oldest first (``pip index versions``);
    ``pre``: its pre-releases too (``--pre``)."""
    done = pip("index", "versions", package, *(["--pre"] if pre else []))
    listed = re.search(r"^Available versions: (.*)$", done.stdout, flags=re.M)
    if not listed:
        return []
    found = []
    for text in listed.group(1).split(","):
        try:
            version = Version(text.strip())
        except InvalidVersion:
            continue
        if pre or not version.is_prerelease:
            found.append(version)
    return sorted(found)


def installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def source(package: str) -> str | None:
    """Where the installed ``package`` came from when not from an index: its direct URL (PEP 610's
    direct_url.json), with the commit for a VCS checkout; None for an index's release."""
    try:
        text = importlib.metadata.distribution(package).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    found = json.loads(text)
    vcs = found.get("vcs_info")
    if vcs:
        at = f"@{vcs['requested_revision']}" if vcs.get("requested_revision") else ""
        return f"{vcs['vcs']}+{found['url']}{at} (commit {vcs['commit_id'][:12]})"
    return found["url"]


def install_reference(requirement: str, *keep: str) -> str | None:
    """Install a direct reference (a branch, a pull request, a checkout, a wheel: ``NAME @ URL``) in place of
    the installed release, then what it depends on; None, or pip's line saying why it could not.

    pip keeps an installed release of the same version as a reference (a branch's version rarely
    changes), so the reference is put in first on its own (``--force-reinstall --no-deps``)."""
    for args in (("--force-reinstall", "--no-deps", requirement), (requirement, *keep)):
        done = pip("install", "--quiet", *args)
        if done.returncode != 0:
            return why_not(done.stdout + "\n" + done.stderr)
    return None


def allowed(package: str) -> tuple[SpecifierSet, list[str]]:
    """What the installed packages' metadata (their Requires-Dist) allow of ``package``, and who says so."""
    name = canonicalize_name(package)
    spec, who = SpecifierSet(), []
    for dist in importlib.metadata.distributions():
        for text in dist.requires or []:
            req = Requirement(text)
            if canonicalize_name(req.name) != name or (req.marker and not req.marker.evaluate({"extra": ""})):
                continue
            if req.specifier:
                spec &= req.specifier
                who.append(f"{dist.metadata['Name']} {dist.version}: {req.specifier}")
    return spec, sorted(set(who))


def why_not(output: str) -> str:
    """pip's reason, in one line: its first error, without the long list of versions it saw, and for a
    conflict the requirements that conflict ("The conflict is caused by:")."""
    lines = output.splitlines()
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR: ")]
    first = next((e for e in errors if e.startswith(("Could not find", "Cannot install"))), None)
    line = first or (errors[-1] if errors else (output.strip().splitlines() or ["pip failed"])[-1])
    line = re.sub(r" \(from versions: [^)]*\)", "", line)
    if "The conflict is caused by:" in lines:
        start = lines.index("The conflict is caused by:") + 1
        caused = list(itertools.takewhile(str.strip, lines[start:]))
        line = line.split(" because ")[0] + ": " + "; ".join(c.strip() for c in caused)
    return line


def dry_run(*requirements: str) -> tuple[dict[str, str], str | None]:
    """What ``pip install REQUIREMENTS`` would change here ({name: version}), or pip's line saying why it cannot."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        done = pip("install", "--dry-run", "--report", str(out), *requirements)
        if done.returncode != 0:
            return {}, why_not(done.stdout + "\n" + done.stderr)
        report = json.loads(out.read_text())
    return {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in report.get("install", [])}, None
