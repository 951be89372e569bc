"""Whose weights are these? Decided by a fingerprint from the document, not by where they came from.

The fingerprint is In [14]: the corner of the embedded example text, printed at 4 decimals on
OpenAI's GPT-2 small. Any other weights (the stand-in, a fine-tune, a broken download) miss it.
The cache's stand-in marker only names the seed for the header; it never decides.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpt2spec import compare, document, loading, standin
from gpt2spec.standin import MARKER

MODES = ("auto", "hub", "standin")  # --weights
# How long `auto` waits for the hub before it takes the stand-in. A reachable hub answers a
# metadata request in well under a second; huggingface_hub's own retries take ~27 s to give up.
HUB_TIMEOUT_S = 5.0


def standin_seed() -> int | None:
    """The seed named by the stand-in's marker in the cached snapshot; None for any other weights."""
    marker = loading.cached_file(MARKER)
    return json.loads(marker.read_text())["seed"] if marker else None


@dataclass(frozen=True)
class Weights:
    is_openai: bool
    deviation: float  # largest |observed - printed| over the fingerprint
    source: str  # where the loader found them, in words

    @functools.cached_property  # asked by every snapshot comparison
    def snapshot_id(self) -> str:
        """The snapshots/ folder holding this weights' baselines."""
        if self.is_openai:
            return "openai-gpt2"
        seed = standin_seed()
        return f"standin-seed{seed}" if seed is not None else "other-weights"

    @property
    def evidence(self) -> str:
        cell = document.EMBEDDING_CORNER_CELL
        if self.is_openai:
            return f"fingerprint {cell} matches within its printed precision"
        return f"fingerprint {cell} is off by {self.deviation:.4f}"

    @property
    def verdict(self) -> str:
        return ("OpenAI's" if self.is_openai else "NOT OpenAI's") + f" GPT-2 small ({self.evidence})"


@dataclass(frozen=True)
class Choice:
    """What ``--weights`` settled on before anything loads, and why, in words."""

    mode: str
    standin: bool
    why: str


CHOSEN: Choice | None = None  # set once per process by ``choose``; ``source()`` reports it


def hub_error(timeout: float = HUB_TIMEOUT_S) -> str | None:
    """None if the Hugging Face hub answers for GPT-2 small within ``timeout``; else what went wrong."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    request = urllib.request.Request(f"{endpoint}/api/models/{loading.HUB_REPOS[0]}", method="HEAD")
    pool = ThreadPoolExecutor(max_workers=1)  # a thread: a hanging name lookup ignores socket timeouts
    try:
        pool.submit(urllib.request.urlopen, request, timeout=timeout).result(timeout=timeout + 1)
        return None
    except TimeoutError:
        return f"{endpoint} gave no answer within {timeout:.0f} s"
    except Exception as error:  # noqa: BLE001 - any failure means: not reachable from here
        reason = getattr(error, "reason", None) or error
        return f"{endpoint}: {str(reason) or type(reason).__name__}"
    finally:
        pool.shutdown(wait=False)


def use_hf_home(home: Path) -> None:
    """Point Hugging Face at ``home``, offline: by environment for what imports later (and child
    processes), and on ``huggingface_hub.constants`` in case it was imported already."""
    os.environ.update(HF_HOME=str(home), HF_HUB_OFFLINE="1")
    os.environ.pop("HF_HUB_CACHE", None)
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HOME = str(home)
        constants.HF_HUB_CACHE = constants.HUGGINGFACE_HUB_CACHE = str(home / "hub")
        constants.HF_HUB_OFFLINE = True


def _cached() -> bool:
    return loading.cached_file("config.json") is not None and (
        loading.cached_file("model.safetensors") is not None or loading.cached_file("pytorch_model.bin") is not None
    )


def _standin(mode: str, why: str, say: Any) -> Choice:
    home, built = standin.ensure()
    if built:
        say(f"gpt2spec: built the stand-in GPT-2 small (seed {standin.SEED}) in {home}; later runs reuse it")
    use_hf_home(home)
    return Choice(mode, True, why)


def choose(mode: str, say: Any = print) -> Choice:
    """Settle where GPT-2 small comes from, before anything loads (``--weights``).

    ``hub``: OpenAI's, from the Hugging Face cache or the hub, never anything else. ``standin``:
    always the stand-in. ``auto``: the cache, else the hub, else (offline, or the hub silent for
    ``HUB_TIMEOUT_S``) the stand-in, built once into ``standin.cache_root()``.
    """
    global CHOSEN
    if mode == "standin":
        CHOSEN = _standin(mode, "--weights standin", say)
    elif _cached():
        CHOSEN = Choice(mode, False, "found in the Hugging Face cache")
    elif loading.offline():
        if mode == "hub":
            loading.check_offline_cache()  # raises: one line saying what to do
        CHOSEN = _standin(mode, f"--weights auto: HF_HUB_OFFLINE is set and the cache at {loading.hf_home()} has no GPT-2 small", say)
    elif (error := hub_error()) is None:
        CHOSEN = Choice(mode, False, "the hub answered; downloading to the Hugging Face cache (548 MB, once)")
    elif mode == "hub":
        raise loading.SetupError(f"--weights hub: {error}; connect to the hub, or run on the stand-in with --weights standin")
    else:
        CHOSEN = _standin(mode, f"--weights auto: the hub is out of reach ({error})", say)
    return CHOSEN


def source() -> str:
    """Where the loader takes GPT-2 small from, in words (no loading needed)."""
    text = _where()
    return f"{text}; {CHOSEN.why}" if CHOSEN is not None and CHOSEN.standin else text


def _where() -> str:
    where = loading.cached_file("config.json")
    mode = "offline" if loading.offline() else "hub, cached"
    if where is None:
        return f"Hugging Face hub (not cached yet under {loading.hf_home()})"
    if (seed := standin_seed()) is not None:
        return f"stand-in weights, seed {seed}, in {where.parents[4]} ({mode})"  # <home>/hub/models--*/snapshots/<rev>/
    return f"Hugging Face cache {where.parent} ({mode})"


def identify(model: Any) -> Weights:
    tokens = model.to_tokens(document.TEXT)
    corner = loading.get_corner(model.W_E[tokens, :])[0].tolist()
    pairs = [
        (value, printed)
        for row, printed_row in zip(corner, document.EMBEDDING_CORNER, strict=True)
        for value, printed in zip(row, printed_row, strict=True)
    ]
    deviation = max(abs(value - float(printed)) for value, printed in pairs)
    matches = all(compare.within(value, printed) for value, printed in pairs)
    return Weights(is_openai=matches, deviation=deviation, source=source())
