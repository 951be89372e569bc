"""What changed between two runs: the question after an upgrade.

    python -m gpt2spec.radar.changes results/tl-4.3.json .nox/results/radar/tl-newest.json -o CHANGES.md

compares two files written by ``pytest --spec-results`` (the committed ``results/`` or any two):
claims whose outcome changed, claims new or gone, numbers whose drift from the baseline grew
(by how much), mechanism claims whose margin over their bar shrank (``MARGIN_SHRINK``), and cache keys or parameter names added or removed. It prints a short account,
writes the whole one as Markdown with ``-o``, and exits 1 when a claim that held now fails (so CI
can gate on it), 0 otherwise. ``--cost FILE`` (what ``python -m gpt2spec.radar.versus`` measured between
the two versions, paired) reports their speed and memory the same way: each work's ratio, and
exit 1 where one lies wholly beyond the factor (``versus.verdict``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from gpt2spec import outcomes, paths, results
from gpt2spec.compare import NOISE_ABS
from gpt2spec.ids import relative
from gpt2spec.radar import versus
from gpt2spec.radar.axes import Axis
from gpt2spec.radar.compat import cell, row
from gpt2spec.provenance import NAMES
from gpt2spec.results import settings
SHOWN = 8  # names listed in the terminal before "and N more" (the Markdown lists all)


@dataclass
class Changes:
    old: str  # "TL 4.3.0, transformers 5.24.0" of each side
    new: str
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # claim, old cell, new cell
    newly_failing: list[str] = field(default_factory=list)  # held before, fail now
    added: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    drift: list[tuple[str, float | None, float]] = field(default_factory=list)  # claim, old, new
    margins: list[tuple[str, float, float]] = field(default_factory=list)  # claim, old, new: a mechanism's margin that shrank
    names: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # a name list (provenance.NAMES) -> added, removed
    unrecorded: list[str] = field(default_factory=list)  # name lists one side did not record
    settings: list[tuple[str, str, str]] = field(default_factory=list)  # what differs in where they ran
    axes: list[str] = field(default_factory=list)  # the new run's axis packages: asked; offered; installed; why
    accepted: list[str] = field(default_factory=list)  # packages installed other than asked, by opt-in
    untested: str | None = None  # the new run's TransformerLens is a major this suite has not run: its warning

    @property
    def empty(self) -> bool:
        return not (self.outcomes or self.added or self.gone or self.drift or self.margins or any(a or r for a, r in self.names.values()))


def rounded(drift: float) -> float:
    """A drift at the precision it is shown (2 significant digits): the snapshots store decimals, so
    a smaller difference is float rounding of the same printed numbers, not a change."""
    return float(f"{drift:.1e}")


# A margin (a mechanism claim's measure less its bar) that loses more than a tenth of itself is reported.
# On the same weights two versions differ only by fp32 rounding (attention and logits within
# compare.NOISE_ABS, 5e-5), which moves margins of 0.1 to 10 by under 1e-3 of themselves: a tenth is
# a hundred times that, and is seen while nine tenths of the margin still stand between the claim and its bar.
MARGIN_SHRINK = 0.1


def shrank(was: float | None, now: float | None) -> bool:
    """Whether a margin lost more than MARGIN_SHRINK of itself (and more than fp32 noise); one that was
    already at or below its bar has nothing to lose (its outcome says so)."""
    if was is None or now is None or was <= 0:
        return False
    return was - now > max(MARGIN_SHRINK * was, NOISE_ABS)


def label(run: dict) -> str:
    v = run["versions"]
    p = run.get("provenance") or {}
    extra = "".join(f", {name} {p[k]}" for k, name in (("numpy", "numpy"), ("python", "Python")) if p.get(k))
    return f"TL {v['transformer_lens']}, torch {v['torch']}, transformers {v['transformers']}{extra}"


def major(run: dict) -> int:
    return Version(run["versions"]["transformer_lens"]).major


def held(entry: dict) -> bool:
    return outcomes.of(entry["outcome"]).look == "passed"


def fails(entry: dict) -> bool:
    return outcomes.of(entry["outcome"]).look == "failed"


def compare(old: dict, new: dict) -> Changes:
    found = Changes(old=label(old), new=label(new))
    before, after = old["claims"], new["claims"]
    for claim, now in after.items():
        was = before.get(claim)
        if was is None:
            found.added.append(claim)
            continue
        was_cell, now_cell = cell(was, major(old)), cell(now, major(new))
        if was_cell != now_cell:
            found.outcomes.append((claim, was_cell, now_cell))
        if held(was) and fails(now):
            found.newly_failing.append(claim)
        if now.get("drift") is not None and (was.get("drift") is None or rounded(now["drift"]) > rounded(was["drift"])):
            found.drift.append((claim, was.get("drift"), now["drift"]))
        if shrank(was.get("margin"), now.get("margin")):
            found.margins.append((claim, was["margin"], now["margin"]))
    found.gone = [claim for claim in before if claim not in after]
    p, q = old.get("provenance") or {}, new.get("provenance") or {}
    before_env, after_env = settings(old), settings(new)
    found.settings = [(k, v, after_env[k]) for k, v in before_env.items() if k in after_env and v != after_env[k]]
    axes = [Axis(**a) for a in q.get("axes", [])]
    found.axes = [a.line() for a in axes]
    found.accepted = [a.package for a in axes if a.accepted and a.missed]
    found.untested = q.get("untested")
    for listed in NAMES:
        if listed not in p or listed not in q:
            found.unrecorded.append(listed)
            continue
        was_names, now_names = set(p[listed]), set(q[listed])
        found.names[listed] = ([n for n in q[listed] if n not in was_names], [n for n in p[listed] if n not in now_names])
    return found


def failing(c: Changes) -> str:
    """"2 claims that held now fail", for the terminal and the Markdown alike."""
    n = len(c.newly_failing)
    return f"{n} claim{'' if n == 1 else 's'} that held now fail{'s' if n == 1 else ''}"


def lost(was: float, now: float) -> str:
    return f"{(was - now) / was:.0%} of it lost"


def size(drift: float | None) -> str:
    return "none" if drift is None else f"{drift:.1e}"


def text(c: Changes, old_path: Path, new_path: Path) -> str:
    """The terminal's account: every claim, the names counted with the first few."""
    lines = [f"what changed from {old_path} ({c.old})", f"               to {new_path} ({c.new})"]
    lines += [f"  ran      {a}" for a in c.axes]
    if c.accepted:
        lines.append(f"  NOTE     not what was asked for: the newest installable {', '.join(c.accepted)} (GPT2SPEC_ACCEPT_INSTALLABLE=1)")
    lines += [f"  WARNING  {c.untested}"] if c.untested else []
    lines += [f"  setting  {k}: {a} -> {b}" for k, a, b in c.settings]
    if c.empty:
        lines.append("nothing: the same claims with the same outcomes, no drift grew, no margin shrank, the same names")
    for claim, was, now in c.outcomes:
        lines.append(f"  outcome  {relative(claim)}: {was} -> {now}".replace("**", ""))
    lines += [f"  new      {relative(claim)}" for claim in c.added] + [f"  gone     {relative(claim)}" for claim in c.gone]
    for claim, was, now in c.drift:
        lines.append(f"  drift    {relative(claim)}: {size(was)} -> {size(now)}")
    for claim, was, now in c.margins:
        lines.append(f"  margin   {relative(claim)}: {was:.3g} -> {now:.3g} ({lost(was, now)})")
    for listed, (added, removed) in c.names.items():
        for sign, names in (("+", added), ("-", removed)):
            if names:
                more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
                lines.append(f"  {sign}{len(names)} {NAMES[listed]}: {', '.join(names[:SHOWN])}{more}")
    if c.unrecorded:
        lines.append(f"  not compared (a file predates provenance): {', '.join(c.unrecorded)}")
    verdict = failing(c) if c.newly_failing else "no claim that held fails now"
    return "\n".join(lines + [verdict])


