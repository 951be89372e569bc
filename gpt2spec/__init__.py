"""Support code for the executable specification of an intro to mech interp on GPT-2 small.

One module per concern, flat; CONTRIBUTING.md, "Layout", lists them by the use each serves (core, the
document, the upgrade radar, the CPU vs CUDA benchmark). ``plugin`` is the pytest wiring that
``pyproject.toml`` loads with ``-p``.
"""
