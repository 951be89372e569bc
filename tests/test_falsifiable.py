"""Every claim can fail: break the model on purpose and watch the specs that should notice fail.

Each case runs the specs in a fresh process on the stand-in with one deliberate defect, and
names specs that must fail; a control run with no defect must pass them all.
"""

import pytest

from .conftest import failed_ids, run_pytest

SPECS = "specs/"
CASES = {
    "wrong-activation": [
        "specs/test_07_mlp.py::test_gelu_new_and_w_out_recompute_the_mlp_output[cpu-layer 0]",
        "specs/test_07_mlp.py::test_gelu_new_and_w_out_recompute_the_mlp_output[cpu-layer 11]",
        "specs/test_05_output.py::test_log_probabilities_of_the_actual_next_tokens[cpu]",
        "specs/test_12_half_precision.py::test_the_mlp_recomputed_by_hand_equals_the_cache[cpu-bfloat16]",
    ],
    "no-causal-mask": [
        "specs/test_08_attention.py::test_nothing_attends_to_the_future_and_rows_sum_to_one[cpu-layer 0]",
        "specs/test_08_attention.py::test_the_pattern_is_softmax_of_scaled_masked_q_k[cpu-layer 5]",
        "specs/test_08_attention.py::test_the_pattern_the_document_draws[cpu-layer 0 head 5]",
        "specs/test_12_half_precision.py::test_nothing_attends_to_the_future_and_rows_sum_to_one[cpu-bfloat16]",
        "specs/test_12_half_precision.py::test_the_pattern_is_softmax_of_scaled_masked_q_k[cpu-bfloat16]",
    ],
    "unscaled-attention": [
        "specs/test_08_attention.py::test_the_pattern_is_softmax_of_scaled_masked_q_k[cpu-layer 0]",
        "specs/test_09_induction.py::test_induction_scores_of_all_heads[cpu]",
        "specs/test_12_half_precision.py::test_the_pattern_is_softmax_of_scaled_masked_q_k[cpu-bfloat16]",
    ],
    "no-bos": [
        "specs/test_03_tokenization.py::test_the_string_tokens_start_with_endoftext[cpu]",
        "specs/test_03_tokenization.py::test_the_tokens_have_shape_1_by_45[cpu]",
        "specs/test_06_structure.py::test_activation_shapes[cpu-hook_embed has the printed shape]",
        "specs/test_05_output.py::test_the_logits_are_1_by_45_by_50257[cpu]",
    ],
    "leaky-residual": [
        "specs/test_06_structure.py::test_the_residual_stream_adds_up[cpu-block 3 adds attention then MLP]",
        "specs/test_12_half_precision.py::test_the_residual_stream_adds_up[cpu-bfloat16]",
    ],
    "perturbed-embedding": [
        "specs/test_04_embedding.py::test_embedding_is_row_lookup[cpu]",
        "specs/test_05_output.py::test_log_probabilities_of_the_actual_next_tokens[cpu]",
        "specs/test_07_mlp.py::test_w_in_recomputes_the_mlp_input[cpu-layer 0]",
    ],
    "skewed-final-norm": [
        "specs/test_05_output.py::test_the_logits_are_the_unembedded_final_residual[cpu]",
        "specs/test_05_output.py::test_the_top_five_are_sorted[cpu]",
    ],
    "negated-half-precision-logits": [
        "specs/test_12_half_precision.py::test_the_top_next_token_is_float32s[cpu-bfloat16]",
        "specs/test_12_half_precision.py::test_the_top_next_token_is_float32s[cpu-float16]",
    ],
    "wrong-config": ["specs/test_01_config.py::test_the_config_is_gpt2_small[cpu-cfg.act_fn is as printed]"],
    "extra-token": ["specs/test_02_tokenizer.py::test_the_vocabulary_has_50257_tokens[cpu]"],
}


def test_the_unbroken_model_passes(standin_home):
    result = run_pytest(SPECS, "--device", "cpu", "--half-precision", hf_home=standin_home)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("kind", list(CASES))
def test_a_broken_model_fails_the_specs_that_check_it(standin_home, kind):
    half = ["--half-precision"] if any("test_12_half_precision" in spec for spec in CASES[kind]) else []
    result = run_pytest(SPECS, "--device", "cpu", *half, "-p", "tests.breakers", "--break", kind, hf_home=standin_home)
    assert result.returncode == 1, result.stdout[-3000:]
    missed = set(CASES[kind]) - failed_ids(result)
    assert not missed, f"{kind}: these specs did not notice: {sorted(missed)}"


def test_claims_that_need_openai_never_pass_on_the_stand_in(standin_home):
    """Skipped by default; with --require-pretrained they fail, saying why."""
    args = ("specs/test_05_output.py", "--device", "cpu", "-k", "that or hello_world", "-rsfE")
    skipped = run_pytest(*args, hf_home=standin_home)
    assert skipped.returncode == 0 and "needs OpenAI's GPT-2 weights" in skipped.stdout
    last = skipped.stdout.strip().splitlines()[-1]
    assert "skipped" in last and "passed" not in last, last
    required = run_pytest(*args, "--require-pretrained", hf_home=standin_home)
    assert required.returncode == 1
    assert "--require-pretrained was given" in required.stdout
    assert failed_ids(required) >= {
        "specs/test_05_output.py::test_the_next_token_is_that[cpu]",
        "specs/test_05_output.py::test_the_loss_on_hello_world_is_transformerlens_reference[cpu]",
    }


def test_every_openai_claim_fails_on_the_stand_in_taken_for_openai(standin_home):
    """The claims that need OpenAI's weights are real checks: taken for OpenAI's (a test-only switch),
    the stand-in fails every one of them; none passes by chance."""
    result = run_pytest(SPECS, "--device", "cpu", "-m", "openai", "-p", "tests.breakers", "--pretend-openai", hf_home=standin_home)
    last = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 1 and "passed" not in last, last
    assert len(failed_ids(result)) >= 19
