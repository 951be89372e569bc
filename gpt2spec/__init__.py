"""Support code for the executable specification of an intro to mech interp on GPT-2 small.

One module per concern: ``document`` (the text and its printed references), ``loading`` (the
TransformerLens seam), ``standin`` (offline weights), ``weights`` (whose weights these are),
``snapshot`` (numeric snapshots), ``compare`` (value comparison), ``timing`` (device-aware
benchmarks), ``report`` (the run's tally and the terminal), ``summary`` (the run summary the
terminal and the page render), ``page`` (the HTML page, a subpackage with its templates), ``plugin``
(pytest wiring).
"""
