"""What a run prints: the header, whose weights, the counts, the times, and the CPU vs CUDA table."""

import re

from .conftest import run_pytest


def test_the_header_and_the_closing_summary(standin_home):
    result = run_pytest("specs/test_03_tokenization.py", "specs/test_04_embedding.py", "-v", hf_home=standin_home)  # -v: with -q, no header
    out = result.stdout
    assert result.returncode == 0, out[-2000:]
    assert re.search(r"^gpt2spec: transformer_lens \S+, torch \S+, transformers \S+$", out, re.M)
    assert "gpt2spec: GPT-2 small from stand-in weights, seed 20240101" in out
    assert "weights on cpu: NOT OpenAI's GPT-2 small (fingerprint In [14] is off by" in out
    assert re.search(r"^document claims: 6 verified, 1 skipped \(need OpenAI's weights\)", out, re.M)
    assert re.search(r"^time: the whole run [\d.]+ s; of it load the model on cpu [\d.]+ s", out, re.M)


def test_the_cpu_vs_cuda_table_with_benchmarks_on(standin_home):
    result = run_pytest("specs/test_10_devices.py", "-k", "reference", "--benchmark-enable", hf_home=standin_home)
    out = result.stdout
    assert result.returncode == 0, out[-2000:]
    assert "CPU vs CUDA (median of each claim's own work)" in out
    rows = re.findall(r"^test_10_devices :: (test_reference_\w+)\s+([\d.]+)\s+(\S+)\s+(\S+)$", out, re.M)
    assert {r[0] for r in rows} == {
        "test_reference_hugging_face_forward",
        "test_reference_transformerlens_forward",
        "test_reference_transformerlens_run_with_cache",
    }
    assert all(float(cpu) > 0 and cuda == "-" and speedup == "-" for _, cpu, cuda, speedup in rows), "no CUDA here"
