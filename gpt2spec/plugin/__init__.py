"""pytest wiring, one concern a module. ``pyproject.toml`` loads this package with ``-p`` (before
the command line is parsed); it registers its parts in the order below.

Specs ask for ``model``, ``run`` (the document's shared forward pass), ``weights`` (whose they
are), ``printed`` (the document's printed value), ``snapshot`` (a baseline for these weights) and
``bench`` (a device-aware benchmark); a claim about a mechanism asks for ``margin`` (how far it
clears its bar).

- ``options``: the command line, its checks, the opt-in parts' deselection, the header.
- ``decided``: each test's outcome code, decided as it ends, on its reports.
- ``models``: the devices, the model loaded once per device, the shared run, load errors, the page's section on the stand-in's circuit.
- ``gating``: claims that need OpenAI's weights, skipped (or failed) on any other; mechanism claims' margins.
- ``snapshots``: the ``snapshot`` and ``printed`` fixtures over syrupy.
- ``bench``: the ``bench`` fixture over pytest-benchmark.
- ``scaling``: the opt-in scaling benchmark's points and its terminal and page sections.
- ``outputs``: the tally behind the summary, the page and the results file, and writing them.
"""

pytest_plugins = [
    "gpt2spec.plugin.options",
    "gpt2spec.plugin.decided",
    "gpt2spec.plugin.outputs",
    "gpt2spec.plugin.models",
    "gpt2spec.plugin.gating",
    "gpt2spec.plugin.snapshots",
    "gpt2spec.plugin.bench",
    "gpt2spec.plugin.scaling",
]
