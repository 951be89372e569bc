"""The page's order: the document's sections (a spec file each), in each its cells in the document's
order, a figure after the cell that draws it, and the summary's notes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from gpt2spec import outcomes
from gpt2spec.document import position
from gpt2spec.page.claims import Claim, Note, Notes, anchor, claim
from gpt2spec.page.figures import FIGURES, Figure
from gpt2spec.tally import Record


@dataclass(frozen=True)
class Block:
    cell: int | None  # None: the claims beyond the document
    claims: list[Claim]
    figures: list[Figure]  # drawn after the claims (each under its own cell's heading where it differs)


@dataclass(frozen=True)
class Chapter:
    id: str  # the spec file's name
    title: str  # the spec file's docstring: the document's section
    blocks: list[Block]


def place_figures(records: list[Record]) -> dict[str, dict[int, list[int]]]:
    """module -> cell -> the figures drawn after that cell. A figure goes after its own cell, in the
    section with most claims there (ties: the later section; In [45] is under "Induction heads"),
    or else after the last cell before it in the document (In [28] follows In [30])."""
    placed: dict[str, dict[int, list[int]]] = {}
    claims: dict[tuple[int, str], set[str]] = {}
    for r in records:
        if r.cell is not None:
            claims.setdefault((r.cell, r.module), set()).add(r.id.group)
    for figure in FIGURES:
        before = [cm for cm in claims if position(cm[0]) <= position(figure)]
        if before:
            last = max(position(c) for c, _ in before)
            cell, module = max((cm for cm in before if position(cm[0]) == last), key=lambda cm: (len(claims[cm]), cm[1]))
            placed.setdefault(module, {}).setdefault(cell, []).append(figure)
    return placed


def chapters(
    records: list[Record],
    notes: Notes,
    printed: Callable[[str], dict[str, str]],
    major: int,
    draw: Callable[[int], Figure] | None,
) -> list[Chapter]:
    """The document's sections: ``printed(module)`` gives the document's values for a spec file,
    ``draw(cell)`` a figure of the document (None: no model ran, no figures)."""
    placed = place_figures(records) if draw is not None else {}
    out = []
    for module in sorted({r.module for r in records}):
        in_module = [r for r in records if r.module == module]
        values = printed(module)
        figures = placed.get(module, {})
        blocks = []
        for cell in sorted({r.cell for r in in_module} | set(figures), key=position):
            claims: dict[str, list[Record]] = {}
            for r in in_module:
                if r.cell == cell:
                    claims.setdefault(r.id.group, []).append(r)
            drawn = [draw(n) for n in figures.get(cell, [])] if draw is not None and cell is not None else []
            blocks.append(Block(cell, [claim(runs, notes, values, major) for runs in claims.values()], drawn))
        out.append(Chapter(Path(module).stem, in_module[0].section, blocks))
    return out


@dataclass(frozen=True)
class Shared:
    """A summary row for a reason many runs share."""

    note: Note
    outcome: str
    scope: str  # "19 runs", or "every CUDA run"
    openai: bool  # the reason is OpenAI's weights: the rows carry a badge


def shared_reasons(notes: Notes) -> list[Shared]:
    out = []
    for (outcome, why), n in notes.counts.items():
        devices = [d.upper() for d, reason in notes.device.items() if reason == why]
        scope = f"every {' and '.join(devices)} run" if devices else f"{n} runs"
        out.append(Shared(Note(notes.number[why], why), outcome, scope, "OpenAI" in why))
    return out


def failed_claims(records: list[Record]) -> list[tuple[str, str]]:
    """(anchor, name) of each claim that failed or erred on some device, in run order."""
    failed = {r.id.group: r.id.function for r in records if outcomes.of(r.outcome).look == "failed"}
    return [(anchor(group), function) for group, function in failed.items()]
