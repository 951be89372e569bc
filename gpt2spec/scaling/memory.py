"""The peak memory a call adds: the CUDA allocator's own peak, or the kernel's high-water mark of the process."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch

STATUS, CLEAR_REFS = Path("/proc/self/status"), Path("/proc/self/clear_refs")


def _status_bytes(field: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return None


def high_water_mark() -> int | None:
    """The process's peak resident memory so far, in bytes: the kernel's high-water mark (VmHWM; None
    where /proc has none). ``peak_memory`` resets it: read it before the first such block."""
    return _status_bytes("VmHWM")


def _reset_high_water_mark() -> bool:
    """Writing 5 to /proc/self/clear_refs sets VmHWM back to the current RSS (Linux 4.0+, proc(5))."""
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _release_free_heap() -> None:
    """glibc keeps freed blocks for reuse, so the next call's memory would not show in the RSS: hand
    them back first (malloc_trim(3); a no-op where there is no glibc)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@contextmanager
def peak_memory(device: str) -> Iterator[dict[str, int | None]]:
    """The peak memory of the block, and how much it added over what was resident before it.

    CUDA: the caching allocator's own peak (``torch.cuda.max_memory_allocated``). CPU: the kernel's
    high-water mark of the process's resident set (VmHWM, reset first through /proc/self/clear_refs):
    exact, where sampling the RSS misses short peaks. None where /proc offers neither (not Linux).
    """
    seen: dict[str, int | None] = {"peak_bytes": None, "added_bytes": None}
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        yield seen
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device)
    else:
        _release_free_heap()
        if not _reset_high_water_mark() or (before := _status_bytes("VmRSS")) is None:
            yield seen
            return
        yield seen
        peak = _status_bytes("VmHWM")
        if peak is None:
            return
    seen["peak_bytes"], seen["added_bytes"] = peak, peak - before
