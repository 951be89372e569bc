"""How the cost of GPT-2 small's forward pass grows with the input, per device and dtype (opt-in:
``pytest --scaling``).

Four implementations on the same tokens: Hugging Face's ``GPT2LMHeadModel`` with
``attn_implementation="eager"`` (the same arithmetic TransformerLens runs) and with ``"sdpa"``
(Hugging Face's default: one fused ``scaled_dot_product_attention`` kernel, other rounding),
TransformerLens's forward (4.x: the bridge loads Hugging Face's model with eager attention and
computes attention itself, matmul then softmax then matmul, so its hooks see scores and patterns),
and TransformerLens's ``run_with_cache``. For each point: the median latency (pytest-benchmark),
tokens per second, the peak memory the call added, TransformerLens's cost over Hugging Face's
eager forward, and the achieved FLOP/s against the device's published peak where it is known.
"""

from __future__ import annotations

import html
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from contextlib import contextmanager

import pytest
import torch

from gpt2spec.page.sections import Section

SEQS = (45, 128, 256, 512, 1024)  # 45: the document's text; 1024: GPT-2's n_ctx
BATCHES = (1, 8, 32)
DTYPES = ("float32", "bfloat16", "float16")
IMPLEMENTATIONS = {
    "hf-eager": "Hugging Face forward (eager attention)",
    "hf-sdpa": "Hugging Face forward (sdpa attention)",
    "tl-forward": "TransformerLens forward",
    "tl-cache": "TransformerLens run_with_cache",
}
MODELS = {"hf-eager": "Hugging Face (eager)", "hf-sdpa": "Hugging Face (sdpa)", "tl-forward": "TransformerLens", "tl-cache": "TransformerLens"}
ROUNDS = 3  # timed calls a point, after one warm-up; one more untimed call measures memory

# On a 2-core CPU one GPT-2 small forward runs at one to two hundred tokens a second (measured here,
# 45 to 1024 tokens), so the CPU grid keeps batch 1 at every length, batch 8 on the document's 45
# tokens, and half precision on the document's 45 tokens: 2,325 tokens a dtype and implementation,
# 5 calls each, a few minutes in all.
CPU_SHAPES = {(1, seq) for seq in SEQS} | {(8, 45)}
CPU_HALF_SHAPES = {(1, 45)}
# run_with_cache keeps every activation: at batch 32 x 512 tokens its attention patterns and scores
# alone take 2 x 12 layers x 12 heads x 512^2 x 32 x 4 bytes = 9.7 GB, 39 GB at 1024 tokens.
CACHE_MAX_TOKENS = 8192


def skip_reason(device: str, dtype: str, implementation: str, batch: int, seq: int) -> str | None:
    """Why a point of the grid is not measured on this device, or None."""
    if device == "cpu":
        if dtype != "float32" and (batch, seq) not in CPU_HALF_SHAPES:
            return "CPU: half precision on the document's 45 tokens only (keeps the CPU run to minutes)"
        if (batch, seq) not in CPU_SHAPES:
            return "CPU: batch 1 at every length and batch 8 on the document's 45 tokens only (keeps the CPU run to minutes)"
    if device.startswith("cuda") and dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bfloat16"
    if implementation == "tl-cache" and batch * seq > CACHE_MAX_TOKENS:
        return f"run_with_cache over {CACHE_MAX_TOKENS} tokens: its cache of every activation takes tens of GB"
    return None


def forward_flops(cfg: Any, batch: int, seq: int) -> float:
    """FLOPs of one forward pass over ``batch`` x ``seq`` tokens, logits at every position.

    Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Table 1: 2 FLOPs per weight of
    each matmul (QKV, attention output, MLP: 4 d_model^2 + 2 d_model d_mlp a layer; the de-embedding
    d_model n_vocab) plus 2 n_layer n_ctx d_attn for attention over the context. Eager attention
    computes both q.k and pattern.v over the whole seq x seq square, so that term is counted twice.
    LayerNorm, GELU, softmax and biases are left out (under 1% here).
    """
    d, layers = cfg.d_model, cfg.n_layers
    weights = layers * (4 * d * d + 2 * d * cfg.d_mlp) + d * cfg.d_vocab
    per_token = 2 * weights + 2 * 2 * layers * seq * d
    return float(per_token * batch * seq)


