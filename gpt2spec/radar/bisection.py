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

``--cost 'run_with_cache, 256 tokens'`` searches instead for the first release whose cost crossed
the factor against OLD's (``gpt2spec.radar.versus``: paired, a regression only where the whole interval
lies beyond it). Costs need both sides running at once, so each release it visits gets an
environment of its own (``--cache``/envs/), made once and kept.
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
from gpt2spec.radar import causes, changes, compat, index, versus

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

    read = staticmethod(results_file.read)  # what a release leaves in the cache: the specs' results file

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
            return Release(version, self.read(results))
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


class CostRunner(Runner):
    """Each release in an environment of its own, its cost measured against OLD's in OLD's
    (``versus.run``); OLD's own is no change by definition. A release's result: the versus file."""

    read = staticmethod(versus.read)

    def __init__(self, package: str, cache: Path, torch: str, old: Version, long: int, rounds: int):
        super().__init__(package, cache, torch, [])
        self.old, self.long, self.rounds = old, long, rounds

    def paths(self, version: Version) -> tuple[Path, Path]:
        stem = f"cost-{self.package}-{self.old}-{version}-{self.long}"
        return self.cache / f"{stem}.json", self.cache / f"{stem}.why"

    def environment(self, version: Version) -> tuple[Path | None, str]:
        """A venv with torch, this project and the release (made once): its python, or pip's line."""
        env = self.cache / "envs" / f"{self.package}-{version}"
        python = env / "bin" / "python"
        if not (env / "made").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(env)], check=True)
            extra = NEEDS.get((self.package, version.major), [])
            for args in ([self.torch], ["-e", ".", f"{self.package}=={version}", *extra, self.torch]):
                done = index.pip("install", "--quiet", *args, python=python)
                if done.returncode != 0:
                    return None, f"pip: {index.why_not(done.stdout + chr(10) + done.stderr)}"
            (env / "made").touch()
        return python, ""

    def install_and_run(self, version: Version) -> Release:
        if version == self.old:
            return Release(version, {"rows": []})  # no change from itself
        results, failed = self.paths(version)
        self.cache.mkdir(parents=True, exist_ok=True)
        print(f"bisect: {self.package} {version}: its environment, then its cost against {self.old}", flush=True)
        envs = [self.environment(v) for v in (self.old, version)]
        if any(python is None for python, _ in envs):
            failed.write_text(next(why for python, why in envs if python is None) + "\n")
            return self.cached(version)
        try:
            found = versus.run(str(envs[0][0]), str(envs[1][0]), long=self.long, rounds=self.rounds)
        except versus.Stopped as error:
            failed.write_text(f"{error}\n")
            return self.cached(version)
        results.write_text(json.dumps(found, indent=1))
        return self.cached(version)


def crossed(label: str) -> Probe:
    """Whether a release's cost (its versus file) lies wholly beyond the factor for the work ``label``, in time."""
    return lambda found: any(r["time"]["label"] == label and versus.verdict(r["time"], found.get("factor", versus.FACTOR)) == "regression" for r in found["rows"])


def between(package: str, old: Version, new: Version) -> list[Version]:
    """The index's releases from OLD to NEW, both ends included (ValueError where it lacks either)."""
    releases = [v for v in index.offered(package) if old <= v <= new]
    if old not in releases or new not in releases:
        raise ValueError(f"the index does not offer {package} {old if old not in releases else new}: see pip index versions {package}")
    return releases


def cost_bisect(package: str, old: Version, new: Version, run: CostRunner, label: str) -> dict:
    """The first release between OLD and NEW whose ``label`` cost crossed the factor against OLD's,
    in the shape of ``bisect``'s finding (kind "cost"), so the release history shows it."""
    releases = between(package, old, new)
    end = run(new)
    if end.results is None:
        raise ValueError(f"{package} {new} could not be measured: {end.why}")
    probe = crossed(label)
    if not any(r["time"]["label"] == label for r in end.results["rows"]):
        raise ValueError(f"no work {label!r} in what versus measures: give one of {', '.join(repr(r['time']['label']) for r in end.results['rows'])}")
    found = []
    if probe(end.results):
        first, _, _ = first_change(releases, run, probe)
        ratio = next(r["time"] for r in run(first).results["rows"] if r["time"]["label"] == label)
        found.append({"kind": "cost", "what": label, "first": str(first), "before": "within", "after": f"{versus.ratio_text(ratio)} of {old}'s", "cause": None})
    visited = [run(v) for v in releases if v in run.seen and v != old]
    return {
        "package": package, "old": str(old), "new": str(new), "releases": [str(v) for v in releases],
        "ran": {str(r.version): f"TL {r.results['sides']['B']['versions']['transformer_lens']} against {old} ({label})" for r in visited if r.results},
        "not_installed": {str(r.version): r.why for r in visited if r.results is None},
        "also_changed": [], "changes": found, "notes": {f["first"]: causes.release_notes(package, f["first"]) for f in found},
    }  # fmt: skip


# Each kind of difference as a question asked of one release's results (its value there).
Probe = Callable[[dict], Any]


def probes(old: dict, new: dict) -> list[tuple[str, str, Probe]]:
    """(kind, what, probe) for everything that differs between OLD and NEW's results."""
    found = changes.compare(old, new)
    out: list[tuple[str, str, Probe]] = []
    for claim in [claim for claim, _, _ in found.outcomes] + found.added + found.gone:
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
    releases = between(package, old, new)
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
    p.add_argument("-o", "--output", type=Path, help="default results/history/PACKAGE-OLD-NEW.json (-cost.json with --cost)")
    p.add_argument("--cost", metavar="WORK", help="the first release whose cost of WORK ('run_with_cache, 256 tokens') crossed the factor against OLD's")
    p.add_argument("--long", type=int, default=versus.LONG, help="with --cost: the longer input's tokens, as versus --long")
    p.add_argument("--rounds", type=int, default=versus.ROUNDS, help="with --cost: timed pairs, as versus --rounds")
    args, pytest_args = p.parse_known_args(argv)
    if args.old >= args.new:
        p.error(f"OLD ({args.old}) must be older than NEW ({args.new})")
    out = args.output or HISTORY / f"{args.package}-{args.old}-{args.new}{'-cost' if args.cost else ''}.json"
    try:  # before the installs and runs, not after
        paths.output_file(out, "-o", f"{args.package}-{args.old}-{args.new}.json")
        paths.folder(args.cache, "--cache")
    except paths.BadPath as error:
        paths.refuse(p, error)
    try:
        if args.cost:
            runner = CostRunner(args.package, args.cache, args.torch, args.old, args.long, args.rounds)
            found = cost_bisect(args.package, args.old, args.new, runner, args.cost)
        else:
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
