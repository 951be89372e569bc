"""Asked, offered, installed and why: what a nox session ran, per axis package, in pip's own words.

    python -m gpt2spec.radar.axes prepare AXES.json transformers=newest torch==2.13.0 transformer_lens==4.3.*
    python -m gpt2spec.radar.axes attach AXES.json RESULTS.json

``prepare`` runs in the session's environment. For each axis package it looks up what the index
offers (``pip index versions``: the newest; the oldest the installed packages' metadata allow) and
what was asked: ``newest``, ``oldest`` (allowed), ``pre`` (the newest release or pre-release), a
requirement, or a direct reference (``NAME @ URL``: a branch, a checkout, a wheel; ``as_requirement``
makes one of a path). It installs that version (or finds it installed); where pip cannot, it asks
pip why (``pip install --dry-run``) and what it would install instead. A direct reference replaces
the installed release whatever its version, past this project's own pin (``transformer_lens<5``,
kept for users): pip installs it over the release the project pulled in and only warns of the pin.
It prints one line per axis, writes them to AXES.json, and exits ``NOT_INSTALLED`` (3) when a
version asked for is not what is installed, unless ``GPT2SPEC_ACCEPT_INSTALLABLE=1`` accepts the
newest installable (the lines then say so).
``attach`` puts the lines into a results file's provenance, where ``changes`` and ``compat`` show them.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from gpt2spec import paths, results
from gpt2spec.radar import index

NOT_INSTALLED = 3  # exit code: the version asked for is not the one installed (docs/upgrade-radar.md, 'Exit codes')
ACCEPT = "GPT2SPEC_ACCEPT_INSTALLABLE"  # set to 1: run on the newest installable instead, and say so
WORDS = ("newest", "oldest", "pre")


@dataclass
class Axis:
    package: str
    asked: str  # "newest", "oldest", "pre", or a requirement ("transformer_lens==4.3.*"), as given
    target: str | None  # the version that means on the index now; None: pip's choice
    newest: str | None  # the index's newest release
    oldest: str | None  # the oldest release the installed packages' metadata allow
    allowed: str  # that metadata, e.g. "transformer-lens 4.3.0: >=5.9.0"
    installed: str | None = None
    why: str | None = None  # pip's line, where the target is not installed
    accepted: bool = False  # the newest installable was accepted instead (GPT2SPEC_ACCEPT_INSTALLABLE)
    reference: str | None = None  # the URL of a direct reference asked for (NAME @ URL)
    source: str | None = None  # where the installed one came from when not an index (index.source)

    @property
    def missed(self) -> bool:
        """What was asked for is not what is installed."""
        if self.reference:
            return self.why is not None  # pip could not install the reference
        return bool(self.target and self.installed and Version(self.installed) not in SpecifierSet(f"=={self.target}"))

    def got(self, accepted: str) -> str:
        """What is installed, and why it is not what was asked for; ``accepted``: how the opt-in is said."""
        got = (self.installed or "nothing") + (f" from {self.source}" if self.source else "")
        if self.missed:
            got += f", not {self.target or self.reference}: {self.why or 'pip chose another'}" + (accepted if self.accepted else "")
        return got

    def cell(self) -> str:
        """Asked; offered; installed (and why not what was asked), for a table cell."""
        asked = "pip's choice" if self.target is None and self.asked not in WORDS and not self.reference else self.asked
        return f"{asked}; {self.oldest or '?'} to {self.newest or '?'}; {self.got(' (accepted)')}"

    def refusal(self) -> str:
        """The one line a session that did not get what it asked for stops with."""
        if self.reference:
            return f"asked for {self.asked} but {self.installed or 'nothing'} is installed: {self.why}"
        return (
            f"asked for {self.package} {self.target} ({self.asked}) but {self.installed} is installed: {self.why or 'pip chose another'}; "
            f"{ACCEPT}=1 runs on the newest installable instead"
        )

    def line(self) -> str:
        """One line: asked (meaning what), offered, installed, and why they differ."""
        asked = self.asked if not self.target or self.asked == f"{self.package}=={self.target}" else f"{self.asked} ({self.target})"
        offered = f"index: newest {self.newest or '?'}, oldest allowed {self.oldest or '?'}"
        return f"{self.package}: asked {asked}; {offered}; installed {self.got(f' (accepted: {ACCEPT}=1)')}"


def parse(ask: str) -> tuple[str, str]:
    """``transformers=newest`` -> (transformers, newest); ``torch==2.13.0`` -> (torch, torch==2.13.0)."""
    name, _, word = ask.partition("=")
    if word in WORDS:
        return name, word
    try:
        return Requirement(ask).name, ask
    except InvalidRequirement:
        raise ValueError(
            f"cannot read {ask!r}: give PACKAGE=newest, PACKAGE=oldest, PACKAGE=pre, a requirement (torch==2.13.0) "
            "or a direct reference ('transformer_lens @ git+https://...@BRANCH', a path, a wheel)"
        ) from None


def as_requirement(text: str, package: str = "transformer_lens") -> str:
    """What pip installs for ``text``: a wheel file becomes ``NAME @ file:///...`` (its name from its
    file name), a local checkout ``PACKAGE @ file:///...`` (pip reads a path as a requirement only
    with a name); anything else is taken as given."""
    path = Path(text).expanduser()
    if not path.exists():
        return text
    if path.suffix == ".whl":
        package = path.name.split("-")[0]  # the distribution name as the file spells it (PEP 427)
    return f"{package} @ {path.resolve().as_uri()}"


def target(asked: str, offered: list[Version], allowed: SpecifierSet) -> str | None:
    """The release an ask means among those offered (for ``pre``: offered with pre-releases)."""
    if asked in ("newest", "pre"):
        pool = offered
    elif asked == "oldest":
        return str(min(allowed.filter(offered), default="")) or None
    else:
        pool = list(Requirement(asked).specifier.filter(offered))
        if not Requirement(asked).specifier:
            return None  # a bare name: whatever pip chooses
    return str(max(pool)) if pool else None


def reason(package: str, version: str, pip_line: str) -> str:
    """pip's line, said of the version asked for ("5.25.0 needs kernels>=0.19.1, which the index does not have")."""
    missing = re.fullmatch(r"Could not find a version that satisfies the requirement (\S+) \(from \S+\)", pip_line)
    if missing and Requirement(missing.group(1)).name.lower() != package.lower():
        return f"{version} needs {missing.group(1)}, which the index does not have (pip)"
    return f"pip: {pip_line}"


