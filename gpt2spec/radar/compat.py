"""Claims x TransformerLens versions: which still hold after an upgrade.

Each run can write its results (``pytest --spec-results PATH``); ``python -m gpt2spec.radar.compat
RESULTS.json... -o COMPATIBILITY.md`` lays several runs side by side in one Markdown table. A cell
says ``pass``, ``FAIL``, ``skip`` (with why, in a footnote), or ``version-specific`` where the
spec holds this version to a stated expectation that differs from the document's. The drift
column is the largest distance of any number from its stand-in baseline, so a numerical change
shows its size even while it is inside the tolerance. A claim about a mechanism shows its margin in
its cell (what it measured less its bar), so a mechanism that weakens shows it before it fails. ``--versus`` adds what ``gpt2spec.radar.versus``
measured of their speed and memory, paired.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from packaging.version import Version

from gpt2spec import outcomes, paired, paths, provenance, results
from gpt2spec.ids import relative
from gpt2spec.radar import versus
from gpt2spec.radar.axes import Axis


def escape(text: str) -> str:
    """A Markdown table cell's text: a ``|`` would end the cell (even inside backticks)."""
    return str(text).replace("|", "\\|")


def row(*cells: str) -> str:
    return "| " + " | ".join(escape(c) for c in cells) + " |"


def provenance_rows(runs: list[dict]) -> list[str]:
    """Where each run ran, one row per fact (``provenance.FIELDS``; "-" where a run did not record it),
    then what each axis package was asked for and what was installed (``gpt2spec.radar.axes``)."""
    found = [results.settings(r) for r in runs]
    rows = [row(label, *(f.get(key, "-") for f in found)) for key, label in provenance.FIELDS.items() if key != "transformer_lens"]
    axes = [{a["package"]: a for a in (r.get("provenance") or {}).get("axes", [])} for r in runs]
    for package in dict.fromkeys(p for a in axes for p in a):
        rows.append(row(f"{package}: asked; offered (oldest allowed to newest); installed", *(Axis(**a[package]).cell() if package in a else "-" for a in axes)))
    return rows


def cell(entry: dict | None, major: int) -> str:
    """A claim's outcome in one word (results of either format: codes, or format 1's sentences)."""
    if entry is None:
        return "-"
    outcome = outcomes.of(entry["outcome"])
    if outcome.code == outcomes.PASSED and entry["versioned"] and major in entry["versioned"]["majors"]:
        return "version-specific"
    return outcome.cell


def with_margin(entry: dict | None, major: int) -> str:
    """``cell``, and a mechanism claim's margin over its bar where it recorded one: "pass, margin 0.553"."""
    shown = cell(entry, major)
    return f"{shown}, margin {entry['margin']:.3g}" if entry and entry.get("margin") is not None else shown


def tl(run: dict) -> Version:
    return Version(run["versions"]["transformer_lens"])


LEGEND = [
    "| cell | meaning |",
    "|---|---|",
    "| pass | the claim held, against the notebook's printed value or the stand-in's baseline |",
    "| version-specific | the claim held against that version's stated expectation, which differs from the notebook's by design (the notes below say why) |",
    "| holds (stand-in circuit) | a claim about a mechanism held on the induction heads built into the stand-in (`mechanism`): not a verification of OpenAI's GPT-2 |",
    "| **FAIL** | the claim failed |",
    "| skip (OpenAI) | needs OpenAI's GPT-2 weights, and that run's were not: not compared |",
    "| skip (mechanism) | a claim about a mechanism, on weights not known to compute it: not compared |",
    "| skip | not run there (no CUDA device, or another reason the results file gives) |",
    "| no baseline | nobody had recorded a baseline for those weights: nothing was checked |",
    "| - | the claim did not exist in that version's run |",
]


def summary(runs: list[dict], claims: list[str], names: list[str], majors: list[int]) -> list[str]:
    """One line per version: what its cells add up to (the counts of the table below)."""
    lines = []
    for name, run, major in zip(names, runs, majors):
        cells = [cell(run["claims"].get(c), major) for c in claims]
        counts = {word: cells.count(word) for word in dict.fromkeys(cells)}
        lines.append(f"- TL {name}: " + ", ".join(f"{n} {word.strip('*')}" for word, n in counts.items()))
    return lines


