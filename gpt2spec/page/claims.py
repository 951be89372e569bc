"""A claim as the page shows it: its words, the code it evaluates, and one table, a row per
parametrization with the expected and observed values and a verdict per device."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from gpt2spec import outcomes
from gpt2spec.page.values import Value, comparison, shown
from gpt2spec.tally import Record


@dataclass(frozen=True)
class Note:
    """A reason many runs share, said once in the summary and referred to by its number."""

    number: int
    why: str


class Notes:
    """Why runs were skipped (or failed, unexplained by a comparison), where many share the reason."""

    def __init__(self, records: list[Record]):
        counts: dict[tuple[str, str], int] = {}
        for r in records:
            if why := self.why(r):
                key = outcomes.of(r.outcome).pytest, why  # "skipped" or "failed", as the summary's row says
                counts[key] = counts.get(key, 0) + 1
        self.counts = {key: n for key, n in counts.items() if n > 1}
        self.number = {why: i + 1 for i, (_, why) in enumerate(self.counts)}
        # a device all of whose runs are skipped for one reason: its column says so in its header
        self.device: dict[str, str] = {}
        for device in dict.fromkeys(r.device for r in records if r.device):
            reasons = {r.reason if outcomes.of(r.outcome).pytest == "skipped" else None for r in records if r.device == device}
            if len(reasons) == 1 and (only := reasons.pop()) in self.number:
                self.device[device] = only

    @staticmethod
    def why(record: Record) -> str:
        said = outcomes.of(record.outcome).pytest
        if said == "skipped":
            return record.reason
        if said == "failed" and not any(not c["ok"] for c in record.comparisons):
            return record.failure or record.reason
        return ""  # passed, or a failed comparison: the marked numbers say why

    def note(self, why: str) -> Note | None:
        return Note(self.number[why], why) if why in self.number else None


@dataclass(frozen=True)
class Verdict:
    look: str  # outcomes.Outcome.look: the CSS class too
    said: str  # "✓ holds", "skipped", "✗ failed", ... (outcomes.Outcome.verdict)
    seconds: float | None = None  # a passed claim's median
    why: str = ""  # said under the verdict, unless ``note`` numbers it
    note: Note | None = None
    hidden: bool = False  # its device's runs all share this reason: the column's header says it


@dataclass(frozen=True)
class ClaimRow:
    """A row of a claim's table: one parametrization, a verdict per device."""

    param: str  # what this parametrization adds to the shared words ("" where not parametrized)
    expected: list[Value]
    observed: list[Value]
    verdicts: list[Verdict]  # one per device column
    on: str = ""  # the device whose comparison is shown, where it is not the first device's
    versioned: str = ""  # why this TransformerLens differs by design: said in place of the observed value


@dataclass(frozen=True)
class Claim:
    anchor: str
    words: str  # the docstring's first paragraph
    openai: bool
    code: str  # what the claim evaluates, read from the spec file
    param_head: str | None  # the words all parametrizations share; None where not parametrized
    value_head: str | None  # what the expected column holds; None where no row shows a value
    devices: list[tuple[str, Note | None]]  # the verdict columns
    rows: list[ClaimRow]


def anchor(claim: str) -> str:
    return "c" + hashlib.sha1(claim.encode()).hexdigest()[:10]


def unescaped(text: str) -> str:
    """pytest writes non-ASCII ids escaped (``\\u0120``): show them as the document prints them."""
    return re.sub(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))", lambda m: chr(int(m[1] or m[2] or m[3], 16)), text)


