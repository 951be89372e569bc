"""Every parameter of a loaded model in a few numbers, so that a baseline sees all of the weights.

The document's fingerprint (In [14]) and its claims read the embedding rows and activations of the
example's 45 tokens; a loading regression anywhere else (most of the 50257 embedding rows, a head
whose output the baselines barely see) would pass them. Per parameter this writes its shape; its
norm and sum; a sketch, ``u^T X v`` over the parameter seen as rows of its last dimension, with
``u`` and ``v`` seeded signs (+1 or -1), which moves by about a row's own size when any one row
changes, where the norm moves by a fraction of that; and three entries at seeded positions.

Sums are taken in float64, so the result depends on the weights alone, not on the order a device
adds them in. Seeds come from the stand-in's SplitMix64 (numpy integers): the same positions and
signs on any machine. The text is written at 6 decimals, fixed (never scientific notation, whose
tolerance is relative): ``compare`` then allows each number fp32 noise (5e-5 plus 1e-5 of it).
"""

from __future__ import annotations

import zlib

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from gpt2spec import seeded

SEED = 26  # any fixed number: it picks the signs and the positions
ENTRIES = 3  # entries read at seeded positions, per parameter
BLOCK = 1 << 18  # numbers summed at a time, as float64: 2 MiB, which stay in the CPU's cache (W_E at once: 4x slower)


def words(name: str, purpose: str, n: int) -> np.ndarray:
    """``n`` SplitMix64 words for ``name`` and ``purpose``: a counter from a stream of their own."""
    stream = np.uint64(zlib.crc32(f"{SEED}:{name}:{purpose}".encode())) << np.uint64(32)
    return seeded.splitmix64(np.arange(n, dtype=np.uint64) + stream)


def signs(name: str, dim: int, n: int, device: torch.device) -> Float[Tensor, "n"]:
    """+1 or -1 for each index of dimension ``dim``, from each word's top bit."""
    top = (words(name, f"dim {dim}", n) >> np.uint64(63)).astype(np.float64)
    return torch.from_numpy(1.0 - 2.0 * top).to(device)


def positions(name: str, shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    numel = int(np.prod(shape))
    return [tuple(int(i) for i in np.unravel_index(int(w), shape)) for w in words(name, "entries", ENTRIES) % np.uint64(numel)]


def fixed(x: float) -> str:
    text = f"{x:.6f}"
    return "0.000000" if text == "-0.000000" else text


def summary(name: str, p: Tensor) -> str:
    """``shape (…) norm … sum … sketch … at (i, j): x, …`` for one parameter.

    The sketch weighs entry (i, j, …) by s0[i] * s1[j] * …, one seeded sign vector per dimension,
    so it can be taken in whatever order the parameter lies in memory (4.x's W_U is a transposed
    view of Hugging Face's lm_head: read across, a copy of it alone took 3 s)."""
    p = p.detach()
    if p.dim() == 0:
        p = p.reshape(1)
    order = sorted(range(p.dim()), key=lambda d: -p.stride(d))  # outermost in memory first
    laid = p.permute(order)
    weight = torch.ones(1, dtype=torch.float64, device=p.device)
    for d in order[1:]:
        weight = torch.outer(weight, signs(name, d, p.shape[d], p.device)).reshape(-1)
    outer = signs(name, order[0], p.shape[order[0]], p.device)
    step = max(1, BLOCK // weight.numel())
    buffer = torch.empty(min(step, laid.shape[0]), *laid.shape[1:], dtype=torch.float64, device=p.device)
    squares = total = sketch = torch.zeros((), dtype=torch.float64, device=p.device)
    for start in range(0, laid.shape[0], step):
        block = buffer[: min(step, laid.shape[0] - start)]
        block.copy_(laid[start : start + step])
        rows = block.view(block.shape[0], -1)
        squares = squares + (numbers := rows.view(-1)) @ numbers
        total = total + numbers.sum()
        sketch = sketch + outer[start : start + step] @ (rows @ weight)
    at = ", ".join(f"{list(i)}: {fixed(p[i].item())}" for i in positions(name, tuple(p.shape)))
    return f"shape {list(p.shape)} norm {fixed(squares.sqrt().item())} sum {fixed(total.item())} sketch {fixed(sketch.item())} at {at}"


def every_parameter(params: dict[str, Tensor]) -> dict[str, str]:
    """``summary`` of each parameter, by name."""
    return {name: summary(name, p) for name, p in params.items()}