def table(runs: list[dict]) -> str:
    runs = sorted(runs, key=tl)
    names = [r["versions"]["transformer_lens"] for r in runs]
    majors = [tl(r).major for r in runs]
    claims = list(dict.fromkeys(c for r in runs for c in r["claims"]))
    failures = {n: sum(cell(r["claims"].get(c), m) == "**FAIL**" for c in claims) for n, r, m in zip(names, runs, majors)}
    weights = [results.settings(r).get("weights", "") for r in runs]
    standin = all(w.startswith("NOT OpenAI's") for w in weights)  # the fingerprint's verdict (gpt2spec.weights)
    lines = [
        "# Claims across TransformerLens versions",
        "",
        f"{len(claims)} claims under TransformerLens {', '.join(names)}. Failures: "
        + ", ".join(f"TL {n}: {k}" for n, k in failures.items()) + ". By version:",
        "",
        *summary(runs, claims, names, majors),
        "",
        *(["Every column ran on the stand-in (seeded weights, not OpenAI's: the In [14] fingerprint says so), so",
           "the claims about OpenAI's trained weights are skipped in every column, not compared."] if standin else []),
        "Drift: the largest distance of any number from its baseline in `snapshots/` for those weights.",
        "Margin: a claim about a mechanism's measure less the bar it must clear (an induction score less 0.4,",
        "the attention paid less the larger of its two bars, half the first loss less the second): `changes` reports one that shrinks.",
        "",
        *LEGEND,
        "",
        "Generated by `python -m gpt2spec.radar.compat` from `results/` (`nox -s compat`); do not edit by hand.",
        "",
        "## Where each ran",
        "",
        row("where it ran", *(f"TL {n}" for n in names)),
        "|---|" + "---|" * len(names),
        *provenance_rows(runs),
        "",
        "## Claims",
        "",
        row("claim", *(f"TL {n}" for n in names), "drift"),
        "|---|" + "---|" * len(names) + "---|",
    ]
    notes: dict[str, str] = {}
    for claim in claims:
        entries = [r["claims"].get(claim) for r in runs]
        drifts = [e["drift"] for e in entries if e and e.get("drift") is not None]
        worst = f"{max(drifts):.1e}" if drifts else ""
        lines.append(row(f"`{relative(claim)}`", *(with_margin(e, m) for e, m in zip(entries, majors)), worst))
        for e in entries:
            if e and e["versioned"]:
                notes[claim] = e["versioned"]["why"]
    lines.append("")
    if notes:
        lines += ["## Version-specific expectations", ""] + [f"- `{relative(c)}`: {why}" for c, why in notes.items()] + [""]
    return "\n".join(lines)


WORD = {True: "present", False: "absent"}  # a name in a run's list, or not


def history(found: list[dict]) -> str:
    """The release history: what each bisect (``gpt2spec.radar.bisection``, results/history/) found, range by range."""
    lines = [
        "## Release history",
        "",
        "Which release changed each claim, found by `nox -s bisect -- PACKAGE OLD NEW` (a binary search over",
        "the index's releases between two versions, offline on the stand-in, CPU; `results/history/`).",
        "",
    ]
    for f in sorted(found, key=lambda f: (f["package"], Version(f["old"]))):
        lines += [f"### {f['package']} {f['old']} to {f['new']}", ""]
        lines.append(f"{len(f['releases'])} releases on the index; the search ran {len(f['ran'])}: {'; '.join(f['ran'].values())}.")
        lines += [f"Not installed: {v}: {why}." for v, why in f["not_installed"].items()]
        if f.get("also_changed"):
            moved = ", ".join(f"{k} {a} to {b}" for k, a, b in f["also_changed"])
            lines.append(f"Between the ends pip also moved {moved}: a change may be theirs (see its cause).")
        lines.append("")
        if not f["changes"]:
            lines += [f"Nothing changed from {f['old']} to {f['new']}: the same claims, outcomes, drift and names.", ""]
            continue
        lines += [row("first release", "what changed", "before", "after", "cause"), "|---|---|---|---|---|"]
        for c in f["changes"]:
            notes = f["notes"].get(c["first"])
            first = f"[{c['first']}]({notes})" if notes else c["first"]
            differs = provenance.NAMES.get(c["kind"], c["kind"])  # a name list's label, or "outcome" / "drift"
            named = outcomes.current(c["what"]) if c["kind"] in ("outcome", "drift") else c["what"]
            what = f"{differs}: `{relative(named)}`"
            before, after = (WORD.get(v, v) if isinstance(v, bool) else v for v in (c["before"], c["after"]))
            lines.append(row(first, what, str(before), str(after), c.get("cause") or "not cited yet: see the release notes"))
        lines.append("")
    return "\n".join(lines)


