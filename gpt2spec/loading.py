"""The seam: load GPT-2 small the way a user does, whatever TransformerLens is installed.

TransformerLens < 4 loads with ``HookedTransformer.from_pretrained``; 4.x removed it, and
``TransformerBridge.boot_transformers`` + ``enable_compatibility_mode()`` gives the same
numerics and the same API for everything the document uses (``to_tokens``, ``run_with_cache``,
``W_E``, ``W_in``, cache indexing, ...). The few names that moved live here, nowhere else.
A major this suite has not run (5.x, say) loads through whichever of the two it has, with a
one-line warning: the claims then say what it breaks. Only one with neither is refused.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from packaging.version import Version

SUPPORTED = (2, 3, 4)  # the majors this suite has run (results/, COMPATIBILITY.md)
# TransformerLens's ways to load GPT-2 small: how each is said, and the name its docs use.
ENTRY_POINTS = {
    "hooked": "HookedTransformer.from_pretrained",
    "bridge": "TransformerBridge.boot_transformers + enable_compatibility_mode",
}
MODEL_NAME = {"hooked": "gpt2-small", "bridge": "gpt2"}
HUB_REPOS = ("openai-community/gpt2", "gpt2")


class SetupError(RuntimeError):
    """Bad input the user can fix: its message is one line that says how."""


@functools.cache  # asked by many specs; the installed version does not change within a run
def tl_version() -> str:
    return importlib.metadata.version("transformer_lens")


def tl_major() -> int:
    return Version(tl_version()).major


def versions() -> dict[str, str]:
    return {pkg: importlib.metadata.version(pkg) for pkg in ("transformer_lens", "torch", "transformers")}


@functools.cache  # imports TransformerLens: asked once a process
def has(entry: str) -> bool:
    """Whether the installed TransformerLens has the entry point ``entry`` (a key of ENTRY_POINTS)."""
    try:
        if entry == "hooked":
            from transformer_lens import HookedTransformer

            return hasattr(HookedTransformer, "from_pretrained")
        from transformer_lens.model_bridge import TransformerBridge

        return hasattr(TransformerBridge, "boot_transformers") and hasattr(TransformerBridge, "enable_compatibility_mode")
    except Exception:  # noqa: BLE001 - an import that fails in any way: not this entry point
        return False


def entry_point() -> str:
    """How GPT-2 small loads here: HookedTransformer (2.x, 3.x) or the bridge (4.x); under a major this
    suite has not run, whichever of the two it has, the bridge first from 4 on (its successor)."""
    major = tl_major()
    if major in SUPPORTED:
        return "hooked" if major < 4 else "bridge"
    for entry in ("bridge", "hooked") if major >= 4 else ("hooked", "bridge"):
        if has(entry):
            return entry
    raise SetupError(
        f"TransformerLens {tl_version()} cannot load GPT-2 through any entry point this suite knows "
        f"({'; '.join(ENTRY_POINTS.values())}): pip install 'transformer_lens>=2.18,<5'"
    )


def check_supported() -> str | None:
    """None under a major this suite has run; under another, the one-line warning it runs with
    (SetupError, one line, where it has no known entry point)."""
    entry = entry_point()
    if tl_major() in SUPPORTED:
        return None
    return (
        f"TransformerLens {tl_version()} is a major this suite has not run (it knows 2.x, 3.x and 4.x): "
        f"it loads GPT-2 through {ENTRY_POINTS[entry]}, and the claims say what it breaks"
    )


def resolve_device(requested: str) -> list[str]:
    """The devices to run on: 'auto' is CPU plus CUDA (CUDA skipped where absent)."""
    if requested == "auto":
        return ["cpu", "cuda"]
    if requested == "cuda" and not torch.cuda.is_available():
        raise SetupError("--device cuda was given but torch sees no CUDA device: use --device cpu (or auto)")
    return [requested]


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hf_home() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HOME)


def cached_file(name: str) -> Path | None:
    """``name`` from GPT-2 small's snapshot in the standard HF cache, under either repo id."""
    from huggingface_hub import try_to_load_from_cache

    for repo in HUB_REPOS:
        found = try_to_load_from_cache(repo, name)
        if isinstance(found, str):
            return Path(found)
    return None


def cache_lacks(tokenizer: bool = True) -> str | None:
    """Is GPT-2 small cached? None when its config, weights and (if asked) tokenizer are; else what is
    missing, in words."""
    if cached_file("config.json") is None:
        return "no GPT-2 small"
    if cached_file("model.safetensors") is None and cached_file("pytorch_model.bin") is None:
        return "GPT-2 small's config but no weights (model.safetensors)"
    whole, pair = TOKENIZER
    if tokenizer and cached_file(whole) is None and not all(cached_file(name) is not None for name in pair):
        return f"GPT-2 small's config and weights but no tokenizer ({whole}, or {' and '.join(pair)})"
    return None


