"""Controls: the claims that need OpenAI's weights, seen to pass, and the mechanism claims seen both ways.

On the stand-in the ``openai`` claims can only be seen to fail, and the ``mechanism`` claims pass on its
built circuit. Each mechanism control writes the mechanism a claim describes through TransformerLens
hooks (``model.hooks``), and takes it out (the heads resting on BOS), and runs the claim's own check
(a function of its spec file): it must pass with the mechanism and fail without. The claims that
compare with printed values are controlled at the comparison the spec runs (``printed == value``:
the snapshot extension's serializer and ``matches``): the document's printed numbers pass, and each
number moved one printed unit beyond its tolerance fails.
"""

from __future__ import annotations

import ast
import re

import pytest
import torch
from jaxtyping import Float, Int
from torch import Tensor

from gpt2spec import compare as values, snapshot as numeric
from gpt2spec.faults import catching
from gpt2spec.run import document_run
from specs import test_09_induction as induction

from .conftest import ROOT


@pytest.fixture(scope="module")
def gpt2(fault_models: catching.Models):
    """The stand-in in float32, loaded as a run of the suite loads it (one small in-process run)."""
    catching.run_specs(fault_models, None, "specs/test_01_config.py", "-k", "d_model")
    return fault_models.loaded["cpu", torch.float32]


def induction_pattern(tokens: Int[Tensor, "batch pos"]) -> Float[Tensor, "batch q k"]:
    """What an induction head attends to: from each token to the token after its earlier occurrences
    (evenly, if several); where there is none, to the first token (BOS), where heads rest."""
    n = tokens.shape[-1]
    earlier = (tokens[:, :, None] == tokens[:, None, :]) & torch.ones(n, n, dtype=torch.bool, device=tokens.device).tril(-1)
    pattern = torch.zeros(earlier.shape, device=tokens.device)
    pattern[..., 1:] = earlier[..., :-1].float()  # p earlier -> attend to p + 1 (<= q, since p < q)
    pattern[..., 0] += (pattern.sum(dim=-1) == 0).float()
    return pattern / pattern.sum(dim=-1, keepdim=True)


def induction_heads(tokens: Tensor, heads: list[tuple[int, int]]) -> list[tuple[str, object]]:
    """Forward hooks that write the induction pattern into these heads' hook_pattern."""
    pattern = induction_pattern(tokens)

    def write(p: Tensor, hook, head: int) -> Tensor:
        p = p.clone()
        p[:, head] = pattern.to(p.dtype)
        return p

    return [(f"blocks.{layer}.attn.hook_pattern", lambda p, hook, h=head: write(p, hook, h)) for layer, head in heads]


def resting(heads: list[tuple[int, int]]) -> list[tuple[str, object]]:
    """Forward hooks that take the mechanism out: these heads attend to BOS alone, whatever the tokens."""

    def rest(p: Tensor, hook, head: int) -> Tensor:
        p = p.clone()
        p[:, head] = 0
        p[:, head, :, 0] = 1
        return p

    return [(f"blocks.{layer}.attn.hook_pattern", lambda p, hook, h=head: rest(p, hook, h)) for layer, head in heads]


def copying(model, tokens: Tensor, strength: float = 30.0) -> tuple[str, object]:
    """A forward hook on the final LayerNorm's output that raises, by ``strength`` nats, the logit of the
    token an induction head attending by ``induction_pattern`` would copy: the token after the earlier
    occurrence (where there is one)."""
    pattern = induction_pattern(tokens)
    target = pattern.argmax(dim=-1)  # the attended position; 0 (BOS) where nothing came earlier
    copied = tokens.gather(-1, target)
    directions = model.W_U[:, copied].permute(1, 2, 0)  # batch pos d_model
    push = strength * directions / directions.pow(2).sum(dim=-1, keepdim=True)
    push[target == 0] = 0

    return "ln_final.hook_normalized", lambda x, hook: x + push.to(x.dtype)


def test_the_published_induction_heads_control(gpt2):
    """specs/test_09: heads 5.1, 5.5, 6.9, 7.2, 7.10 score above 0.4: with an induction pattern written into
    them, the check passes for each; with the heads resting on BOS, for none."""
    tokens = induction.repeated_random_tokens(gpt2)
    with gpt2.hooks(fwd_hooks=resting(induction.INDUCTION_HEADS) + induction_heads(tokens, induction.INDUCTION_HEADS)):
        scores, _ = induction.induction_scores(gpt2, tokens)
    assert all(induction.is_induction_head(scores, head) for head in induction.INDUCTION_HEADS), scores
    with gpt2.hooks(fwd_hooks=resting(induction.INDUCTION_HEADS)):
        rested, _ = induction.induction_scores(gpt2, tokens)
    assert not any(induction.is_induction_head(rested, head) for head in induction.INDUCTION_HEADS), rested


