"""Test-only pytest plugin (``-p tests.interrupt_snapshot_write``): Ctrl-C in the middle of
writing a snapshot file, as a user's would land, a few lines into the file."""

import os
import signal
import sys

from syrupy.extensions.amber.serializer import AmberDataSerializer

LINES_BEFORE_CTRL_C = 5
_write_file = AmberDataSerializer.write_file.__func__
_with_indent = AmberDataSerializer.with_indent.__func__
_lines = -1  # lines written to the file being written; -1: not writing


def write_file(cls, *args, **kwargs):
    global _lines
    _lines = 0
    try:
        return _write_file(cls, *args, **kwargs)
    finally:
        _lines = -1


def with_indent(cls, string, depth):
    global _lines
    if _lines >= 0:
        _lines += 1
        if _lines == LINES_BEFORE_CTRL_C:
            print("test plugin: Ctrl-C while writing a snapshot file", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGINT)
    return _with_indent(cls, string, depth)


AmberDataSerializer.write_file = classmethod(write_file)
AmberDataSerializer.with_indent = classmethod(with_indent)
