"""A plugin that adds a section to the page through the hook (``-p tests.page_plugin``), as the
scaling benchmark does: the page asks for it when it is written."""

from gpt2spec.page.sections import Section, Table


def pytest_spec_page_sections(config):
    return [Section("from-a-plugin", "A section from a plugin", table=Table(["what", "said"], [["<asked>", "at the end"]]))]
