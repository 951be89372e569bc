"""Every claim can fail: break the model on purpose (gpt2spec/faults/) and watch the specs that
should notice fail.

The specs run in this process (pytest.main), the model loaded once for the module, each fault
injected into it and undone after its run (harness.suite_state puts the run's global state back).
Each fault runs only the specs named for it here, which must fail; then, every fault undone, the
unbroken model must pass every one of them (the whole table of which claims catch which fault is
``python -m gpt2spec.faults``; CONTRIBUTING.md's test command runs all the specs unbroken).
"""

from __future__ import annotations

import contextlib
import re

import pytest
import torch

from gpt2spec import faults, harness, outcomes
from gpt2spec.faults import catching

MLP, ATTN, OUT, HALF = "specs/test_07_mlp.py", "specs/test_08_attention.py", "specs/test_05_output.py", "specs/test_12_half_precision.py"
EVERY_PARAMETER = "specs/test_06_structure.py::test_every_parameter_is_as_recorded[cpu]"
INDUCTION = "specs/test_09_induction.py"
# What each fault must break, in float32 (every run) ...
CASES = {
    "wrong-activation": [
        f"{MLP}::test_gelu_new_and_w_out_recompute_the_mlp_output[cpu-layer 0]",
        f"{MLP}::test_gelu_new_and_w_out_recompute_the_mlp_output[cpu-layer 11]",
        f"{OUT}::test_log_probabilities_of_the_actual_next_tokens[cpu]",
    ],
    "no-causal-mask": [
        f"{ATTN}::test_nothing_attends_to_the_future_and_rows_sum_to_one[cpu-layer 0]",
        f"{ATTN}::test_the_pattern_is_softmax_of_scaled_masked_q_k[cpu-layer 5]",
        f"{ATTN}::test_the_pattern_the_document_draws[cpu-layer 0 head 5]",
        f"{INDUCTION}::test_layer_5_does_induction_on_the_example[cpu-head 5.5 looks back further than head 0.5]",
        f"{INDUCTION}::test_the_published_induction_heads[cpu-head 7.10 scores above 0.4]",
        f"{INDUCTION}::test_the_second_repeat_is_predicted[cpu]",
    ],
    "heads-off-by-one": [
        f"{INDUCTION}::test_layer_5_does_induction_on_the_example[cpu-head 5.5 looks back further than head 0.5]",
        f"{INDUCTION}::test_layer_5_does_induction_on_the_example[cpu-head 5.1 looks back further than head 0.5]",
        f"{INDUCTION}::test_the_published_induction_heads[cpu-head 5.1 scores above 0.4]",
        f"{INDUCTION}::test_the_published_induction_heads[cpu-head 5.5 scores above 0.4]",
    ],
    "unscaled-attention": [
        f"{ATTN}::test_the_pattern_is_softmax_of_scaled_masked_q_k[cpu-layer 0]",
        f"{INDUCTION}::test_induction_scores_of_all_heads[cpu]",
    ],
    "no-bos": [
        "specs/test_03_tokenization.py::test_the_string_tokens_start_with_endoftext[cpu]",
        "specs/test_03_tokenization.py::test_the_tokens_have_shape_1_by_45[cpu]",
        "specs/test_06_structure.py::test_activation_shapes[cpu-hook_embed has the printed shape]",
        f"{OUT}::test_the_logits_are_1_by_45_by_50257[cpu]",
    ],
    "leaky-residual": ["specs/test_06_structure.py::test_the_residual_stream_adds_up[cpu-block 3 adds attention then MLP]"],
    "perturbed-embedding": [
        "specs/test_04_embedding.py::test_embedding_is_row_lookup[cpu]",
        f"{OUT}::test_log_probabilities_of_the_actual_next_tokens[cpu]",
        f"{MLP}::test_w_in_recomputes_the_mlp_input[cpu-layer 0]",
    ],
    "skewed-final-norm": [
        f"{OUT}::test_the_logits_are_the_unembedded_final_residual[cpu]",
        f"{OUT}::test_the_top_five_next_tokens[cpu]",
    ],
    "wrong-config": ["specs/test_01_config.py::test_the_config_is_gpt2_small[cpu-cfg.act_fn is as printed]"],
    "extra-token": ["specs/test_02_tokenizer.py::test_the_vocabulary_has_50257_tokens[cpu]"],
    "lost-embedding-rows": [EVERY_PARAMETER],
    "cache-alters-logits": [
        f"{OUT}::test_run_with_cache_returns_the_same_logits[cpu]",
        f"{OUT}::test_the_logits_are_1_by_45_by_50257[cpu]",
    ],
}
# ... and in half precision, with --half-precision as for the claims themselves: on this CPU a
# half-precision forward takes 9 s (no bfloat16 or float16 matrix kernels: 20x float32's time).
# Each half-precision claim is seen to fail once, in the dtype that shows it: its code is the same
# for both dtypes, only float16's tolerance is tighter. The MLP's claim is seen to fail in float16,
# to a 3% drift (half-precision-mlp-drift), not again in bfloat16 to ReLU (21 s more here; `python -m
# gpt2spec.faults` runs every fault against every claim, half precision included).
HALF_CASES = {
    "no-causal-mask": [
        f"{HALF}::test_nothing_attends_to_the_future_and_rows_sum_to_one[cpu-bfloat16]",
        f"{HALF}::test_the_pattern_is_softmax_of_scaled_masked_q_k[cpu-bfloat16]",
    ],
    "leaky-residual": [f"{HALF}::test_the_residual_stream_adds_up[cpu-bfloat16]"],
    "negated-half-precision-logits": [f"{HALF}::test_the_top_next_token_is_float32s[cpu-bfloat16]"],
    "half-precision-mlp-drift": [f"{HALF}::test_the_mlp_recomputed_by_hand_equals_the_cache[cpu-float16]"],
}
half_precision = pytest.mark.half_precision  # deselected without --half-precision (gpt2spec.plugin.options)
PARAMS = [pytest.param(name, claims, id=name) for name, claims in CASES.items()] + [
    pytest.param(name, claims, id=f"{name} in half precision", marks=half_precision) for name, claims in HALF_CASES.items()
]


