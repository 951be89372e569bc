"""The paths a user names, checked before the work: one line naming the path and what to do.

Files the run or a command writes (``--spec-report``, ``--spec-results``, ``-o``), folders a cache
is built in (``GPT2SPEC_CACHE``, ``HF_HOME``) and the JSON files the commands read. Checking
leaves nothing behind (a trial file has no name, or is removed at once). Standard library only:
every ``python -m gpt2spec.*`` imports it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any, NoReturn


class BadPath(ValueError):
    """A path that cannot serve; its message is one line naming it and what to do."""


def _writable(folder: Path, what: str, path: Path, fix: str) -> None:
    # a trial, not os.access: root passes os.access everywhere, even where nothing can be created.
    # The trial file has no name (O_TMPFILE) or is removed at once.
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        name = "" if folder == path else f"{path}: "
        raise BadPath(f"{what} {name}nothing can be written in {folder} ({error.strerror or error}): {fix}") from None


def _nearest_existing(path: Path) -> Path:
    """``path``, else the nearest folder above it that exists: a missing folder is created when written."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def output_file(path: Path, what: str, example: str) -> None:
    """``path`` can be written as a file: not a folder, nothing above it a file, writable.
    ``what`` names the path for the user (``--spec-report``); ``example`` is a file name to offer."""
    if path.is_dir():
        raise BadPath(f"{what} {path} is a folder: name a file, e.g. {what} {path / example}")
    if path.exists():
        try:  # opened to write, not truncated: the file stays as it is
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError as error:
            raise BadPath(f"{what} {path} cannot be written ({error.strerror or error}): name a file you can write") from None
        return
    above = _nearest_existing(path.parent)
    if not above.is_dir():
        raise BadPath(f"{what} {path}: {above} is a file, not a folder: name a path in a folder")
    _writable(above, what, path, "name a path in a folder you can write")


def folder(path: Path, what: str, fix: str = "name a folder you can write", writable: bool = True) -> None:
    """``path`` is a folder, or can be made one: not a file, nothing above it a file; writable if asked.
    ``fix``: what to do instead, in words."""
    above = _nearest_existing(path)
    if not above.is_dir():
        name = "" if above == path else f"{path}: "
        raise BadPath(f"{what} {name}{above} is a file, not a folder: {fix}")
    if writable:
        _writable(above, what, path, fix)


def read_json(path: Path, what: str) -> Any:
    """The JSON in ``path``, or BadPath saying why not; ``what`` says which file to give instead."""
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise BadPath(f"cannot read {path}: it is a folder: give {what}") from None
    except OSError as error:
        raise BadPath(f"cannot read {path}: {error.strerror or error}: give {what}") from None
    except UnicodeDecodeError:
        raise BadPath(f"{path} is not JSON (not even text): give {what}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadPath(f"{path} is not JSON ({error.msg}, line {error.lineno}): give {what}") from None


def refuse(parser: argparse.ArgumentParser, message: object) -> NoReturn:
    """A command's one line for a bad file: argparse's exit code 2, without its usage lines."""
    parser.exit(2, f"{parser.prog}: error: {message}\n")