# Dense (no sparsity) peaks in FLOP/s from NVIDIA's datasheets, keyed by torch's device name. The
# datasheets quote tensor-core rates with 2:4 sparsity; dense is half. PyTorch runs float32 matmuls
# on the plain FP32 units unless torch.backends.cuda.matmul.allow_tf32 is set (its default: off).
H100_SXM = {"float32": 67e12, "tf32": 494.5e12, "bfloat16": 989.5e12, "float16": 989.5e12}
GPU_PEAKS: dict[str, tuple[dict[str, float], str]] = {
    "NVIDIA H200": (H100_SXM, "NVIDIA H200 datasheet, H200 SXM: FP32 67, TF32 989*, BF16/FP16 1,979* TFLOPS (*with sparsity)"),
    "NVIDIA H200 NVL": (
        {"float32": 60e12, "tf32": 417.5e12, "bfloat16": 835.5e12, "float16": 835.5e12},
        "NVIDIA H200 datasheet, H200 NVL: FP32 60, TF32 835*, BF16/FP16 1,671* TFLOPS (*with sparsity)",
    ),
    "NVIDIA H100 80GB HBM3": (H100_SXM, "NVIDIA H100 datasheet, H100 SXM: FP32 67, TF32 989*, BF16/FP16 1,979* TFLOPS (*with sparsity)"),
}


def peak_flops(device: str, dtype: str) -> tuple[float, str] | None:
    """The device's published dense peak for this dtype and its source, or None where none is known.

    CPUs: none; a CPU's peak depends on its cores, vector units and clocks, which no datasheet here grounds.
    """
    if not device.startswith("cuda"):
        return None
    found = GPU_PEAKS.get(torch.cuda.get_device_name(device))
    if found is None:
        return None
    peaks, source = found
    key = "tf32" if dtype == "float32" and torch.backends.cuda.matmul.allow_tf32 else dtype
    return peaks[key], source


def _rss_bytes() -> int | None:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096  # resident pages
    except OSError:
        return None


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

    CUDA: the caching allocator's own peak (``torch.cuda.max_memory_allocated``). CPU: the process's
    resident set, sampled every millisecond from /proc (Linux; None elsewhere).
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
        before = _rss_bytes()
        if before is None:
            yield seen
            return
        samples = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.001):
                samples.append(_rss_bytes() or 0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            yield seen
        finally:
            done.set()
            sampler.join()
        peak = max(samples + [_rss_bytes() or 0])
    seen["peak_bytes"], seen["added_bytes"] = peak, peak - before


@dataclass
class Point:
    """One measured point of the grid: what pytest-benchmark's JSON carries in extra_info."""

    device: str
    dtype: str
    implementation: str
    batch: int
    seq: int
    median_s: float
    peak_bytes: int | None
    added_bytes: int | None
    flops: float
    peak_flop_s: float | None
    load_s: float | None
    attention: str

    @property
    def tokens(self) -> int:
        return self.batch * self.seq

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.median_s

    @property
    def flop_s(self) -> float:
        return self.flops / self.median_s

    def extra_info(self) -> dict[str, Any]:
        info = asdict(self)
        info.update(tokens=self.tokens, tokens_per_s=self.tokens_per_s, flop_s=self.flop_s)
        info["fraction_of_peak"] = self.flop_s / self.peak_flop_s if self.peak_flop_s else None
        return info


@dataclass(eq=False)  # a registered plugin must stay hashable
class Scaling:
    """The scaling benchmark's results: the terminal table, and the page's log-log plot per device."""

    points: list[Point] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> the points it skipped
    peak_sources: dict[str, str] = field(default_factory=dict)  # device -> the datasheet its peaks come from

    def skip(self, reason: str, device: str, dtype: str, implementation: str, batch: int, seq: int) -> None:
        self.skipped.setdefault(reason, []).append(f"{device} {dtype} {implementation} {batch}x{seq}")
        pytest.skip(reason)

    def measure(self, benchmark: Any, device: str, fn: Callable[[], Any]) -> tuple[float, dict[str, int | None]]:
        """Median seconds of ``fn`` (``ROUNDS`` timed calls after one warm-up) and the memory of one untimed
        call after them (after the warm-up, so a CPU model's weights are already paged in)."""
        from gpt2spec import timing

        timing.measure(benchmark, device, fn, rounds=ROUNDS)
        with peak_memory(device) as memory:
            timing.synchronized(device, fn)()
        return benchmark.stats.stats.median, memory

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.points and not self.skipped:
            return
        tr = terminalreporter
        tr.section("Scaling: GPT-2 small forward, median of each point")
        for line in table_lines(self.points):
            tr.write_line(line)
        for line in notes(self.points, self.peak_sources):
            tr.write_line(line)
        for reason, which in self.skipped.items():
            tr.write_line(f"skipped {len(which)} points: {reason}")

    def pytest_spec_page_sections(self, config: pytest.Config) -> list[Section]:
        """The page's section: a log-log plot per device (asked for when the page is written)."""
        return [Section("scaling", "Scaling: GPT-2 small forward against tokens a call", figures=figures(self.points))] if self.points else []


def overhead(point: Point, points: list[Point]) -> float | None:
    """This point's median over Hugging Face's eager forward at the same device, dtype and shape."""
    for p in points:
        if (p.implementation, p.device, p.dtype, p.batch, p.seq) == ("hf-eager", point.device, point.dtype, point.batch, point.seq):
            return point.median_s / p.median_s
    return None


def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.0f}"


