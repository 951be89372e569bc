"""What the run says at the end: whose weights, how many of the document's claims held, how long
things took, and, with benchmarks on, each claim's CPU and CUDA medians side by side."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

from gpt2spec.snapshot import without_device

SPECS = "specs/"
OPENAI_SKIP = "skipped (need OpenAI's weights)"


def claim_id(item: pytest.Item) -> str:
    """The test id without its device: one name for the same claim on CPU and CUDA."""
    return without_device(item.nodeid)


def first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n\n")[0].replace("\n", " ").replace("    ", " ")


@dataclass(eq=False)
class Record:
    """One test of the specification, as the report shows it."""

    nodeid: str
    claim: str  # claim_id: the same for its CPU and CUDA runs
    module: str
    section: str  # the spec file's docstring
    words: str  # the test's docstring: the claim, quoted from the document
    cell: int | None
    openai: bool
    versioned: dict | None  # {"majors": [...], "why": ...} where the expectation differs by version
    device: str
    outcome: str = "not run"
    reason: str = ""
    comparisons: list[dict] = field(default_factory=list)
    median_s: float | None = None
    code: str = ""  # what the claim evaluates and times: the body of the lambda given to ``bench``
    params: str = ""  # the parametrization without the device ("cfg.d_vocab is as printed"), or ""


@dataclass(eq=False)  # a registered plugin must stay hashable
class Tally:
    """Collects the run for the summary and the page; a pytest plugin registered by ``gpt2spec.plugin``."""

    weights: dict[str, Any] = field(default_factory=dict)  # device -> weights.Weights
    runs: dict[str, Any] = field(default_factory=dict)  # device -> run.DocumentRun
    records: dict[str, Record] = field(default_factory=dict)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)  # (device, step) -> wall time
    started: float = field(default_factory=time.perf_counter)
    figures: dict[str, str] = field(default_factory=dict)  # title -> HTML fragment, for the page's end

    @contextmanager
    def timed(self, device: str, step: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        if device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
        self.seconds[device, step] = time.perf_counter() - start

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            if not item.nodeid.startswith(SPECS) or item.get_closest_marker("scaling"):
                continue  # the machinery's own tests, and the scaling benchmark's points, are not claims
            cell = item.get_closest_marker("cell")
            versioned = item.get_closest_marker("versioned")
            callspec = getattr(item, "callspec", None)
            self.records[item.nodeid] = Record(
                nodeid=item.nodeid,
                claim=claim_id(item),
                module=item.nodeid.split("::")[0],
                section=first_line(getattr(item.module, "__doc__", "")),
                words=first_line(getattr(item.function, "__doc__", "")),
                cell=cell.args[0] if cell else None,
                openai=item.get_closest_marker("openai") is not None,
                versioned={"majors": list(versioned.args[0]), "why": versioned.args[1]} if versioned else None,
                device=str(callspec.params.get("device", "")) if callspec else "",
                params=without_device(f"x[{callspec.id}]")[2:-1] if callspec and without_device(f"x[{callspec.id}]") != "x" else "",
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.get(report.nodeid)
        if record is None:
            return
        if report.when == "call" or report.skipped or report.failed:
            if record.outcome in ("not run", "passed"):
                record.outcome = report.outcome
            if report.skipped and isinstance(report.longrepr, tuple):
                record.reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        if report.when == "teardown":
            for key, value in report.user_properties:
                if key == "comparison":
                    record.comparisons.append(value)
                elif key == "median_s":
                    record.median_s = value
                elif key == "code":
                    record.code = value

    def kind(self, record: Record) -> str:
        if record.outcome == "skipped" and "OpenAI" in record.reason:
            return OPENAI_SKIP
        if record.outcome == "skipped" and "CUDA" in record.reason:
            return "skipped (no CUDA)"
        return {"passed": "verified"}.get(record.outcome, record.outcome)

    def counts(self, document: bool) -> Counter:
        return Counter(self.kind(r) for r in self.records.values() if (r.cell is not None) == document and r.outcome != "not run")

    def medians(self) -> dict[str, dict[str, float]]:
        """claim -> device -> median seconds, for the claims that were benchmarked."""
        table: dict[str, dict[str, float]] = {}
        for r in self.records.values():
            if r.median_s is not None:
                table.setdefault(r.claim, {})[r.device] = r.median_s
        return table

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not any(r.outcome != "not run" for r in self.records.values()):
            return
        tr = terminalreporter
        tr.section("GPT-2 small specification")
        for device, found in self.weights.items():
            tr.write_line(f"weights on {device}: {found.verdict}; from {found.source}")
        for document, title in ((True, "document claims"), (False, "beyond the document")):
            counts = self.counts(document)
            if counts:
                order = sorted(counts, key=lambda k: k != "verified")
                tr.write_line(f"{title}: " + ", ".join(f"{counts[k]} {k}" for k in order))
        total = time.perf_counter() - self.started
        steps = ", ".join(f"{step} on {device} {s:.2f} s" for (device, step), s in self.seconds.items())
        tr.write_line(f"time: the whole run {total:.1f} s; of it {steps}" if steps else f"time: {total:.1f} s")
        medians = self.medians()
        if medians:
            tr.section("CPU vs CUDA (median of each claim's own work)")
            for line in device_table(medians):
                tr.write_line(line)


def device_table(medians: dict[str, dict[str, float]]) -> list[str]:
    def ms(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds * 1e3:.3f}"

    medians = {c.removeprefix(SPECS).replace(".py::", " :: "): m for c, m in medians.items()}
    width = max(len(c) for c in medians)
    lines = [f"{'claim':<{width}}  {'CPU ms':>10}  {'CUDA ms':>10}  {'speedup':>8}"]
    for claim, by_device in medians.items():
        cpu, cuda = by_device.get("cpu"), by_device.get("cuda")
        speedup = f"{cpu / cuda:.1f}x" if cpu and cuda else "-"
        lines.append(f"{claim:<{width}}  {ms(cpu):>10}  {ms(cuda):>10}  {speedup:>8}")
    return lines
