"""Where a run's results came from: the packages, the machine, and what the loaded model runs.

A results file carries this so that a changed claim can be put down to a changed package (or
device, dtype, attention, weights) and not guessed at. The model's names (cache keys, parameter
names) are kept too: an upgrade that adds or drops one shows in ``python -m gpt2spec.radar.changes``.
"""

from __future__ import annotations

import importlib.metadata
import platform
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the radar reads FIELDS and NAMES without loading torch, which the tally's types import
    from gpt2spec.tally import Tally

# What a results file says about where it ran, in the order tables show it: key -> label.
FIELDS = {
    "transformer_lens": "TransformerLens", "torch": "torch", "transformers": "transformers", "numpy": "numpy",
    "python": "Python", "platform": "platform", "device": "device", "dtype": "dtype", "attention": "attention",
    "weights": "weights",
}  # fmt: skip
# The name lists an upgrade can add to or drop from (gpt2spec.radar.changes compares them).
NAMES = {
    "cache_keys": "cache keys of the document's run_with_cache (In [16])",
    "tl_parameters": "parameters under TransformerLens's names (In [31])",
    "named_parameters": "model.named_parameters() names",
}


def environment() -> dict[str, str]:
    """The package versions (the header's, and numpy's), Python and the platform this process runs, and
    the warning an untested TransformerLens major runs with."""
    from gpt2spec import loading

    found = {**loading.versions(), "numpy": importlib.metadata.version("numpy")}
    untested = loading.check_supported()  # a major this suite has not run: the reports say so
    return {**found, "python": platform.python_version(), "platform": platform.platform(), **({"untested": untested} if untested else {})}


def attention(model: Any) -> str:
    """Which attention code runs the forward pass, in words.

    HookedTransformer (2.x, 3.x) computes attention itself (scores, causal mask, softmax in torch:
    "eager"). The 4.x bridge wraps Hugging Face's model, which TransformerLens loads with
    ``attn_implementation="eager"``; for GPT-2's fused QKV the bridge's attention recomputes the
    pattern from the split Q, K, V (``JointQKVAttentionBridge``), so both run eager attention.
    """
    wrapped = getattr(model, "original_model", None)
    implementation = getattr(getattr(wrapped, "config", None), "_attn_implementation", None)
    if implementation is None:
        return "eager (HookedTransformer's own attention)"
    return f"{implementation} (Hugging Face config; the bridge recomputes attention from split Q, K, V)"


def model_facts(model: Any) -> dict[str, Any]:
    """What one loaded model is: dtype, attention, and its parameter names both ways."""
    from gpt2spec import loading

    return {
        "dtype": str(model.cfg.dtype),
        "attention": attention(model),
        "tl_parameters": sorted(loading.tl_parameters(model)),
        "named_parameters": sorted(name for name, _ in model.named_parameters()),
    }


def of_run(tally: Tally, facts: dict[str, dict], device: str = "cpu") -> dict[str, Any]:
    """The provenance of one run: its environment, and on ``device`` (the results' device, CPU)
    the model's facts, the fingerprint's verdict on whose weights and the document run's cache keys."""
    model = facts.get(device, {})
    weights = tally.weights.get(device)
    run = tally.runs.get(device)
    return {
        **environment(),
        "device": device,
        "dtype": model.get("dtype"),
        "attention": model.get("attention"),
        "weights": weights.verdict if weights else None,
        "cache_keys": list(run.cache.keys()) if run is not None else [],
        "tl_parameters": model.get("tl_parameters", []),
        "named_parameters": model.get("named_parameters", []),
    }
