"""Benchmarks that time what a device actually did.

CUDA kernels are queued, so a timer around a Python call measures the queueing; each timed call
therefore ends with ``torch.cuda.synchronize()``. The first call on a device pays for kernel
selection and allocator growth, so warm-up rounds run untimed (pytest-benchmark's ``pedantic``).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, TypeVar

import torch

T = TypeVar("T")
ROUNDS = 5
WARMUP_ROUNDS = 1


def synchronized(device: str, fn: Callable[[], T]) -> Callable[[], T]:
    if not device.startswith("cuda"):
        return fn

    def run() -> T:
        out = fn()
        torch.cuda.synchronize(device)
        return out

    return run


_NOTHING: Any = object()


def measure(benchmark: Any, device: str, fn: Callable[[], T], rounds: int = ROUNDS, shared: Any = _NOTHING) -> T:
    """Time ``fn`` on ``device`` and return its result (pedantic calls it once when benchmarks are off).

    ``shared``: what the session already computed as ``fn()`` (the document's run, say). With
    benchmarks off it is returned as it is: the same work is not done twice. With benchmarks on,
    that earlier computation was the warm-up, so none runs.
    """
    if shared is not _NOTHING and not benchmark.enabled:
        return benchmark.pedantic(lambda: shared, rounds=1, iterations=1)  # the fixture counts as used
    warmup = 0 if shared is not _NOTHING else WARMUP_ROUNDS
    return benchmark.pedantic(synchronized(device, fn), rounds=rounds, warmup_rounds=warmup, iterations=1)


def source_of(fn: Callable[..., Any]) -> str:
    """The expression a ``lambda: ...`` evaluates, as written in the spec (the page shows it)."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        return ""
    start = text.find("lambda:")
    if start < 0:
        return getattr(fn, "__name__", "")
    body, depth = text[start + len("lambda:"):], 0
    for i, ch in enumerate(body):  # up to the comma or parenthesis that ends the lambda's argument
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth < 0 or (depth == 0 and ch == ","):
            body = body[:i]
            break
    return " ".join(body.split())


def machine_info() -> dict[str, Any]:
    """What pytest-benchmark's JSON should say about the devices beyond the CPU."""
    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
