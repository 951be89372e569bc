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
import warnings
from typing import Any

import torch
from packaging.version import Version

from gpt2spec import hubcache

SUPPORTED = (2, 3, 4)  # the majors this suite has run (results/, COMPATIBILITY.md)
# TransformerLens's ways to load GPT-2 small: how each is said, and the name its docs use.
ENTRY_POINTS = {
    "hooked": "HookedTransformer.from_pretrained",
    "bridge": "TransformerBridge.boot_transformers + enable_compatibility_mode",
}
MODEL_NAME = {"hooked": "gpt2-small", "bridge": "gpt2"}


class SetupError(RuntimeError):
    """Bad input the user can fix: its message is one line that says how."""


def first_line(error: BaseException) -> str:
    """What a failed load says, in one line: its message's first line, else its type's name."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


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
