"""A bundle to carry to a GPU machine with no internet: ``python -m gpt2spec.bundle OUT_DIR --packages FILE``.

It holds wheels of what the target lacks (for its Python and platform), this repository as a
source tree (GPT-2's config and tokenizer are packaged in it; the stand-in's 500 MB of weights are
built there, from a seed), and ``run.sh``, which installs the wheels beside the target's own
packages, builds the stand-in, runs the specs and the scaling benchmark on every device and writes
the terminal table, the page and pytest-benchmark's JSON to one folder.

The target is x86-64 Linux with the Python given (``--python``, default 3.12) and the packages in
``FILE``, which the user makes on the target (``pip freeze`` or ``pip list --format=json``; an
example: ``examples/gpu-image-pip-freeze.txt``). What to carry is pip's own resolution (``pip
download``, dependencies and all, for the target's Python and platform) of this project's
requirements, where each target package with a known version is given to pip as already there: a
stand-in wheel of that name and version, with no files and no requirements, pinned by a
constraints file. What the target holds, and the few packages that TransformerLens declares but
never imports to load and run a model (``UNUSED``), are not carried.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from gpt2spec import paths

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "gpu-image-pip-freeze.txt"  # one GPU machine's packages, as pip freeze writes them
PYTHON = "3.12"  # the target's Python unless --python says otherwise
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"]
THERE = "target"  # the local version label of a stand-in wheel for a package the target has

# Declared by TransformerLens 4.x but not imported to load GPT-2, run it, hook it or cache it (checked
# by installing the bundle without them and running the specs): its training logger and the
# run-time type checkers of other code paths; wandb's wheel alone is ~20 MB. pip is given a stand-in
# of each at the lowest version TransformerLens 4.3.0's METADATA allows.
UNUSED = {"wandb": "0.13.5", "beartype": "0.14.1", "typeguard": "4.2", "transformers-stream-generator": "0.0.5"}


MAKE = "make it on the target with pip freeze > FILE or pip list --format=json > FILE"


def normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def packages(path: Path) -> dict[str, str | None]:
    """The target's packages from ``pip list --format=json`` or ``pip freeze`` output (or bare names):
    normalized name -> version, or None where the file gives none (``name @ URL``, a bare name).
    Raises ValueError, saying what to do, for a file that is neither."""
    text = path.read_text()
    found: dict[str, str | None] = {}
    if text.lstrip().startswith("["):
        try:
            found = {normalize(p["name"]): p.get("version") or None for p in json.loads(text)}
        except (ValueError, TypeError, KeyError) as error:
            why = f"no {error}" if isinstance(error, KeyError) else str(error)
            raise ValueError(f"{path} is not pip list --format=json output ({why}): {MAKE}") from None
        return found
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):  # pip freeze's -e lines and options: not packages of a version
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:(?:===?)\s*(\S+)|@\s*\S+)?", line)
        if not match:
            raise ValueError(f"{path}: {line!r} is not a line of pip freeze (name==version): {MAKE}")
        found[normalize(match[1])] = match[2]
    return found


def roots(there: dict[str, str | None]) -> list[str]:
    """What the suite needs: the project's requirements and its 'report' extra, each pinned to the version
    tested here unless the target has it (then pip takes the target's)."""
    import tomllib  # Python 3.11+: the bundle is built on a developer's machine

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out = []
    for requirement in project["dependencies"] + project["optional-dependencies"]["report"]:
        req = Requirement(requirement)
        out.append(requirement if normalize(req.name) in there else pinned(req))
    return out


def pinned(req: Requirement) -> str:
    """The version tested here where this environment has one that fits, else the requirement as written."""
    try:
        here = importlib.metadata.version(req.name)
    except importlib.metadata.PackageNotFoundError:
        return str(req)
    return f"{req.name}=={here}" if req.specifier.contains(here, prereleases=True) else str(req)


def stand_in_wheel(folder: Path, name: str, version: str) -> Path:
    """An empty wheel that tells pip "``name`` ``version`` is there" (and needs nothing)."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{dist}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        z.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: gpt2spec.bundle\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{dist}.dist-info/RECORD", "")
    return path


def wheel_name(wheel: Path) -> str:
    return normalize(wheel.name.split("-")[0])


def resolve(into: Path, there: dict[str, str | None], python: str = PYTHON) -> tuple[list[Path], list[str]]:
    """pip resolves and downloads; the wheels the target needs stay in ``into``. Returns them, and the
    target packages of unknown version that pip resolved (and are not carried: the target has them)."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        pins = {name: f"{version}+{THERE}" for name, version in there.items() if version}
        pins.update({name: f"{version}+unused" for name, version in UNUSED.items()})
        for name, version in pins.items():
            stand_in_wheel(folder, name, version)
        (folder / "constraints.txt").write_text("".join(f"{name}=={version}\n" for name, version in pins.items()))
        (folder / "requirements.txt").write_text("\n".join(roots(there)) + "\n")
        platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "--python-version", python,
             "--implementation", "cp", *platforms, "--find-links", str(folder), "-c", str(folder / "constraints.txt"),
             "-r", str(folder / "requirements.txt"), "-d", str(into)],
            check=True,
        )  # fmt: skip
    carried, assumed = [], []
    for wheel in sorted(into.glob("*.whl")):
        name = wheel_name(wheel)
        if name in there or name in UNUSED:
            if there.get(name) is None and name not in UNUSED:
                assumed.append(wheel.name.split("-")[0] + " " + wheel.name.split("-")[1])
            wheel.unlink()
        else:
            carried.append(wheel)
    return carried, assumed


