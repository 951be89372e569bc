"""How the cost of GPT-2 small's forward pass grows with the input, per device and dtype (opt-in:
``pytest --scaling``): the points measured, and the pytest plugin that shows them.

Four implementations on the same tokens, alternating round by round (``gpt2spec/paired.py``):
Hugging Face's ``GPT2LMHeadModel`` with ``attn_implementation="eager"`` (the same arithmetic
TransformerLens runs) and with ``"sdpa"`` (Hugging Face's default: one fused
``scaled_dot_product_attention`` kernel, other rounding), TransformerLens's forward (4.x: the bridge
loads Hugging Face's model with eager attention and computes attention itself, matmul then softmax
then matmul, so its hooks see scores and patterns), and TransformerLens's ``run_with_cache``. For each
point: the median latency, tokens per second, the peak memory the call added (``memory.py``),
the paired ratio to Hugging Face's eager forward, and the achieved FLOP/s against the device's
published peak where it is known (``flops.py``). The grid is ``grid.py``; the table and plot
``scaling_table.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from gpt2spec import scaling_table
from gpt2spec.page.sections import Section


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
    over_reference: dict | None = None  # paired.Ratio.as_dict() against grid.REFERENCE, None for the reference
    conditions: dict = field(default_factory=dict)  # timing.conditions: device name, threads, dtype, attention

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
    """The scaling benchmark's results: the terminal table, and the page's table and log-log plot per device."""

    points: list[Point] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> the points it skipped
    peak_sources: dict[str, str] = field(default_factory=dict)  # device -> the datasheet its peaks come from

    def skip(self, reason: str, device: str, dtype: str, implementation: str, batch: int, seq: int) -> None:
        """Note a point left out (the table lists them); the test goes on with the point's other implementations."""
        self.skipped.setdefault(reason, []).append(f"{device} {dtype} {implementation} {batch}x{seq}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.points and not self.skipped:
            return
        tr = terminalreporter
        tr.section("Scaling: GPT-2 small forward, median of each point")
        for line in scaling_table.table_lines(self.points) + scaling_table.notes(self.points, self.peak_sources):
            tr.write_line(line)
        for reason, which in self.skipped.items():
            tr.write_line(f"skipped {len(which)} points: {reason}")

    def pytest_spec_page_sections(self, config: pytest.Config) -> list[Section]:
        """The page's section: the table with its notes, and a log-log plot per device (asked for when the page is written)."""
        if not self.points:
            return []
        lines = scaling_table.table_lines(self.points) + scaling_table.notes(self.points, self.peak_sources)
        return [Section("scaling", "Scaling: GPT-2 small forward against tokens a call", pre=lines, figures=scaling_table.figures(self.points))]
