"""GPT-2 small in the Hugging Face cache: which repos and files make it, the stand-in's marker, and
the checks that a cached copy is whole. No numpy and no torch: the loader and the stand-in both use it.

TransformerLens 3.x asks the hub for ``openai-community/gpt2``, 4.x for ``gpt2``: the cache may hold
either, and the stand-in writes both.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path

REPOS = ("openai-community/gpt2", "gpt2")  # TransformerLens 3.x asks for the first, 4.x for "gpt2"
# Its config and tokenizer (the stand-in copies them; the checks parse the JSON ones).
SMALL_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt")
WEIGHTS = "model.safetensors"
TOKENIZER = ("tokenizer.json", ("vocab.json", "merges.txt"))  # either is enough for GPT-2's tokenizer
MARKER = "gpt2spec_standin.json"  # in a stand-in's snapshot: its seed and circuit; the fingerprint, not this, says whose weights


def repo_folder(hub: Path, repo: str) -> Path:
    """A repo's folder in a hub cache (``models--openai-community--gpt2``)."""
    return hub / ("models--" + repo.replace("/", "--"))


def standin_marker() -> dict | None:
    """The stand-in's marker in the cached snapshot (``standin.marker()``: its seed, its circuit's
    version); None for any other weights."""
    marker = cached_file(MARKER)
    return json.loads(marker.read_text()) if marker else None


def standin_name(seed: int, circuit: int | None) -> str:
    """A stand-in's name: its cache folder's, and its baselines' folder in snapshots/. One built before
    the circuit (its marker names none: ``circuit`` None) keeps the name it had."""
    return f"standin-seed{seed}" if circuit is None else f"standin-circuit{circuit}-seed{seed}"


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hf_home() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HOME)


def cached_copies(name: str) -> Iterator[Path]:
    """``name`` in GPT-2 small's snapshots in the standard HF cache, one per repo id that has it (lazily:
    the first is often all that is asked)."""
    from huggingface_hub import try_to_load_from_cache

    for repo in REPOS:
        found = try_to_load_from_cache(repo, name)
        if isinstance(found, str):
            yield Path(found)


def cached_file(name: str) -> Path | None:
    """``name`` from GPT-2 small's snapshot in the standard HF cache, under either repo id."""
    return next(cached_copies(name), None)


def cache_lacks(tokenizer: bool = True) -> str | None:
    """Is GPT-2 small cached? None when its config, weights and (if asked) tokenizer are; else what is
    missing, in words."""
    if cached_file("config.json") is None:
        return "no GPT-2 small"
    if cached_file(WEIGHTS) is None and cached_file("pytorch_model.bin") is None:
        return "GPT-2 small's config but no weights (model.safetensors)"
    whole, pair = TOKENIZER
    if tokenizer and cached_file(whole) is None and not all(cached_file(name) is not None for name in pair):
        return f"GPT-2 small's config and weights but no tokenizer ({whole}, or {' and '.join(pair)})"
    return None


def offline_problem() -> str | None:
    """Offline, the cache must hold GPT-2 small's config and weights: the one line saying so where it does not."""
    if not offline() or (lacks := cache_lacks(tokenizer=False)) is None:  # no tokenizer: broken_file names the folder
        return None
    what = "it" if lacks == "no GPT-2 small" else "them"
    return (
        f"HF_HUB_OFFLINE=1 and {lacks} in the Hugging Face cache at {hf_home()}: "
        f"run once online to download {what}, or run on the stand-in with --weights standin"
    )


BIG_JSON = 1 << 16  # bytes: larger JSON files (tokenizer.json, vocab.json, ~1 MB) get a cheap check of their ends
JSON_FILES = tuple(name for name in SMALL_FILES if name.endswith(".json"))


def cached_snapshots() -> list[Path]:
    """The snapshot folders holding GPT-2 small's config in the HF cache (one per repo id found)."""
    return [config.parent for config in cached_copies("config.json")]


def safetensors_problem(path: Path) -> str | None:
    """What is wrong with a safetensors file, read from its header alone (not its 500 MB).

    The format: 8 bytes little-endian header length N, N bytes of JSON whose entries give each
    tensor's ``data_offsets`` into the data that follows, so the file's size is known up front.
    """
    size = path.stat().st_size
    try:
        with path.open("rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if size < 8 or n > size - 8:
                raise ValueError
            header = json.loads(f.read(n))
        end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return f"is not a safetensors file (its header does not parse; {size} bytes)"
    if size != 8 + n + end:
        return f"is truncated ({size} of {8 + n + end} bytes: an interrupted download?)"
    return None


def file_problem(path: Path) -> str | None:
    if path.is_symlink() and not path.exists():
        return "is a link to a file that is gone"
    stat = path.stat()
    return _file_problem(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _file_problem(path: Path, size: int, mtime_ns: int) -> str | None:
    """Once per file version a process: the tokenizer's JSON takes a while to parse."""
    if path.name == WEIGHTS:
        return safetensors_problem(path)
    try:
        text = path.read_text(encoding="utf-8")
        if path.name in JSON_FILES and size > BIG_JSON:  # the tokenizer's: its loader parses it anyway
            if not (text.lstrip().startswith("{") and text.rstrip().endswith("}")):
                return f"is not a whole JSON object ({size} bytes: an interrupted download?)"
        elif path.name in JSON_FILES and not isinstance(json.loads(text), dict):
            return "is not a JSON object"
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except json.JSONDecodeError as error:
        return f"is not valid JSON ({error})"
    return None


def broken_file() -> str | None:
    """GPT-2 small's cached files are whole, else the one line naming a broken one and what to do.

    Cheap checks, before loading: the JSON files parse, the tokenizer is there (offline: nothing
    can fetch it, and with none the tokenizer maps every text to id 0), the weights' size matches
    their header. A no-op when nothing is cached.
    """
    for snap in cached_snapshots():
        repo_dir = snap.parents[1]
        if (snap / MARKER).exists():
            fix = f"rebuild the stand-in with python -m gpt2spec.standin {repo_dir.parents[1]}"
        else:
            fix = f"delete {repo_dir} and run once online to download it again"
        for path in (snap / name for name in (*SMALL_FILES, WEIGHTS)):
            if path.exists() or path.is_symlink():
                if (problem := file_problem(path)) is not None:
                    return f"{path} {problem}: {fix}"
        whole, pair = TOKENIZER
        if offline() and not (snap / whole).exists() and not all((snap / f).exists() for f in pair):
            return f"{snap} has no tokenizer ({whole}, or {' and '.join(pair)}) and HF_HUB_OFFLINE=1: {fix}"
    return None