def test_every_fault_has_its_case():
    assert set(CASES) | set(HALF_CASES) | {"forged-fingerprint"} == set(faults.FAULTS)


@pytest.fixture
def models(fault_models: catching.Models) -> catching.Models:
    return fault_models


@pytest.mark.parametrize("name, claims", PARAMS)
def test_a_broken_model_fails_the_specs_that_check_it(models, name, claims):
    run = catching.run_specs(models, faults.FAULTS[name], *claims)
    assert set(run.outcome) == set(claims), f"not all ran: {sorted(set(claims) - set(run.outcome))}"
    missed = set(claims) - run.failed()
    assert not missed, f"{name}: these specs did not notice: {sorted(missed)}\n{run.output[-3000:]}"


def test_only_the_claim_on_every_parameter_sees_embedding_rows_no_example_reads(models):
    """lost-embedding-rows zeroes 256 embedding rows that no token of any claim reads: every other
    claim still holds, so without the checksum of every parameter the damage would pass."""
    run = catching.run_specs(models, faults.FAULTS["lost-embedding-rows"], "-m", "not half_precision")
    assert run.failed() == {EVERY_PARAMETER}, run.output[-3000:]
    assert outcomes.PASSED in run.outcome.values() and len(run.outcome) > 100


def test_claims_that_need_openai_never_pass_on_the_stand_in(models):
    """Skipped by default; with --require-pretrained they fail, saying why."""
    args = ("specs/test_05_output.py", "-k", "that or hello_world", "-rsfE")
    skipped = catching.run_specs(models, None, *args)
    assert set(skipped.outcome.values()) == {outcomes.SKIP_OPENAI} and "needs OpenAI's GPT-2 weights" in skipped.output
    assert "outcomes.Skipped" not in skipped.output, "a skip reason reads as pytest's own, not prefixed by our class"
    required = catching.run_specs(models, None, *args, "--require-pretrained")
    assert "--require-pretrained was given" in required.output
    assert required.failed() >= {
        "specs/test_05_output.py::test_the_next_token_is_that[cpu]",
        "specs/test_05_output.py::test_the_loss_on_hello_world_is_transformerlens_reference[cpu]",
    }


def test_every_openai_claim_fails_on_the_stand_in_taken_for_openai(models):
    """The claims that need OpenAI's weights are real checks: with OpenAI's fingerprint forged into the
    stand-in (faults.forged_fingerprint), every one of them runs and fails; none passes by chance."""
    run = catching.run_specs(models, faults.FAULTS["forged-fingerprint"], "-m", "openai")
    assert not run.ended("passed"), sorted(run.ended("passed"))
    assert len(run.failed()) >= 9, run.output[-3000:]


def test_the_table_names_each_fault_and_fails_on_an_uncaught_one():
    unbroken = harness.Run("", {"a": outcomes.PASSED, "b": outcomes.PASSED}, {"a": 5, "b": None}, "")
    caught = harness.Run("no-bos", {"a": outcomes.FAILED, "b": outcomes.PASSED}, {"a": 5, "b": None}, "")
    missed = harness.Run("extra-token", {"a": outcomes.PASSED, "b": outcomes.PASSED}, {"a": 5, "b": None}, "")
    lines = catching.table([unbroken, caught, missed])
    assert lines[0].startswith("unbroken") and "every claim that ran held" in lines[0]
    assert "no-bos" in lines[1] and "In [5] 1" in lines[1]
    assert "CAUGHT BY NO CLAIM" in lines[2]
    assert catching.problems([unbroken, caught, missed]) == ["extra-token is caught by no claim"]