RUN = r"""#!/usr/bin/env bash
# On the GPU machine, offline: bash run.sh [OUTPUT_DIR]   (default: ./results)
# Installs the carried wheels beside the machine's own packages, builds the stand-in (seeded
# weights around GPT-2's packaged config and tokenizer), runs the specs on CPU and CUDA with
# benchmarks, the half-precision claims and the scaling benchmark, and writes: the terminal
# output (terminal.txt, with the scaling table), the page (report.html) and pytest-benchmark's
# JSON (benchmark.json, with the GPU, torch and CUDA versions).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-results}" && cd "${1:-results}" && pwd)"
[ $# -gt 0 ] && shift  # the rest goes to pytest
site="${TMPDIR:-/tmp}/gpt2spec-site"
python=${PYTHON:-python3}
"$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$here"/wheels/*.whl || exit 1
export PYTHONPATH="$here/repo:$site" GPT2SPEC_CACHE="${TMPDIR:-/tmp}/gpt2spec-cache" PYTHONUNBUFFERED=1
cd "$here/repo"
"$python" -m pytest specs --weights standin --device auto --half-precision --scaling --benchmark-json "$out/benchmark.json" \
    --benchmark-columns=median --spec-report "$out/report.html" -p no:cacheprovider "$@" 2>&1 | tee "$out/terminal.txt"
status=${PIPESTATUS[0]}
echo "gpt2spec: wrote $out/terminal.txt, $out/report.html, $out/benchmark.json (pytest exit $status)"
exit "$status"
"""


def copy_repository(into: Path) -> None:
    """The committed tree (git archive HEAD): what the bundle runs is what a commit names."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpt2spec.bundle", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="a new folder for the bundle")
    parser.add_argument("--packages", type=Path, required=True, metavar="FILE",
                        help="the target's packages: on the target, pip freeze > FILE or pip list --format=json > FILE "
                        f"(an example: {EXAMPLE.relative_to(ROOT)})")  # fmt: skip
    parser.add_argument("--python", default=PYTHON, help=f"the target's Python version (default {PYTHON})")
    args = parser.parse_args(argv)
    try:
        paths.folder(args.out, "OUT", "name a new folder you can write")
    except paths.BadPath as error:
        paths.refuse(parser, error)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"gpt2spec.bundle: {args.out} exists and is not empty: name a new folder", file=sys.stderr)
        return 2
    try:
        there = packages(args.packages)
    except (OSError, ValueError) as error:
        said = error if isinstance(error, ValueError) else f"cannot read {args.packages} ({error.strerror}): {MAKE}"
        print(f"gpt2spec.bundle: {said}", file=sys.stderr)
        return 2
    wheels = args.out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    try:
        got, assumed = resolve(wheels, there, args.python)
    except subprocess.CalledProcessError:
        print("gpt2spec.bundle: pip could not resolve or download the requirements (is PyPI reachable? pip's message is above)", file=sys.stderr)
        return 1
    copy_repository(args.out / "repo")
    script = args.out / "run.sh"
    script.write_text(RUN)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    mb = lambda p: f"{size(p) / 1e6:.1f} MB"
    print(f"gpt2spec.bundle: {len(got)} wheels ({mb(wheels)}): " + ", ".join(sorted(w.name.split("-")[0] for w in got)))
    if assumed:
        print("gpt2spec.bundle: not carried, the target has them (the file gives no version; pip chose): " + ", ".join(assumed))
    print(f"gpt2spec.bundle: repository {mb(args.out / 'repo')}; the whole bundle {mb(args.out)} in {args.out}")
    print(f"gpt2spec.bundle: on the GPU machine: bash {args.out.name}/run.sh OUTPUT_DIR")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