BISECTED = "a file written by python -m gpt2spec.radar.bisection (results/history/)"


def read_history(path: Path) -> dict:
    """What one bisect found, or BadPath saying why not."""
    found = paths.read_json(path, BISECTED)
    if not isinstance(found, dict) or not {"package", "old", "new", "releases", "ran", "not_installed", "changes", "notes"} <= found.keys():
        raise paths.BadPath(f"{path} is not a bisect's finding: give {BISECTED}")
    return found


def tl_side(side: dict) -> str:
    return f"TL {side['versions']['transformer_lens']}"


def versus_table(found: list[dict]) -> str:
    """Speed and memory across versions: what each paired comparison (``gpt2spec.radar.versus``, results/versus/) found."""
    factor = versus.FACTOR
    lines = [
        "## Speed and memory across versions",
        "",
        "B over A, paired (`nox -s versus -- A B`, `python -m gpt2spec.radar.versus`; `results/versus/`): each side is a",
        "worker process in its own environment with GPT-2 small loaded once (the stand-in, CPU), and the two",
        "are alternated round by round on the same tokens after warm-up. Time: each call as its worker timed",
        "it; memory: the peak a call adds (the kernel's high-water mark), in untimed rounds of their own.",
        f"{paired.describe_interval()[0].upper()}{paired.describe_interval()[1:]}. A regression only where the",
        f"whole interval lies above {factor} (asv compare's default factor), an improvement only where it lies",
        f"below 1/{factor}; anything else is within what the run resolves.",
        "",
        row("A to B", "work", "time, B over A", "", "memory added, B over A", "", "A: median time, memory added", "B: the same"),
        "|---|---|---|---|---|---|---|---|",
    ]
    found = sorted(found, key=lambda f: (Version(f["sides"]["A"]["versions"]["transformer_lens"]), Version(f["sides"]["B"]["versions"]["transformer_lens"])))
    for f in found:
        a, b = f["sides"]["A"], f["sides"]["B"]
        for r in f["rows"]:
            added = r["median_added_bytes"] or {}
            lines.append(row(
                f"{tl_side(a)} to {b['versions']['transformer_lens']}", r["time"]["label"],
                versus.ratio_text(r["time"]), versus.verdict(r["time"], f["factor"]), versus.ratio_text(r["memory"]), versus.verdict(r["memory"], f["factor"]),
                *(f"{r['median_s'][s]:.3f} s, {versus.mib(added.get(s))}" for s in "AB"),
            ))  # fmt: skip
    lines.append("")
    for f in found:
        a, b = f["sides"]["A"], f["sides"]["B"]
        setups = "; ".join(f"{tl_side(s)}: torch {s['versions']['torch']}, transformers {s['versions']['transformers']}, Python {s['versions'].get('python', '?')}" for s in (a, b))
        lines.append(
            f"- {tl_side(a)} to {b['versions']['transformer_lens']} ({f['date']}; `{f['command']}`): {setups}. "
            f"Loaded once each in {a['load_s']:.1f} s and {b['load_s']:.1f} s (not paired); peak resident memory after loading "
            f"{versus.mib(a['peak_after_load_bytes'])} and {versus.mib(b['peak_after_load_bytes'])}, over the run {versus.mib(a['peak_bytes'])} and {versus.mib(b['peak_bytes'])}. "
            f"Conditions: {f['conditions']['device_name']}; {f['conditions']['threads']}; {f['conditions']['rounds']}; {f['conditions'].get('platform', '')}."
        )
    return "\n".join(lines + [""])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gpt2spec.radar.compat", description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", type=Path, help="files written by pytest --spec-results")
    p.add_argument("--history", nargs="*", type=Path, default=[], help="what bisects found (results/history/*.json)")
    p.add_argument("--versus", nargs="*", type=Path, default=[], help="paired speed and memory across versions (results/versus/*.json)")
    p.add_argument("-o", "--output", type=Path, default=Path("COMPATIBILITY.md"))
    args = p.parse_args(argv)
    try:
        paths.output_file(args.output, "-o", "COMPATIBILITY.md")
        runs, found = [results.read(path) for path in args.results], [read_history(path) for path in args.history]
        costs = [versus.read(path) for path in args.versus]
    except ValueError as error:
        paths.refuse(p, error)
    page = table(runs)
    if args.versus:
        page += "\n" + versus_table(costs)
    if found:
        page += "\n" + history(found)
    args.output.write_text(page)
    print(f"wrote {args.output} from {len(args.results)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
