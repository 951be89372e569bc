"""A bundle to carry to a GPU machine with no internet: ``python -m gpt2spec.bundle OUT_DIR``.

It holds wheels of what the target lacks (for its Python and platform), this repository as a
source tree (GPT-2's config and tokenizer are packaged in it; the stand-in's 500 MB of weights are
built there, from a seed), and ``run.sh``, which installs the wheels beside the target's own
packages, builds the stand-in, runs the specs and the scaling benchmark on every device and writes
the terminal table, the page and pytest-benchmark's JSON to one folder.

The target (``TARGET``) is the machine this project's GPU runs are sized for: Python 3.12 on
x86-64 Linux with PyTorch, transformers, pytest, pytest-benchmark, pandas and pyarrow installed.
What to carry is resolved from the wheels' own ``Requires-Dist`` against what the target has,
less the few that TransformerLens declares but never imports to load and run a model (``UNUSED``).
"""

from __future__ import annotations

import argparse
import email.parser
import importlib.metadata
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "3.12"
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"]
MARKERS = {"python_version": PYTHON, "python_full_version": f"{PYTHON}.3", "sys_platform": "linux", "platform_system": "Linux",
           "platform_machine": "x86_64", "os_name": "posix", "implementation_name": "cpython", "platform_python_implementation": "CPython"}  # fmt: skip

# The packages the target's image already holds (this workplace's 'cuda' image, read 2026-11-17:
# /work/.library/device/KINDS.md, "Python packages already there"), normalized names.
TARGET = set("""
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools
formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna
imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver
lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc nvidia-cuda-runtime
nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13
nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript
opencv-python-headless optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy peft
pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist
python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core scikit-image
scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools shellingham simplejson six sortedcontainers
statsmodels sympy tabulate tensorboard tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm
tokenizers toolz torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope
triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp
""".split())

# Declared by TransformerLens 4.x but not imported to load GPT-2, run it, hook it or cache it (checked
# by installing the bundle without them and running the specs): its training logger and the
# run-time type checkers of other code paths. wandb's wheel alone is ~20 MB.
UNUSED = {"wandb", "beartype", "typeguard", "transformers-stream-generator"}


def normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def roots() -> list[str]:
    """What the suite needs beyond the target: the project's requirements and its 'report' extra."""
    import tomllib  # Python 3.11+: the bundle is built on a developer's machine

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["report"]


def pinned(requirement: str) -> str:
    """The version tested here where this environment has one that fits, else the requirement as written."""
    from packaging.requirements import Requirement

    req = Requirement(requirement)
    try:
        here = importlib.metadata.version(req.name)
    except importlib.metadata.PackageNotFoundError:
        return f"{req.name}{req.specifier}"
    return f"{req.name}=={here}" if req.specifier.contains(here, prereleases=True) else f"{req.name}{req.specifier}"


def download(spec: str, into: Path) -> Path:
    before = set(into.glob("*.whl"))
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version", PYTHON,
         "--implementation", "cp", *platforms, "-d", str(into), spec],
        check=True,
    )  # fmt: skip
    new = set(into.glob("*.whl")) - before
    if new:
        return new.pop()
    name = normalize(spec.split("=")[0].split("<")[0].split(">")[0].split("~")[0].split("!")[0])
    return next(w for w in into.glob("*.whl") if normalize(w.name.split("-")[0]) == name)  # already there


def requires(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist that apply on the target (no extras)."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.parser.Parser().parsestr(z.read(meta).decode())
    out = []
    for line in message.get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({**MARKERS, "extra": ""}):
            out.append(str(req).split(";")[0].strip())
    return out


def resolve(into: Path) -> list[Path]:
    """Download each needed package the target lacks, then what those need, until nothing is missing."""
    from packaging.requirements import Requirement

    queue, seen, wheels = list(roots()), set(), []
    while queue:
        requirement = queue.pop(0)
        name = normalize(Requirement(requirement).name)
        if name in seen or name in TARGET or name in UNUSED:
            continue
        seen.add(name)
        wheel = download(pinned(requirement), into)
        wheels.append(wheel)
        queue.extend(requires(wheel))
    return wheels


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
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"gpt2spec.bundle: {args.out} exists and is not empty: name a new folder", file=sys.stderr)
        return 2
    wheels = args.out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    try:
        got = resolve(wheels)
    except subprocess.CalledProcessError as error:
        print(f"gpt2spec.bundle: pip could not download {error.cmd[-1]} (is PyPI reachable?)", file=sys.stderr)
        return 1
    copy_repository(args.out / "repo")
    script = args.out / "run.sh"
    script.write_text(RUN)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    mb = lambda p: f"{size(p) / 1e6:.1f} MB"
    print(f"gpt2spec.bundle: {len(got)} wheels ({mb(wheels)}): " + ", ".join(sorted(w.name.split("-")[0] for w in got)))
    print(f"gpt2spec.bundle: repository {mb(args.out / 'repo')}; the whole bundle {mb(args.out)} in {args.out}")
    print(f"gpt2spec.bundle: on the GPU machine: bash {args.out.name}/run.sh OUTPUT_DIR")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
