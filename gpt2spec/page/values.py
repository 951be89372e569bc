"""A recorded value as the page shows it: compacted, with the numbers that differ marked."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable

from gpt2spec.compare import NUMBER, Difference, differences, tolerance

LONG = 60  # characters: an observed value this long and equal to the expected one is not repeated
_AMBER = [("list([", "["), ("])", "]"), ("dict({", "{"), ("})", "}"), ("set({", "{"), ("tuple(", "(")]


@dataclass(frozen=True)
class Value:
    parts: tuple[tuple[str, str], ...] = ()  # (text, tip): a marked number's tip says expected, distance, tolerance
    muted: str = ""  # in place of a value: "not recorded", "identical", "not run"
    diff: str = ""  # under the value: which numbers differ, and by how much


def compact(piece: str) -> str:
    """Amber's text between two numbers, as a Python literal reads: ``list([\\n  1,\\n])`` -> ``[1]``."""
    piece = re.sub(r"\s*\n\s*", " ", piece)
    for amber, plain in _AMBER:
        piece = piece.replace(amber, plain)
    for opening in "[({":
        piece = piece.replace(opening + " ", opening)
    for closing in "])}":
        piece = piece.replace(", " + closing, closing).replace(" " + closing, closing)
    return piece


def tolerance_words(expected: str) -> str:
    allowed = tolerance(expected)
    return f"tolerance {allowed:.1e}" if allowed else "exact"


def shown(text: str, marks: Iterable[Difference] = ()) -> Value:
    """``text`` compacted, in pieces: runs of plain text, and each number in ``marks`` on its own."""
    marked = {d.index: d for d in marks}
    parts: list[list[str]] = []
    for i, part in enumerate(NUMBER.split(str(text))):
        d = marked.get(i // 2) if i % 2 else None
        if d is not None:
            parts.append([part, f"expected {d.expected}, off by {d.off:.3g} ({tolerance_words(d.expected)})"])
        elif parts and not parts[-1][1]:
            parts[-1][0] += part if i % 2 else compact(part)
        else:
            parts.append([part if i % 2 else compact(part), ""])
    parts[0][0], parts[-1][0] = parts[0][0].lstrip(), parts[-1][0].rstrip()
    return Value(parts=tuple((text, tip) for text, tip in parts if text))


def difference_words(found: list[Difference] | None, count: int) -> str:
    """One line a person reads: which numbers differ and by how much (at most 3 named)."""
    if found is None:
        return "the text differs, not only its numbers"
    if not found:
        return ""
    named = "; ".join(
        f"number {d.index + 1}: {d.observed} vs {d.expected}, off by {d.off:.3g} ({tolerance_words(d.expected)})"
        for d in sorted(found, key=lambda d: -d.off)[:3]
    )
    more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
    verb = "differs" if len(found) == 1 else "differ"
    return f"{len(found)} of {count} number{'s' if count > 1 else ''} {verb}: {named}{more}"


def comparison(compared: dict) -> tuple[Value, Value]:
    """(expected, observed) of one snapshot comparison; the observed one marks what differs."""
    observed = str(compared["observed"])
    if compared["expected"] is None:
        return Value(muted="not recorded"), shown(observed)
    expected = str(compared["expected"])
    if observed == expected and len(compact(observed)) > LONG:
        return shown(expected), Value(muted="identical")
    found = differences(observed, expected)
    seen = shown(observed, found or ())
    if not compared["ok"]:
        seen = replace(seen, diff=difference_words(found, len(NUMBER.findall(expected))))
    return shown(expected), seen
