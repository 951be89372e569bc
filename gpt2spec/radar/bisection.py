"""Which release changed what: a binary search over the index's releases between two versions.

    nox -s bisect -- transformer_lens 3.0.0 3.9.0     # or, in a venv with this project:
    python -m gpt2spec.radar.bisection transformer_lens 3.0.0 3.9.0

runs the specs (offline on the stand-in, CPU, benchmarks off) under OLD and NEW, and for each claim
whose outcome, drift, cache keys or parameter names differ between them (``gpt2spec.radar.changes``)
finds the first release where it changed, installing only the releases the search visits. Each
release's results are cached under ``--cache`` by package and version, so a second search over the
same range installs nothing twice. A release pip cannot install is noted with pip's own line and
left out of the search. The finding goes to ``results/history/PACKAGE-OLD-NEW.json``, from which
``python -m gpt2spec.radar.compat`` writes COMPATIBILITY.md's release history.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from packaging.version import Version

from gpt2spec import paths, results as results_file
from gpt2spec.ids import relative
from gpt2spec.radar import causes, changes, compat, index

CACHE = Path(".nox") / "bisect-cache"
HISTORY = Path("results") / "history"
PYTEST = ["--benchmark-disable", "--device", "cpu", "--weights", "standin", "-q", "-p", "no:cacheprovider"]
# What a release needs beyond itself to import here, found by installing it (as noxfile.VERSIONS):
# TransformerLens 2.x caps numpy below 2, which pyarrow 26 (through datasets) refuses.
NEEDS = {("transformer_lens", 2): ["pyarrow<26"]}


@dataclass
class Release:
    version: Version
    results: dict | None  # the specs' results under it, or None where it did not install or run
    why: str = ""  # pip's (or pytest's) line when results is None


class Runner:
    """Installs one release into this environment and runs the specs under it, once per version
    (the cache keeps each release's results, or pip's line where it did not install)."""

    def __init__(self, package: str, cache: Path, torch: str, pytest_args: list[str]):
        self.package, self.cache, self.torch, self.pytest_args = package, cache, torch, pytest_args
        self.seen: dict[Version, Release] = {}

    def __call__(self, version: Version) -> Release:
        if version not in self.seen:
            self.seen[version] = self.cached(version) or self.install_and_run(version)
        return self.seen[version]

    def paths(self, version: Version) -> tuple[Path, Path]:
        stem = f"{self.package}-{version}"  # not Path.with_suffix: a version's dots are not a suffix
        return self.cache / f"{stem}.json", self.cache / f"{stem}.why"

    def cached(self, version: Version) -> Release | None:
        results, failed = self.paths(version)
        if results.exists():
            return Release(version, results_file.read(results))
        if failed.exists():
            return Release(version, None, failed.read_text().strip())
        return None

    def install_and_run(self, version: Version) -> Release:
        results, failed = self.paths(version)
        self.cache.mkdir(parents=True, exist_ok=True)
        print(f"bisect: {self.package} {version}: installing, then the specs", flush=True)
        extra = NEEDS.get((self.package, version.major), [])
        done = index.pip("install", f"{self.package}=={version}", *extra, self.torch)
        if done.returncode != 0:
            failed.write_text(f"pip: {index.why_not(done.stdout + chr(10) + done.stderr)}\n")
            return self.cached(version)
        partial = results.with_name(results.name + ".partial")
        ran = subprocess.run([sys.executable, "-m", "pytest", "specs", *PYTEST, f"--spec-results={partial}", *self.pytest_args])
        if ran.returncode not in (0, 1) or not partial.exists():
            failed.write_text(f"the specs did not run (pytest exit {ran.returncode})\n")
            return self.cached(version)
        partial.replace(results)
        return self.cached(version)


# Each kind of difference as a question asked of one release's results (its value there).
Probe = Callable[[dict], Any]


def probes(old: dict, new: dict) -> list[tuple[str, str, Probe]]:
    """(kind, what, probe) for everything that differs between OLD and NEW's results."""
    found = changes.compare(old, new)
    out: list[tuple[str, str, Probe]] = []
    for claim, _, _ in found.outcomes:
        out.append(("outcome", claim, lambda r, c=claim: compat.cell(r["claims"].get(c), changes.major(r))))
    for claim in found.added + found.gone:
        out.append(("outcome", claim, lambda r, c=claim: compat.cell(r["claims"].get(c), changes.major(r))))
    for claim, _, _ in found.drift:
        out.append(("drift", claim, lambda r, c=claim: changes.size((r["claims"].get(c) or {}).get("drift"))))
    for listed, (added, removed) in found.names.items():
        for name in added + removed:
            out.append((listed, name, lambda r, k=listed, n=name: n in (r.get("provenance") or {}).get(k, [])))
    return out


