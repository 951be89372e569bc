"""Stand-in weights: an offline Hugging Face cache for GPT-2 small with seeded random weights.

OpenAI's weights cannot be downloaded where CI runs. This writes the standard hub cache
layout around the *real* config and tokenizer files plus weights drawn from a fixed seed, so
TransformerLens's own loaders run unchanged with ``HF_HOME=<dir> HF_HUB_OFFLINE=1``.

The weights come from SplitMix64, a counter-based integer hash computed in numpy ``uint64``
arithmetic: no library RNG whose stream could change between versions, no torch, no device.
Into that noise ``circuit.py`` writes an induction circuit by hand (a previous-token head, the
five induction heads GPT-2 small is known for), so the document's last section has something
to find. Two builds with the same seed are byte-identical on any machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from filelock import FileLock

from gpt2spec import circuit

SEED = 20240101
REPOS = ("openai-community/gpt2", "gpt2")  # TransformerLens 3.x asks for the first, 4.x for "gpt2"
SMALL_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
)
PACKAGED = Path(__file__).parent / "data" / "gpt2"  # GPT-2 small's config and tokenizer, shipped
MARKER = "gpt2spec_standin.json"  # sits in the snapshot; the loader reads it to name the seed and circuit
STD = 0.02  # GPT-2's initializer_range

_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def splitmix64(counter: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of ``counter`` (uint64): one well-mixed 64-bit word per input."""
    with np.errstate(over="ignore"):
        z = counter * _GOLD
        shifted = np.empty_like(z)
        for shift, multiplier in ((30, _M1), (27, _M2), (31, None)):  # z ^= z >> shift; z *= multiplier
            np.right_shift(z, np.uint64(shift), out=shifted)
            z ^= shifted
            if multiplier is not None:
                z *= multiplier
        return z


def counters(seed: int, stream: int, start: int, stop: int) -> np.ndarray:
    """The counters of ``stream``'s numbers ``start`` to ``stop``: the stream in the high 32 bits, the index in the low."""
    out = np.arange(start, stop, dtype=np.uint64)
    out += np.uint64((seed * 1_000_003 + stream) & 0xFFFFFFFF) << np.uint64(32)
    return out


BLOCK = 1 << 17  # numbers made at a time: a block's arrays stay in the CPU's cache (all 124M at once: 3.6-4.9 s, by blocks 1.2 s)


def uniform_tensor(seed: int, stream: int, shape: tuple[int, ...], center: float, std: float) -> np.ndarray:
    """float32 uniform noise with the given mean and standard deviation, exactly reproducible.

    The top 24 bits of each hash give a float32 in [0, 1) with no rounding, so the result
    does not depend on the platform's float arithmetic beyond IEEE single precision.
    """
    n = int(np.prod(shape))
    half_width = np.float32(std * np.sqrt(3.0))  # uniform on [-a, a] has std a / sqrt(3)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, BLOCK):
        words = splitmix64(counters(seed, stream, start, min(start + BLOCK, n)))
        words >>= np.uint64(40)
        u = out[start : start + len(words)]
        u[:] = words  # exact: below 2^24
        # ((u / 2^24) * 2 - 1) * half_width + center, in float32, one operation at a time
        for op, value in ((np.divide, 1 << 24), (np.multiply, 2), (np.subtract, 1), (np.multiply, half_width), (np.add, center)):
            op(u, np.float32(value), out=u)
    return out.reshape(shape)


def gpt2_state_dict(config: dict, seed: int = SEED) -> dict[str, np.ndarray]:
    """Every tensor of ``GPT2LMHeadModel`` (lm_head is tied to wte, as in OpenAI's file): seeded noise,
    with the induction circuit written in."""
    d, n_layer, vocab, n_pos = config["n_embd"], config["n_layer"], config["vocab_size"], config["n_positions"]
    shapes: dict[str, tuple[tuple[int, ...], float, float]] = {
        "transformer.wte.weight": ((vocab, d), 0.0, STD),
        "transformer.wpe.weight": ((n_pos, d), 0.0, STD / 2),
    }
    for i in range(n_layer):
        h = f"transformer.h.{i}."
        shapes |= {
            h + "ln_1.weight": ((d,), 1.0, 0.1),
            h + "ln_1.bias": ((d,), 0.0, 0.02),
            h + "attn.c_attn.weight": ((d, 3 * d), 0.0, STD),
            h + "attn.c_attn.bias": ((3 * d,), 0.0, 0.02),
            h + "attn.c_proj.weight": ((d, d), 0.0, STD),
            h + "attn.c_proj.bias": ((d,), 0.0, 0.02),
            h + "ln_2.weight": ((d,), 1.0, 0.1),
            h + "ln_2.bias": ((d,), 0.0, 0.02),
            h + "mlp.c_fc.weight": ((d, 4 * d), 0.0, STD),
            h + "mlp.c_fc.bias": ((4 * d,), 0.0, 0.02),
            h + "mlp.c_proj.weight": ((4 * d, d), 0.0, STD),
            h + "mlp.c_proj.bias": ((d,), 0.0, 0.02),
        }
    shapes |= {"transformer.ln_f.weight": ((d,), 1.0, 0.1), "transformer.ln_f.bias": ((d,), 0.0, 0.02)}
    state = {
        tensor: uniform_tensor(seed, stream, shape, center, std)
        for stream, (tensor, (shape, center, std)) in enumerate(shapes.items())
    }
    circuit.install(state, config, seed)
    return state


def name(seed: int = SEED, version: int | None = circuit.VERSION) -> str:
    """The stand-in's name: its cache folder's, and its baselines' folder in snapshots/. A cache built
    before the circuit (its marker names none: ``version`` None) keeps the name it had."""
    return f"standin-seed{seed}" if version is None else f"standin-circuit{version}-seed{seed}"


