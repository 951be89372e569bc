"""The results file (``pytest --spec-results PATH``): one run's claims, their outcome codes, drift and
margin, and where it ran. Written from a run here, read here (with one line for a file that is not one), by
``changes``, ``compat`` and the bisection alike.

Format 2 stores outcome codes (``outcomes.py``); format 1 (before codes) stored display sentences,
which ``outcomes.of`` still reads. ``margin`` (a mechanism claim's measure less its bar) came later
within format 2: a claim without it recorded none. A file from a newer format is refused, with what to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from gpt2spec import compare, outcomes, paths, provenance

if TYPE_CHECKING:  # the radar reads results files without loading torch, which the tally's types import
    from gpt2spec.tally import Tally

FORMAT = 2


def drift(comparisons: list[dict]) -> float | None:
    """The largest |observed - recorded| over the numbers of a claim's snapshot comparisons."""
    worst = None
    for c in comparisons:
        if not c.get("expected") or not c.get("observed"):
            continue
        for d in compare.paired(str(c["observed"]), str(c["expected"])) or []:
            worst = d.off if worst is None else max(worst, d.off)
    return worst


def of_run(tally: Tally, versions: dict[str, str], where: dict | None = None) -> dict:
    """What one run found, claim by claim (its CPU records: the device does not change a claim),
    and where it ran (``provenance.of_run``)."""
    claims: dict[str, dict] = {}
    for r in tally.records.values():
        if not r.ran or (r.device and r.device != "cpu"):
            continue
        claims[r.claim] = {
            "outcome": r.outcome,
            "reason": r.reason,
            "versioned": r.versioned,
            "drift": drift([c for c in r.comparisons if c["against"] == "baseline"]),
            "margin": r.margin,
        }
    return {"format": FORMAT, "versions": versions, "provenance": where or {}, "claims": claims}


def write(path: Path, tally: Tally, facts: dict[str, dict]) -> None:
    """The results of ``tally``'s run at ``path``; ``facts``: device -> what its loaded model is (``provenance.model_facts``)."""
    from gpt2spec import loading

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(of_run(tally, loading.versions(), provenance.of_run(tally, facts)), indent=1))


def read(path: Path) -> dict:
    """A results file, or a one-line reason why not (paths.BadPath, a ValueError)."""
    run = paths.read_json(path, "a file written by pytest --spec-results")
    fields = run if isinstance(run, dict) else {}
    versions, claims, number = fields.get("versions"), fields.get("claims"), fields.get("format", 1)
    if not (isinstance(versions, dict) and "transformer_lens" in versions and isinstance(claims, dict) and isinstance(number, int)):
        raise ValueError(f"{path} is not a results file: give one written by pytest --spec-results")
    if number > FORMAT:
        raise ValueError(f"{path} is results format {number}, newer than this gpt2spec reads ({FORMAT}): update gpt2spec")
    return outcomes.renamed(run)  # claims renamed since the file was written, under their names now


def settings(run: dict) -> dict[str, str]:
    """A results file's ``provenance.FIELDS``, from its versions and provenance (one it did not record is absent)."""
    found = {**(run.get("provenance") or {}), **run["versions"]}
    return {key: str(found[key]) for key in provenance.FIELDS if found.get(key) is not None}


AXES = "a file written by python -m gpt2spec.radar.axes prepare"


def attach_axes(axes_path: Path, results_path: Path) -> None:
    """Put what a nox session asked for and installed (``radar.axes``' AXES.json) into a results file's
    provenance; a file that is not what it should be raises paths.BadPath (one line)."""
    found, axes = read(results_path), paths.read_json(axes_path, AXES)
    if not isinstance(axes, dict) or not isinstance(axes.get("axes"), list):
        raise paths.BadPath(f"{axes_path} is not a list of axes: give {AXES}")
    paths.output_file(results_path, "RESULTS", "results.json")
    found.setdefault("provenance", {})["axes"] = axes["axes"]
    results_path.write_text(json.dumps(found, indent=1))
