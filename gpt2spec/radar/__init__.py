"""The upgrade radar: what a run under other versions ran and found, read from results files.

- ``axes``: asked, offered, installed and why, per axis package of a nox session (``python -m gpt2spec.radar.axes``).
- ``index``: what the package index offers and pip can install, in pip's own words.
- ``changes``: what changed between two runs (``python -m gpt2spec.radar.changes``).
- ``compat``: claims x TransformerLens versions, COMPATIBILITY.md (``python -m gpt2spec.radar.compat``).
- ``bisection``: which release first changed a claim (``python -m gpt2spec.radar.bisection``).
- ``causes``: why a version differs from the document, as the specs' ``versioned`` notes cite it.
"""