@dataclass
class Pip:
    """pip's answers (a seam: the tests give canned ones)."""

    offered: Callable[[str], list[Version]] = index.offered
    prereleases: Callable[[str], list[Version]] = functools.partial(index.offered, pre=True)
    allowed: Callable[[str], tuple[SpecifierSet, list[str]]] = index.allowed
    installed: Callable[[str], str | None] = index.installed
    dry_run: Callable[..., tuple[dict[str, str], str | None]] = index.dry_run
    install: Callable[..., bool] = lambda *reqs: index.pip("install", "--quiet", *reqs).returncode == 0
    install_reference: Callable[..., str | None] = index.install_reference
    source: Callable[[str], str | None] = index.source


def prepare(asks: list[str], keep: list[str], accept: bool, pip: Pip | None = None) -> list[Axis]:
    """Each axis looked up, installed where asked and installable, and said in one line."""
    pip, axes = pip or Pip(), []
    for ask in asks:
        package, asked = parse(ask)
        offered = pip.offered(package)
        spec, who = pip.allowed(package)
        oldest = min(spec.filter(offered), default=None)
        pool = pip.prereleases(package) if asked == "pre" else offered
        axis = Axis(package, asked, target(asked, pool, spec), str(max(offered)) if offered else None,
                    str(oldest) if oldest else None, "; ".join(who) or "anything")  # fmt: skip
        axis.installed = pip.installed(package)
        others = [k for k in keep if Requirement(k).name.lower() != package.lower()]
        if asked not in WORDS and (url := Requirement(asked).url):
            axis.target, axis.reference = None, url
            why = pip.install_reference(asked, *others)
            axis.why = f"pip: {why}" if why else None
            axis.installed, axis.source = pip.installed(package), pip.source(package)
        elif axis.missed or (axis.target and axis.installed is None):
            _, why = pip.dry_run(f"{package}=={axis.target}", *others)
            if why is None:
                pip.install(f"{package}=={axis.target}", *others)
            else:
                axis.why = reason(package, axis.target, why)
                if accept:
                    pip.install("--upgrade", package, *others)
                    axis.accepted = True
            axis.installed = pip.installed(package)
        axes.append(axis)
    return axes


def main(argv: list[str] | None = None, pip: Pip | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gpt2spec.radar.axes", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="look up, install and say each axis package")
    prep.add_argument("axes", type=Path, help="where to write the lines (JSON)")
    prep.add_argument("ask", nargs="+", help="PACKAGE=newest, PACKAGE=oldest, PACKAGE=pre, a requirement, or a direct reference "
                      "(NAME @ URL; a local checkout or wheel file is taken as TransformerLens)")
    prep.add_argument("--keep", action="append", default=[], help="a requirement every install keeps (torch's)")
    att = sub.add_parser("attach", help="put AXES.json into a results file's provenance")
    att.add_argument("axes", type=Path)
    att.add_argument("results", type=Path)
    args = p.parse_args(argv)
    try:
        if args.command == "attach":
            results.attach_axes(args.axes, args.results)
            return 0
        paths.output_file(args.axes, "AXES", "axes.json")  # before the installs, not after
    except ValueError as error:
        paths.refuse(p, error)
    try:
        axes = prepare([as_requirement(a) for a in args.ask], args.keep, os.environ.get(ACCEPT, "") == "1", pip)
    except ValueError as error:
        p.error(str(error))
    print("\n".join(["what this session runs (asked; offered; installed):"] + [f"  {a.line()}" for a in axes]), flush=True)
    refused = [a for a in axes if a.missed and not a.accepted]
    args.axes.parent.mkdir(parents=True, exist_ok=True)
    args.axes.write_text(json.dumps({"axes": [asdict(a) for a in axes], "refused": [a.refusal() for a in refused]}, indent=1))
    for a in refused:
        print(a.refusal(), file=sys.stderr)
    return NOT_INSTALLED if refused else 0


if __name__ == "__main__":
    sys.exit(main())