def marker(seed: int = SEED) -> dict:
    """What the marker file says: the seed, the noise, and the circuit's version (``circuit.VERSION``)."""
    return {"seed": seed, "generator": "splitmix64-uniform", "std": STD, "circuit": circuit.VERSION}


def revision(seed: int) -> str:
    """A fixed 40-hex 'commit' for refs/main, derived from the seed and the circuit (the hub needs one)."""
    return hashlib.sha1(f"gpt2spec-{name(seed)}".encode()).hexdigest()


LOCK = ".gpt2spec-standin.lock"  # in HF_HOME: one build at a time
BUILDING = ".gpt2spec-standin-build-"  # a build's own folder in HF_HOME, moved into hub/ when whole


def repo_folder(hub: Path, repo: str) -> Path:
    return hub / ("models--" + repo.replace("/", "--"))


def lock(hf_home: Path) -> FileLock:
    """The lock a build holds (re-entrant in one process): ``with lock(home): if not complete(home): build(home)``."""
    hf_home.mkdir(parents=True, exist_ok=True)
    return FileLock(hf_home / LOCK, is_singleton=True)


def complete(hf_home: Path, seed: int = SEED) -> bool:
    """Whether a finished stand-in of ``seed``, with this circuit, is there: its marker is written last,
    and moved in whole."""
    rev = revision(seed)
    for repo in REPOS:
        repo_dir = repo_folder(hf_home / "hub", repo)
        snap = repo_dir / "snapshots" / rev
        try:
            if (repo_dir / "refs" / "main").read_text() != rev or json.loads((snap / MARKER).read_text()) != marker(seed):
                return False
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if not (snap / "model.safetensors").is_file():
            return False
    return True


def write(hub: Path, source: Path, seed: int) -> None:
    """Both repos' folders under ``hub``; the markers last, so a folder with one is whole."""
    from safetensors.numpy import save_file

    rev = revision(seed)
    snaps = [repo_folder(hub, repo) / "snapshots" / rev for repo in REPOS]
    for snap in snaps:
        snap.mkdir(parents=True)
        (snap.parents[1] / "refs").mkdir()
        (snap.parents[1] / "refs" / "main").write_text(rev)
        for f in SMALL_FILES:
            shutil.copyfile(source / f, snap / f)
    config = json.loads((source / "config.json").read_text())
    save_file(gpt2_state_dict(config, seed), str(snaps[0] / "model.safetensors"), metadata={"format": "pt"})
    for snap in snaps[1:]:  # same bytes, one copy on disk
        (snap / "model.safetensors").symlink_to(os.path.relpath(snaps[0] / "model.safetensors", snap))
    for snap in snaps:
        (snap / MARKER).write_text(json.dumps(marker(seed)) + "\n")


def build(hf_home: Path, source: Path = PACKAGED, seed: int = SEED) -> Path:
    """Write the cache under ``hf_home/hub`` and return the hub folder.

    The files are written in a folder of their own and each repo's folder is then renamed into
    place, under a file lock: a build killed half-way (or out of disk) leaves the previous cache,
    or none, never one that looks whole; two builds at once take turns.
    """
    missing = [f for f in SMALL_FILES if not (source / f).is_file()]
    if missing:
        raise SystemExit(f"{source} lacks {', '.join(missing)}: point --source at a copy of GPT-2 small's config and tokenizer.")
    hub = hf_home / "hub"
    with lock(hf_home):
        for stale in hf_home.glob(BUILDING + "*"):  # left by a killed build: none other runs now
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=BUILDING, dir=hf_home))
        try:
            write(work / "hub", source, seed)
            hub.mkdir(exist_ok=True)
            for repo in REPOS:  # the weights' repo first: the other links into it
                target = repo_folder(hub, repo)
                if target.exists() or target.is_symlink():
                    os.replace(target, work / ("old-" + target.name))  # out of the way; removed below
                os.replace(repo_folder(work / "hub", repo), target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return hub


def cache_root() -> Path:
    """Where ``--weights auto|standin`` keeps its stand-in: ``$GPT2SPEC_CACHE``, else the user's cache
    folder (``$XDG_CACHE_HOME/gpt2spec``, by default ``~/.cache/gpt2spec``)."""
    if os.environ.get("GPT2SPEC_CACHE"):
        return Path(os.environ["GPT2SPEC_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "gpt2spec"


def ensure(seed: int = SEED, root: Path | None = None) -> tuple[Path, bool]:
    """The stand-in of ``seed`` under ``root`` (default ``cache_root()``), built the first time only.
    Returns the folder to use as HF_HOME, and whether it was built now."""
    home = (root or cache_root()) / name(seed)
    if complete(home, seed):
        return home, False
    with lock(home):  # another run may be building it right now: wait, then look again
        if complete(home, seed):
            return home, False
        build(home, seed=seed)
    return home, True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="gpt2spec-standin",
        description="Build an offline Hugging Face cache of GPT-2 small with seeded random weights and a built induction circuit.",
    )
    p.add_argument("hf_home", type=Path, help="folder to use as HF_HOME (created if missing)")
    p.add_argument("--source", type=Path, default=PACKAGED, help="folder with GPT-2's config and tokenizer files (default: the packaged copy)")
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args(argv)
    from safetensors import SafetensorError

    try:
        hub = build(args.hf_home, args.source, args.seed)
    except (OSError, SafetensorError) as error:  # disk full, no permission: a previous cache is untouched
        print(f"error: could not build the stand-in in {args.hf_home} ({error}); nothing half-written was left", file=sys.stderr)
        return 1
    print(f"stand-in GPT-2 small (seed {args.seed}) written to {hub}; use HF_HOME={args.hf_home} HF_HUB_OFFLINE=1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
