"""The ``snapshot`` and ``printed`` fixtures: syrupy's, with numeric entries, one folder per source
of truth (see snapshot.py)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from gpt2spec import outcomes
from gpt2spec.plugin.keys import UNRECORDED_SEEN
from gpt2spec.snapshot import DOCUMENT, UNRECORDED, NumericSnapshotExtension, record_missing, set_aside_document_entries
from gpt2spec.weights import Weights

MISSING_LINE = pytest.StashKey[str]()  # what the run says about the baselines these weights lack


def pytest_configure(config: pytest.Config) -> None:
    # Registered now, after syrupy's plugin (the package loads with -p, before it), so that this
    # ``snapshot`` overrides syrupy's.
    config.pluginmanager.register(Snapshots(), "gpt2spec-snapshots")
    config.stash[UNRECORDED_SEEN] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The baselines these weights lack, said in one line with the one command that records or commits
    them; written where --record-baselines says; the run failed for them with --require-baselines."""
    config = session.config
    seen = config.stash.get(UNRECORDED_SEEN, [])
    if not seen:
        return
    folder = Path(seen[0][0]).parent
    where = folder.relative_to(config.rootpath) if folder.is_relative_to(config.rootpath) else folder
    into: Path | None = config.getoption("--record-baselines")
    if into is not None:
        written = record_missing(seen, into)
        commit = f"git add snapshots && git commit -m {shlex.quote(f'snapshots: the baselines {where.name} lacked')}"
        if into.resolve() != (config.rootpath / "snapshots").resolve():
            commit = f"cp -r {shlex.quote(str(into))}/. snapshots/ && {commit}"
        line = (
            f"gpt2spec: recorded {len(seen)} baselines {where}/ lacked, into {into / folder.name}/ "
            f"({', '.join(path.name for path in written)}; no recorded value changed); commit them: {commit}"
        )
    else:
        line = (
            f"gpt2spec: {len(seen)} claims have no baseline in {where}/ for these weights (counted 'no baseline yet': "
            "nothing checked); record them: pytest --weights hub --record-baselines snapshots"
        )
    if config.getoption("--require-baselines") and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        line = f"{line} (--require-baselines: the run fails until they are committed)"
    config.stash[MISSING_LINE] = line


@pytest.hookimpl(hookwrapper=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> Any:
    """syrupy's summary without the document's entries as "unused", and a line saying what they are;
    then the line on the baselines these weights lack."""
    report = getattr(getattr(config, "_syrupy", None), "report", None)  # syrupy's session, as its own summary reads it
    line = set_aside_document_entries(report) if report is not None else ""
    yield
    for said in (line, config.stash.get(MISSING_LINE, "")):
        if said:
            terminalreporter.write_line(said)


class Snapshots:
    @pytest.fixture
    def snapshot(self, snapshot: Any, request: pytest.FixtureRequest) -> Any:
        """syrupy's snapshot, numeric, stored under snapshots/<weights>/: a baseline for these weights.

        On OpenAI's weights, an entry nobody has recorded yet (the document prints no such value)
        checks nothing: the claim is counted "no baseline yet" (outcomes.NO_BASELINE), with a warning
        saying how to record it, never as verified; the run ends saying how many and how to record
        them (--record-baselines writes them), and --require-baselines fails the run for them. Whose
        weights these are is --require-pretrained's concern, not this.
        """
        found: Weights = request.getfixturevalue("weights")
        root = Path(request.config.rootpath) / "snapshots"
        extension = NumericSnapshotExtension.for_folder(root, found.snapshot_id, missing_ok=found.is_openai)
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
                request.config.stash[UNRECORDED_SEEN].append((result.snapshot_location, result.snapshot_name, result.asserted_data))

    request.addfinalizer(keep)
    return assertion
