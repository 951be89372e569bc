"""pytest run in this process as a user's command runs it in a fresh one: the machinery's tests and
``python -m gpt2spec.faults`` run the specs this way, the model loaded once for many runs."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ContextManager, Iterator

import pytest

from gpt2spec import outcomes

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def suite_state(environ: dict[str, str | None] | None = None) -> Iterator[None]:
    """A run of the suite in this process as in a fresh one, and what it leaves put back after it.

    Inside: the working directory is the project's root (where its test paths are); ``environ`` is
    set (None removes a name) and huggingface_hub's constants are read again from the environment,
    as a fresh import reads them (HF_HOME, HF_HUB_OFFLINE, HF_ENDPOINT). After: the directory, the
    environment (the plugin puts the chosen weights in effect for a run and undoes it when the run
    ends; this holds even for a run that stops early), every constant, and the lookups cached per
    folder (the snapshot extension's classes); the objects the run took out of the garbage collector
    (``plugin.models.lives_for_the_session``) go back to it, so that a run's model is freed as it was
    before (by the next full collection), not kept for as long as this process lives."""
    import gc
    import importlib

    from huggingface_hub import constants

    from gpt2spec import snapshot, sources

    cwd = os.getcwd()
    saved_environ = dict(os.environ)
    saved = {k: v for k, v in vars(constants).items() if k.isupper()}
    os.chdir(ROOT)
    sources.set_environ(environ or {})
    if environ:
        importlib.reload(constants)
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
        for key, value in saved.items():
            setattr(constants, key, value)
        snapshot.NumericSnapshotExtension.for_folder.cache_clear()
        gc.unfreeze()


class Verdicts:
    """A pytest plugin: each spec's outcome code (``outcomes.ended``) and cell, from one in-process run."""

    def __init__(self) -> None:
        self.outcome: dict[str, str] = {}
        self.cell: dict[str, int | None] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            marker = item.get_closest_marker("cell")
            self.cell[item.nodeid] = marker.args[0] if marker else None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if code := getattr(report, "outcome_code", None):  # the last report's is the test's
            self.outcome[report.nodeid] = code


@dataclass
class Run:
    fault: str  # "" for the unbroken model
    outcome: dict[str, str]  # nodeid -> its outcome code
    cell: dict[str, int | None]
    output: str  # pytest's terminal output (stdout, then stderr), for a failure's message
    code: int = 0  # pytest's exit code (4: the command line was refused)
    stderr: str = ""  # what went to stderr alone (the plugin's lines about the weights)

    def ended(self, said: str) -> set[str]:
        """The tests pytest says ended ``said`` ("passed", "failed", "skipped"), whatever their code refines it to."""
        return {nodeid for nodeid, code in self.outcome.items() if outcomes.of(code).pytest == said}

    def failed(self) -> set[str]:
        return self.ended("failed")

    @property
    def stdout(self) -> str:
        return self.output[: len(self.output) - len(self.stderr)]


def run_pytest(
    args: list[str], serving: ContextManager[None] | None = None, environ: dict[str, str | None] | None = None,
    verdicts: Verdicts | None = None, fault: str = "",
) -> Run:  # fmt: skip
    """pytest with ``args`` in this process (suite_state), as a user's command would run it. ``serving``:
    a context that hands out the models (``faults.catching.Models.serving``: the ones loaded already,
    with the fault named ``fault`` injected): only for runs whose weights are that stand-in; without,
    loaded as the run chooses. ``verdicts``: the plugin that gathers the outcomes (one that does more, say)."""
    verdicts = verdicts or Verdicts()
    out, err = io.StringIO(), io.StringIO()
    with suite_state(environ), serving or contextlib.nullcontext(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = pytest.main(list(args), plugins=[verdicts])
        except KeyboardInterrupt:  # Ctrl-C after pytest's own handling (syrupy writes at session end) ends this run, as a process
            code = pytest.ExitCode.INTERRUPTED
    return Run(fault, verdicts.outcome, verdicts.cell, out.getvalue() + err.getvalue(), int(code), err.getvalue())
