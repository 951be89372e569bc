"""What each claim evaluates, read from its spec file: the report's rows and the page's code cells."""

from __future__ import annotations

import ast
import functools
from pathlib import Path


@functools.cache  # one read per spec file
def bench_code(path: Path) -> dict[str, str]:
    """test function -> the expression its ``bench(lambda: ...)`` evaluates, as the spec file writes
    it (read statically: the claims that never reach ``bench``, skipped ones, have it too)."""
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, SyntaxError):
        return {}
    code = {}
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef)):
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "bench" and node.args:
                if isinstance(node.args[0], ast.Lambda):
                    code[function.name] = " ".join(ast.get_source_segment(source, node.args[0].body).split())
                    break
    return code
