"""snapshots/document/ holds the document's printed outputs and nothing else."""

import re

import pytest

from gpt2spec.compare import NUMBER

from .conftest import ROOT

SEED = ROOT.parent / "shared" / "seed"
DOCUMENT = ROOT / "snapshots" / "document"


@pytest.fixture(scope="module")
def seed_text() -> str:
    texts = sorted(SEED.glob("*.txt"))
    if not texts:
        pytest.skip(f"the document is not at {SEED} (a developer's or CI's checkout has it)")
    return "\n".join(t.read_text() for t in texts)


def entries():
    for path in sorted(DOCUMENT.glob("*.ambr")):
        name = None
        for line in path.read_text().splitlines():
            if line.startswith("# name: "):
                name = line[len("# name: "):]
            elif not line.startswith("#"):
                yield path.name, name, line.strip()


def test_every_number_is_printed_in_the_document(seed_text):
    printed = {float(n) for n in NUMBER.findall(seed_text)}
    missing = [(f, n, x) for f, n, line in entries() for x in NUMBER.findall(line) if float(x) not in printed]
    assert not missing, f"numbers the document does not print: {missing[:5]}"


def test_every_string_is_printed_in_the_document(seed_text):
    # Dict keys ('values': ...) name the fields the spec builds; the values are the printed part.
    quoted = [(f, n, s) for f, n, line in entries() for s in re.findall(r"'((?:[^'\\]|\\.)*)'(?!:)", line)]
    assert quoted, "the document snapshots hold strings (tokens, names)"
    missing = [(f, n, s) for f, n, s in quoted if s not in seed_text]
    assert not missing, f"strings the document does not print: {missing[:5]}"
