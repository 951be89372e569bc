"""`python -m gpt2spec.radar.changes OLD NEW`: each kind of difference is reported, and the exit code gates
on a claim that held and now fails. The results files are made here, by hand: no model runs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gpt2spec import outcomes
from gpt2spec.radar import changes

from .conftest import ROOT

HELD = "specs/test_05_output.py::test_softmax_rows_sum_to_one"
SKIPPED = "specs/test_05_output.py::test_the_next_token_is_that"
DRIFTS = "specs/test_07_mlp.py::test_w_in_recomputes_the_mlp_input[layer 0]"
GONE = "specs/test_06_structure.py::test_block_0_has_exactly_the_printed_parameters"
ROUNDING = "specs/test_09_induction.py::test_repeated_loss_baseline"
NEW = "specs/test_11_new.py::test_a_claim_the_upgrade_brought"


def claim(outcome: str = "verified", drift: float | None = None) -> dict:
    return {"outcome": outcome, "reason": "", "versioned": None, "drift": drift}


def run(transformers: str = "5.24.0") -> dict:
    return {
        "versions": {"transformer_lens": "4.3.0", "torch": "2.13.0+cpu", "transformers": transformers},
        "provenance": {
            "numpy": "2.4.6", "python": "3.11.7", "device": "cpu", "dtype": "torch.float32",
            "cache_keys": ["hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre"],
            "tl_parameters": ["embed.W_E", "pos_embed.W_pos"],
            "named_parameters": ["transformer.wte.weight", "transformer.wpe.weight"],
        },  # fmt: skip
        "claims": {
            HELD: claim(),
            SKIPPED: claim("skipped (need OpenAI's weights)"),
            DRIFTS: claim(drift=1e-6),
            GONE: claim(),
            ROUNDING: claim(drift=2.0e-6),
        },
    }


def upgraded() -> dict:
    new = copy.deepcopy(run("5.9.0"))
    new["claims"][HELD] = claim("failed")
    new["claims"][DRIFTS] = claim(drift=3e-5)
    new["claims"][ROUNDING] = claim(drift=2.04e-6)  # the same printed decimals, rounded differently
    del new["claims"][GONE]
    new["claims"][NEW] = claim()
    new["provenance"]["cache_keys"] = ["hook_embed", "hook_pos_embed", "blocks.0.hook_in"]
    new["provenance"]["tl_parameters"].append("blocks.0.ln1.w")
    return new


def write(path: Path, results: dict) -> Path:
    path.write_text(json.dumps(results))
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "old.json", run()), write(tmp_path / "new.json", upgraded())


def test_each_kind_of_difference_is_reported(files, tmp_path, capsys):
    old, new = files
    out = tmp_path / "CHANGES.md"
    assert changes.main([str(old), str(new), "-o", str(out)]) == 1
    printed, written = capsys.readouterr().out, out.read_text()
    for report in (printed, written):
        assert "transformers 5.24.0" in report and "transformers 5.9.0" in report
        assert "test_softmax_rows_sum_to_one" in report and "FAIL" in report  # outcome changed
        assert "test_a_claim_the_upgrade_brought" in report  # new
        assert "test_block_0_has_exactly_the_printed_parameters" in report  # gone
        assert "1.0e-06" in report and "3.0e-05" in report  # drift grew, with its size
        assert "blocks.0.hook_in" in report and "blocks.0.hook_resid_pre" in report  # cache key added, removed
        assert "blocks.0.ln1.w" in report  # parameter name added
    assert "1 claim that held now fails" in printed
    assert "setting  transformers: 5.24.0 -> 5.9.0" in printed and "| transformers | 5.24.0 | 5.9.0 |" in written
    assert "setting  numpy" not in printed  # unchanged settings are not listed
    assert "| `test_05_output.py::test_softmax_rows_sum_to_one` | pass | **FAIL** |" in written
    assert "test_the_next_token_is_that" not in printed  # unchanged claims are not listed
    assert "test_repeated_loss_baseline" not in printed  # nor drift that grew below its shown precision


def test_the_command_exits_1_on_a_newly_failing_claim_and_0_when_nothing_got_worse(files, tmp_path):
    old, new = files

    def command(*paths: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gpt2spec.radar.changes", *map(str, paths)], cwd=ROOT, capture_output=True, text=True)

    assert command(old, new).returncode == 1
    better = upgraded()
    better["claims"][HELD] = claim()
    assert command(old, write(tmp_path / "better.json", better)).returncode == 0  # other changes do not gate
    same = command(old, old)
    assert same.returncode == 0 and "nothing" in same.stdout


def test_a_claim_failing_on_both_sides_does_not_gate(tmp_path):
    before, after = run(), run()
    before["claims"][HELD] = after["claims"][HELD] = claim("failed")
    assert changes.main([str(write(tmp_path / "a.json", before)), str(write(tmp_path / "b.json", after))]) == 0


def test_the_report_says_what_each_axis_was_asked_for_and_an_accepted_substitute(files, tmp_path, capsys):
    new = upgraded()
    new["provenance"]["axes"] = [
        {"package": "transformers", "asked": "newest", "target": "5.25.0", "newest": "5.25.0", "oldest": "5.9.0",
         "allowed": "", "installed": "5.24.0", "why": "5.25.0 needs kernels<0.20,>=0.19.1, which the index does not have (pip)", "accepted": True},
    ]  # fmt: skip
    out = tmp_path / "CHANGES.md"
    changes.main([str(files[0]), str(write(tmp_path / "n.json", new)), "-o", str(out)])
    printed, written = capsys.readouterr().out, out.read_text()
    for report in (printed, written):
        assert "transformers: asked newest (5.25.0); index: newest 5.25.0, oldest allowed 5.9.0; installed 5.24.0, not 5.25.0: 5.25.0 needs" in report
        assert "the newest installable transformers" in report


def test_format_2_codes_gate_like_format_1_sentences(files, tmp_path):
    coded = upgraded()
    coded["format"] = 2
    coded["claims"][HELD]["outcome"] = "failed"
    coded["claims"][SKIPPED]["outcome"] = "skip-openai"
    assert changes.main([str(files[0]), str(write(tmp_path / "coded.json", coded))]) == 1
    same = run()
    same["format"] = 2
    for entry in same["claims"].values():
        entry["outcome"] = {"verified": "passed"}.get(entry["outcome"], "skip-openai")
    found = changes.compare(run(), same)
    assert not found.outcomes and not found.newly_failing  # the same outcomes, in either format


def test_results_without_provenance_still_compare(tmp_path, capsys):
    old = run()
    del old["provenance"]
    assert changes.main([str(write(tmp_path / "old.json", old)), str(write(tmp_path / "new.json", upgraded()))]) == 1
    assert "predates provenance" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, says",
    [
        (None, "cannot read"), ("{not json", "is not JSON"), ('{"claims": []}', "is not a results file"),
        ('{"format": 99, "claims": {}, "versions": {"transformer_lens": "9.0.0"}}', "newer than this gpt2spec reads"),
    ],  # fmt: skip
    ids=["missing file", "not JSON", "not results", "a newer format"],
)
def test_bad_input_gets_one_line(tmp_path, files, content, says):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    out = tmp_path / "CHANGES.md"
    done = subprocess.run(
        [sys.executable, "-m", "gpt2spec.radar.changes", str(files[0]), str(bad), "-o", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


HEAD = "specs/test_09_induction.py::test_the_published_induction_heads[head 5.5 scores above 0.4]"
LOSS = "specs/test_09_induction.py::test_the_second_repeat_is_predicted"


def mechanisms(head: float | None, loss: float | None) -> dict:
    """A run whose mechanism claims held, with these margins (None: recorded before margins were)."""
    found = run()
    found["claims"] = {HEAD: {**claim(outcomes.HELD_STANDIN), "margin": head}, LOSS: {**claim(outcomes.HELD_STANDIN), "margin": loss}}
    if head is None:
        del found["claims"][HEAD]["margin"]
    return found


def test_a_margin_that_shrinks_by_more_than_a_tenth_is_reported(tmp_path, capsys):
    """The head's margin over 0.4 falls from 0.55 to 0.30 (it still holds); the loss's moves by fp32 noise only."""
    old, new = write(tmp_path / "old.json", mechanisms(0.55, 4.9)), write(tmp_path / "new.json", mechanisms(0.30, 4.9 - 2e-5))
    out = tmp_path / "CHANGES.md"
    assert changes.main([str(old), str(new), "-o", str(out)]) == 0, "a shrinking margin reports; only a failure gates"
    printed, written = capsys.readouterr().out, out.read_text()
    assert "margin   test_09_induction.py::test_the_published_induction_heads[head 5.5 scores above 0.4]: 0.55 -> 0.3 (45% of it lost)" in printed
    assert "## Margins that shrank" in written and "| 0.55 | 0.3 | 45% of it lost |" in written
    assert "test_the_second_repeat_is_predicted" not in printed


def test_a_margin_within_a_tenth_or_unrecorded_is_not_reported(tmp_path, capsys):
    assert not changes.compare(mechanisms(0.55, 4.9), mechanisms(0.50, 4.5)).margins  # 9% and 8% lost: within a tenth
    assert not changes.compare(mechanisms(None, 4.9), mechanisms(0.30, 5.0)).margins, "a file from before margins: nothing to compare"
    assert not changes.compare(mechanisms(-0.1, 4.9), mechanisms(-0.3, 4.9)).margins, "already below its bar: its outcome says so"
    assert changes.shrank(0.55, 0.49) and not changes.shrank(4e-5, 0.0), "a tenth, and more than fp32 noise"
