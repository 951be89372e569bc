"""The ``snapshot`` and ``printed`` fixtures: syrupy's, with numeric entries, one folder per source
of truth (see snapshot.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gpt2spec import outcomes
from gpt2spec.snapshot import DOCUMENT, UNRECORDED, NumericSnapshotExtension, set_aside_document_entries
from gpt2spec.weights import Weights


def pytest_configure(config: pytest.Config) -> None:
    # Registered now, after syrupy's plugin (the package loads with -p, before it), so that this
    # ``snapshot`` overrides syrupy's.
    config.pluginmanager.register(Snapshots(), "gpt2spec-snapshots")


@pytest.hookimpl(hookwrapper=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> Any:
    """syrupy's summary without the document's entries as "unused", and a line saying what they are."""
    report = getattr(getattr(config, "_syrupy", None), "report", None)  # syrupy's session, as its own summary reads it
    line = set_aside_document_entries(report) if report is not None else ""
    yield
    if line:
        terminalreporter.write_line(line)


class Snapshots:
    @pytest.fixture
    def snapshot(self, snapshot: Any, request: pytest.FixtureRequest) -> Any:
        """syrupy's snapshot, numeric, stored under snapshots/<weights>/: a baseline for these weights.

        On OpenAI's weights, an entry nobody has recorded yet (the document prints no such value)
        checks nothing: the claim is counted "no baseline yet" (outcomes.NO_BASELINE), with a warning
        saying how to record it, never as verified; --require-pretrained fails it.
        """
        found: Weights = request.getfixturevalue("weights")
        root = Path(request.config.rootpath) / "snapshots"
        unrecorded_ok = found.is_openai and not request.config.getoption("--require-pretrained")
        extension = NumericSnapshotExtension.for_folder(root, found.snapshot_id, missing_ok=unrecorded_ok)
        return recorded(snapshot.use_extension(extension), request, "baseline")

    @pytest.fixture
    def printed(self, snapshot: Any, request: pytest.FixtureRequest) -> Any:
        """A snapshot under snapshots/document/: the document's printed outputs, transcribed as printed."""
        root = Path(request.config.rootpath) / "snapshots"
        return recorded(snapshot.use_extension(NumericSnapshotExtension.for_folder(root, DOCUMENT)), request, "document")


def recorded(assertion: Any, request: pytest.FixtureRequest, against: str) -> Any:
    """Keep what each comparison saw (for the report): what it compared with ("baseline", "document"),
    the observed and the expected text."""

    def keep() -> None:
        for result in assertion.executions.values():
            seen = {"against": against, "observed": result.asserted_data, "expected": result.recalled_data, "ok": result.success}
            request.node.user_properties.append(("comparison", seen))
            if result.recalled_data == UNRECORDED:
                outcomes.decide(request.node, outcomes.NO_BASELINE)

    request.addfinalizer(keep)
    return assertion
