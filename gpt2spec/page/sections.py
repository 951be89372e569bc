"""What other parts of the run add to the page: sections after the document's, asked for when the
page is written.

A plugin with something to show implements the hook below and returns its sections; the page calls
it once, at session end, so nothing has to be pushed into the tally before the page is written.
Sections hold data, never HTML: the page's templates escape every word of them. The one exception
is a figure, the HTML fragment its library draws (plotly's ``to_html(full_html=False,
include_plotlyjs=False)``): the page supplies plotly.js.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Section:
    id: str  # its anchor in the page and its link in the navigation
    title: str
    text: str = ""  # a paragraph under the title (``code`` in double backquotes becomes code)
    table: Table | None = None
    pre: list[str] = field(default_factory=list)  # lines of aligned text, shown as they are
    figures: dict[str, str] = field(default_factory=dict)  # caption -> a library's HTML fragment


@pytest.hookspec
def pytest_spec_page_sections(config: pytest.Config) -> list[Section]:  # type: ignore[empty-body]
    """Sections for the end of ``--spec-report``'s page, in the order given (each plugin's in the
    order pytest calls them)."""
    ...


def gathered(config: Any) -> list[Section]:
    """Every plugin's sections (none where the hook is not registered, e.g. the page made by hand)."""
    hook = getattr(getattr(config, "hook", None), "pytest_spec_page_sections", None)
    return [s for sections in (hook(config=config) if hook else []) for s in sections]
