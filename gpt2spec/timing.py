"""One clock for the suite: what a device actually did, and under which conditions.

CUDA kernels are queued, so a timer around a Python call measures the queueing; every timed call
therefore ends with ``torch.cuda.synchronize()`` (``synchronized``, ``stopwatch``). The first call
on a device pays for kernel selection and allocator growth, so warm-up rounds run untimed
(pytest-benchmark's ``pedantic``; ``paired.alternate``).
"""

from __future__ import annotations

import os
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import torch

T = TypeVar("T")
ROUNDS = 5
WARMUP_ROUNDS = 1
# Work of a model pass (a forward, run_with_cache, 144 heads' induction scores) takes 0.1-7 s a call on
# a loaded 2-core CPU: 5 rounds of it were most of what timing added to a run. Such work gets
# HEAVY_ROUNDS (3: the median is still the middle one of several, not one call); "heavy" is work
# shared with the session (``shared``: the session's own pass) or whose warm-up took HEAVY_SECONDS or more
# (0.1 s: the least a model pass takes there, Hugging Face's forward on the document's 45 tokens at 0.14 s).
HEAVY_ROUNDS, HEAVY_SECONDS = 3, 0.1
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")  # what sets torch's CPU threads from outside


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def synchronized(device: str, fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` that returns only once the device has finished what it queued."""
    if not device.startswith("cuda"):
        return fn

    def run() -> T:
        out = fn()
        synchronize(device)
        return out

    return run


@dataclass
class Elapsed:
    seconds: float = 0.0


@contextmanager
def stopwatch(device: str) -> Iterator[Elapsed]:
    """Wall time of the block, the device's queued work included."""
    elapsed = Elapsed()
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        synchronize(device)
        elapsed.seconds = time.perf_counter() - start


def timed(device: str, fn: Callable[[], T]) -> tuple[T, float]:
    with stopwatch(device) as elapsed:
        out = fn()
    return out, elapsed.seconds


_NOTHING: Any = object()


def measure(benchmark: Any, device: str, fn: Callable[[], T], shared: Any = _NOTHING, rounds: int | None = None) -> T:
    """Time ``fn`` on ``device`` and return its result (pedantic calls it once when benchmarks are off).

    ``shared``: what the session already computed as ``fn()`` (the document's run, say). With
    benchmarks off it is returned as it is: the same work is not done twice. With benchmarks on,
    that earlier computation was the warm-up, so none runs, and HEAVY_ROUNDS are timed. Otherwise one
    untimed warm-up, then ROUNDS, or HEAVY_ROUNDS where the warm-up took HEAVY_SECONDS or more.
    ``rounds``: that many, and no warm-up, for work near a second or more whose time no ratio reads
    (every parameter's checksum, the induction scores).
    """
    if shared is not _NOTHING and not benchmark.enabled:
        return benchmark.pedantic(lambda: shared, rounds=1, iterations=1)  # the fixture counts as used
    fn = synchronized(device, fn)
    if rounds is None and shared is _NOTHING and benchmark.enabled:  # the warm-up, timed to tell heavy work
        rounds = HEAVY_ROUNDS if timed(device, fn)[1] >= HEAVY_SECONDS else ROUNDS
    elif rounds is None:  # the session's own pass was the warm-up (or nothing is timed)
        rounds = HEAVY_ROUNDS if shared is not _NOTHING else ROUNDS
    return benchmark.pedantic(fn, rounds=rounds, iterations=1)  # ROUNDS read per call: the summary prints it


def benchmarks_on(config: Any) -> bool:
    """Whether this run times anything (pytest-benchmark's own rule for --benchmark-disable/-enable)."""
    return not (config.getoption("benchmark_disable", False) and not config.getoption("benchmark_enable", False))


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device) if torch.cuda.is_available() else "CUDA (absent)"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} logical cores"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores"


def threads() -> str:
    """torch's CPU threads and who chose them (pytest-benchmark leaves torch's default;
    torch.utils.benchmark.Timer would use one)."""
    set_by = [f"{name}={os.environ[name]}" for name in THREAD_VARIABLES if os.environ.get(name)]
    how = "set by " + ", ".join(set_by) if set_by else "torch's default, not set"
    return f"{torch.get_num_threads()} torch threads ({how})"


def conditions(device: str, dtype: str = "float32", attention: str = "") -> dict[str, str]:
    """What a timing depends on besides the code: said with every table and kept in the JSON."""
    found = {"device": device, "device_name": device_name(device), "threads": threads(), "dtype": dtype}
    if attention:
        found["attention"] = attention
    return found


def conditions_line(found: dict[str, str]) -> str:
    return "conditions: " + "; ".join(f"{key.replace('_', ' ')} {value}" for key, value in found.items() if key != "device")


def machine_info() -> dict[str, Any]:
    """What pytest-benchmark's JSON should say about the devices beyond the CPU, and the threads."""
    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda, "torch_threads": threads()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
