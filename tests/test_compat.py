"""COMPATIBILITY.md shows where each run ran and what each axis package was asked for; results written
before provenance was kept, or before outcome codes (format 1), still table; the committed results/
carry their provenance; a bisect's findings become the release history."""

from __future__ import annotations

import json

import pytest
from packaging.version import Version

from gpt2spec import outcomes, results
from gpt2spec.radar import compat
from gpt2spec.provenance import FIELDS

from .conftest import ROOT
from .test_changes import HELD, SKIPPED, claim, run


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
    assert "| device | - | cpu |" in page and "| dtype | - | torch.float32 |" in page
    assert "| weights | - | NOT OpenAI's GPT-2 small |" in page


def test_the_table_shows_what_each_axis_was_asked_for_and_got():
    new = run()
    new["provenance"]["axes"] = [
        {"package": "transformers", "asked": "newest", "target": "5.25.0", "newest": "5.25.0", "oldest": "5.9.0",
         "allowed": "transformer-lens 4.3.0: >=5.9.0", "installed": "5.24.0", "why": "5.25.0 needs kernels<0.20,>=0.19.1, which the index does not have (pip)", "accepted": True},
    ]  # fmt: skip
    page = compat.table([new, run()])
    assert "| transformers: asked; offered (oldest allowed to newest); installed | newest; 5.9.0 to 5.25.0; 5.24.0, not 5.25.0: 5.25.0 needs kernels<0.20,>=0.19.1, which the index does not have (pip) (accepted) | - |" in page


def test_format_1_sentences_and_format_2_codes_give_the_same_cells():
    old, new = run(), run()
    new["format"] = results.FORMAT
    for name, entry in new["claims"].items():
        entry["outcome"] = outcomes.code(entry["outcome"])
    assert new["claims"][SKIPPED]["outcome"] == outcomes.SKIP_OPENAI and old["claims"][SKIPPED]["outcome"].startswith("skipped (")
    assert [compat.cell(old["claims"][c], 4) for c in (HELD, SKIPPED)] == [compat.cell(new["claims"][c], 4) for c in (HELD, SKIPPED)] == ["pass", "skip (OpenAI)"]
    assert compat.cell(claim(outcomes.FAILED), 4) == compat.cell(claim("failed"), 4) == "**FAIL**"


def test_a_pipe_in_a_claim_is_escaped_in_the_table():
    found = run()
    found["claims"] = {"specs/test_02_tokenizer.py::test_special_tokens[the bos is <|endoftext|>]": claim()}
    assert "| `test_02_tokenizer.py::test_special_tokens[the bos is <\\|endoftext\\|>]` | pass |  |" in compat.table([found])


def test_the_release_history_cites_the_first_release_and_its_notes():
    found = {
        "package": "transformer_lens", "old": "2.18.0", "new": "3.0.0", "releases": ["2.18.0", "3.0.0"],
        "ran": {"2.18.0": "TL 2.18.0", "3.0.0": "TL 3.0.0"}, "not_installed": {},
        "changes": [{"kind": "cache_keys", "what": "unembed.hook_in", "first": "3.0.0", "before": False, "after": True, "cause": "PR #1131"}],
        "notes": {"3.0.0": "https://github.com/TransformerLensOrg/TransformerLens/releases/tag/v3.0.0"},
    }  # fmt: skip
    page = compat.history([found, found | {"old": "3.0.0", "new": "3.9.0", "changes": [], "not_installed": {"3.4.0": "pip: no"}}])
    assert "### transformer_lens 2.18.0 to 3.0.0" in page and "### transformer_lens 3.0.0 to 3.9.0" in page
    assert "| [3.0.0](https://github.com/TransformerLensOrg/TransformerLens/releases/tag/v3.0.0) | cache keys of the document's run_with_cache (In [16]): `unembed.hook_in` | absent | present | PR #1131 |" in page
    assert "Nothing changed from 3.0.0 to 3.9.0" in page and "Not installed: 3.4.0: pip: no." in page


@pytest.mark.parametrize("path", sorted((ROOT / "results").glob("tl-*.json")), ids=lambda p: p.name)
def test_committed_results_carry_their_provenance(path):
    found = json.loads(path.read_text())
    provenance = {**found["provenance"], "transformer_lens": found["versions"]["transformer_lens"]}
    assert all(provenance.get(field) for field in FIELDS), [f for f in FIELDS if not provenance.get(f)]
    assert provenance["cache_keys"] and provenance["tl_parameters"] and provenance["named_parameters"]
    version = Version(provenance["transformer_lens"])
    assert path.name == f"tl-{version.major}.{version.minor}.json"


def test_a_renamed_claim_is_tabled_and_dated_under_its_current_name(tmp_path):
    """Results and bisect findings written before a claim's rename name it as the specs do now (outcomes.RENAMED)."""
    (old, new), = outcomes.RENAMED.items()
    found = run()
    found["claims"] = {old: claim()}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(found))
    history = tmp_path / "history.json"
    change = {"kind": "drift", "what": old, "first": "3.0.0", "before": "0.0e+00", "after": "1.0e-06", "cause": None}
    history.write_text(json.dumps({"package": "transformer_lens", "old": "2.18.0", "new": "3.0.0", "releases": ["2.18.0", "3.0.0"],
                                   "ran": {}, "not_installed": {}, "changes": [change], "notes": {}}))  # fmt: skip
    assert compat.main([str(path), "--history", str(history), "-o", str(tmp_path / "COMPATIBILITY.md")]) == 0
    page = (tmp_path / "COMPATIBILITY.md").read_text()
    short = lambda claim: claim.removeprefix("specs/")
    assert page.count(short(new)) == 2 and short(old) not in page


def test_the_page_opens_with_its_summary_and_legend_then_the_table():
    found = run()
    found["provenance"]["weights"] = "NOT OpenAI's GPT-2 small (fingerprint In [14] is off by 0.0844)"
    found["claims"] = {HELD: claim(), SKIPPED: claim("skip-openai")}
    page = compat.table([found])
    assert "- TL 4.3.0: 1 pass, 1 skip (OpenAI)" in page and "Failures: TL 4.3.0: 0." in page
    assert "Every column ran on the stand-in" in page
    assert page.index("- TL 4.3.0:") < page.index("| cell | meaning |") < page.index("| where it ran |") < page.index("| claim |")
    found["provenance"]["weights"] = "OpenAI's GPT-2 small"
    assert "Every column ran on the stand-in" not in compat.table([found])


def test_a_mechanism_claim_shows_its_margin_per_version():
    from .test_changes import HEAD, mechanisms

    old, new = mechanisms(0.55, 4.9), mechanisms(0.30, 4.9)
    old["versions"]["transformer_lens"] = "3.9.0"
    page = compat.table([old, new])
    assert "| `test_09_induction.py::test_the_published_induction_heads[head 5.5 scores above 0.4]` | held on the stand-in, margin 0.55 | held on the stand-in, margin 0.3 |" in page.replace(
        outcomes.of(outcomes.HELD_STANDIN).cell, "held on the stand-in"
    )
    assert "Margin: " in page
    before_margins = mechanisms(None, None)
    assert compat.with_margin(before_margins["claims"][HEAD], 4) == compat.cell(before_margins["claims"][HEAD], 4), "a file without margins reads as before"
