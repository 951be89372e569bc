"""What the run leaves: the tally behind the closing summary (report.py), the page (--spec-report)
and the results file (--spec-results), and writing the last two when the session ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpt2spec import compat, loading, page, provenance, report
from gpt2spec.plugin.keys import FACTS, REPORT


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(page.sections)  # what other plugins add to the page


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--spec-report") and (missing := page.missing_packages()):
        raise pytest.UsageError(f"--spec-report draws with {' and '.join(missing)}: pip install -e '.[report]'")
    config.stash[REPORT] = report.Tally()
    config.pluginmanager.register(config.stash[REPORT], "gpt2spec-tally")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if REPORT not in session.config.stash:
        return
    tally = session.config.stash[REPORT]
    if path := session.config.getoption("--spec-report"):
        extra = page.sections.gathered(session.config)  # asked now: every plugin has all it will show
        page.write(path, tally, root=Path(session.config.rootpath), sections=extra)
    if results := session.config.getoption("--spec-results"):
        results.parent.mkdir(parents=True, exist_ok=True)
        found = provenance.of_run(tally, session.config.stash.get(FACTS, {}))
        results.write_text(json.dumps(compat.results(tally, loading.versions(), found), indent=1))
