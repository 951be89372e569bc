"""A claim's outcome as a short code, decided once, when the claim ends; and everything each code is
shown as. The terminal's summary, the page, the results file, the radar and the faults table all
read the code a claim's last report carries (``report.outcome_code``), never pytest's raw outcome.

How a code is decided: pytest's outcome (the first phase that did not pass, else the call's pass),
refined by what the claim's own code decided where that is a case of it: a skip raised with
``skip`` (SKIP_OPENAI...), or ``decide`` from a fixture (NO_BASELINE, HELD_STANDIN). A claim that
then fails is FAILED, whatever was decided.

The results files store codes, never display sentences, so that rewording a summary line does not
make every claim look "changed" to the radar (``results.py``). ``code()`` also reads the sentences
that format 1 files (before codes) stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

import pytest


@dataclass(frozen=True)
class Outcome:
    code: str
    pytest: str  # pytest's outcome this code is a case of: "passed", "skipped", "failed" ("" where it did not run)
    look: str  # how it is shown, the page's CSS class: "passed" (it held), "skipped" (nothing checked), "failed", "not-run"
    label: str  # the summaries' words (the terminal's and the page's counts)
    verdict: str  # the page's verdict, in a claim's table
    cell: str  # its word in COMPATIBILITY.md (``radar.compat``)


OUTCOMES: dict[str, Outcome] = {}  # in the order summaries list the counts: what held first


def _code(*fields: str) -> str:
    OUTCOMES[fields[0]] = Outcome(*fields)
    return fields[0]


# Adding an outcome: a line here (code, pytest's outcome it is a case of, how it is shown, the summaries'
# words, the page's verdict, COMPATIBILITY.md's word), then ``skip(CODE, ...)`` or ``decide(item, CODE)`` where it happens.
PASSED = _code("passed", "passed", "passed", "verified", "✓ holds", "pass")
HELD_STANDIN = _code("held-standin", "passed", "passed", "holds on the stand-in's constructed induction heads", "✓ holds on the stand-in's constructed induction heads", "holds (stand-in circuit)")  # a mechanism, on the stand-in's built circuit
FAILED = _code("failed", "failed", "failed", "failed", "✗ failed", "**FAIL**")
ERROR = _code("error", "failed", "failed", "error", "✗ error", "**FAIL**")
NO_BASELINE = _code("no-baseline", "passed", "skipped", "no baseline yet (recorded with --record-baselines)", "no baseline yet", "no baseline")  # nothing was checked
SKIP_OPENAI = _code("skip-openai", "skipped", "skipped", "skipped (need OpenAI's weights)", "skipped", "skip (OpenAI)")
SKIP_MECHANISM = _code("skip-mechanism", "skipped", "skipped", "skipped (weights not known to have the mechanism)", "skipped", "skip (mechanism)")
SKIP_CUDA = _code("skip-cuda", "skipped", "skipped", "skipped (no CUDA)", "skipped", "skip")
SKIPPED = _code("skipped", "skipped", "skipped", "skipped", "skipped", "skip")  # any other skip
NOT_RUN = _code("not-run", "", "not-run", "not run", "not run", "skip")

PLAIN = {"passed": PASSED, "skipped": SKIPPED, "failed": FAILED}  # pytest's outcome, where nothing refined it
LABELS = {c: o.label for c, o in OUTCOMES.items()}
ORDER = list(OUTCOMES)
_LEGACY = {label: c for c, label in LABELS.items()} | {
    "passed": PASSED, "not run": NOT_RUN, "no baseline yet (recorded now with --snapshot-update)": NO_BASELINE,
}  # fmt: skip: the words format 1 stored, and the earlier label


# Claims renamed since results files were written: old id -> current id. Every reader of results
# (compat, changes, bisect's cache) names a claim by its current id, so tables never list a gone claim.
RENAMED = {
    "specs/test_05_output.py::test_the_top_five_are_sorted": "specs/test_05_output.py::test_the_top_five_next_tokens",
}


def current(claim: str) -> str:
    """A claim's id as the specs name it now (``RENAMED``)."""
    return RENAMED.get(claim, claim)


def renamed(run: dict) -> dict:
    """A results file's contents with each claim under its current id."""
    return run | {"claims": {current(claim): entry for claim, entry in run.get("claims", {}).items()}}


def code(stored: str) -> str:
    """The code for what a results file stored: a code (format 2) or a display sentence (format 1)."""
    return stored if stored in OUTCOMES else _LEGACY.get(stored, stored)


def of(stored: str) -> Outcome:
    """Everything a stored outcome (a code, or format 1's sentence) is shown as."""
    return OUTCOMES[code(stored)]


def label(outcome: str) -> str:
    """The words a person sees for an outcome code."""
    return LABELS.get(code(outcome), outcome)


class Skipped(pytest.skip.Exception):
    """pytest's skip, carrying the outcome code that the code skipping decided (``ended`` reads it)."""

    # As pytest's own Skipped: a report then says "Skipped: REASON", whose prefix pytest's summary
    # and the tally strip; under this module's name every skip reason read "gpt2spec.outcomes.Skipped: ...".
    __module__ = "builtins"

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.code = code


def skip(code: str, reason: str) -> NoReturn:
    """``pytest.skip(reason)``, recorded as ``code`` (SKIP_OPENAI, SKIP_MECHANISM, SKIP_CUDA): decided here, where the
    skip happens, never read back from the words of the reason."""
    raise Skipped(reason, code)


DECIDED = pytest.StashKey[str]()  # an item's: the code its own code decided (a coded skip, NO_BASELINE, HELD_STANDIN)
PYTEST = pytest.StashKey[str]()  # an item's: pytest's outcome of it so far


def decide(item: pytest.Item, code: str) -> None:
    """What a fixture found about the claim it serves (NO_BASELINE: it compared with no baseline;
    HELD_STANDIN: it runs on the stand-in's circuit): its code, if pytest's outcome is a case of it."""
    item.stash[DECIDED] = code


def ended(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> None:
    """After each phase of a test, its outcome code so far on ``report.outcome_code``: the teardown's
    report carries the claim's own (a report travels where the item does not: to xdist's controller)."""
    if call.excinfo is not None and isinstance(call.excinfo.value, Skipped):  # a session fixture's skip reaches every test
        decide(item, call.excinfo.value.code)
    said = item.stash.get(PYTEST, "")
    if said in ("", "passed") and (report.when == "call" or not report.passed):
        said = item.stash[PYTEST] = report.outcome
    if said:
        decided = item.stash.get(DECIDED, "")
        report.outcome_code = decided if decided in OUTCOMES and OUTCOMES[decided].pytest == said else PLAIN[said]  # type: ignore[attr-defined]
