"""What a run prints: the header, whose weights, the counts, the times, and the CPU vs CUDA table."""

import re

from gpt2spec import timing
from specs import test_10_devices as devices

from .conftest import run_here


def test_the_header_and_the_closing_summary(standin_home, fault_models):
    result = run_here("specs/test_03_tokenization.py", "specs/test_04_embedding.py", "-v", hf_home=standin_home, models=fault_models)  # -v: with -q, no header
    out = result.stdout
    assert result.returncode == 0, out[-2000:]
    assert re.search(r"^gpt2spec: transformer_lens \S+, torch \S+, transformers \S+$", out, re.M)
    assert "gpt2spec: GPT-2 small from stand-in weights, seed 20240101" in out
    assert "weights on cpu: NOT OpenAI's GPT-2 small (fingerprint In [14] is off by" in out
    assert re.search(r"^document claims: 6 verified, 1 skipped \(need OpenAI's weights\)", out, re.M)
    assert re.search(r"^time: the whole run [\d.]+ s; of it load the model on cpu [\d.]+ s", out, re.M)


def test_the_cpu_vs_cuda_table_with_benchmarks_on(standin_home, fault_models, monkeypatch):
    """One compact table of the claims whose work costs something, not pytest-benchmark's table per claim; its
    conditions; the paired TransformerLens / Hugging Face ratios with their intervals; the fidelity table.
    (The table's form, not its figures: 2 rounds where a run takes 5 or 3, and 3 pairs or more where it takes 6 to 9,
    so the ratios come with their range.)"""
    monkeypatch.setattr(devices, "MIN_PAIRS", 3)  # the run is in this process: the spec module is this one
    monkeypatch.setattr(devices, "MAX_PAIRS", 3)
    monkeypatch.setattr(timing, "ROUNDS", 2)
    monkeypatch.setattr(timing, "HEAVY_ROUNDS", 2)
    result = run_here(
        "specs/test_05_output.py", "specs/test_10_devices.py", "-k", "reference or 1_by_45_by_50257 or run_with_cache or top_token or costs",
        "--benchmark-enable", hf_home=standin_home, models=fault_models,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out[-2000:]
    assert "CPU vs CUDA: each claim's own work (median of 2 rounds, 2 for a model pass or work of 0.1 s or more, 1 where a call takes near a second), paired ratios, fidelity" in out
    assert "Min " not in out and "OPS" not in out, "pytest-benchmark's own tables are off (--benchmark-quiet)"
    rows = re.findall(r"^(In \[\d+\]|beyond)\s+(\S.*?)\s+([\d.]+)\s+(\S+)$", out, re.M)
    assert [(cell, code) for cell, code, *_ in rows] == [
        ("In [15]", "model(run.tokens)"),
        ("In [16]", "model.run_with_cache(run.tokens)"),
        ("beyond", "hugging_face(run.tokens).logits"),
    ], "a look-up (In [21]'s argmax) is not a row"
    assert all(float(cpu) > 0 and cuda == "-" for *_, cpu, cuda in rows), "no CUDA here"
    assert re.search(r"^conditions: device name .+; threads \d+ torch threads \(.+\); dtype float32; attention eager$", out, re.M)
    interval = r"[\d.]+x \([\d.]+-[\d.]+, [3-9] pairs\)"  # 3, or more while under MIN_SECONDS
    assert re.search(rf"^TransformerLens over Hugging Face \(eager\) on CPU, .*: forward {interval}, run_with_cache {interval}$", out, re.M)
    assert re.search(r"^the document's 45 tokens: forward vs GPT2LMHeadModel\s+cpu\s+float32\s+\S+\s+\S+$", out, re.M)


def test_the_terminal_and_the_page_say_one_summary_in_one_order(tmp_path):
    """Both render gpt2spec.summary: the counts in outcomes.ORDER (what held first), the same numbers."""
    import html

    from gpt2spec import outcomes, page, summary
    from gpt2spec.tally import Record, Tally

    tally = Tally()
    for name, outcome, reason in (("a", outcomes.SKIP_OPENAI, "needs OpenAI's GPT-2 weights"), ("b", outcomes.FAILED, ""), ("c", outcomes.PASSED, ""), ("d", outcomes.PASSED, "")):
        tally.records[name] = Record(
            nodeid=f"specs/test_05_output.py::test_{name}[cpu]",
            section="Output.", words=f"In [21]: {name}.", cell=21, openai=False,
            versioned=None, outcome=outcome, reason=reason,
        )  # fmt: skip
    said = "2 verified, 1 failed, 1 skipped (need OpenAI's weights)"
    assert summary.terminal_lines(summary.of(tally))[0] == f"document claims: {said}"
    page.write(tmp_path / "page.html", tally)
    shown = html.unescape(re.sub(r"<[^>]+>", "", (tmp_path / "page.html").read_text()))
    assert f"the document's claims{said} (runs: a claim counts once per device)" in shown
