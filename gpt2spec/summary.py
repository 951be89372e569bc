"""The run in a few lines, one summary that the terminal and the page both render:
whose weights on which devices, how many runs ended how (in ``outcomes.ORDER``), and the times."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from gpt2spec import outcomes, timing
from gpt2spec.tally import Tally, benchmark_lines


@dataclass(frozen=True)
class Weights:
    devices: list[str]  # the devices that loaded the same weights
    verdict: str  # weights.Weights.verdict: OpenAI's GPT-2 small or not, and why
    source: str  # where they came from


@dataclass(frozen=True)
class Counts:
    document: bool  # the document's claims (a cell), or the claims beyond it
    counts: list[tuple[str, int]]  # (outcome code, runs), in outcomes.ORDER


@dataclass(frozen=True)
class Summary:
    weights: list[Weights]
    counts: list[Counts]  # the document's claims first; a group without runs is left out
    total_s: float  # the whole run, so far
    steps: list[tuple[str, str, float]]  # (device, step, seconds): the shared work, timed once


def of(tally: Tally) -> Summary:
    """The summary of ``tally`` as it stands now."""
    same: dict[tuple[str, str], list[str]] = {}
    for device, found in tally.weights.items():
        same.setdefault((found.verdict, found.source), []).append(device)
    counts = []
    for document in (True, False):
        ran = [r for r in tally.records.values() if (r.cell is not None) == document and r.ran]
        if ran:
            n = Counter(r.outcome for r in ran)
            counts.append(Counts(document, sorted(n.items(), key=lambda kv: _rank(kv[0]))))
    return Summary(
        weights=[Weights(devices, verdict, source) for (verdict, source), devices in same.items()],
        counts=counts,
        total_s=time.perf_counter() - tally.started,
        steps=[(device, step, s) for (device, step), s in tally.seconds.items()],
    )


def _rank(code: str) -> int:
    return outcomes.ORDER.index(code) if code in outcomes.ORDER else len(outcomes.ORDER)


def terminal_lines(summary: Summary) -> list[str]:
    """The summary as the terminal says it."""
    lines = [f"weights on {', '.join(w.devices)}: {w.verdict}; from {w.source}" for w in summary.weights]
    for group in summary.counts:
        title = "document claims" if group.document else "beyond the document"
        lines.append(f"{title}: " + ", ".join(f"{n} {outcomes.label(code)}" for code, n in group.counts))
    steps = ", ".join(f"{step} on {device} {s:.2f} s" for device, step, s in summary.steps)
    total = summary.total_s
    lines.append(f"time: the whole run {total:.1f} s; of it {steps}" if steps else f"time: {total:.1f} s")
    return lines


def terminal_sections(tally: Tally) -> list[tuple[str, list[str]]]:
    """What the terminal shows at the end, (title, lines) a section: the summary, then with benchmarks
    on the CPU vs CUDA table, the paired ratios and the fidelity; none where nothing ran or was measured."""
    if not tally.ran():
        return []
    found = [("GPT-2 small specification", terminal_lines(of(tally)))]
    if lines := benchmark_lines(tally):
        found.append((f"CPU vs CUDA: each claim's own work (median of {timing.ROUNDS} rounds, {timing.HEAVY_ROUNDS} for a model pass or work of {timing.HEAVY_SECONDS} s or more, 1 where a call takes near a second), paired ratios, fidelity", lines))
    return found