def markdown(c: Changes, old_path: Path, new_path: Path) -> str:
    def table(head: str, rows: list[str]) -> list[str]:
        cols = head.count("|") - 1
        return [head, "|" + "---|" * cols, *rows, ""]

    lines = [
        "# What changed",
        "",
        f"From `{old_path}` ({c.old}) to `{new_path}` ({c.new}); generated by `python -m gpt2spec.radar.changes`.",
        "",
    ]
    if c.axes:
        lines += ["## What this run was asked for, and what it ran", ""] + [f"- {a}" for a in c.axes] + [""]
    if c.untested:
        lines += [f"**Warning:** {c.untested}.", ""]
    if c.accepted:
        lines += [f"**Not what was asked for:** the newest installable {', '.join(c.accepted)} was accepted (GPT2SPEC_ACCEPT_INSTALLABLE=1).", ""]
    if c.newly_failing:
        lines += [f"**{failing(c)}:**", ""] + [f"- `{relative(x)}`" for x in c.newly_failing] + [""]
    if c.settings:
        lines += ["## Where they ran: what differs", ""] + table("| | before | now |", [row(k, a, b) for k, a, b in c.settings])
    if c.empty:
        lines += ["Nothing: the same claims with the same outcomes, no drift grew, no margin shrank, the same names.", ""]
    if c.outcomes:
        lines += ["## Outcomes that changed", ""] + table("| claim | before | now |", [row(f"`{relative(x)}`", a, b) for x, a, b in c.outcomes])
    if c.added or c.gone:
        lines += ["## Claims new or gone", ""] + [f"- new: `{relative(x)}`" for x in c.added] + [f"- gone: `{relative(x)}`" for x in c.gone] + [""]
    if c.drift:
        lines += ["## Drift from the baseline that grew", "", "The largest distance of a claim's numbers from its baseline in `snapshots/`.", ""]
        lines += table("| claim | before | now |", [row(f"`{relative(x)}`", size(a), size(b)) for x, a, b in c.drift])
    if c.margins:
        lines += ["## Margins that shrank", "", f"A mechanism claim's measure less its bar, where it lost more than {MARGIN_SHRINK:.0%} of itself.", ""]
        lines += table("| claim | before | now | |", [row(f"`{relative(x)}`", f"{a:.3g}", f"{b:.3g}", lost(a, b)) for x, a, b in c.margins])
    for listed, (added, removed) in c.names.items():
        if added or removed:
            lines += [f"## {NAMES[listed][0].upper()}{NAMES[listed][1:]}", ""]
            lines += [f"- added ({len(added)}): " + ", ".join(f"`{n}`" for n in added)] if added else []
            lines += [f"- removed ({len(removed)}): " + ", ".join(f"`{n}`" for n in removed)] if removed else []
            lines.append("")
    if c.unrecorded:
        lines += [f"Not compared (a results file predates provenance): {', '.join(c.unrecorded)}.", ""]
    return "\n".join(lines)


