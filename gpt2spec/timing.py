"""Benchmarks that time what a device actually did.

CUDA kernels are queued, so a timer around a Python call measures the queueing; each timed call
therefore ends with ``torch.cuda.synchronize()``. The first call on a device pays for kernel
selection and allocator growth, so warm-up rounds run untimed (pytest-benchmark's ``pedantic``).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
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


@functools.cache  # one read per spec file
def bench_code(path: Path) -> dict[str, str]:
    """test function -> the expression its ``bench(lambda: ...)`` evaluates, as the spec file writes
    it (read statically: the claims that never reach ``bench``, skipped ones, have it too)."""
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, SyntaxError):
        return {}
    code = {}
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef)):
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "bench" and node.args:
                if isinstance(node.args[0], ast.Lambda):
                    code[function.name] = " ".join(ast.get_source_segment(source, node.args[0].body).split())
                    break
    return code


def machine_info() -> dict[str, Any]:
    """What pytest-benchmark's JSON should say about the devices beyond the CPU."""
    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