def why(results: dict, claim: str) -> str | None:
    """The cause a claim's version-specific expectation cites (``gpt2spec.radar.causes``), if it has one."""
    return ((results["claims"].get(claim) or {}).get("versioned") or {}).get("why")


def first_change(releases: list[Version], run: Callable[[Version], Release], probe: Probe) -> tuple[Version, Any, Any]:
    """The first release whose value differs from the oldest's (binary search: one change assumed),
    with the values before and after. Releases that did not install or run are dropped as met."""
    lo, hi = 0, len(releases) - 1
    ok = list(releases)
    before = probe(run(ok[lo]).results)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        found = run(ok[mid])
        if found.results is None:
            del ok[mid]
            hi -= 1
            continue
        if probe(found.results) == before:
            lo = mid
        else:
            hi = mid
    return ok[hi], probe(run(ok[lo]).results), probe(run(ok[hi]).results)


def bisect(package: str, old: Version, new: Version, run: Runner) -> dict:
    releases = [v for v in index.offered(package) if old <= v <= new]
    if old not in releases or new not in releases:
        raise ValueError(f"the index does not offer {package} {old if old not in releases else new}: see pip index versions {package}")
    ends = run(old), run(new)
    for end in ends:
        if end.results is None:
            raise ValueError(f"{package} {end.version} did not install or run: {end.why}")
    found = []
    for kind, what, probe in probes(ends[0].results, ends[1].results):
        first, before, after = first_change(releases, run, probe)
        cause = why(run(first).results, what) or why(ends[0].results, what) or causes.NAME_CAUSES.get(what)
        found.append({"kind": kind, "what": what, "first": str(first), "before": before, "after": after, "cause": cause})
    visited = [run(v) for v in releases if v in run.seen]
    # What else differs between the ends (pip may move transformers, numpy... with the release): a
    # change at a release may be theirs, and the cause column says whose where it is cited.
    others = [s for s in changes.compare(ends[0].results, ends[1].results).settings if s[0] not in (package, "platform")]
    return {
        "package": package,
        "old": str(old),
        "new": str(new),
        "releases": [str(v) for v in releases],
        "ran": {str(r.version): changes.label(r.results) for r in visited if r.results},
        "not_installed": {str(r.version): r.why for r in visited if r.results is None},
        "also_changed": others,
        "changes": found,
        "notes": {f["first"]: causes.release_notes(package, f["first"]) for f in found},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gpt2spec.radar.bisection", description=__doc__.split("\n\n")[0])
    p.add_argument("package", help="e.g. transformer_lens")
    p.add_argument("old", type=Version)
    p.add_argument("new", type=Version)
    p.add_argument("--cache", type=Path, default=CACHE, help=f"each release's results (default {CACHE})")
    p.add_argument("--torch", default="torch==2.13.0", help="the torch requirement kept through every install")
    p.add_argument("-o", "--output", type=Path, help="default results/history/PACKAGE-OLD-NEW.json")
    args, pytest_args = p.parse_known_args(argv)
    if args.old >= args.new:
        p.error(f"OLD ({args.old}) must be older than NEW ({args.new})")
    out = args.output or HISTORY / f"{args.package}-{args.old}-{args.new}.json"
    try:  # before the installs and runs, not after
        paths.output_file(out, "-o", f"{args.package}-{args.old}-{args.new}.json")
        paths.folder(args.cache, "--cache")
    except paths.BadPath as error:
        paths.refuse(p, error)
    try:
        found = bisect(args.package, args.old, args.new, Runner(args.package, args.cache, args.torch, pytest_args))
    except ValueError as error:
        print(f"bisect: {error}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(found, indent=1) + "\n")
    print(text(found))
    print(f"wrote {out}")
    return 0


def text(found: dict) -> str:
    lines = [f"{found['package']} {found['old']}..{found['new']}: {len(found['releases'])} releases, ran {', '.join(found['ran'])}"]
    lines += [f"  not installed: {v}: {why}" for v, why in found["not_installed"].items()]
    lines += [f"  also changed between the ends: {k} {a} -> {b}" for k, a, b in found.get("also_changed", [])]
    if not found["changes"]:
        lines.append("  nothing changed between them")
    for f in found["changes"]:
        before, after = (compat.WORD.get(v, v) if isinstance(v, bool) else v for v in (f["before"], f["after"]))
        lines.append(f"  {f['first']}: {f['kind']} {relative(f['what'])}: {before} -> {after}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