def check_offline_cache() -> None:
    """Offline, the cache must hold GPT-2 small's config and weights; say so in one line if not."""
    if not offline() or (lacks := cache_lacks(tokenizer=False)) is None:  # no tokenizer: check_cache_files names the folder
        return
    what = "it" if lacks == "no GPT-2 small" else "them"
    raise SetupError(
        f"HF_HUB_OFFLINE=1 and {lacks} in the Hugging Face cache at {hf_home()}: "
        f"run once online to download {what}, or run on the stand-in with --weights standin"
    )


TOKENIZER = ("tokenizer.json", ("vocab.json", "merges.txt"))  # either is enough for GPT-2's tokenizer
BIG_JSON = 1 << 16  # bytes: larger JSON files (tokenizer.json, vocab.json, ~1 MB) get a cheap check of their ends
JSON_FILES = ("config.json", "generation_config.json", "tokenizer_config.json", "tokenizer.json", "vocab.json")


def cached_snapshots() -> list[Path]:
    """The snapshot folders holding GPT-2 small's config in the HF cache (one per repo id found)."""
    from huggingface_hub import try_to_load_from_cache

    found = []
    for repo in HUB_REPOS:
        config = try_to_load_from_cache(repo, "config.json")
        if isinstance(config, str):
            found.append(Path(config).parent)
    return found


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
    if path.name == "model.safetensors":
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


def check_cache_files() -> None:
    """GPT-2 small's cached files are whole: one line naming a broken one and what to do.

    Cheap checks, before loading: the JSON files parse, the tokenizer is there (offline: nothing
    can fetch it, and with none the tokenizer maps every text to id 0), the weights' size matches
    their header. A no-op when nothing is cached.
    """
    for snap in cached_snapshots():
        repo_dir = snap.parents[1]
        if (snap / "gpt2spec_standin.json").exists():  # standin.MARKER, not imported: it loads numpy
            fix = f"rebuild the stand-in with python -m gpt2spec.standin {repo_dir.parents[1]}"
        else:
            fix = f"delete {repo_dir} and run once online to download it again"
        names = [*JSON_FILES, "merges.txt", "model.safetensors"]
        for path in (snap / name for name in names):
            if path.exists() or path.is_symlink():
                if (problem := file_problem(path)) is not None:
                    raise SetupError(f"{path} {problem}: {fix}")
        whole, pair = TOKENIZER
        if offline() and not (snap / whole).exists() and not all((snap / f).exists() for f in pair):
            raise SetupError(f"{snap} has no tokenizer ({whole}, or {' and '.join(pair)}) and HF_HUB_OFFLINE=1: {fix}")


def load(device: str, dtype: torch.dtype = torch.float32) -> Any:
    """GPT-2 small on ``device`` in ``dtype``, through TransformerLens's own entry point, gradients off."""
    check_supported()
    check_offline_cache()
    check_cache_files()
    torch.set_grad_enabled(False)  # the document's In [2]: no gradients needed
    if entry_point() == "bridge":
        from transformer_lens.model_bridge import TransformerBridge

        model = TransformerBridge.boot_transformers(MODEL_NAME["bridge"], device=device, dtype=dtype)
        model.enable_compatibility_mode(disable_warnings=True)  # once: it edits weights in place
    else:
        from transformer_lens import HookedTransformer

        with warnings.catch_warnings():  # 3.x deprecates it for the bridge; on 2.x/3.x it is the API the document uses
            warnings.simplefilter("ignore", DeprecationWarning)
            model = HookedTransformer.from_pretrained(MODEL_NAME["hooked"], device=device, dtype=dtype)
    model.eval()
    return model


def tl_parameters(model: Any) -> dict[str, torch.Tensor]:
    """Parameters under TransformerLens's names (``blocks.0.attn.W_Q``...), as In [31] lists them.

    HookedTransformer's ``named_parameters()`` uses these names; the 4.x bridge's use Hugging
    Face's, and its ``get_params()`` gives the TransformerLens view.
    """
    if hasattr(model, "get_params") and entry_point() == "bridge":
        return dict(model.get_params())
    return dict(model.named_parameters())


def _utils() -> Any:
    if entry_point() == "bridge":
        from transformer_lens.utilities import activation_functions, tensors

        class _U:  # the document's `utils.*` names
            gelu_new = staticmethod(activation_functions.gelu_new)
            get_corner = staticmethod(tensors.get_corner)

        return _U
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from transformer_lens import utils
    return utils


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    return _utils().gelu_new(x)


def get_corner(x: torch.Tensor, n: int = 3) -> torch.Tensor:
    return _utils().get_corner(x, n)
