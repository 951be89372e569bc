"""What the run says at the end: whose weights, and how many of the document's claims held."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest


SPECS = "specs/"


def claim_id(item: pytest.Item) -> str:
    """The test id without its device: one name for the same claim on CPU and CUDA."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return item.nodeid
    params = [str(v) for k, v in callspec.params.items() if k != "device"]
    ids = [part for part in callspec.id.split("-") if part not in ("cpu", "cuda")]
    base = item.nodeid.split("[")[0]
    return f"{base}[{'-'.join(ids)}]" if ids or params else base


@dataclass(eq=False)  # a registered plugin must stay hashable
class Tally:
    """Counts outcomes by kind of claim; a pytest plugin registered by ``gpt2spec.plugin``."""

    weights: dict[str, Any] = field(default_factory=dict)  # device -> weights.Weights
    counts: Counter = field(default_factory=Counter)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)  # (device, step) -> wall time
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def timed(self, device: str, step: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        if device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
        self.seconds[device, step] = time.perf_counter() - start

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.nodeid.startswith(SPECS):
            return  # the machinery's own tests are not claims
        if report.when == "call" or report.skipped or (report.when == "setup" and report.failed):
            kind = "document" if "cell" in report.keywords else "beyond"
            reason = str(report.longrepr[2]) if report.skipped and isinstance(report.longrepr, tuple) else ""
            if report.skipped and "OpenAI" in reason:
                outcome = "skipped (need OpenAI's weights)"
            elif report.skipped and "CUDA" in reason:
                outcome = "skipped (no CUDA)"
            else:
                outcome = report.outcome
            self.counts[kind, outcome] += 1

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.counts:
            return
        tr = terminalreporter
        tr.section("GPT-2 small specification")
        for device, found in self.weights.items():
            tr.write_line(f"weights on {device}: {found.verdict}; from {found.source}")
        for kind, title in (("document", "document claims"), ("beyond", "beyond the document")):
            parts = [
                f"{n} {'verified' if outcome == 'passed' else outcome}"
                for (k, outcome), n in sorted(self.counts.items(), key=lambda kv: kv[0][1] != "passed")
                if k == kind
            ]
            if parts:
                tr.write_line(f"{title}: " + ", ".join(parts))
        total = time.perf_counter() - self.started
        steps = ", ".join(f"{step} on {device} {s:.2f} s" for (device, step), s in self.seconds.items())
        tr.write_line(f"time: the whole run {total:.1f} s; of it {steps}" if steps else f"time: {total:.1f} s")
