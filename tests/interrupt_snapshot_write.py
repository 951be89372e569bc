"""Test-only pytest plugin (``-p tests.interrupt_snapshot_write``): Ctrl-C in the middle of
writing a snapshot file, as a user's would land, a few lines into the file.

SIGINT reaches Python's own handler, which raises KeyboardInterrupt where the write is, as in a
user's terminal. The serializer is patched for this run only (configure to unconfigure): the run
may be one of several in a process."""

import os
import signal
import sys

import pytest
from syrupy.extensions.amber.serializer import AmberDataSerializer

LINES_BEFORE_CTRL_C = 5
ORIGINAL = {name: AmberDataSerializer.__dict__[name] for name in ("write_file", "with_indent")}
_lines = -1  # lines written to the file being written; -1: not writing


def write_file(cls, *args, **kwargs):
    global _lines
    _lines = 0
    try:
        return ORIGINAL["write_file"].__func__(cls, *args, **kwargs)
    finally:
        _lines = -1


def with_indent(cls, string, depth):
    global _lines
    if _lines >= 0:
        _lines += 1
        if _lines == LINES_BEFORE_CTRL_C:
            print("test plugin: Ctrl-C while writing a snapshot file", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGINT)
    return ORIGINAL["with_indent"].__func__(cls, string, depth)


def pytest_configure(config: pytest.Config) -> None:
    AmberDataSerializer.write_file = classmethod(write_file)
    AmberDataSerializer.with_indent = classmethod(with_indent)


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, original in ORIGINAL.items():
        setattr(AmberDataSerializer, name, original)