def table_lines(points: list[Point]) -> list[str]:
    head = f"{'device':<6} {'dtype':<8} {'implementation':<38} {'batch x seq':>11} {'ms':>9} {'tokens/s':>9} {'+MiB':>7} {'x HF eager':>10} {'TFLOP/s':>8} {'of peak':>7}"
    lines = [head]
    order = sorted(points, key=lambda p: (p.device, DTYPES.index(p.dtype), p.batch * p.seq, p.batch, list(IMPLEMENTATIONS).index(p.implementation)))
    for p in order:
        ratio = overhead(p, points)
        share = f"{p.flop_s / p.peak_flop_s:.1%}" if p.peak_flop_s else "-"
        lines.append(
            f"{p.device:<6} {p.dtype:<8} {IMPLEMENTATIONS[p.implementation]:<38} {f'{p.batch} x {p.seq}':>11} "
            f"{p.median_s * 1e3:>9.2f} {p.tokens_per_s:>9.0f} {_mib(p.added_bytes):>7} "
            f"{'-' if ratio is None else f'{ratio:.2f}x':>10} {p.flop_s / 1e12:>8.3f} {share:>7}"
        )
    return lines


def notes(points: list[Point], peak_sources: dict[str, str]) -> list[str]:
    lines = [
        f"ms: median of {ROUNDS} timed calls (CUDA: each ends with torch.cuda.synchronize); tokens/s: batch x seq / median; "
        "+MiB: peak memory the call added over what was resident (CUDA: torch.cuda.max_memory_allocated; CPU: the process's RSS, sampled every 1 ms)",
        "TFLOP/s: forward FLOPs (Kaplan et al. 2020, Table 1, attention counted for q.k and pattern.v) / median",
    ]
    loads = {(p.device, p.dtype, MODELS[p.implementation]): p.load_s for p in points if p.load_s is not None}
    if loads:
        lines.append("load (not in the medians): " + ", ".join(f"{m} on {d} in {t} {s:.1f} s" for (d, t, m), s in sorted(loads.items())))
    for device in sorted({p.device for p in points}):
        lines.append(f"peak of {device}: " + peak_sources.get(device, "not known (no published peak grounded for this device)"))
    return lines


def figures(points: list[Point]) -> dict[str, str]:
    """A log-log plot per device: median latency against tokens a call, a line per implementation, dtype and batch."""
    import plotly.graph_objects as go

    out: dict[str, str] = {}
    for device in sorted({p.device for p in points}):
        fig = go.Figure()
        lines: dict[tuple[str, str, int], list[Point]] = {}
        for p in sorted((p for p in points if p.device == device), key=lambda p: p.seq):
            lines.setdefault((p.implementation, p.dtype, p.batch), []).append(p)
        for (implementation, dtype, batch), line in sorted(lines.items(), key=lambda kv: (DTYPES.index(kv[0][1]), kv[0][2], kv[0][0])):
            fig.add_trace(go.Scatter(
                x=[p.tokens for p in line], y=[p.median_s * 1e3 for p in line], mode="lines+markers",
                name=f"{IMPLEMENTATIONS[implementation]}, {dtype}, batch {batch}",
                text=[f"{p.batch} x {p.seq}: {p.tokens_per_s:,.0f} tokens/s, {_mib(p.added_bytes)} MiB added" for p in line],
                hovertemplate="%{text}<br>%{y:.2f} ms<extra></extra>",
            ))  # fmt: skip
        fig.update_layout(
            xaxis={"type": "log", "title": "tokens a call (batch x sequence length)"},
            yaxis={"type": "log", "title": "median latency (ms)"},
            height=520, margin={"t": 30},
        )
        title = f"Scaling on {html.escape(device)}: GPT-2 small forward latency against tokens (log-log)"
        out[title] = fig.to_html(full_html=False, include_plotlyjs=False)
    return out


def same_tokens(document_tokens: torch.Tensor, batch: int, seq: int) -> torch.Tensor:
    """``batch`` rows of the document's tokens repeated to ``seq`` (GPT-2 reads up to 1024): the same for every implementation."""
    row = document_tokens.reshape(-1)
    row = row.repeat(-(-seq // row.numel()))[:seq]
    return row.expand(batch, seq).contiguous()


def timed_load(load: Callable[[], Any], device: str) -> tuple[Any, float]:
    start = time.perf_counter()
    model = load()
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)
    return model, time.perf_counter() - start