def shared_words(params: list[str]) -> tuple[str, list[str]]:
    """The words all parameter ids share, and what is left of each: "cfg.d_vocab is as printed",
    "cfg.eps is as printed" -> ("… is as printed", ["cfg.d_vocab", "cfg.eps"])."""
    words = [p.split(" ") for p in params]
    if len(words) < 2:
        return "", params
    lead = 0
    while all(len(w) > lead + 1 and w[lead] == words[0][lead] for w in words):
        lead += 1
    tail = 0
    while all(len(w) > lead + tail + 1 and w[-1 - tail] == words[0][-1 - tail] for w in words):
        tail += 1
    head = " ".join([*words[0][:lead], "…", *words[0][len(words[0]) - tail:]])
    return head, [" ".join(w[lead: len(w) - tail]) for w in words]


def verdict(record: Record | None, notes: Notes) -> Verdict:
    """A run's verdict, as its outcome code says (a device the claim did not run on: not run)."""
    if record is None:
        return Verdict(outcomes.OUTCOMES[outcomes.NOT_RUN].look, outcomes.OUTCOMES[outcomes.NOT_RUN].verdict)
    outcome = outcomes.of(record.outcome)
    if outcome.look == "passed":
        return Verdict(outcome.look, outcome.verdict, seconds=record.median_s)
    why = notes.why(record)
    hidden = outcome.pytest == "skipped" and record.device in notes.device
    return Verdict(outcome.look, outcome.verdict, why=why, note=notes.note(why), hidden=hidden)


def row(label: str, by_device: dict[str, Record], devices: list[str], notes: Notes, printed: dict[str, str], major: int) -> tuple[ClaimRow, set[str]]:
    """One row and what the values it shows are (``against``: "document", "baseline"): the comparisons of a device where it differs (else
    the first device's), or the document's printed value where the claim compared none (skipped)."""
    first = next(iter(by_device.values()))
    compared = [r for r in by_device.values() if r.comparisons]
    chosen = next((r for r in compared if not all(c["ok"] for c in r.comparisons)), compared[0] if compared else None)
    name = first.id.name  # its snapshot's name
    expected: list[Value] = []
    observed: list[Value] = []
    on, against = "", set()
    if chosen is not None:
        expected, observed = (list(side) for side in zip(*(comparison(c) for c in chosen.comparisons)))
        on = chosen.device.upper() if chosen is not compared[0] else ""
        against = {c["against"] for c in chosen.comparisons}
    elif name in printed:
        expected, observed, against = [shown(printed[name])], [Value(muted="not run")], {"document"}
    versioned = ""
    if first.versioned and major in first.versioned["majors"]:
        versioned = f"TransformerLens {major}.x differs by design: {first.versioned['why']}"
    verdicts = [verdict(by_device.get(d), notes) for d in devices]
    return ClaimRow(label, expected, observed, verdicts, on, versioned), against


def claim(runs: list[Record], notes: Notes, printed: dict[str, str], major: int) -> Claim:
    """One claim's table: a row per parametrization, a verdict column per device."""
    first = runs[0]
    devices = list(dict.fromkeys(r.device for r in runs))  # "" for a claim that spans the devices
    by_params: dict[str, dict[str, Record]] = {}
    for r in runs:
        by_params.setdefault(r.params, {})[r.device] = r
    head, labels = shared_words([unescaped(p) for p in by_params])
    rows, against = [], set()
    for label, by_device in zip(labels, by_params.values()):
        made, seen = row(label, by_device, devices, notes, printed, major)
        rows.append(made)
        against |= seen
    value_head = None
    if any(r.expected or r.observed or r.versioned for r in rows):
        printed_in = f"printed (In [{first.cell}])" if first.cell else "printed"
        value_head = {frozenset({"document"}): printed_in, frozenset({"baseline"}): "baseline (recorded)"}.get(
            frozenset(against), "printed or baseline"
        )
    return Claim(
        anchor=anchor(first.id.group),
        words=first.words,
        openai=first.openai,
        code=first.code,
        param_head=(head or "parametrized as") if first.params else None,
        value_head=value_head,
        devices=[(d.upper() or "verdict", notes.note(notes.device[d]) if d in notes.device else None) for d in devices],
        rows=rows,
    )