@pytest.mark.parametrize("head", [5, 1])
def test_layer_5_does_induction_on_the_example_control(gpt2, head):
    """specs/test_09: layer 5's head looks back to the induction targets on the document's example:
    passes with an induction pattern in that head, fails with the head resting on BOS."""
    tokens = document_run(gpt2).tokens
    with gpt2.hooks(fwd_hooks=resting([(5, head)]) + induction_heads(tokens, [(5, head)])):
        injected = document_run(gpt2)
    assert induction.does_induction(induction.looks_back(injected.cache, injected.tokens[0], head))
    with gpt2.hooks(fwd_hooks=resting([(5, head)])):
        rested = document_run(gpt2)
    assert not induction.does_induction(induction.looks_back(rested.cache, rested.tokens[0], head))


def test_the_second_repeat_is_predicted_control(gpt2):
    """specs/test_09: the loss on the second r falls under half the first's: with the induction heads
    resting on BOS it does not (nothing else predicts it); with the induction target copied into the
    logits as well, it does."""
    tokens = induction.repeated_random_tokens(gpt2)
    rest = resting(induction.INDUCTION_HEADS)
    with gpt2.hooks(fwd_hooks=[*rest, copying(gpt2, tokens)]):
        _, loss = induction.induction_scores(gpt2, tokens)
    assert induction.second_repeat_predicted(induction.half_losses(loss)), induction.half_losses(loss)
    with gpt2.hooks(fwd_hooks=rest):
        _, rested = induction.induction_scores(gpt2, tokens)
    assert not induction.second_repeat_predicted(induction.half_losses(rested)), induction.half_losses(rested)


# ---- the claims that compare with printed values -------------------------------------------------


def printed_claims() -> list[tuple[str, str]]:
    """(spec file, test) for each ``openai`` claim that compares with the document (asks for ``printed``)."""
    found = []
    for path in sorted((ROOT / "specs").glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and "printed" in {a.arg for a in node.args.args}:
                marks = {ast.unparse(d) for d in node.decorator_list}
                if "pytest.mark.openai" in marks:
                    found.append((path.name, node.name))
    return found


def entry(spec_file: str, name: str) -> str:
    """The document's entry for a claim, as its Amber file stores it."""
    collection = numeric.NumericSerializer.read_file(str(ROOT / "snapshots" / numeric.DOCUMENT / spec_file.replace(".py", ".ambr")))
    return collection.get(name).data


def as_value(text: str) -> object:
    """An Amber entry read back as the Python value a spec would compare (lists of numbers stand for tensors)."""
    text = re.sub(r"\b(?:list|tuple|dict)\(", "(", text)
    return ast.literal_eval(text.replace("([", "[").replace("])", "]").replace("({", "{").replace("})", "}"))


def compare(value: object, printed: str) -> bool:
    """What ``printed == value`` decides in a spec: the document folder's extension, serializing then matching."""
    extension = numeric.NumericSnapshotExtension.for_folder(ROOT / "snapshots", numeric.DOCUMENT)()
    return extension.matches(serialized_data=extension.serialize(value), snapshot_data=printed)


def moved(text: str, index: int, by_units: float) -> str:
    """``text`` with its ``index``-th number moved by its tolerance plus ``by_units`` printed units (or,
    for ``by_units`` < 0, by that many units alone, inside the tolerance)."""
    match = list(values.NUMBER.finditer(text))[index]
    printed = match.group()
    mantissa, _, exponent = printed.lower().partition("e")
    unit = 10.0 ** -len(mantissa.partition(".")[2]) * 10.0 ** int(exponent or 0) if "." in mantissa or exponent else 1
    shift = abs(by_units) * unit if by_units < 0 else values.tolerance(printed) + by_units * unit
    value = float(printed) + shift
    new = str(int(value)) if unit == 1 and not exponent and "." not in mantissa else repr(value)
    return text[: match.start()] + new + text[match.end():]


CLAIMS = printed_claims()


def test_every_printed_value_claim_is_controlled():
    assert len(CLAIMS) >= 8, CLAIMS


@pytest.mark.parametrize(("spec_file", "name"), [pytest.param(*c, id=c[1]) for c in CLAIMS])
def test_the_printed_comparison_passes_on_the_document_and_fails_a_unit_beyond(spec_file, name):
    printed = entry(spec_file, name)
    assert compare(as_value(printed), printed), "the document's own numbers must pass"
    count = len(values.NUMBER.findall(printed))
    for index in range(count):
        assert not compare(as_value(moved(printed, index, 1)), printed), f"number {index} one unit beyond its tolerance passed"
        within = moved(printed, index, -0.4)
        if within != printed and "." in values.NUMBER.findall(printed)[index]:
            assert compare(as_value(within), printed), f"number {index} moved 0.4 printed units failed"
    texts = [t for line in printed.splitlines() for t in re.findall(r"'((?:[^'\\]|\\.)*)'(?!:)", line)]
    for text in texts:
        assert not compare(as_value(printed.replace(f"'{text}'", f"'{text}x'", 1)), printed), f"{text!r} changed passed"
