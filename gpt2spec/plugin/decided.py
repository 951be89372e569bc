"""Each test's outcome code (``gpt2spec.outcomes``), decided as it ends and carried on its reports
(``report.outcome_code``): what the tally, and so the terminal, the page and the results file, read."""

from __future__ import annotations

from typing import Iterator

import pytest

from gpt2spec import outcomes


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    outcomes.ended(item, call, report)
    return report