def test_the_page_shows_the_table(models, tmp_path):
    """``python -m gpt2spec.faults --spec-report PATH``: the unbroken run's page ends with the table."""
    import html

    page = tmp_path / "page.html"
    runs = catching.run_all(models, ["wrong-config"], "specs/test_01_config.py", page=page)
    assert [run.fault for run in runs] == ["", "wrong-config"]
    shown = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())).split())
    assert "What the spec catches: faults" in shown
    assert f"wrong-config {faults.FAULTS['wrong-config'].what} 1 claims: In [5] 1" in shown, shown[-3000:]
    assert "unbroken nothing every claim that ran held (24 ran, 0 skipped)" in shown


def test_an_unrecorded_baseline_is_counted_no_baseline_yet(models, tmp_path):
    """On weights taken for OpenAI's, a baseline nobody has recorded checks nothing: the summary and the
    results file say "no baseline yet", never verified, and --require-baselines fails the run. A baseline the
    document gives (the log of In [29]'s corner) is a real comparison: the stand-in fails it."""
    forged = faults.FAULTS["forged-fingerprint"]
    claim = "specs/test_07_mlp.py::test_w_in_recomputes_the_mlp_input[cpu-layer 0]"
    run = catching.run_specs(models, forged, claim, f"--spec-results={tmp_path / 'results.json'}")
    assert re.search(r"^document claims: 1 no baseline yet \(recorded with --record-baselines\)$", run.output, re.M), run.output[-2000:]
    assert '"outcome": "no-baseline"' in (tmp_path / "results.json").read_text()
    required = catching.run_specs(models, forged, claim, "--require-baselines")
    assert required.code == pytest.ExitCode.TESTS_FAILED and "--require-baselines: the run fails" in required.output
    assert catching.run_specs(models, forged, claim, "--require-pretrained").code == pytest.ExitCode.OK  # whose weights, not baselines
    derived = "specs/test_05_output.py::test_log_probabilities_of_the_first_tokens[cpu]"
    assert catching.run_specs(models, forged, derived).failed() == {derived}


def test_every_fault_undone_the_unbroken_model_passes_them_all(models):
    """The control, run last: the claims the faults broke pass on the same model once each fault is
    undone (hooks removed, config, tokenizer, method and weights restored). In half precision, each
    fault's run has already seen its model whole again (catching.injected: the fingerprint taken
    before its first fault, the weights bit for bit), and the specs' own run sees the claims pass: rerunning them here
    would cost a 9 s forward in each dtype for nothing more."""
    named = sorted({n for names in CASES.values() for n in names})
    run = catching.run_specs(models, None, *named)
    assert set(run.outcome) == set(named) and not run.failed(), run.output[-3000:]


# What each leaky fault below leaves behind, and how to put it back: the test does, after the check.
LEFT: list = []


def leaves_a_hook(model):
    model.add_perma_hook("blocks.0.hook_resid_mid", lambda x, hook: x)
    LEFT.append(lambda: model.hook_dict["blocks.0.hook_resid_mid"].fwd_hooks.pop().hook.remove())
    yield


def leaves_the_config(model):
    act_fn, model.cfg.act_fn = model.cfg.act_fn, "relu"
    LEFT.append(lambda: setattr(model.cfg, "act_fn", act_fn))
    yield


def leaves_a_weight(model):
    value = model.W_E[0, 0].item()
    model.W_E[0, 0] += 1.0
    LEFT.append(lambda: model.W_E[0, 0].fill_(value))
    yield


@pytest.mark.parametrize(
    "fault, says",
    [(leaves_a_hook, "the hooks at blocks.0.hook_resid_mid"), (leaves_the_config, "cfg.act_fn"), (leaves_a_weight, "the weight ")],
    ids=["a hook left behind", "a config field left changed", "a weight left changed"],
)
def test_a_fault_that_is_not_undone_is_named(models, fault, says):
    """What lets the half-precision runs go without a control that reruns their claims: a fault that
    leaves anything behind fails its run (catching.injected, which every fault's run goes through,
    raises NotUndone) and names what it left."""
    catching.run_specs(models, faults.FAULTS["wrong-config"], "specs/test_01_config.py", "-k", "act_fn")  # loaded, fingerprinted
    key = ("cpu", torch.float32)
    model, whole = models.loaded[key], models.whole[key]
    leaky = faults.Fault(fault.__name__, "", contextlib.contextmanager(fault))
    try:
        with pytest.raises(catching.NotUndone, match=rf"^{fault.__name__} left the model changed \(\d+\): (.*, )?{says}"):
            with catching.injected(model, leaky, whole):
                pass
    finally:
        while LEFT:
            LEFT.pop()()
    with catching.injected(model, faults.FAULTS["wrong-config"], whole):  # whole again: no NotUndone
        pass
