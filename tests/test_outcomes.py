"""A claim's outcome is decided once, as it ends (``gpt2spec.outcomes``): the terminal, the page and the
results file say the same of each claim."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from gpt2spec import faults, outcomes, page
from gpt2spec.faults import catching
from gpt2spec.ids import NodeId
from gpt2spec.page.claims import anchor

from .conftest import run_here


def ended(*phases: tuple[str, str], raised: BaseException | None = None, decided: str = "") -> str:
    """The code a test's last report carries after ``phases`` ((when, pytest's outcome), in order)."""
    item = SimpleNamespace(stash=pytest.Stash())
    if decided:
        outcomes.decide(item, decided)
    code = ""
    for when, said in phases:
        call = SimpleNamespace(excinfo=SimpleNamespace(value=raised) if raised and said == "skipped" else None)
        report = SimpleNamespace(when=when, outcome=said, passed=said == "passed")
        outcomes.ended(item, call, report)
        code = getattr(report, "outcome_code", code)
    return code


def test_a_code_refines_pytest_s_outcome_only_where_it_is_a_case_of_it():
    whole = [("setup", "passed"), ("call", "passed"), ("teardown", "passed")]
    assert ended(*whole) == outcomes.PASSED
    assert ended(*whole, decided=outcomes.HELD_STANDIN) == outcomes.HELD_STANDIN
    assert ended(("setup", "passed"), ("call", "failed"), ("teardown", "passed"), decided=outcomes.HELD_STANDIN) == outcomes.FAILED
    assert ended(("setup", "passed"), ("call", "passed"), ("teardown", "failed"), decided=outcomes.NO_BASELINE) == outcomes.FAILED
    skip = outcomes.Skipped("needs OpenAI's GPT-2 weights", outcomes.SKIP_OPENAI)
    assert ended(("setup", "skipped"), ("teardown", "passed"), raised=skip) == outcomes.SKIP_OPENAI
    assert ended(("setup", "skipped"), ("teardown", "passed")) == outcomes.SKIPPED
    assert ended(("setup", "passed")) == "", "no code before the claim ran"


def test_every_code_is_shown_every_way():
    for code, outcome in outcomes.OUTCOMES.items():
        assert outcome.pytest in ("passed", "skipped", "failed", "") and outcome.look in ("passed", "skipped", "failed", "not-run"), code
        assert outcomes.of(outcome.label) == outcome, f"{code}: format 1's sentence reads back"


def verdicts(text: str, group: str) -> list[str]:
    """A claim's verdicts on the page, a row each (one device here)."""
    table = text[text.index(f'<div class="claim" id="{anchor(group)}">') :]
    table = table[: table.index("</table>")]
    return [html.unescape(v).strip() for v in re.findall(r'<td class="verdict"><span class="[^"]*"[^>]*>(.*?)</span>', table)]


def counted(terminal: str) -> Counter:
    """The summary's counts, the document's claims and those beyond it together: label -> runs."""
    found: Counter = Counter()
    for line in re.findall(r"^(?:document claims|beyond the document): (.*)$", terminal, re.M):
        for part in line.split(", "):
            n, label = part.split(" ", 1)
            found[label] += int(n)
    return found


def agree(terminal: str, page_path: Path, results_path: Path) -> dict[str, str]:
    """Check the three say the same of each claim; the results' claim -> code."""
    claims = {claim: entry["outcome"] for claim, entry in json.loads(results_path.read_text())["claims"].items()}
    assert counted(terminal) == Counter(outcomes.label(code) for code in claims.values())
    shown = page_path.read_text()
    by_group: dict[str, list[str]] = {}
    for claim, code in claims.items():
        by_group.setdefault(NodeId.of(claim).group, []).append(outcomes.OUTCOMES[code].verdict)
    for group, said in by_group.items():
        assert verdicts(shown, group) == said, group
    return claims


@pytest.fixture(scope="module")
def on_the_standin(standin_home, tmp_path_factory, fault_models):
    if page.missing_packages():
        pytest.skip(f"the page needs {page.missing_packages()}: pip install -e '.[report]'")
    folder = tmp_path_factory.mktemp("outcomes")
    result = run_here(
        "specs/test_09_induction.py", "specs/test_05_output.py", "-k", "induction or predicted or baseline or that",
        "--device", "cpu", f"--spec-report={folder / 'page.html'}", f"--spec-results={folder / 'results.json'}",
        hf_home=standin_home, models=fault_models,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    return result.stdout, folder / "page.html", folder / "results.json"


def test_the_terminal_the_page_and_the_results_agree_claim_by_claim(on_the_standin):
    claims = agree(*on_the_standin)
    found = set(claims.values())
    assert {outcomes.PASSED, outcomes.HELD_STANDIN, outcomes.SKIP_OPENAI} <= found, found
    assert claims["specs/test_09_induction.py::test_the_second_repeat_is_predicted"] == outcomes.HELD_STANDIN
    assert claims["specs/test_05_output.py::test_the_next_token_is_that"] == outcomes.SKIP_OPENAI


def test_a_claim_that_passed_with_no_baseline_reads_no_baseline_yet_everywhere(fault_models, tmp_path):
    """On weights taken for OpenAI's, a baseline nobody recorded checks nothing: the page says so too, never "holds"."""
    claim = "specs/test_07_mlp.py::test_w_in_recomputes_the_mlp_input[cpu-layer 0]"
    pages, results = tmp_path / "page.html", tmp_path / "results.json"
    run = catching.run_specs(fault_models, faults.FAULTS["forged-fingerprint"], claim, f"--spec-report={pages}", f"--spec-results={results}")
    assert run.outcome == {claim: outcomes.NO_BASELINE}, run.output[-2000:]
    assert agree(run.stdout, pages, results) == {NodeId.of(claim).claim: outcomes.NO_BASELINE}
    assert verdicts(pages.read_text(), NodeId.of(claim).group) == ["no baseline yet"]
