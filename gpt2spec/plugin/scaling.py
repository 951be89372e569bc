"""The opt-in scaling benchmark's wiring (``--scaling``): where its points go, and its terminal and page
sections, each hook a line over ``gpt2spec.scaling``."""

from __future__ import annotations

import pytest

from gpt2spec.page.sections import Section
from gpt2spec.plugin.keys import SCALING
from gpt2spec.scaling import table
from gpt2spec.scaling.points import Scaling


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--scaling"):
        return
    if config.getoption("benchmark_disable", False) and not config.getoption("benchmark_enable", False):
        raise pytest.UsageError("--scaling measures with pytest-benchmark: drop --benchmark-disable")
    config.stash[SCALING] = Scaling()


@pytest.fixture(scope="session")
def scaling_results(pytestconfig: pytest.Config) -> Scaling:
    """Where the scaling benchmark's points go (only with --scaling)."""
    return pytestconfig.stash[SCALING]


@pytest.hookimpl(tryfirst=True)  # before syrupy's summary; after the run's own (registered later, so called first)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if lines := table.terminal_lines(config.stash[SCALING]) if SCALING in config.stash else []:
        terminalreporter.section(table.TITLE)
        for line in lines:
            terminalreporter.write_line(line)


def pytest_spec_page_sections(config: pytest.Config) -> list[Section]:
    """Asked for when the page is written."""
    return table.page_sections(config.stash[SCALING]) if SCALING in config.stash else []
