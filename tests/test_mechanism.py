"""Claims about mechanisms (the ``mechanism`` marker): they run where the mechanism is known to be, and
a pass on the stand-in's built circuit is counted apart from a verification of OpenAI's GPT-2."""

from __future__ import annotations

import json

import pytest

from gpt2spec import circuit, faults, outcomes, standin
from gpt2spec.faults import catching

from .conftest import copy_of, run_here

HELD = outcomes.LABELS[outcomes.HELD_STANDIN]


@pytest.fixture
def models(fault_models: catching.Models) -> catching.Models:
    return fault_models


def results(path) -> dict[str, str]:
    return {claim: entry["outcome"] for claim, entry in json.loads(path.read_text())["claims"].items()}


def test_they_hold_on_the_stand_in_and_say_where(models, tmp_path):
    """All ten (In [30]'s name predicted on its second and third occurrence, In [39]'s two heads, the five
    published heads, the second repeat) hold, counted as holding on the stand-in's circuit in the
    summary and the results file, none as verified."""
    out = tmp_path / "results.json"
    run = catching.run_specs(models, None, "-m", "mechanism", f"--spec-results={out}")
    assert set(run.outcome.values()) == {outcomes.HELD_STANDIN} and len(run.outcome) == 10, run.output[-3000:]
    assert f"document claims: 4 {HELD}" in run.output and f"beyond the document: 6 {HELD}" in run.output
    assert set(results(out).values()) == {outcomes.HELD_STANDIN}


def test_a_forged_fingerprint_does_not_make_them_verified(models, tmp_path):
    """The stand-in taken for OpenAI's by its fingerprint (faults.forged_fingerprint) is still the
    stand-in by its marker: its mechanisms hold on its circuit, not on OpenAI's weights."""
    out = tmp_path / "results.json"
    catching.run_specs(models, faults.FAULTS["forged-fingerprint"], "-m", "mechanism", f"--spec-results={out}")
    assert set(results(out).values()) == {outcomes.HELD_STANDIN}


@pytest.fixture
def no_circuit(standin_home, tmp_path):
    """A copy of the stand-in whose marker names no circuit, as one built before it would."""
    (tmp_path / "home").mkdir()
    home = copy_of(standin_home, tmp_path / "home")
    for marker in home.rglob(standin.MARKER):
        text = json.loads(marker.read_text())
        del text["circuit"]
        marker.write_text(json.dumps(text))
    return home


def test_weights_not_known_to_have_them_skip_them(no_circuit, fault_models):
    """On weights whose marker names no circuit (nor OpenAI's fingerprint), the claims are skipped,
    saying why; with --require-pretrained they fail."""
    args = ("--device", "cpu", "-m", "mechanism", "-rs")
    skipped = run_here(*args, hf_home=no_circuit, models=fault_models)
    assert skipped.returncode == 0, skipped.stdout[-3000:]
    assert "needs weights with induction heads" in skipped.stdout
    skip = outcomes.LABELS[outcomes.SKIP_MECHANISM]
    assert f"document claims: 4 {skip}" in skipped.stdout and f"beyond the document: 6 {skip}" in skipped.stdout
    failed = run_here(*args, "--require-pretrained", hf_home=no_circuit, models=fault_models)
    assert failed.returncode == 1 and "--require-pretrained was given" in failed.stdout


def test_the_circuit_heads_are_the_ones_the_claims_name():
    """The heads built are the heads specs/test_09 checks (one list of ARENA's, one of the construction's)."""
    from specs import test_09_induction

    assert list(circuit.INDUCTION_HEADS) == test_09_induction.INDUCTION_HEADS
