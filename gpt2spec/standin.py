"""Stand-in weights: an offline Hugging Face cache for GPT-2 small with seeded random weights.

OpenAI's weights cannot be downloaded where CI runs. This writes the standard hub cache
layout around the *real* config and tokenizer files plus weights drawn from a fixed seed, so
TransformerLens's own loaders run unchanged with ``HF_HOME=<dir> HF_HUB_OFFLINE=1``.

The weights come from SplitMix64 (``seeded.py``), a counter-based integer hash computed in numpy ``uint64``
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

from gpt2spec import circuit, paths
from gpt2spec.hubcache import MARKER, REPOS, SMALL_FILES, repo_folder, standin_name  # the cache's facts, shared with the loader
from gpt2spec.seeded import uniform_tensor  # the noise, SplitMix64's

SEED = 20240101
PACKAGED = Path(__file__).parent / "data" / "gpt2"  # GPT-2 small's config and tokenizer, shipped
STD = 0.02  # GPT-2's initializer_range


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
    """This stand-in's name (``hubcache.standin_name``), by default the one this gpt2spec builds."""
    return standin_name(seed, version)


def marker(seed: int = SEED) -> dict:
    """What the marker file says: the seed, the noise, and the circuit's version (``circuit.VERSION``)."""
    return {"seed": seed, "generator": "splitmix64-uniform", "std": STD, "circuit": circuit.VERSION}


def revision(seed: int) -> str:
    """A fixed 40-hex 'commit' for refs/main, derived from the seed and the circuit (the hub needs one)."""
    return hashlib.sha1(f"gpt2spec-{name(seed)}".encode()).hexdigest()


LOCK = ".gpt2spec-standin.lock"  # in HF_HOME: one build at a time
BUILDING = ".gpt2spec-standin-build-"  # a build's own folder in HF_HOME, moved into hub/ when whole


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
    what = "GPT2SPEC_CACHE" if root is None and os.environ.get("GPT2SPEC_CACHE") else "the stand-in's cache"
    paths.folder(home, what, "set GPT2SPEC_CACHE to a folder you can write (the stand-in is built there)")
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
    try:
        paths.folder(args.hf_home, "HF_HOME", "name a folder you can write")
    except paths.BadPath as error:
        paths.refuse(p, error)
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
