"""Claims marked ``openai`` hold only for OpenAI's GPT-2 weights: on any other they are skipped,
loudly, or failed with ``--require-pretrained``; never passed.

Claims marked ``mechanism`` (induction heads) run on OpenAI's weights and on a stand-in whose marker
says the circuit was built in; a pass on the stand-in is recorded as HELD_STANDIN, never as a
verification of OpenAI's GPT-2 (not even where its fingerprint was forged to read as OpenAI's). On
any other weights they are skipped, or failed as above. Each records its margin (the ``margin``
fixture): what it measured less the bar it must clear."""

from __future__ import annotations

from typing import Callable

import pytest

from gpt2spec import outcomes
from gpt2spec.plugin.keys import NOT_OPENAI
from gpt2spec.weights import Weights


def _not_here(request: pytest.FixtureRequest, code: str, reason: str) -> None:
    if request.config.getoption("--require-pretrained"):
        request.node.stash[NOT_OPENAI] = reason  # fails in the call phase: a failed claim, not a setup error
        return
    outcomes.skip(code, reason)


@pytest.fixture(autouse=True)
def _weights_the_claim_needs(request: pytest.FixtureRequest) -> None:
    openai, mechanism = (request.node.get_closest_marker(name) is not None for name in ("openai", "mechanism"))
    if not (openai or mechanism):
        return
    found: Weights = request.getfixturevalue("weights")
    if mechanism and found.circuit is not None:  # the stand-in's built circuit: the claim runs, and says where it held
        outcomes.decide(request.node, outcomes.HELD_STANDIN)
    elif found.is_openai:
        return
    elif openai:
        _not_here(request, outcomes.SKIP_OPENAI, f"needs OpenAI's GPT-2 weights; these are not ({found.evidence})")
    else:
        _not_here(request, outcomes.SKIP_MECHANISM, f"needs weights with induction heads (OpenAI's, or the stand-in's built circuit); these are neither ({found.evidence})")


@pytest.fixture
def margin(request: pytest.FixtureRequest) -> Callable[[float], float]:
    """``margin(measured - bar)``: how far a mechanism claim clears its bar (negative where it fails),
    recorded before it asserts, for the results file: the radar reports a margin that shrinks."""

    def record(value: float) -> float:
        request.node.user_properties.append(("margin", float(value)))
        return value

    return record


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    reason = pyfuncitem.stash.get(NOT_OPENAI, None)
    if reason is not None:
        pytest.fail(reason + " and --require-pretrained was given", pytrace=False)
