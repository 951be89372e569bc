"""The run as it is gathered: each claim's record, whose weights, the shared steps' times, the
paired ratios and the fidelity gaps; what the summary, the page and the results file are made of.
Plain data: ``gpt2spec/plugin/outputs.py`` feeds it from pytest's hooks."""

from __future__ import annotations

import functools
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ContextManager, Iterator, NamedTuple

import pytest

from gpt2spec import fidelity, outcomes, paired, speccode, timing
from gpt2spec.run import DocumentRun
from gpt2spec.ids import NodeId, cell_label, in_specs
from gpt2spec.weights import Weights

def first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n\n")[0].replace("\n", " ").replace("    ", " ")


def failure_message(report: pytest.TestReport, lines: int = 4) -> str:
    """What went wrong, in a few lines: the exception's message (assert_close names the largest difference)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return " ".join(line.strip() for line in text.strip().splitlines()[:lines])[:400]


@dataclass(eq=False)
class Record:
    """One test of the specification, as the report shows it."""

    nodeid: str
    section: str  # the spec file's docstring
    words: str  # the test's docstring: the claim, quoted from the document
    cell: int | None
    openai: bool
    versioned: dict | None  # {"majors": [...], "why": ...} where the expectation differs by version
    outcome: str = outcomes.NOT_RUN  # its outcome code, as its last report carried it (outcomes.ended)
    reason: str = ""
    comparisons: list[dict] = field(default_factory=list)
    median_s: float | None = None
    margin: float | None = None  # a mechanism claim's measure less its bar (the ``margin`` fixture)
    workload: bool = False  # its timed work is real computation: a row of the CPU vs CUDA table
    code: str = ""  # what the claim evaluates and times: the body of the lambda given to ``bench``
    failure: str = ""  # the first lines of a failure's message (the page shows them)

    @functools.cached_property
    def id(self) -> NodeId:
        return NodeId.of(self.nodeid)

    @property
    def claim(self) -> str:
        """The same for its CPU and CUDA runs."""
        return self.id.claim

    @property
    def module(self) -> str:
        return self.id.file

    @property
    def device(self) -> str:
        return self.id.device

    @property
    def ran(self) -> bool:
        return self.outcome != outcomes.NOT_RUN

    @property
    def params(self) -> str:
        """The parametrization without the device ("cfg.d_vocab is as printed"), or ""."""
        return self.id.params


def _load_step(dtype: str) -> str:
    return "load the model" + ("" if dtype == "float32" else f" in {dtype}")


class TimedWork(NamedTuple):
    """A row of the CPU vs CUDA table: where the claim is (its cell, or beyond), the code it times,
    and over how many parametrizations its median is taken."""

    where: str
    code: str
    runs: int = 1

    def __str__(self) -> str:
        return f"{self.where:<8} {self.code}" + (f"  ({self.runs} runs, median)" if self.runs > 1 else "")


@dataclass
class Tally:
    """Collects the run for the summary, the page and the results file."""

    weights: dict[str, Weights] = field(default_factory=dict)  # device -> whose weights it loaded
    runs: dict[str, DocumentRun] = field(default_factory=dict)  # device -> the document's shared run
    records: dict[str, Record] = field(default_factory=dict)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)  # (device, step) -> wall time
    started: float = field(default_factory=time.perf_counter)
    ratios: list[dict] = field(default_factory=list)  # paired.Ratio.as_dict(), from any spec (the scaling grid's too)
    fidelity: list[dict] = field(default_factory=list)  # fidelity.row(): TransformerLens vs Hugging Face log-prob gaps

    @contextmanager
    def timed(self, device: str, step: str) -> Iterator[None]:
        with timing.stopwatch(device) as elapsed:
            yield
        self.seconds[device, step] = elapsed.seconds

    def loading(self, device: str, dtype: str) -> ContextManager[None]:
        """Times the model's load on ``device`` in ``dtype`` ("float32", "float16"): a step of the summary."""
        return self.timed(device, _load_step(dtype))

    def load_seconds(self, device: str, dtype: str) -> float | None:
        """How long the model's load on ``device`` in ``dtype`` took, where this run loaded it."""
        return self.seconds.get((device, _load_step(dtype)))

    def collect(self, items: list[pytest.Item]) -> None:
        """A record for each claim collected."""
        for item in items:
            if not in_specs(item.nodeid) or item.get_closest_marker("scaling"):
                continue  # the machinery's own tests, and the scaling benchmark's points, are not claims
            cell = item.get_closest_marker("cell")
            versioned = item.get_closest_marker("versioned")
            self.records[item.nodeid] = Record(
                nodeid=item.nodeid,
                section=first_line(getattr(item.module, "__doc__", "")),
                words=first_line(getattr(item.function, "__doc__", "")),
                cell=cell.args[0] if cell else None,
                openai=item.get_closest_marker("openai") is not None,
                workload=item.get_closest_marker("workload") is not None,
                code=speccode.bench_code(item.path).get(getattr(item, "originalname", item.name), ""),
                versioned={"majors": list(versioned.args[0]), "why": versioned.args[1]} if versioned else None,
            )

    def reported(self, report: pytest.TestReport) -> None:
        """What a phase of a test reported: its outcome, and what it recorded (record_property)."""
        if report.when == "teardown":  # what the benchmark tests measured (record_property)
            for key, value in report.user_properties:
                if key in ("ratios", "fidelity"):
                    getattr(self, key).append(value)
        record = self.records.get(report.nodeid)
        if record is None:
            return
        record.outcome = getattr(report, "outcome_code", record.outcome)  # the last report's is the claim's
        if report.when == "call" or report.skipped or report.failed:
            if report.skipped and isinstance(report.longrepr, tuple):
                record.reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            if report.failed and not record.failure:
                record.failure = failure_message(report)
        if report.when == "teardown":
            for key, value in report.user_properties:
                if key == "comparison":
                    record.comparisons.append(value)
                elif key in ("median_s", "margin"):
                    setattr(record, key, value)

    def medians(self) -> dict[TimedWork, dict[str, float]]:
        """The CPU vs CUDA table: for each ``workload`` claim, in document order, its row -> device ->
        median seconds. A claim parametrized by layer is one row: the median of its runs' medians."""
        runs: dict[tuple[str, str], dict[str, list[float]]] = {}
        for r in self.records.values():
            if r.workload and r.median_s is not None:
                runs.setdefault((cell_label(r.cell), r.code), {}).setdefault(r.device, []).append(r.median_s)
        return {
            TimedWork(where, code, max(len(v) for v in by.values())): {device: statistics.median(v) for device, v in by.items()}
            for (where, code), by in runs.items()
        }

    def ran(self) -> bool:
        """Whether there is anything to sum up: a claim ran, or a ratio or a fidelity gap was measured
        (the scaling benchmark alone has no claims, but ratios and fidelity to show)."""
        return any(r.ran for r in self.records.values()) or bool(self.ratios or self.fidelity)


