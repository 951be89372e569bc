"""The stand-in's seeded numbers: SplitMix64, a counter-based integer hash computed in numpy ``uint64``
arithmetic (no library RNG whose stream could change between versions, no torch, no device), and
the uniform noise made from it. ``standin`` draws its weights from it, ``circuit`` its signs, the
induction spec its random tokens: the same numbers on any machine.
"""

from __future__ import annotations

import numpy as np

_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def splitmix64(counter: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of ``counter`` (uint64): one well-mixed 64-bit word per input."""
    with np.errstate(over="ignore"):
        z = counter * _GOLD
        shifted = np.empty_like(z)
        for shift, multiplier in ((30, _M1), (27, _M2), (31, None)):  # z ^= z >> shift; z *= multiplier
            np.right_shift(z, np.uint64(shift), out=shifted)
            z ^= shifted
            if multiplier is not None:
                z *= multiplier
        return z


def counters(seed: int, stream: int, start: int, stop: int) -> np.ndarray:
    """The counters of ``stream``'s numbers ``start`` to ``stop``: the stream in the high 32 bits, the index in the low."""
    out = np.arange(start, stop, dtype=np.uint64)
    out += np.uint64((seed * 1_000_003 + stream) & 0xFFFFFFFF) << np.uint64(32)
    return out


BLOCK = 1 << 17  # numbers made at a time: a block's arrays stay in the CPU's cache (all 124M at once: 3.6-4.9 s, by blocks 1.2 s)


def uniform_tensor(seed: int, stream: int, shape: tuple[int, ...], center: float, std: float) -> np.ndarray:
    """float32 uniform noise with the given mean and standard deviation, exactly reproducible.

    The top 24 bits of each hash give a float32 in [0, 1) with no rounding, so the result
    does not depend on the platform's float arithmetic beyond IEEE single precision.
    """
    n = int(np.prod(shape))
    half_width = np.float32(std * np.sqrt(3.0))  # uniform on [-a, a] has std a / sqrt(3)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, BLOCK):
        words = splitmix64(counters(seed, stream, start, min(start + BLOCK, n)))
        words >>= np.uint64(40)
        u = out[start : start + len(words)]
        u[:] = words  # exact: below 2^24
        # ((u / 2^24) * 2 - 1) * half_width + center, in float32, one operation at a time
        for op, value in ((np.divide, 1 << 24), (np.multiply, 2), (np.subtract, 1), (np.multiply, half_width), (np.add, center)):
            op(u, np.float32(value), out=u)
    return out.reshape(shape)
