"""The seam: load GPT-2 small the way a user does, whatever TransformerLens is installed.

TransformerLens < 4 loads with ``HookedTransformer.from_pretrained``; 4.x removed it, and
``TransformerBridge.boot_transformers`` + ``enable_compatibility_mode()`` gives the same
numerics and the same API for everything the document uses (``to_tokens``, ``run_with_cache``,
``W_E``, ``W_in``, cache indexing, ...). The few names that moved live here, nowhere else.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path
from typing import Any

import torch

MODEL_NAME = {2: "gpt2-small", 3: "gpt2-small", 4: "gpt2"}  # the name each API's docs use
SUPPORTED = (2, 3, 4)
HUB_REPOS = ("openai-community/gpt2", "gpt2")


class SetupError(RuntimeError):
    """Bad input the user can fix: its message is one line that says how."""


def tl_version() -> str:
    return importlib.metadata.version("transformer_lens")


def tl_major() -> int:
    return int(tl_version().split(".")[0])


def versions() -> dict[str, str]:
    return {pkg: importlib.metadata.version(pkg) for pkg in ("transformer_lens", "torch", "transformers")}


def check_supported() -> None:
    if tl_major() not in SUPPORTED:
        raise SetupError(
            f"TransformerLens {tl_version()} is not supported (this suite knows 2.x, 3.x and 4.x): "
            "pip install 'transformer_lens>=2.18,<5'"
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


def check_offline_cache() -> None:
    """Offline, the cache must hold GPT-2 small's config and weights; say so in one line if not."""
    if not offline():
        return
    standin = "python -m gpt2spec.standin DIR, then HF_HOME=DIR"
    if cached_file("config.json") is None:
        raise SetupError(
            f"HF_HUB_OFFLINE=1 and no GPT-2 small in the Hugging Face cache at {hf_home()}: "
            f"run once online to download it, or build the stand-in with {standin}"
        )
    if cached_file("model.safetensors") is None and cached_file("pytorch_model.bin") is None:
        raise SetupError(
            f"the Hugging Face cache at {hf_home()} has GPT-2 small's config but no weights "
            f"(model.safetensors): run once online, or rebuild the stand-in with {standin}"
        )


def load(device: str, dtype: torch.dtype = torch.float32) -> Any:
    """GPT-2 small on ``device`` in ``dtype``, through TransformerLens's own entry point, gradients off."""
    check_supported()
    check_offline_cache()
    torch.set_grad_enabled(False)  # the document's In [2]: no gradients needed
    if tl_major() >= 4:
        from transformer_lens.model_bridge import TransformerBridge

        model = TransformerBridge.boot_transformers(MODEL_NAME[4], device=device, dtype=dtype)
        model.enable_compatibility_mode(disable_warnings=True)  # once: it edits weights in place
    else:
        from transformer_lens import HookedTransformer

        model = HookedTransformer.from_pretrained(MODEL_NAME[tl_major()], device=device, dtype=dtype)
    model.eval()
    return model


def tl_parameters(model: Any) -> dict[str, torch.Tensor]:
    """Parameters under TransformerLens's names (``blocks.0.attn.W_Q``...), as In [31] lists them.

    HookedTransformer's ``named_parameters()`` uses these names; the 4.x bridge's use Hugging
    Face's, and its ``get_params()`` gives the TransformerLens view.
    """
    if hasattr(model, "get_params") and tl_major() >= 4:
        return dict(model.get_params())
    return dict(model.named_parameters())


def _utils() -> Any:
    if tl_major() >= 4:
        from transformer_lens.utilities import activation_functions, tensors

        class _U:  # the document's `utils.*` names
            gelu_new = staticmethod(activation_functions.gelu_new)
            get_corner = staticmethod(tensors.get_corner)

        return _U
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from transformer_lens import utils
    return utils


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    return _utils().gelu_new(x)


def get_corner(x: torch.Tensor, n: int = 3) -> torch.Tensor:
    return _utils().get_corner(x, n)
