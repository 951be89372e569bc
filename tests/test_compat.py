"""COMPATIBILITY.md shows where each run ran; results written before provenance was kept still table;
the committed results/ carry their provenance."""

from __future__ import annotations

import json

import pytest

from gpt2spec import compat

from .conftest import ROOT
from .test_changes import run

FIELDS = ("transformer_lens", "torch", "transformers", "numpy", "python", "platform", "device", "dtype", "attention", "weights")


def test_the_table_shows_each_runs_provenance():
    new = run()
    new["provenance"].update(platform="Linux-x86_64", attention="eager (HookedTransformer's own attention)", weights="NOT OpenAI's GPT-2 small")
    old = run("4.57.6")
    old["versions"]["transformer_lens"] = "2.18.0"
    del old["provenance"]  # written before provenance was kept
    page = compat.table([new, old])
    assert "| where it ran | TL 2.18.0 | TL 4.3.0 |" in page
    assert "| transformers | 4.57.6 | 5.24.0 |" in page
    assert "| numpy | - | 2.4.6 |" in page
    assert "| attention | - | eager (HookedTransformer's own attention) |" in page
    assert "| device, dtype | - | cpu, torch.float32 |" in page
    assert "| weights | - | NOT OpenAI's GPT-2 small |" in page


@pytest.mark.parametrize("path", sorted((ROOT / "results").glob("tl-*.json")), ids=lambda p: p.name)
def test_committed_results_carry_their_provenance(path):
    found = json.loads(path.read_text())
    provenance = {**found["provenance"], "transformer_lens": found["versions"]["transformer_lens"]}
    assert all(provenance.get(field) for field in FIELDS), [f for f in FIELDS if not provenance.get(f)]
    assert provenance["cache_keys"] and provenance["tl_parameters"] and provenance["named_parameters"]
    assert path.name == f"tl-{'.'.join(provenance['transformer_lens'].split('.')[:2])}.json"
