"""What the run leaves: the tally (``gpt2spec/tally.py``) fed from pytest's hooks, the closing summary,
the page (--spec-report) and the results file (--spec-results), the last two written when the session ends."""

from __future__ import annotations

from pathlib import Path
import pytest

from gpt2spec import page, results, summary, tally
from gpt2spec.plugin.keys import FACTS, TALLY


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(page.sections)  # what other plugins add to the page


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--spec-report") and (missing := page.missing_packages()):
        raise pytest.UsageError(f"--spec-report draws with {' and '.join(missing)}: pip install -e '.[report]'")
    config.stash[TALLY] = tally.Tally()
    config.pluginmanager.register(TallyHooks(config.stash[TALLY]), "gpt2spec-tally")


class TallyHooks:
    """pytest's hooks, each a line over this run's tally (an object per run: a run in a run keeps its own)."""

    def __init__(self, found: tally.Tally) -> None:
        self.tally = found

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.tally.collect(session.items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.tally.reported(report)

    @pytest.hookimpl(trylast=True)  # after every other plugin's: the page ends with it
    def pytest_spec_page_sections(self) -> list[page.sections.Section]:
        """The CPU vs CUDA section: the terminal's benchmark lines (the claims' medians, the paired ratios, the fidelity)."""
        lines = tally.benchmark_lines(self.tally)
        return [page.sections.Section("devices", "CPU vs CUDA: each claim's own work, paired ratios, fidelity", pre=lines)] if lines else []

    @pytest.hookimpl(tryfirst=True)  # the run's own summary first (the scaling benchmark's next)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        for title, lines in summary.terminal_sections(self.tally):
            terminalreporter.section(title)
            for line in lines:
                terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if TALLY not in session.config.stash:
        return
    found = session.config.stash[TALLY]
    if path := session.config.getoption("--spec-report"):
        extra = page.sections.gathered(session.config)  # asked now: every plugin has all it will show
        page.write(path, found, root=Path(session.config.rootpath), sections=extra)
    if path := session.config.getoption("--spec-results"):
        results.write(path, found, session.config.stash.get(FACTS, {}))