def device_table(medians: dict[TimedWork, dict[str, float]]) -> list[str]:
    """``medians`` (row -> device -> seconds, pytest-benchmark's) as aligned text. No ratio is taken
    from these: medians timed at different moments of a run are not paired (see the lines below them)."""

    def ms(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds * 1e3:.2f}"

    width = max(len(str(row)) for row in medians)
    lines = [f"{'claim: the work it times':<{width}}  {'CPU ms':>9}  {'CUDA ms':>9}"]
    for row, by_device in medians.items():
        lines.append(f"{str(row):<{width}}  {ms(by_device.get('cpu')):>9}  {ms(by_device.get('cuda')):>9}")
    return lines


def ratio_lines(ratios: list[dict]) -> list[str]:
    """The paired answers, one line a question: "TransformerLens over Hugging Face (eager) on CPU:
    forward 1.12x (1.08-1.16, 30 pairs), run_with_cache ..."."""
    grouped: dict[str, list[str]] = {}
    for r in ratios:
        grouped.setdefault(r["question"], []).append(str(paired.Ratio(**r)))
    return [f"{question}: " + ", ".join(parts) for question, parts in grouped.items()]


def benchmark_lines(tally: Tally) -> list[str]:
    """What the terminal and the page show of the benchmark: the claims' medians, the paired ratios
    with their intervals and conditions, and how far TransformerLens's log-probabilities are from
    Hugging Face's. Empty when nothing was measured."""
    medians = tally.medians()
    ratios, gaps = tally.ratios, tally.fidelity
    lines = device_table(medians) if medians else []
    devices = sorted({device for by_device in medians.values() for device in by_device})
    said = [timing.conditions(device, "float32", CLAIMS_ATTENTION) for device in devices] + [r["conditions"] for r in ratios]
    lines.extend({timing.conditions_line(found): None for found in said})  # each once, in order
    lines.extend(ratio_lines(ratios))
    if ratios:
        lines.append(paired.describe_interval())
    return lines + fidelity.table_lines(gaps)


CLAIMS_ATTENTION = "eager"  # TransformerLens's own attention, and the Hugging Face reference's (specs/test_10_devices.py)
