"""Why a version differs from the document: what causes it (``Since``: a package from a release on,
which a spec keys its expectation by), and the pages the specs' ``versioned`` notes cite (release
notes, migration guides, the source at a release tag).

The mirror of TransformerLens this was read from has tags up to v3.5.1 and v4.0.0b1; 4.0's removal
of HookedTransformer is cited from 4.3.0's own package (its README and its ImportError both point
to the 4.0 migration guide).
"""

from __future__ import annotations

import functools
import importlib.metadata
from dataclasses import dataclass

from packaging.version import Version

REPO = "https://github.com/TransformerLensOrg/TransformerLens/blob"

# TransformerLens 3: the bridge, compatibility mode, the transformers >= 5.4 floor, hook_in/hook_out names.
MIGRATING_TO_V3 = f"{REPO}/v3.5.1/docs/source/content/migrating_to_v3.md"
RELEASE_3_0 = f"{REPO}/v3.0.0/docs/source/content/news/release-3.0.md"
# enable_compatibility_mode(): fold_ln folds LayerNorm weights and keeps the LayerNorm modules.
COMPATIBILITY_MODE = f"{REPO}/v4.0.0b1/docs/source/content/compatibility_mode.md"
# Which hook names a cache holds: HookedTransformer's, the bridge's, or both (compatibility mode).
HOOK_SYSTEM = f"{REPO}/v4.0.0b1/docs/source/content/hook_system.md"
# 3.0 gave HookedTransformer's Unembed hook_in and hook_out (PR #1131, "Weight processing generalization").
UNEMBED_HOOKS = "https://github.com/TransformerLensOrg/TransformerLens/pull/1131"
# The bridge's config takes n_params as given (None by default); HookedTransformerConfig computed it.
BRIDGE_CONFIG = f"{REPO}/v4.0.0b1/transformer_lens/config/transformer_bridge_config.py"
# GPT-2's adapter sets normalization_type "LN"; HookedTransformer's fold_ln set "LNPre".
GPT2_ADAPTER = f"{REPO}/v4.0.0b1/transformer_lens/model_bridge/supported_architectures/gpt2.py"
HOOKED_FOLD_LN = f"{REPO}/v2.18.0/transformer_lens/HookedTransformer.py#L2063"
# HookedTransformer passes add_bos_token=True to GPT-2's tokenizer in 2.18 as in 3.x.
HOOKED_ADD_BOS = f"{REPO}/v2.18.0/transformer_lens/HookedTransformer.py#L167"
# 4.0 removed HookedTransformer (linked from transformer_lens 4.3.0's README and ImportError).
MIGRATING_TO_V4 = "https://TransformerLensOrg.github.io/TransformerLens/content/migrating_to_v4.html"

# Names (cache keys, parameter names) a release added or dropped, by what the source says did it.
NAME_CAUSES = {
    "unembed.hook_in": f"HookedTransformer's Unembed gained hook_in and hook_out in 3.0.0 ({UNEMBED_HOOKS})",
    "unembed.hook_out": f"HookedTransformer's Unembed gained hook_in and hook_out in 3.0.0 ({UNEMBED_HOOKS})",
}

# Each package's release notes, by version (the bisect links the first release that changed a claim).
RELEASE_NOTES = {
    "transformer-lens": "https://github.com/TransformerLensOrg/TransformerLens/releases/tag/v{}",
    "transformers": "https://github.com/huggingface/transformers/releases/tag/v{}",
    "torch": "https://github.com/pytorch/pytorch/releases/tag/v{}",
}


def release_notes(package: str, version: str) -> str | None:
    from packaging.utils import canonicalize_name

    notes = RELEASE_NOTES.get(canonicalize_name(package))
    return notes.format(version) if notes else None


@dataclass(frozen=True)
class Since:
    """What causes a version-specific expectation: a package from a release on (``transformers >= 5.0.0``).
    A spec keys its expectation by the cause, not by which TransformerLens happens to pin it."""

    package: str
    version: str

    def __str__(self) -> str:
        return f"{self.package} >= {self.version}"

    def holds(self) -> bool:
        """Whether the cause is installed here."""
        return Version(_installed(self.package)) >= Version(self.version)

    def majors(self) -> tuple[int, ...]:
        """The ``versioned`` marker's majors: this run's TransformerLens major where the cause holds, else none."""
        return (Version(_installed("transformer_lens")).major,) if self.holds() else ()


@functools.cache  # the installed versions do not change within a run
def _installed(package: str) -> str:
    return importlib.metadata.version(package)


# transformers 5 applies the add_bos_token=True TransformerLens always hands GPT-2's tokenizer (HOOKED_ADD_BOS):
# measured 4.57.6 (no BOS) and 5.24.0 (BOS) under the same TransformerLens call; TransformerLens 2.18 cannot
# install with transformers 5 (huggingface-hub < 1.0 against >= 1.31) and 3.x requires >= 5.4 (MIGRATING_TO_V3).
TRANSFORMERS_5 = Since("transformers", "5.0.0")
# 3.0.0: HookedTransformer's unembed gained hook_in and hook_out (UNEMBED_HOOKS).
TRANSFORMER_LENS_3 = Since("transformer_lens", "3.0.0")
# 4.0.0: HookedTransformer removed; the bridge in compatibility mode (MIGRATING_TO_V4, COMPATIBILITY_MODE).
TRANSFORMER_LENS_4 = Since("transformer_lens", "4.0.0")
