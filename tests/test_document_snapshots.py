"""snapshots/document/ holds the document's printed outputs and nothing else: each entry's numbers and
strings are printed by the cell its claim names (``@pytest.mark.cell(n)``), not merely somewhere."""

import ast
import re

import pytest

from gpt2spec.compare import NUMBER

from .conftest import ROOT

SEED = ROOT.parent / "shared" / "seed"
DOCUMENT = ROOT / "snapshots" / "document"
CELL = re.compile(r"^In \[(\d+)\]:", re.MULTILINE)


@pytest.fixture(scope="module")
def cells() -> dict[int, str]:
    """The document's text by cell: from ``In [n]:`` to the next cell (its code and what it printed)."""
    texts = sorted(SEED.glob("*.txt"))
    if not texts:
        pytest.skip(f"the document is not at {SEED} (a developer's or CI's checkout has it)")
    text = "\n".join(t.read_text() for t in texts)
    starts = list(CELL.finditer(text))
    return {int(m.group(1)): text[m.start(): nxt.start() if nxt else len(text)] for m, nxt in zip(starts, starts[1:] + [None])}


def cell_of() -> dict[tuple[str, str], int]:
    """(spec file, test) -> the cell its ``cell`` marker names, read from the spec files."""
    found = {}
    for path in sorted((ROOT / "specs").glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            for mark in getattr(node, "decorator_list", []):
                if isinstance(mark, ast.Call) and ast.unparse(mark.func) == "pytest.mark.cell":
                    found[path.stem, node.name] = mark.args[0].value
    return found


def entries(folder=DOCUMENT):
    """(file, entry name, its claim's cell, entry text) for every entry of snapshots/document/."""
    cells = cell_of()
    for path in sorted(folder.glob("*.ambr")):
        name, lines = None, []
        for line in [*path.read_text().splitlines(), "# ---"]:
            if line.startswith("# name: "):
                name = line[len("# name: "):]
            elif line.startswith("# ---") and name:
                yield path.name, name, cells.get((path.stem, name.split("[")[0])), "\n".join(lines)
                name, lines = None, []
            elif name:
                lines.append(line.strip())


def test_every_entry_names_a_cell():
    missing = [(f, n) for f, n, cell, _ in entries() if cell is None]
    assert not missing, f"entries whose claim has no cell marker: {missing}"


def test_every_number_is_printed_in_its_cell(cells):
    missing = []
    for f, n, cell, text in entries():
        printed = {float(p) for p in NUMBER.findall(cells.get(cell, ""))}
        missing += [(f, n, cell, x) for x in NUMBER.findall(text) if float(x) not in printed]
    assert not missing, f"numbers their cell does not print: {missing[:5]}"


def test_every_string_is_printed_in_its_cell(cells):
    # Dict keys ('values': ...) name the fields the spec builds; the values are the printed part.
    quoted = [(f, n, cell, s) for f, n, cell, text in entries() for line in text.splitlines() for s in re.findall(r"'((?:[^'\\]|\\.)*)'(?!:)", line)]
    assert quoted, "the document snapshots hold strings (tokens, names)"
    missing = [(f, n, cell, s) for f, n, cell, s in quoted if s not in cells.get(cell, "")]
    assert not missing, f"strings their cell does not print: {missing[:5]}"


def test_a_number_from_another_cell_is_refused(cells):
    """The check can fail: In [13]'s shape is not printed by In [14] (the old check, anywhere in the
    document, would take it), and a number its cell does print is found."""
    assert "50257" not in cells[14] and "50257" in cells[13]
    assert "0.0517" in cells[14]


OPENAI = ROOT / "snapshots" / "openai-gpt2"


def test_openai_baselines_are_derived_from_the_document():
    """snapshots/openai-gpt2/ holds only what the document's printed values give: In [30]'s log-probabilities
    as printed, and the log of In [29]'s probability corner at the 4 decimals its 5 printed digits carry."""
    import math

    from tests.test_controls import as_value, entry

    derived = {n: as_value(t) for f, n, _, t in entries(OPENAI)}
    assert derived.keys() == {"test_log_probabilities_of_the_actual_next_tokens", "test_log_probabilities_of_the_first_tokens"}
    printed = as_value(entry("test_05_output.py", "test_the_next_token_log_probabilities_are_as_printed"))
    assert derived["test_log_probabilities_of_the_actual_next_tokens"] == printed
    corner = as_value(entry("test_05_output.py", "test_the_probability_corner_is_as_printed"))
    assert derived["test_log_probabilities_of_the_first_tokens"] == [[round(math.log(p), 4) for p in row] for row in corner]