def cost(found: dict, path: Path, old: dict, new: dict) -> tuple[list[str], list[str]]:
    """A versus file's rows as the terminal shows them (``versus.line``), and its regressions; a note
    when it measured other TransformerLens versions than the two results files hold."""
    a, b = (found["sides"][s]["versions"]["transformer_lens"] for s in "AB")
    lines = [f"  cost     TL {b} over TL {a}, paired ({path}):"]
    if (a, b) != (old["versions"]["transformer_lens"], new["versions"]["transformer_lens"]):
        lines.append(f"  NOTE     {path} measured TL {a} and {b}, not the two runs compared above")
    lines += ["  " + versus.line(r, found.get("factor", versus.FACTOR)) for r in found["rows"]]
    return lines, versus.regressions(found)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gpt2spec.radar.changes", description=__doc__.split("\n\n")[0])
    p.add_argument("old", type=Path, help="the results to compare with (e.g. results/tl-4.3.json)")
    p.add_argument("new", type=Path, help="this run's results (pytest --spec-results)")
    p.add_argument("-o", "--output", type=Path, help="also write the account as Markdown here")
    p.add_argument("--cost", action="append", type=Path, default=[], help="speed and memory between the two, paired (python -m gpt2spec.radar.versus's file)")
    args = p.parse_args(argv)
    try:
        if args.output:
            paths.output_file(args.output, "-o", "CHANGES.md")
        old, new = results.read(args.old), results.read(args.new)
        costs = [(path, versus.read(path)) for path in args.cost]
    except ValueError as error:
        paths.refuse(p, error)
    found = compare(old, new)
    lines, slower = [text(found, args.old, args.new)], []
    for path, measured in costs:
        shown, regressed = cost(measured, path, old, new)
        lines += shown
        slower += regressed
    if costs:
        factor = ", ".join(sorted({str(m.get("factor", versus.FACTOR)) for _, m in costs}))
        lines.append(f"{len(slower)} cost regression{'' if len(slower) == 1 else 's'} beyond {factor}x: {'; '.join(slower)}" if slower else f"no cost regression beyond {factor}x")
    print("\n".join(lines))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        page = markdown(found, args.old, args.new)
        if costs:
            page += "\n## Speed and memory, paired\n\n```text\n" + "\n".join(lines[1:]) + "\n```\n"
        args.output.write_text(page)
        print(f"wrote {args.output}")
    return 1 if found.newly_failing or slower else 0


if __name__ == "__main__":
    sys.exit(main())
