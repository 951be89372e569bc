"""The scaling benchmark's measured points, and the points it left out (and why)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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


@dataclass
class Scaling:
    """The scaling benchmark's results, as the run gathers them (``table.py`` shows them)."""

    points: list[Point] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> the points it skipped
    peak_sources: dict[str, str] = field(default_factory=dict)  # device -> the datasheet its peaks come from

    def skip(self, reason: str, device: str, dtype: str, implementation: str, batch: int, seq: int) -> None:
        """Note a point left out (the table lists them); the test goes on with the point's other implementations."""
        self.skipped.setdefault(reason, []).append(f"{device} {dtype} {implementation} {batch}x{seq}")
