"""The seam: load GPT-2 small the way a user does, whatever TransformerLens is installed.

TransformerLens < 4 loads with ``HookedTransformer.from_pretrained``; 4.x removed it, and
``TransformerBridge.boot_transformers`` + ``enable_compatibility_mode()`` gives the same
numerics and the same API for everything the document uses (``to_tokens``, ``run_with_cache``,
``W_E``, ``W_in``, cache indexing, ...). The few names that moved live here, nowhere else.
"""

from __future__ import annotations

import functools
import importlib.metadata
import warnings
from typing import Any

import torch
from packaging.version import Version

from gpt2spec import hubcache

MODEL_NAME = {2: "gpt2-small", 3: "gpt2-small", 4: "gpt2"}  # the name each API's docs use
SUPPORTED = (2, 3, 4)


class SetupError(RuntimeError):
    """Bad input the user can fix: its message is one line that says how."""


@functools.cache  # asked by many specs; the installed version does not change within a run
def tl_version() -> str:
    return importlib.metadata.version("transformer_lens")


def tl_major() -> int:
    return Version(tl_version()).major


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


def check_offline_cache() -> None:
    """Offline, the cache must hold GPT-2 small's config and weights; say so in one line if not."""
    if (problem := hubcache.offline_problem()) is not None:
        raise SetupError(problem)


def check_cache_files() -> None:
    """GPT-2 small's cached files are whole (``hubcache.broken_file``): one line naming a broken one and what to do."""
    if (problem := hubcache.broken_file()) is not None:
        raise SetupError(problem)


def load(device: str, dtype: torch.dtype = torch.float32) -> Any:
    """GPT-2 small on ``device`` in ``dtype``, through TransformerLens's own entry point, gradients off."""
    check_supported()
    check_offline_cache()
    check_cache_files()
    torch.set_grad_enabled(False)  # the document's In [2]: no gradients needed
    if tl_major() >= 4:
        from transformer_lens.model_bridge import TransformerBridge

        model = TransformerBridge.boot_transformers(MODEL_NAME[4], device=device, dtype=dtype)
        model.enable_compatibility_mode(disable_warnings=True)  # once: it edits weights in place
    else:
        from transformer_lens import HookedTransformer

        with warnings.catch_warnings():  # 3.x deprecates it for the bridge; on 2.x/3.x it is the API the document uses
            warnings.simplefilter("ignore", DeprecationWarning)
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from transformer_lens import utils
    return utils


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    return _utils().gelu_new(x)


def get_corner(x: torch.Tensor, n: int = 3) -> torch.Tensor:
    return _utils().get_corner(x, n)
