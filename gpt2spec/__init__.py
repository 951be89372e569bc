"""Support code for the executable specification of an intro to mech interp on GPT-2 small.

One module per concern: ``document`` (the text and its printed references), ``loading`` (the
TransformerLens seam), ``standin`` (offline weights), ``weights`` (whose weights these are),
``snapshot`` (numeric snapshots), ``timing`` (device-aware benchmarks), ``report`` (summary and
page), ``plugin`` (pytest wiring).
"""
