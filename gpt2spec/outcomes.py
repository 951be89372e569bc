"""A claim's outcome as a short code, and the words each code is shown with.

The results files store codes, never display sentences, so that rewording a summary line does not
make every claim look "changed" to the radar. ``FORMAT`` is the results file's format version;
``code()`` also reads the sentences that format 1 files (before codes) stored.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

FORMAT = 2

PASSED = "passed"  # the claim held
FAILED = "failed"
ERROR = "error"
NO_BASELINE = "no-baseline"  # a baseline claim on weights nobody has recorded: nothing was checked
SKIP_OPENAI = "skip-openai"  # needs OpenAI's GPT-2 weights
SKIP_CUDA = "skip-cuda"  # no CUDA device here
SKIPPED = "skipped"  # any other skip
NOT_RUN = "not-run"

LABELS = {
    PASSED: "verified",
    FAILED: "failed",
    ERROR: "error",
    NO_BASELINE: "no baseline yet (recorded with --record-baselines)",
    SKIP_OPENAI: "skipped (need OpenAI's weights)",
    SKIP_CUDA: "skipped (no CUDA)",
    SKIPPED: "skipped",
    NOT_RUN: "not run",
}
ORDER = list(LABELS)  # how summaries list the counts: what held first

_LEGACY = {label: c for c, label in LABELS.items()} | {
    "passed": PASSED, "not run": NOT_RUN, "no baseline yet (recorded now with --snapshot-update)": NO_BASELINE,
}  # fmt: skip


def code(stored: str) -> str:
    """The code for what a results file stored: a code (format 2) or a display sentence (format 1)."""
    return stored if stored in LABELS else _LEGACY.get(stored, stored)


class Skipped(pytest.skip.Exception):
    """pytest's skip, carrying the outcome code that the code skipping decided (the tally reads it)."""

    # As pytest's own Skipped: a report then says "Skipped: REASON", whose prefix pytest's summary
    # and the tally strip; under this module's name every skip reason read "gpt2spec.outcomes.Skipped: ...".
    __module__ = "builtins"

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.code = code


def skip(code: str, reason: str) -> NoReturn:
    """``pytest.skip(reason)``, recorded as ``code`` (SKIP_OPENAI, SKIP_CUDA): decided here, where the
    skip happens, never read back from the words of the reason."""
    raise Skipped(reason, code)


def label(outcome: str) -> str:
    """The words a person sees for an outcome code."""
    return LABELS.get(code(outcome), outcome)
